// Login: a NIP-07 extension, a NIP-46 remote signer (bunker:// or a nostrconnect:// QR code), or
// read-only by npub. The page never asks for a secret key.
import { css, html, LitElement, nothing } from 'lit'
import { unsafeHTML } from 'lit/directives/unsafe-html.js'
import { renderSVG } from 'uqr'
import type { Services } from '../services.js'
import { loginWithBunker, loginWithExtension, readOnlyLogin, SignerError, startNostrConnect, type NostrConnectSession, type Signer } from '../signer.js'
import { sharedStyles } from './styles.js'

const PROBLEM_TEXT: Record<string, string> = {
  'no-extension': 'No extension found. Install a Nostr signing extension (for example nos2x or Alby), reload this page, or use a remote signer.',
  refused: 'The signer refused. Allow this site in your signer and try again.',
  timeout: 'The signer did not answer in time.',
  invalid: 'That did not work:',
  unsupported: 'Not supported:',
}

function problemText(err: unknown): string {
  if (err instanceof SignerError) {
    const lead = PROBLEM_TEXT[err.problem]
    return err.problem === 'invalid' || err.problem === 'unsupported' || err.problem === 'refused' ? `${lead} ${err.message}` : lead
  }
  return `Login failed: ${(err as Error).message}`
}

export class LoginPanel extends LitElement {
  static override properties = {
    services: { attribute: false },
    relays: { attribute: false },
    busy: { state: true },
    error: { state: true },
    connect: { state: true },
  }

  declare services: Services
  declare relays: string[]
  declare busy: string | undefined
  declare error: { where: string; text: string } | undefined
  declare connect: NostrConnectSession | undefined

  static override styles = [
    sharedStyles,
    css`
      .methods {
        display: grid;
        gap: 1rem;
        grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
      }
      .qr {
        background: #fff;
        padding: 8px;
        width: min(260px, 100%);
        border-radius: 8px;
      }
      .qr svg {
        display: block;
        width: 100%;
        height: auto;
      }
      form {
        margin: 0;
      }
      .actions {
        margin-top: 0.75rem;
      }
    `,
  ]

  constructor() {
    super()
    this.relays = []
    this.busy = undefined
    this.error = undefined
    this.connect = undefined
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.connect?.abort()
  }

  private async attempt(where: string, login: () => Promise<Signer>): Promise<void> {
    this.busy = where
    this.error = undefined
    try {
      const signer = await login()
      this.dispatchEvent(new CustomEvent<Signer>('login', { detail: signer, bubbles: true, composed: true }))
    } catch (err) {
      this.error = { where, text: problemText(err) }
    } finally {
      this.busy = undefined
    }
  }

  private errorFor(where: string) {
    return this.error?.where === where ? html`<p class="notice error" role="alert" data-testid="login-error">${this.error.text}</p>` : nothing
  }

  private onBunker(event: SubmitEvent): void {
    event.preventDefault()
    const uri = (new FormData(event.target as HTMLFormElement).get('bunker') as string) ?? ''
    void this.attempt('bunker', () => loginWithBunker(uri))
  }

  private onReadOnly(event: SubmitEvent): void {
    event.preventDefault()
    const npub = (new FormData(event.target as HTMLFormElement).get('npub') as string) ?? ''
    void this.attempt('readonly', async () => readOnlyLogin(npub))
  }

  private showConnectQr(): void {
    this.connect?.abort()
    const session = startNostrConnect(this.relays, { url: location.origin })
    this.connect = session
    void this.attempt('connect', () => session.signer).finally(() => {
      if (this.connect === session) this.connect = undefined
    })
  }

  override render() {
    return html`
      <h2>Log in</h2>
      <p class="hint">Timmy never asks for your secret key. Sign with a browser extension or a remote signer, or just watch.</p>
      <div class="methods">
        <section class="card" aria-labelledby="ext-h">
          <h3 id="ext-h">Browser extension (NIP-07)</h3>
          <p>Uses <code>window.nostr</code> from your signing extension.</p>
          <button class="primary" data-testid="login-extension" ?disabled=${this.busy !== undefined} @click=${() => this.attempt('extension', () => loginWithExtension())}>
            ${this.busy === 'extension' ? 'Waiting for the extension…' : 'Log in with extension'}
          </button>
          ${this.errorFor('extension')}
        </section>
        <section class="card" aria-labelledby="bunker-h">
          <h3 id="bunker-h">Remote signer (NIP-46)</h3>
          <form @submit=${this.onBunker}>
            <label for="bunker">Bunker URI</label>
            <input id="bunker" name="bunker" placeholder="bunker://…" autocomplete="off" spellcheck="false" required />
            <div class="actions row">
              <button class="primary" type="submit" ?disabled=${this.busy !== undefined}>${this.busy === 'bunker' ? 'Connecting…' : 'Connect'}</button>
              <button type="button" @click=${this.showConnectQr} ?disabled=${this.relays.length === 0}>Show a nostrconnect:// code</button>
            </div>
          </form>
          ${this.errorFor('bunker')}
          ${this.connect
            ? html`<div role="group" aria-label="nostrconnect code">
                <p>Scan with your signer app, or copy the link:</p>
                <div class="qr" role="img" aria-label="QR code of the nostrconnect link">${unsafeHTML(renderSVG(this.connect.uri, { border: 2 }))}</div>
                <p class="mono" data-testid="nostrconnect-uri">${this.connect.uri}</p>
                <p class="hint" role="status">Waiting for your signer to connect…</p>
              </div>`
            : nothing}
          ${this.errorFor('connect')}
        </section>
        <section class="card" aria-labelledby="ro-h">
          <h3 id="ro-h">Read-only</h3>
          <form @submit=${this.onReadOnly}>
            <label for="npub">Your npub</label>
            <input id="npub" name="npub" placeholder="npub1…" autocomplete="off" spellcheck="false" required />
            <div class="actions"><button type="submit" ?disabled=${this.busy !== undefined}>Watch</button></div>
          </form>
          <p class="hint">Browse agents and jobs; posting a job needs a signer.</p>
          ${this.errorFor('readonly')}
        </section>
      </div>
    `
  }
}

customElements.define('timmy-login', LoginPanel)
