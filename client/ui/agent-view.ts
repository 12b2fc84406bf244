// One agent: its profile, what it serves, its ratings, and zaps (NIP-57): a form that zaps it
// through its lightning address (paid by WebLN when the browser has a wallet, else by invoice and
// QR code) and the zap receipts it got, each validated strictly before it counts.
import { css, html, LitElement, nothing, type PropertyValues } from 'lit'
import { unsafeHTML } from 'lit/directives/unsafe-html.js'
import { renderSVG } from 'uqr'
import { isHex64, type NostrEvent } from '../../nips/01.js'
import { buildZapRequest, ZAP_RECEIPT_KIND } from '../../nips/57.js'
import { formatAge, formatMsats, kindName, shortNpub } from '../format.js'
import { displayName, liveness, type Profile } from '../model.js'
import type { Subscription } from '../relay-pool.js'
import type { Services } from '../services.js'
import { fetchPayEndpoint, requestZapInvoice, tallyZaps, type PayEndpoint, type ZapTally } from '../zap.js'
import { sharedStyles } from './styles.js'

interface WebLN {
  enable(): Promise<void>
  sendPayment(invoice: string): Promise<{ preimage: string }>
}

type ZapState =
  | { step: 'idle' }
  | { step: 'working'; text: string }
  | { step: 'invoice'; bolt11: string; requestId: string; amountMsats: number; paying: boolean; payError?: string }
  | { step: 'paid'; requestId: string; amountMsats: number }
  | { step: 'failed'; text: string }

const PRESETS = [21, 210, 2100]
const LIVENESS_TEXT = { online: 'online', late: 'heartbeat late', offline: 'offline', unknown: 'no heartbeat' }
const OUTCOME_TEXT: Record<string, string> = { success: 'success', failed: 'failed', late: 'late', 'no-reveal': 'no reveal', 'invalid-result': 'invalid result' }

/** Pay endpoints by lightning address or LNURL, fetched once per page load. */
const endpoints = new Map<string, Promise<PayEndpoint>>()

/** What a profile pays to: its lightning address (lud16), else its LNURL (lud06). */
const payTarget = (profile: Profile | undefined): { lud16: string } | { lud06: string } | undefined =>
  profile?.lud16 ? { lud16: profile.lud16 } : profile?.lud06 ? { lud06: profile.lud06 } : undefined

function payEndpoint(target: { lud16: string } | { lud06: string }): Promise<PayEndpoint> {
  const address = 'lud16' in target ? target.lud16 : target.lud06
  let endpoint = endpoints.get(address)
  if (!endpoint) {
    endpoint = fetchPayEndpoint(target, (url, init) => fetch(url, init), location)
    // A failure is not cached: the next attempt asks again.
    endpoint.catch(() => endpoints.delete(address))
    endpoints.set(address, endpoint)
  }
  return endpoint
}

export class AgentView extends LitElement {
  static override properties = {
    services: { attribute: false },
    version: { type: Number },
    pubkey: { type: String },
    job: { type: String },
    endpoint: { state: true },
    endpointProblem: { state: true },
    receipts: { state: true },
    zap: { state: true },
    amountSats: { state: true },
  }

  declare services: Services
  declare version: number
  declare pubkey: string
  /** A job of this agent's to zap it for (`#/agent/<pubkey>?job=<id>`): the zap request names it, and reputation counts the zap as paid for that job. */
  declare job: string
  declare endpoint: PayEndpoint | undefined
  declare endpointProblem: string | undefined
  declare receipts: NostrEvent[]
  declare zap: ZapState
  declare amountSats: number

  private receiptSub: Subscription | undefined
  private labelSub: Subscription | undefined
  private subscribedFor: string | undefined
  private endpointFor: string | undefined

