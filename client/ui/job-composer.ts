// The job composer: a NIP-90 request of any kind, its parameters taken from the agent's NIP-89
// `nip90Params`, optionally encrypted to that agent through the signer (NIP-44), with an optional bid.
import { css, html, LitElement, nothing } from 'lit'
import type { EventTemplate } from '../../nips/01.js'
import { buildJobRequest, INPUT_TYPES, isJobRequestKind, type InputType } from '../../nips/90.js'
import { formatMsats, kindName } from '../format.js'
import { displayName } from '../model.js'
import { navigate, type Services } from '../services.js'
import type { Signer } from '../signer.js'
import { sharedStyles } from './styles.js'

/** The tags NIP-90 moves into the encrypted content: what the job is about. */
const PRIVATE_TAGS = new Set(['i', 'param', 'output'])

/** The signer-side twin of nips/90 encryptJobRequest: the page holds no key, the signer encrypts. */
export async function encryptRequestWithSigner(template: EventTemplate, signer: Signer, agent: string): Promise<EventTemplate> {
  const privateTags = template.tags.filter((tag) => PRIVATE_TAGS.has(tag[0]))
  const publicTags = template.tags.filter((tag) => !PRIVATE_TAGS.has(tag[0]) && tag[0] !== 'p' && tag[0] !== 'encrypted')
  return { ...template, tags: [...publicTags, ['p', agent], ['encrypted']], content: await signer.nip44Encrypt(agent, JSON.stringify(privateTags)) }
}

/** `name=value` lines into params; blank lines skipped, a line without `=` is an error. */
export function parseParamLines(text: string): Record<string, string[]> {
  const params: Record<string, string[]> = {}
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim()
    if (!line) continue
    const eq = line.indexOf('=')
    if (eq <= 0) throw new Error(`line ${i + 1} of the extra parameters is not name=value`)
    const name = line.slice(0, eq).trim()
    ;(params[name] ??= []).push(line.slice(eq + 1).trim())
  }
  return params
}

export class JobComposer extends LitElement {
  static override properties = {
    services: { attribute: false },
    version: { type: Number },
    address: { type: String },
    error: { state: true },
    busy: { state: true },
  }

  declare services: Services
  declare version: number
  declare address: string
  declare error: string | undefined
  declare busy: boolean

  static override styles = [
    sharedStyles,
    css`
      form {
        max-width: 760px;
      }
      fieldset {
        border: 1px solid var(--border);
        border-radius: 8px;
        margin: 1rem 0;
        padding: 0 1rem 1rem;
      }
      legend {
        font-weight: 700;
        padding: 0 0.3rem;
      }
      .check {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        font-weight: normal;
      }
      .check input {
        width: auto;
      }
      .two {
        display: grid;
        grid-template-columns: 1fr 2fr;
        gap: 0.75rem;
      }
      @media (max-width: 600px) {
        .two {
          grid-template-columns: 1fr;
        }
      }
    `,
  ]

  constructor() {
    super()
    this.version = 0
    this.address = ''
    this.error = undefined
    this.busy = false
  }

  private async submit(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const { signer, pool, model, now } = this.services
    if (!signer?.canSign) return
    const form = new FormData(event.target as HTMLFormElement)
    const handler = this.address ? model.findHandler(this.address) : undefined
    this.error = undefined
    try {
      const kind = Number(form.get('kind'))
      if (!isJobRequestKind(kind)) throw new Error('the job kind must be a number from 5000 to 5999')
      const input = String(form.get('input') ?? '')
      if (!input.trim()) throw new Error('the job needs an input')
      const params = parseParamLines(String(form.get('extra') ?? ''))
      for (const name of Object.keys(handler?.content.nip90Params ?? {})) {
        const value = String(form.get(`param-${name}`) ?? '').trim()
        if (value) (params[name] ??= []).unshift(value)
      }
      const bidSats = String(form.get('bid') ?? '').trim()
      const bidMsats = bidSats === '' ? undefined : Math.round(Number(bidSats) * 1000)
      if (bidMsats !== undefined && !(Number.isSafeInteger(bidMsats) && bidMsats >= 0)) throw new Error('the bid must be a number of sats')
      const output = String(form.get('output') ?? '').trim()
      // Encrypting to the agent addresses the job to it, whatever the other box says.
      const encrypt = handler !== undefined && form.get('encrypt') === 'on'
      const targeted = handler !== undefined && (form.get('targeted') === 'on' || encrypt)
      let template = buildJobRequest({
        kind,
        inputs: [{ type: String(form.get('input-type')) as InputType, value: input }],
        params,
        ...(output && { output }),
        ...(bidMsats !== undefined && { bidMsats }),
        relays: pool.urls,
        targets: targeted ? [handler.pubkey] : [],
        createdAt: now(),
      })
      this.busy = true
      if (handler && encrypt) template = await encryptRequestWithSigner(template, signer, handler.pubkey)
      const signed = await signer.signEvent(template)
      const outcomes = await pool.publish(signed)
      if (!outcomes.some((o) => o.ok)) throw new Error(`no relay accepted the job: ${outcomes.map((o) => `${o.url}: ${o.message}`).join('; ') || 'no relays'}`)
      model.apply(signed)
      navigate(`#/jobs/${signed.id}`)
    } catch (err) {
      this.error = (err as Error).message
    } finally {
      this.busy = false
    }
  }

