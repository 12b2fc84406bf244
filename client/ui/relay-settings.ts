// The relays the client reads from and publishes to: their live state, adding any ws(s):// relay,
// removing one, and going back to the host's defaults. The app stores the list in localStorage.
import { css, html, LitElement, nothing } from 'lit'
import { normalizeRelayUrl } from '../../nips/relay-url.js'
import type { RelayStatus } from '../relay-pool.js'
import { sharedStyles } from './styles.js'

const STATE_TEXT = { open: 'connected', connecting: 'connecting…', closed: 'not connected' }

export class RelaySettings extends LitElement {
  static override properties = {
    statuses: { attribute: false },
    defaults: { attribute: false },
    error: { state: true },
  }

  declare statuses: RelayStatus[]
  declare defaults: string[]
  declare error: string | undefined

  static override styles = [
    sharedStyles,
    css`
      ul {
        list-style: none;
        padding: 0;
        max-width: 760px;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
        align-items: center;
        justify-content: space-between;
        padding: 0.6rem 0;
        border-bottom: 1px solid var(--border);
      }
      form {
        max-width: 760px;
      }
    `,
  ]

  constructor() {
    super()
    this.statuses = []
    this.defaults = []
    this.error = undefined
  }

  private change(urls: string[]): void {
    this.dispatchEvent(new CustomEvent<string[]>('relays-change', { detail: urls, bubbles: true, composed: true }))
  }

  private add(event: SubmitEvent): void {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const raw = String(new FormData(form).get('relay') ?? '')
    try {
      const url = normalizeRelayUrl(raw)
      this.error = undefined
      this.change([...this.statuses.map((s) => s.url), url])
      form.reset()
    } catch (err) {
      this.error = (err as Error).message
    }
  }

  override render() {
    const urls = this.statuses.map((s) => s.url)
    return html`
      <h2>Relays</h2>
      <p class="hint">Jobs are published to every relay below and read from all of them. The list is kept in this browser.</p>
      <ul aria-label="Relays">
        ${this.statuses.map(
          (s) => html`<li data-testid="relay-row">
            <span><span class="mono">${s.url}</span> <span class="badge ${s.state === 'open' ? 'online' : s.state === 'closed' ? 'offline' : ''}">${STATE_TEXT[s.state]}</span>
              ${s.error ? html`<span class="hint">${s.error}</span>` : nothing}</span>
            <button @click=${() => this.change(urls.filter((u) => u !== s.url))} ?disabled=${urls.length === 1} aria-label="Remove ${s.url}">Remove</button>
          </li>`,
        )}
      </ul>
      <form @submit=${this.add}>
        <label for="relay">Add a relay</label>
        <div class="row">
          <input id="relay" name="relay" placeholder="wss://relay.example.com" autocomplete="off" spellcheck="false" required style="flex: 1" aria-describedby="relay-error" />
          <button class="primary" type="submit">Add</button>
          <button type="button" @click=${() => this.change(this.defaults)}>Reset to defaults</button>
        </div>
        <div id="relay-error">${this.error ? html`<p class="notice error" role="alert">${this.error}</p>` : nothing}</div>
      </form>
    `
  }
}

customElements.define('timmy-relays', RelaySettings)
