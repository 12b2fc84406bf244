// One job: its request, a live timeline of the agents' feedback (processing, payment-required with
// a pay button: WebLN, or Nostr Wallet Connect with a URI kept for the tab; partial, error, success)
// and each result shown by what it is. Also the job list.
import { css, html, LitElement, nothing, type PropertyValues } from 'lit'
import type { NostrEvent } from '../../nips/01.js'
import { buildJobOutcomeLabel, JOB_OUTCOMES, type JobOutcome } from '../../nips/32.js'
import type { JobFeedback, JobResult } from '../../nips/90.js'
import { classifyResult, formatAge, formatMsats, kindName, shortNpub } from '../format.js'
import { displayName, jobPhase, type JobEntry } from '../model.js'
import { payInvoiceWithNwc, storedNwcUri, storeNwcUri } from '../nwc.js'
import { RelayPool, type Subscription } from '../relay-pool.js'
import type { Services } from '../services.js'
import { sharedStyles } from './styles.js'

interface WebLN {
  enable(): Promise<void>
  sendPayment(invoice: string): Promise<{ preimage: string }>
}

const STATUS_TEXT: Record<string, string> = {
  posted: 'waiting for an agent',
  processing: 'processing',
  'payment-required': 'payment required',
  partial: 'partial result',
  error: 'error',
  success: 'done',
}

/** The inputs inside an encrypted request's decrypted content (a JSON array of its private tags). */
function decryptedInputs(plaintext: string | undefined): { type: string; value: string }[] | undefined {
  if (plaintext === undefined) return undefined
  try {
    const tags = JSON.parse(plaintext) as unknown
    if (!Array.isArray(tags)) return undefined
    return tags.filter((t): t is string[] => Array.isArray(t) && t[0] === 'i' && typeof t[1] === 'string').map((t) => ({ type: t[2] ?? 'text', value: t[1] }))
  } catch {
    return undefined
  }
}

type Payment = { state: 'paying' } | { state: 'paid'; preimage: string; via: string } | { state: 'failed'; reason: string }

type Rating = { state: 'busy' } | { state: 'failed'; reason: string }

/** The outcomes a requester can state (no-reveal is the auctioneer's, about a bid). */
const RATABLE_OUTCOMES = JOB_OUTCOMES.filter((o) => o !== 'no-reveal')
const OUTCOME_TEXT: Record<JobOutcome, string> = { success: 'Success', failed: 'Failed', late: 'Late', 'no-reveal': 'No reveal', 'invalid-result': 'Invalid result' }

export class JobView extends LitElement {
  static override properties = {
    services: { attribute: false },
    version: { type: Number },
    jobId: { type: String },
    plaintext: { state: true },
    payments: { state: true },
    ratings: { state: true },
    nwcUri: { state: true },
    nwcProblem: { state: true },
  }

  declare services: Services
  declare version: number
  declare jobId: string
  /** Decrypted contents by event id (encrypted requests and their answers). */
  declare plaintext: Map<string, string>
  declare payments: Map<string, Payment>
  /** Rating being published, by agent. */
  declare ratings: Map<string, Rating>
  /** The Nostr Wallet Connect URI for this tab (sessionStorage): a spending credential, never shown back or logged. */
  declare nwcUri: string | undefined
  /** Why the pasted URI was not taken. */
  declare nwcProblem: string | undefined

  private sub: Subscription | undefined
  private readonly decrypting = new Set<string>()