  static override styles = [
    sharedStyles,
    css`
      .layout {
        display: grid;
        gap: 1rem;
        grid-template-columns: minmax(0, 3fr) minmax(280px, 2fr);
        align-items: start;
      }
      @media (max-width: 800px) {
        .layout {
          grid-template-columns: minmax(0, 1fr);
        }
      }
      section.card {
        margin-bottom: 1rem;
      }
      dl {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0.25rem 1rem;
      }
      dt {
        color: var(--muted);
      }
      dd {
        margin: 0;
      }
      .presets {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        margin-top: 0.5rem;
      }
      .presets button[aria-pressed='true'] {
        border-color: var(--accent);
        box-shadow: inset 0 0 0 1px var(--accent);
      }
      .qr {
        background: #fff;
        padding: 8px;
        width: min(240px, 100%);
        border-radius: 8px;
      }
      .qr svg {
        display: block;
        width: 100%;
        height: auto;
      }
      ul.list {
        list-style: none;
        padding: 0;
        margin: 0;
      }
      ul.list li {
        padding: 0.45rem 0;
        border-bottom: 1px solid var(--border);
      }
      .amount {
        font-weight: 700;
      }
    `,
  ]

  constructor() {
    super()
    this.version = 0
    this.pubkey = ''
    this.job = ''
    this.endpoint = undefined
    this.endpointProblem = undefined
    this.receipts = []
    this.zap = { step: 'idle' }
    this.amountSats = 21
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('pubkey') || this.subscribedFor !== this.pubkey) {
      this.receiptSub?.close()
      this.labelSub?.close()
      this.receipts = []
      this.zap = { step: 'idle' }
      this.subscribedFor = this.pubkey
      this.receiptSub = this.services.pool.subscribe([{ kinds: [ZAP_RECEIPT_KIND], '#p': [this.pubkey], limit: 500 }], {
        onevent: (event) => (this.receipts = [...this.receipts, event]),
      })
      // Labels about this agent (the app's standing label subscription covers recent ones only).
      this.labelSub = this.services.watch([{ kinds: [1985], '#p': [this.pubkey], limit: 200 }])
    }
    const target = payTarget(this.services.model.profileOf(this.pubkey))
    const address = target && ('lud16' in target ? target.lud16 : target.lud06)
    if (address !== this.endpointFor) {
      this.endpointFor = address
      this.endpoint = undefined
      this.endpointProblem = undefined
      if (target)
        payEndpoint(target).then(
          (endpoint) => this.endpointFor === address && (this.endpoint = endpoint),
          (err: Error) => this.endpointFor === address && (this.endpointProblem = err.message),
        )
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.receiptSub?.close()
    this.labelSub?.close()
    this.receiptSub = undefined
    this.labelSub = undefined
    this.subscribedFor = undefined
  }

  private get tally(): ZapTally | undefined {
    const nostrPubkey = this.endpoint?.nostrPubkey
    return nostrPubkey ? tallyZaps(this.receipts, { nostrPubkey, recipient: this.pubkey }) : undefined
  }

  private async sendZap(event: SubmitEvent): Promise<void> {
    event.preventDefault()
    const { signer, pool, now } = this.services
    const target = payTarget(this.services.model.profileOf(this.pubkey))
    const comment = String(new FormData(event.target as HTMLFormElement).get('comment') ?? '').trim()
    const amountMsats = Math.round(this.amountSats) * 1000
    if (!signer?.canSign || !target || !(amountMsats > 0)) return
    try {
      this.zap = { step: 'working', text: 'Asking for its zap endpoint…' }
      const endpoint = await payEndpoint(target)
      if (!endpoint.nostrPubkey) throw new Error(`${endpoint.address} takes payments but not zaps (no allowsNostr/nostrPubkey)`)
      this.zap = { step: 'working', text: 'Signing the zap request…' }
      const job = isHex64(this.job) ? this.job : undefined
      const request = await signer.signEvent(buildZapRequest({ recipientPubkey: this.pubkey, amountMsats, relays: pool.urls, lnurl: endpoint.lnurl, ...(job && { eventId: job }), ...(comment && { comment }), createdAt: now() }))
      this.zap = { step: 'working', text: 'Getting the invoice…' }
      const bolt11 = await requestZapInvoice(endpoint, request, amountMsats, (url, init) => fetch(url, init))
      this.zap = { step: 'invoice', bolt11, requestId: request.id, amountMsats, paying: false }
      if ((globalThis as { webln?: WebLN }).webln) await this.payWithWebln()
    } catch (err) {
      this.zap = { step: 'failed', text: (err as Error).message }
    }
  }