  override render() {
    const { model, signer } = this.services
    const handler = this.address ? model.findHandler(this.address) : undefined
    if (this.address && !handler) {
      return html`<h2>Hire an agent</h2>
        <p class="empty" role="status">Looking for this agent's announcement on your relays… <a href="#/agents">Back to the directory</a></p>`
    }
    const agent = handler ? model.agents.get(handler.pubkey) : undefined
    const kind = handler?.kinds.find(isJobRequestKind)
    const params = Object.entries(handler?.content.nip90Params ?? {})
    const price = kind !== undefined ? agent?.pricesMsats.get(kind) : undefined
    const title = handler ? `Hire ${displayName(handler.pubkey, agent?.profile)} for ${kindName(kind ?? 0).toLowerCase()}` : 'Post a custom job'
    return html`
      <h2>${title}</h2>
      ${!signer
        ? html`<p class="notice warn" role="status">You are not logged in. <a href="#/login">Log in</a> with a signer to post a job.</p>`
        : !signer.canSign
          ? html`<p class="notice warn" role="status">Read-only login: <a href="#/login">log in with a signer</a> to post a job.</p>`
          : nothing}
      <form @submit=${this.submit} aria-describedby="composer-error">
        <div class="two">
          <div>
            <label for="kind">Job kind</label>
            <input id="kind" name="kind" type="number" min="5000" max="5999" required .value=${String(kind ?? 5050)} ?readonly=${handler !== undefined} />
          </div>
          <div>
            <label for="input-type">Input type</label>
            <select id="input-type" name="input-type">
              ${INPUT_TYPES.map((t) => html`<option value=${t}>${{ text: 'Text', url: 'URL', event: 'Nostr event id', job: 'Output of another job (id)' }[t]}</option>`)}
            </select>
          </div>
        </div>
        <label for="input">Input</label>
        <textarea id="input" name="input" required placeholder="The text to work on, a URL, or an event id"></textarea>
        ${params.length
          ? html`<fieldset>
              <legend>Parameters</legend>
              ${params.map(
                ([name, spec]) => html`
                  <label for="param-${name}">${name}${spec.required ? html` <span aria-hidden="true">*</span>` : nothing}
                    ${spec.description ? html`<span class="hint" id="param-${name}-hint"> — ${spec.description}</span>` : nothing}</label>
                  ${spec.values.length
                    ? html`<select id="param-${name}" name="param-${name}" ?required=${spec.required} aria-describedby="param-${name}-hint">
                        ${spec.required ? nothing : html`<option value="">(default)</option>`}
                        ${spec.values.map((v) => html`<option value=${v}>${v}</option>`)}
                      </select>`
                    : html`<input id="param-${name}" name="param-${name}" ?required=${spec.required} aria-describedby="param-${name}-hint" />`}
                `,
              )}
            </fieldset>`
          : nothing}
        <details>
          <summary>More options</summary>
          <label for="extra">Extra parameters <span class="hint">one name=value per line</span></label>
          <textarea id="extra" name="extra" style="min-height: 4rem"></textarea>
          <label for="output">Output MIME type <span class="hint">optional, e.g. text/plain</span></label>
          <input id="output" name="output" />
        </details>
        <fieldset>
          <legend>Payment and privacy</legend>
          <label for="bid">Bid <span class="hint">the most you will pay, in sats; optional${price !== undefined ? `; last quoted ${formatMsats(price)}` : ''}</span></label>
          <input id="bid" name="bid" type="number" min="0" step="0.001" inputmode="decimal" />
          ${handler
            ? html`<label class="check"><input type="checkbox" name="targeted" checked /> Address the job to this agent only (others may still see it)</label>
                <label class="check"
                  ><input type="checkbox" name="encrypt" ?disabled=${!handler.content.encryptionSupported || !signer?.canEncrypt} />
                  Encrypt the input and parameters to this agent (NIP-44)
                  ${!handler.content.encryptionSupported ? html`<span class="hint">— this agent does not offer encryption</span>` : !signer?.canEncrypt && signer ? html`<span class="hint">— your signer cannot encrypt</span>` : nothing}</label
                >`
            : html`<p class="hint">An open job: any agent serving this kind may answer.</p>`}
        </fieldset>
        <div id="composer-error" aria-live="assertive">${this.error ? html`<p class="notice error" role="alert">Could not post the job: ${this.error}</p>` : nothing}</div>
        <button class="primary" type="submit" data-testid="post-job" ?disabled=${!signer?.canSign || this.busy}>${this.busy ? 'Signing and publishing…' : 'Post job'}</button>
      </form>
    `
  }
}

customElements.define('timmy-composer', JobComposer)