  static override styles = [
    sharedStyles,
    css`
      .request dl {
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
      ol.timeline {
        list-style: none;
        padding: 0;
        margin: 1rem 0;
        border-left: 3px solid var(--border);
      }
      ol.timeline li {
        padding: 0.4rem 0 0.6rem 1rem;
        position: relative;
      }
      ol.timeline li::before {
        content: '';
        position: absolute;
        left: -8px;
        top: 0.8rem;
        width: 13px;
        height: 13px;
        border-radius: 50%;
        background: var(--surface);
        border: 2px solid var(--accent);
      }
      .when {
        color: var(--muted);
        font-size: 0.85rem;
      }
      .result {
        margin-top: 1rem;
      }
      .result pre,
      .text {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        background: var(--bg);
        border: 1px solid var(--border);
        border-radius: 6px;
        padding: 0.75rem;
        max-height: 32rem;
        overflow: auto;
        margin: 0.5rem 0 0;
      }
      .result img,
      .result video {
        max-width: 100%;
        border-radius: 6px;
      }
      .result audio {
        width: 100%;
      }
      .invoice {
        max-width: 100%;
      }
      fieldset.stars {
        border: 1px solid var(--border);
        border-radius: 6px;
        margin: 0.75rem 0 0;
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 1rem;
      }
      fieldset.stars label {
        display: inline-flex;
        gap: 0.3rem;
        align-items: center;
        font-weight: normal;
        margin: 0;
      }
      fieldset.stars input {
        width: auto;
      }
      legend {
        font-weight: 600;
      }
      table {
        border-collapse: collapse;
        width: 100%;
      }
      th,
      td {
        text-align: left;
        padding: 0.45rem 0.5rem;
        border-bottom: 1px solid var(--border);
      }
    `,
  ]