  private async payWithWebln(): Promise<void> {
    const webln = (globalThis as { webln?: WebLN }).webln
    const zap = this.zap
    if (!webln || zap.step !== 'invoice') return
    this.zap = { ...zap, paying: true, payError: undefined }
    try {
      await webln.enable()
      await webln.sendPayment(zap.bolt11)
      this.zap = { step: 'paid', requestId: zap.requestId, amountMsats: zap.amountMsats }
    } catch (err) {
      this.zap = { ...zap, paying: false, payError: (err as Error).message }
    }
  }

  private zapStatus(tally: ZapTally | undefined) {
    const zap = this.zap
    if (zap.step === 'working') return html`<p role="status">${zap.text}</p>`
    if (zap.step === 'failed') return html`<p class="notice error" role="alert" data-testid="zap-error">Zap failed: ${zap.text}</p>`
    if (zap.step === 'idle') return nothing
    const receipt = tally?.zaps.find((z) => z.request.id === zap.requestId)
    if (receipt) return html`<p class="notice" role="status" data-testid="zap-status">⚡ Zap of ${formatMsats(receipt.amountMsats)} confirmed: the agent's zap receipt checks out.</p>`
    if (zap.step === 'paid') return html`<p class="notice" role="status" data-testid="zap-status">Paid ${formatMsats(zap.amountMsats)}. Waiting for the zap receipt…</p>`
    const hasWebln = (globalThis as { webln?: WebLN }).webln !== undefined
    return html`<div role="group" aria-label="Invoice" data-testid="zap-invoice">
      <p>Pay <strong>${formatMsats(zap.amountMsats)}</strong> with any Lightning wallet:</p>
      <div class="qr" role="img" aria-label="QR code of the invoice">${unsafeHTML(renderSVG(zap.bolt11.toUpperCase(), { border: 2 }))}</div>
      <div class="row" style="margin-top: 0.5rem">
        ${hasWebln ? html`<button class="primary" ?disabled=${zap.paying} @click=${() => this.payWithWebln()}>${zap.paying ? 'Paying…' : 'Pay with browser wallet'}</button>` : nothing}
        <a class="button" href="lightning:${zap.bolt11}">Open in wallet</a>
        <button @click=${() => navigator.clipboard?.writeText(zap.bolt11)}>Copy invoice</button>
      </div>
      <p class="mono">${zap.bolt11}</p>
      ${zap.payError ? html`<p class="notice error" role="alert">Payment failed: ${zap.payError}</p>` : nothing}
      <p class="hint" role="status">Waiting for the zap receipt…</p>
    </div>`
  }

