// Login: a NIP-07 extension, a NIP-46 remote signer (bunker:// or a nostrconnect:// QR code), or
// read-only by npub. The page never asks for a secret key.
import { css, html, LitElement, nothing } from 'lit'
import { unsafeHTML } from 'lit/directives/unsafe-html.js'
import { renderSVG } from 'uqr'
import type { Services } from '../services.js'
import { loginWithBunker, loginWithExtension, readOnlyLogin, SignerError, startNostrConnect, type NostrConnectProgress, type NostrConnectSession, type Signer } from '../signer.js'
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
    connectProgress: { state: true },
  }

  declare services: Services
  declare relays: string[]
  declare busy: string | undefined
  declare error: { where: string; text: string } | undefined
  declare connect: NostrConnectSession | undefined
  declare connectProgress: NostrConnectProgress | undefined

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
    this.connectProgress = undefined
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.stopConnect()
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

  private stopConnect(): void {
    this.connect?.abort()
    this.connect = undefined
    this.connectProgress = undefined
  }

  /**
   * The code waits for a signer in the background (minutes, while the user finds their phone): the
   * other ways to log in stay usable, and only the current code's outcome counts.
   */
  private showConnectQr(): void {
    this.stopConnect()
    if (this.error?.where === 'connect') this.error = undefined
    let session: NostrConnectSession
    try {
      session = startNostrConnect(this.relays, {
        url: location.origin,
        onProgress: (progress) => {
          if (this.connect === session) this.connectProgress = progress
        },
      })
    } catch (err) {
      this.error = { where: 'connect', text: problemText(err) }
      return
    }
    this.connect = session
    this.connectProgress = { phase: 'connecting', ignored: 0 }
    session.signer.then(
      (signer) => {
        if (this.connect !== session) return void signer.close()
        this.connect = undefined
        this.connectProgress = undefined
        this.dispatchEvent(new CustomEvent<Signer>('login', { detail: signer, bubbles: true, composed: true }))
      },
      (err: unknown) => {
        if (this.connect !== session) return
        this.connect = undefined
        this.connectProgress = undefined
        this.error = { where: 'connect', text: problemText(err) }
      },
    )
  }

  private connectCode(session: NostrConnectSession, progress: NostrConnectProgress) {
    const status = {
      connecting: `Connecting to ${this.relays.join(', ')}… The code appears once this page listens there.`,
      listening: 'Waiting for your signer to connect…',
      confirming: 'Your signer connected; asking it for your public key…',
    }[progress.phase]
    return html`<div role="group" aria-label="nostrconnect code">
      ${progress.phase === 'connecting'
        ? nothing
        : html`<p>Scan with your signer app, or copy the link:</p>
            <div class="qr" role="img" aria-label="QR code of the nostrconnect link">${unsafeHTML(renderSVG(session.uri, { border: 2 }))}</div>
            <p class="mono" data-testid="nostrconnect-uri">${session.uri}</p>`}
      <p class="hint" role="status" data-testid="nostrconnect-status" data-phase=${progress.phase}>${status}</p>
      ${progress.ignored
        ? html`<p class="notice warn" data-testid="nostrconnect-ignored">
            Ignored ${progress.ignored === 1 ? 'an answer' : `${progress.ignored} answers`} that did not carry this code's secret. If your signer says it
            connected, it may be out of date: update it, or paste a bunker:// URI from it above.
          </p>`
        : nothing}
      <button type="button" @click=${this.stopConnect}>Cancel</button>
    </div>`
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
          ${this.connect && this.connectProgress ? this.connectCode(this.connect, this.connectProgress) : nothing}
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