  constructor() {
    super()
    this.version = 0
    this.jobId = ''
    this.plaintext = new Map()
    this.payments = new Map()
    this.ratings = new Map()
    this.nwcUri = storedNwcUri()
    this.nwcProblem = undefined
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // The pool keeps the subscription across relay changes: only a new job needs a new one.
    if (changed.has('jobId') || !this.sub) {
      this.sub?.close()
      this.sub = this.jobId ? this.services.watch([{ ids: [this.jobId] }, { '#e': [this.jobId] }]) : undefined
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.sub?.close()
    this.sub = undefined
  }

  protected override updated(): void {
    const job = this.services.model.jobs.get(this.jobId)
    if (job) this.decryptAll(job)
  }

  /** Encrypted parts are readable by the requester only: ask their signer, once per event. */
  private decryptAll(job: JobEntry): void {
    const { signer } = this.services
    if (!signer?.canEncrypt || signer.pubkey !== job.request.pubkey) return
    const peerOf = (event: NostrEvent) => (event.pubkey === job.request.pubkey ? job.request.targets[0] : event.pubkey)
    const encrypted = [job.request.event, ...job.feedback.map((f) => f.event), ...job.results.map((r) => r.event)].filter((e) => e.tags.some((t) => t[0] === 'encrypted') && e.content)
    for (const event of encrypted) {
      const peer = peerOf(event)
      if (!peer || this.plaintext.has(event.id) || this.decrypting.has(event.id)) continue
      this.decrypting.add(event.id)
      signer
        .nip44Decrypt(peer, event.content)
        .then((text) => (this.plaintext = new Map(this.plaintext).set(event.id, text)))
        .catch((err: Error) => (this.plaintext = new Map(this.plaintext).set(event.id, `⚠ could not decrypt: ${err.message}`)))
    }
  }

  private contentOf(event: NostrEvent): string {
    return this.plaintext.get(event.id) ?? (event.tags.some((t) => t[0] === 'encrypted') ? '🔒 encrypted' : event.content)
  }

  private async pay(feedback: JobFeedback, via: 'webln' | 'nwc'): Promise<void> {
    const webln = (globalThis as { webln?: WebLN }).webln
    const bolt11 = feedback.bolt11
    if (!bolt11 || (via === 'webln' ? !webln : !this.nwcUri)) return
    this.payments = new Map(this.payments).set(feedback.id, { state: 'paying' })
    try {
      let preimage: string
      if (via === 'webln') {
        await webln!.enable()
        preimage = (await webln!.sendPayment(bolt11)).preimage
      } else {
        preimage = (await payInvoiceWithNwc(this.nwcUri!, bolt11, { openRelays: (urls) => new RelayPool(urls) })).preimage
      }
      this.payments = new Map(this.payments).set(feedback.id, { state: 'paid', preimage, via: via === 'webln' ? 'WebLN' : 'NWC' })
    } catch (err) {
      this.payments = new Map(this.payments).set(feedback.id, { state: 'failed', reason: (err as Error).message })
    }
  }

  private onConnectNwc(event: SubmitEvent): void {
    event.preventDefault()
    const form = event.target as HTMLFormElement
    const uri = String(new FormData(form).get('nwc') ?? '').trim()
    try {
      storeNwcUri(uri)
      this.nwcUri = uri
      this.nwcProblem = undefined
      form.reset()
    } catch (err) {
      this.nwcProblem = (err as Error).message
    }
  }

  private forgetNwc(): void {
    storeNwcUri(undefined)
    this.nwcUri = undefined
  }

  private nwcControls(feedback: JobFeedback, busy: boolean, amount: string) {
    if (this.nwcUri) {
      return html`<button class="primary" data-testid="pay-nwc" @click=${() => this.pay(feedback, 'nwc')} ?disabled=${busy}>Pay ${amount} with NWC</button>
        <button @click=${() => this.forgetNwc()}>Disconnect NWC wallet</button>`
    }
    return html`<form class="row" data-testid="nwc-connect" @submit=${(e: SubmitEvent) => this.onConnectNwc(e)}>
      <label for="nwc-${feedback.id}">Connect wallet (NWC)</label>
      <input id="nwc-${feedback.id}" name="nwc" type="password" autocomplete="off" required placeholder="nostr+walletconnect://…" aria-describedby="nwc-hint-${feedback.id}" />
      <button type="submit">Connect</button>
      <span class="hint" id="nwc-hint-${feedback.id}">Kept for this tab only (sessionStorage); it can spend from your wallet.</span>
      ${this.nwcProblem ? html`<p class="notice error" role="alert" data-testid="nwc-problem">${this.nwcProblem}</p>` : nothing}
    </form>`
  }

  private payment(feedback: JobFeedback) {
    if (feedback.amountMsats === undefined) return nothing
    const amount = formatMsats(feedback.amountMsats)
    if (!feedback.bolt11) return html`<p>Asks for ${amount}. <span class="hint">No invoice attached: the agent expects a zap.</span></p>`
    const state = this.payments.get(feedback.id)
    const hasWebln = (globalThis as { webln?: WebLN }).webln !== undefined
    const busy = state?.state === 'paying' || state?.state === 'paid'
    return html`<div>
      <p>Asks for <strong>${amount}</strong>.</p>
      ${hasWebln
        ? html`<button class="primary" @click=${() => this.pay(feedback, 'webln')} ?disabled=${busy}>
            ${state?.state === 'paying' ? 'Paying…' : state?.state === 'paid' ? 'Paid' : `Pay ${amount}`}
          </button>`
        : html`<p class="hint">No WebLN wallet in this browser: pay the invoice with any Lightning wallet, or connect one with Nostr Wallet Connect.</p>`}
      ${this.nwcControls(feedback, busy, amount)}
      ${state?.state === 'paying' ? html`<p role="status">Paying…</p>` : nothing}
      <a class="button" href="lightning:${feedback.bolt11}">Open in wallet</a>
      <button @click=${() => navigator.clipboard?.writeText(feedback.bolt11!)}>Copy invoice</button>
      <p class="mono invoice">${feedback.bolt11}</p>
      ${state?.state === 'failed' ? html`<p class="notice error" role="alert" data-testid="payment-error">Payment failed: ${state.reason}</p>` : nothing}
      ${state?.state === 'paid' ? html`<p role="status" data-testid="paid">Paid with ${state.via}. Preimage <span class="mono">${state.preimage}</span></p>` : nothing}
    </div>`
  }

  private feedbackItem(feedback: JobFeedback) {
    const { model, now } = this.services
    const agent = displayName(feedback.pubkey, model.profileOf(feedback.pubkey))
    const content = feedback.content ? this.contentOf(feedback.event) : ''
    return html`<li data-testid="feedback" data-status=${feedback.status}>
      <div class="row"><span class="badge ${feedback.status}">${STATUS_TEXT[feedback.status]}</span> <strong>${agent}</strong>
        <span class="when">${formatAge(now() - feedback.event.created_at)}</span></div>
      ${feedback.extraInfo ? html`<p>${feedback.extraInfo}</p>` : nothing}
      ${feedback.status === 'payment-required' ? this.payment(feedback) : nothing}
      ${content ? html`<div class="text">${content}</div>` : nothing}
    </li>`
  }

  private renderResult(job: JobEntry, result: JobResult) {
    const { model } = this.services
    const content = this.contentOf(result.event)
    const shape = classifyResult(content, job.request.output)
    const agent = displayName(result.pubkey, model.profileOf(result.pubkey))
    let body
    switch (shape.type) {
      case 'audio':
        body = html`<audio controls preload="none" src=${shape.src}>Your browser cannot play this audio: <a href=${shape.src}>download it</a>.</audio>`
        break
      case 'image':
        body = html`<img src=${shape.src} alt="Image result from ${agent}" referrerpolicy="no-referrer" />`
        break
      case 'video':
        body = html`<video controls preload="metadata" src=${shape.src}></video>`
        break
      case 'link':
        body = html`<p><a href=${shape.href} rel="noopener noreferrer" target="_blank">${shape.href}</a></p>`
        break
      case 'json':
        body = html`<pre aria-label="JSON result">${shape.text}</pre>`
        break
      default:
        body = html`<div class="text" data-testid="result-text">${shape.text}</div>`
    }
    return html`<section class="card result" data-testid="result" aria-labelledby="result-${result.id}">
      <h3 id="result-${result.id}">Result from ${agent}</h3>
      ${result.amountMsats ? html`<p class="hint">Charged ${formatMsats(result.amountMsats)}${result.bolt11 ? ' (invoice attached)' : ''}</p>` : nothing}
      ${body}
    </section>`
  }

  private async rate(event: SubmitEvent, job: JobEntry, agent: string): Promise<void> {
    event.preventDefault()
    const { signer, pool, model, now } = this.services
    if (!signer?.canSign) return
    const form = new FormData(event.target as HTMLFormElement)
    const outcome = String(form.get('outcome')) as JobOutcome
    const quality = Number(form.get('quality'))
    const comment = String(form.get('comment') ?? '').trim()
    const charged = job.results.find((r) => r.pubkey === agent)?.amountMsats ?? job.feedback.filter((f) => f.pubkey === agent && f.amountMsats !== undefined).at(-1)?.amountMsats
    this.ratings = new Map(this.ratings).set(agent, { state: 'busy' })
    try {
      const template = buildJobOutcomeLabel({ agent, job: job.id, kind: job.request.kind, outcome, quality, ...(charged !== undefined && { amountMsats: charged }), ...(comment && { comment }), createdAt: now() })
      const label = await signer.signEvent(template)
      const outcomes = await pool.publish(label)
      if (!outcomes.some((o) => o.ok)) throw new Error(outcomes.map((o) => `${o.url}: ${o.message}`).join('; ') || 'no relay to publish to')
      model.apply(label)
      const next = new Map(this.ratings)
      next.delete(agent)
      this.ratings = next
    } catch (err) {
      this.ratings = new Map(this.ratings).set(agent, { state: 'failed', reason: (err as Error).message })
    }
  }

  /** Who can be rated: the agents that answered with a result or an error. */
  private ratingSection(job: JobEntry) {
    const { model, signer, now } = this.services
    const answered = [...new Set([...job.results.map((r) => r.pubkey), ...job.feedback.filter((f) => f.status === 'error').map((f) => f.pubkey)])]
    if (answered.length === 0) return nothing
    const ratings = model.ratingsOf(job.id)
    const mine = signer?.pubkey === job.request.pubkey && signer.canSign
    return html`<section class="card result" aria-labelledby="rate-h" data-testid="ratings">
      <h3 id="rate-h">Ratings</h3>
      ${ratings.length
        ? html`<ul>${ratings.map(
            (r) => html`<li data-testid="rating">${displayName(r.agent, model.profileOf(r.agent))}: <strong>${OUTCOME_TEXT[r.outcome]}</strong>
              ${r.quality !== undefined ? html`<span role="img" aria-label="quality ${r.quality} of 5">${'★'.repeat(r.quality)}${'☆'.repeat(5 - r.quality)}</span>` : nothing}
              <span class="hint">by ${r.labeller === signer?.pubkey ? 'you' : shortNpub(r.labeller)}, ${formatAge(now() - r.createdAt)}</span>${r.comment ? html` — “${r.comment}”` : nothing}</li>`,
          )}</ul>`
        : html`<p class="hint">Nobody has rated this job yet.</p>`}
      ${mine ? answered.filter((agent) => !ratings.some((r) => r.agent === agent && r.labeller === signer!.pubkey)).map((agent) => this.ratingForm(job, agent)) : nothing}
      ${mine ? this.zapLinks(job) : nothing}
    </section>`
  }

  /** Zaps that name the job: reputation counts them as what the requester paid for it (nips/reputation.md §2.4). */
  private zapLinks(job: JobEntry) {
    const { model } = this.services
    const zappable = [...new Set(job.results.map((r) => r.pubkey))].filter((agent) => {
      const profile = model.profileOf(agent)
      return profile?.lud16 !== undefined || profile?.lud06 !== undefined
    })
    if (zappable.length === 0) return nothing
    return html`<p class="hint">A zap that names this job counts as paid for it, and gives your rating more weight.</p>
      ${zappable.map((agent) => html`<a class="button" href="#/agent/${agent}?job=${job.id}" data-testid="zap-for-job-link">⚡ Zap ${displayName(agent, model.profileOf(agent))} for this job</a> `)}`
  }

  private ratingForm(job: JobEntry, agent: string) {
    const { model } = this.services
    const name = displayName(agent, model.profileOf(agent))
    const failed = !job.results.some((r) => r.pubkey === agent)
    const state = this.ratings.get(agent)
    const id = agent.slice(0, 8)
    return html`<form class="rate" @submit=${(e: SubmitEvent) => this.rate(e, job, agent)} aria-label="Rate ${name}" data-testid="rate-form">
      <p>Rate <strong>${name}</strong> for this job: published as a NIP-32 label that feeds its reputation.</p>
      <label for="outcome-${id}">Outcome</label>
      <select id="outcome-${id}" name="outcome">
        ${RATABLE_OUTCOMES.map((o) => html`<option value=${o} ?selected=${o === (failed ? 'failed' : 'success')}>${OUTCOME_TEXT[o]}</option>`)}
      </select>
      <fieldset class="stars">
        <legend>Quality</legend>
        ${[1, 2, 3, 4, 5].map(
          (q) => html`<label><input type="radio" name="quality" value=${q} ?checked=${q === (failed ? 1 : 5)} required /> ${q} ${q === 1 ? '(poor)' : q === 5 ? '(excellent)' : ''}</label>`,
        )}
      </fieldset>
      <label for="comment-${id}">Comment <span class="hint">(optional, public)</span></label>
      <input id="comment-${id}" name="comment" maxlength="500" autocomplete="off" />
      <div class="row" style="margin-top: 0.75rem">
        <button class="primary" type="submit" data-testid="rate-send" ?disabled=${state?.state === 'busy'}>${state?.state === 'busy' ? 'Publishing…' : 'Publish rating'}</button>
      </div>
      ${state?.state === 'failed' ? html`<p class="notice error" role="alert">Could not publish the rating: ${state.reason}</p>` : nothing}
    </form>`
  }

  override render() {
    const { model, now } = this.services
    const job = model.jobs.get(this.jobId)
    if (!job) return html`<h2>Job</h2><p class="empty" role="status">Looking for job <span class="mono">${this.jobId.slice(0, 16)}…</span> on your relays…</p>`
    const phase = jobPhase(job)
    const request = job.request
    const inputs = request.encrypted ? decryptedInputs(this.plaintext.get(request.id)) : request.inputs
    const requestText = inputs ? inputs.map((i) => `${i.type === 'text' ? '' : `[${i.type}] `}${i.value}`).join('\n') : this.contentOf(request.event)
    const latest = job.feedback.at(-1)
    const isAuction = request.params.auction !== undefined
    return html`
      <h2>${kindName(request.kind)} job</h2>
      <p role="status" aria-live="polite" data-testid="job-phase">
        Status: <span class="badge ${phase}">${STATUS_TEXT[phase]}</span>
        ${latest && phase !== 'success' ? html`<span class="hint">— ${displayName(latest.pubkey, model.profileOf(latest.pubkey))}${latest.extraInfo ? `: ${latest.extraInfo}` : ''}</span>` : nothing}
      </p>
      <section class="card request" aria-label="Request">
        <dl>
          <dt>Kind</dt>
          <dd>${request.kind} (${kindName(request.kind)})</dd>
          <dt>Posted</dt>
          <dd>${formatAge(now() - request.event.created_at)} by <span class="mono">${shortNpub(request.pubkey)}</span></dd>
          <dt>To</dt>
          <dd>${request.targets.length ? request.targets.map((t) => displayName(t, model.profileOf(t))).join(', ') : 'any agent'}</dd>
          ${request.bidMsats !== undefined ? html`<dt>Bid</dt><dd>${formatMsats(request.bidMsats)}</dd>` : nothing}
          ${Object.keys(request.params).length ? html`<dt>Parameters</dt><dd>${Object.entries(request.params).map(([k, v]) => html`<code>${k}=${v.join(',')}</code> `)}</dd>` : nothing}
          <dt>Encrypted</dt>
          <dd>${request.encrypted ? 'yes (NIP-44)' : 'no'}</dd>
          <dt>Job id</dt>
          <dd class="mono">${request.id}</dd>
        </dl>
        <div class="text">${requestText}</div>
        ${isAuction ? html`<p><a href="#/auction/${request.id}">Auction for this job</a></p>` : nothing}
      </section>
      <h3>Timeline</h3>
      <ol class="timeline" aria-live="polite" aria-relevant="additions" data-testid="timeline">
        <li><div class="row"><span class="badge">posted</span> <span class="when">${formatAge(now() - request.event.created_at)}</span></div></li>
        ${job.feedback.map((f) => this.feedbackItem(f))}
        ${job.results.map((r) => html`<li data-testid="feedback" data-status="result"><div class="row"><span class="badge success">result</span>
          <strong>${displayName(r.pubkey, model.profileOf(r.pubkey))}</strong> <span class="when">${formatAge(now() - r.event.created_at)}</span></div></li>`)}
      </ol>
      ${job.results.map((r) => this.renderResult(job, r))}
      ${this.ratingSection(job)}
    `
  }
}

export class JobList extends LitElement {
  static override properties = {
    services: { attribute: false },
    version: { type: Number },
  }