  private zapSection(tally: ZapTally | undefined) {
    const { signer, model } = this.services
    const target = payTarget(model.profileOf(this.pubkey))
    const address = target && ('lud16' in target ? target.lud16 : 'its LNURL')
    const busy = this.zap.step === 'working' || (this.zap.step === 'invoice' && this.zap.paying)
    let body
    if (!address) body = html`<p class="empty">This agent has no lightning address (lud16) or LNURL (lud06) in its profile, so it cannot be zapped.</p>`
    else if (!signer?.canSign) body = html`<p class="notice warn">Zaps are signed by you (NIP-57): <a href="#/login">log in with a signer</a> to zap.</p>`
    else
      body = html`<form @submit=${this.sendZap} aria-describedby="zap-hint">
        <fieldset style="border: 0; padding: 0; margin: 0">
          <legend class="sr-only">Amount</legend>
          <label for="zap-amount">Amount (sats)</label>
          <input id="zap-amount" name="amount" type="number" min="1" step="1" inputmode="numeric" .value=${String(this.amountSats)} @input=${(e: InputEvent) => (this.amountSats = Number((e.target as HTMLInputElement).value))} required />
          <div class="presets">
            ${PRESETS.map((sats) => html`<button type="button" aria-label="${sats} sats" aria-pressed=${this.amountSats === sats ? 'true' : 'false'} @click=${() => (this.amountSats = sats)}>⚡ ${sats}</button>`)}
          </div>
        </fieldset>
        <label for="zap-comment">Comment <span class="hint">(optional, public)</span></label>
        <input id="zap-comment" name="comment" maxlength="280" autocomplete="off" />
        ${isHex64(this.job) ? html`<p data-testid="zap-for-job">For job <a class="mono" href="#/jobs/${this.job}">${this.job.slice(0, 12)}…</a>: the zap names it, so it counts as paid for that job in this agent's reputation.</p>` : nothing}
        <p class="hint" id="zap-hint">To ${address}. ${this.endpoint ? `Takes ${this.endpoint.minSendableMsats / 1000}–${(this.endpoint.maxSendableMsats / 1000).toLocaleString('en')} sats.` : ''}</p>
        <button class="primary" type="submit" data-testid="zap-send" ?disabled=${busy || !(this.amountSats >= 1)}>Zap ${Number.isFinite(this.amountSats) ? Math.round(this.amountSats) : ''} sats</button>
      </form>`
    return html`<section class="card" aria-labelledby="zap-h">
      <h3 id="zap-h">⚡ Zap</h3>
      ${body} ${this.zapStatus(tally)}
    </section>`
  }

  private receiptsSection(tally: ZapTally | undefined) {
    const { model, now } = this.services
    const target = payTarget(model.profileOf(this.pubkey))
    const address = target && ('lud16' in target ? target.lud16 : 'its LNURL')
    let body
    if (!address) body = html`<p class="empty">No lightning address: receipts cannot be checked against a zap server.</p>`
    else if (this.endpointProblem) body = html`<p class="notice error" role="alert">Cannot check zap receipts: ${this.endpointProblem}</p>`
    else if (!this.endpoint) body = html`<p role="status">Asking ${address} who signs its receipts…</p>`
    else if (!tally) body = html`<p class="empty">${address} does not take zaps, so no receipt can be valid.</p>`
    else
      body = html`
        <p data-testid="zap-total"><span class="amount">${formatMsats(tally.totalMsats)}</span> from ${tally.zaps.length} zap${tally.zaps.length === 1 ? '' : 's'}</p>
        ${tally.zaps.length
          ? html`<ul class="list" data-testid="zap-receipts">
              ${tally.zaps.slice(0, 50).map(
                (z) => html`<li data-testid="zap-receipt">
                  <span class="amount">⚡ ${formatMsats(z.amountMsats)}</span> from ${model.profileOf(z.senderPubkey) ? displayName(z.senderPubkey, model.profileOf(z.senderPubkey)) : shortNpub(z.senderPubkey)}
                  <span class="hint">${formatAge(now() - z.paidAt)}</span>${z.comment ? html`<div>“${z.comment}”</div>` : nothing}
                </li>`,
              )}
            </ul>`
          : html`<p class="empty">No zaps yet.</p>`}
        ${tally.rejected.length
          ? html`<details>
              <summary>${tally.rejected.length} receipt${tally.rejected.length === 1 ? '' : 's'} ignored (failed validation)</summary>
              <ul>${tally.rejected.slice(0, 50).map((r) => html`<li><span class="mono">${r.id.slice(0, 12)}</span>: ${r.reason}</li>`)}</ul>
            </details>`
          : nothing}
      `
    return html`<section class="card" aria-labelledby="receipts-h">
      <h3 id="receipts-h">Zaps received</h3>
      <p class="hint">Only receipts signed by the agent's zap server whose invoice commits to the zap request and its amount (NIP-57, checked here) count.</p>
      ${body}
    </section>`
  }

  override render() {
    const { model, now } = this.services
    const agent = model.agents.get(this.pubkey)
    const profile = model.profileOf(this.pubkey)
    if (!/^[0-9a-f]{64}$/.test(this.pubkey)) return html`<h2>Agent</h2><p class="notice error" role="alert">Not an agent's public key.</p>`
    if (!agent && !profile) return html`<h2>Agent</h2><p class="empty" role="status">Looking for agent <span class="mono">${shortNpub(this.pubkey)}</span> on your relays…</p>`
    const name = displayName(this.pubkey, profile)
    const state = liveness(agent?.heartbeat, now())
    const tally = this.tally
    const ratings = model.ratingsAbout(this.pubkey)
    const jobs = [...model.jobs.values()].filter((j) => j.feedback.some((f) => f.pubkey === this.pubkey) || j.results.some((r) => r.pubkey === this.pubkey)).sort((a, b) => b.request.event.created_at - a.request.event.created_at)
    return html`
      <p><a href="#/agents">← All agents</a></p>
      <h2>${name}</h2>
      <div class="layout">
        <div>
          <section class="card" aria-label="Profile">
            ${profile?.about ? html`<p>${profile.about}</p>` : nothing}
            <dl>
              <dt>Public key</dt>
              <dd class="mono">${shortNpub(this.pubkey)}</dd>
              <dt>Status</dt>
              <dd><span class="badge ${state}">${LIVENESS_TEXT[state]}</span></dd>
              <dt>Lightning</dt>
              <dd>${profile?.lud16 ? html`<span class="mono">${profile.lud16}</span>` : profile?.lud06 ? html`<span class="hint">LNURL (lud06)</span>` : html`<span class="hint">none</span>`}</dd>
              <dt>Reputation</dt>
              <dd>${agent?.reputation && agent.reputation.labels > 0
                ? html`${Math.round(agent.reputation.value * 100)}% <span class="hint">from ${agent.reputation.labels} label(s)</span>`
                : html`<span class="hint">${agent?.reputation ? 'no labels from your web of trust or from paying clients yet' : 'no labels yet'}</span>`}</dd>
            </dl>
            ${agent
              ? [...agent.handlers.values()].map(
                  (h) => html`<div class="row" style="margin-top: 0.5rem">
                    <strong>${h.content.name ?? kindName(h.kinds[0])}</strong> ${h.kinds.map((k) => html`<span class="badge">kind ${k}</span>`)}
                    ${h.kinds.some((k) => k >= 5000 && k <= 5999) ? html`<a class="button" href="#/hire?agent=${encodeURIComponent(h.address)}">Hire</a>` : nothing}
                  </div>`,
                )
              : nothing}
          </section>
          <section class="card" aria-labelledby="ratings-h">
            <h3 id="ratings-h">Ratings (${ratings.length})</h3>
            ${ratings.length
              ? html`<ul class="list">${ratings.slice(0, 30).map((r) => html`<li><span class="badge ${r.outcome === 'success' ? 'success' : 'error'}">${OUTCOME_TEXT[r.outcome]}</span> ${r.quality !== undefined ? html`<span aria-label="quality ${r.quality} of 5">${'★'.repeat(r.quality)}${'☆'.repeat(5 - r.quality)}</span>` : nothing} <span class="hint">by ${shortNpub(r.labeller)}, ${formatAge(now() - r.createdAt)}</span>${r.comment ? html`<div>“${r.comment}”</div>` : nothing}</li>`)}</ul>`
              : html`<p class="empty">No ratings for this agent's jobs on your relays yet.</p>`}
          </section>
          <section class="card" aria-labelledby="jobs-h">
            <h3 id="jobs-h">Recent jobs (${jobs.length})</h3>
            ${jobs.length
              ? html`<ul class="list">${jobs.slice(0, 20).map((j) => html`<li><a href="#/jobs/${j.id}">${kindName(j.request.kind)}</a> <span class="hint">${formatAge(now() - j.request.event.created_at)}</span></li>`)}</ul>`
              : html`<p class="empty">No jobs by this agent in the last day.</p>`}
          </section>
        </div>
        <div>${this.zapSection(tally)} ${this.receiptsSection(tally)}</div>
      </div>
    `
  }
}

customElements.define('timmy-agent', AgentView)