  declare services: Services
  declare version: number

  static override styles = JobView.styles

  constructor() {
    super()
    this.version = 0
  }

  private table(jobs: JobEntry[], caption: string) {
    const { model, now } = this.services
    return html`<table>
      <caption class="sr-only">${caption}</caption>
      <thead><tr><th scope="col">Job</th><th scope="col">Status</th><th scope="col">Agent</th><th scope="col">Posted</th></tr></thead>
      <tbody>
        ${jobs.map((job) => {
          const answered = job.results[0]?.pubkey ?? job.feedback.at(-1)?.pubkey ?? job.request.targets[0]
          const phase = jobPhase(job)
          return html`<tr>
            <td><a href="#/jobs/${job.id}">${kindName(job.request.kind)}</a> <span class="mono hint">${job.id.slice(0, 8)}</span></td>
            <td><span class="badge ${phase}">${STATUS_TEXT[phase]}</span></td>
            <td>${answered ? displayName(answered, model.profileOf(answered)) : '—'}</td>
            <td>${formatAge(now() - job.request.event.created_at)}</td>
          </tr>`
        })}
      </tbody>
    </table>`
  }

  override render() {
    const { model, signer } = this.services
    const jobs = [...model.jobs.values()].sort((a, b) => b.request.event.created_at - a.request.event.created_at)
    const mine = signer ? jobs.filter((j) => j.request.pubkey === signer.pubkey) : []
    const others = jobs.filter((j) => !mine.includes(j)).slice(0, 200)
    return html`
      <h2>Jobs</h2>
      ${signer
        ? html`<h3>Your jobs</h3>
            ${mine.length ? this.table(mine, 'Your jobs') : html`<p class="empty">You have not posted a job yet. <a href="#/agents">Hire an agent.</a></p>`}`
        : nothing}
      <h3>Recent jobs on your relays</h3>
      ${others.length ? this.table(others, 'Recent jobs') : html`<p class="empty">No jobs in the last day.</p>`}
    `
  }
}

customElements.define('timmy-job', JobView)
customElements.define('timmy-jobs', JobList)
