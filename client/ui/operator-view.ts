// The operator's pages for the host's own agents: health (/healthz, each agent's relays, outbox and
// heartbeat), the approval queue (approve or reject, each decision signed with NIP-98 by the
// logged-in operator), earnings from the host's job log, and the Lightning treasury (operators only,
// read on request with a NIP-98 signed GET). Public data loads for anyone; the
// host decides who may decide (its operators allowlist) and the page shows its reason when not.
import { css, html, LitElement, nothing } from 'lit'
import { formatAge, formatMsats, kindName, shortNpub } from '../format.js'
import { liveness } from '../model.js'
import { HostApi, HostApiError, type AgentHealth, type EarningsSummary, type Healthz, type JobSummary } from '../operator-api.js'
import type { Services } from '../services.js'
import { sharedStyles } from './styles.js'

const REFRESH_MS = 10_000
const LIVENESS_TEXT = { online: 'heartbeat fresh', late: 'heartbeat late', offline: 'heartbeat gone', unknown: 'no heartbeat seen' }

interface Loaded {
  health?: Healthz
  agents: AgentHealth[]
  approvals: JobSummary[]
  completed: JobSummary[]
  /** Why a part could not be loaded. */
  problems: string[]
}

/** The treasury is read on request only: each read is a fresh NIP-98 signature, so it is not refreshed on a timer. */
type TreasuryState = { state: 'busy' } | { state: 'loaded'; agents: EarningsSummary[] } | { state: 'failed'; status: number; text: string }

type Decision = { state: 'busy' } | { state: 'done'; text: string } | { state: 'failed'; text: string }

export class OperatorView extends LitElement {
  static override properties = {
    services: { attribute: false },
    version: { type: Number },
    loaded: { state: true },
    decisions: { state: true },
    rejecting: { state: true },
    treasury: { state: true },
  }

  declare services: Services
  declare version: number
  declare loaded: Loaded | undefined
  declare decisions: Map<string, Decision>
  /** The job whose rejection reason is being typed. */
  declare rejecting: string | undefined
  declare treasury: TreasuryState | undefined

  private readonly api = new HostApi(location.origin)
  private timer: ReturnType<typeof setInterval> | undefined

  static override styles = [
    sharedStyles,
    css`
      section {
        margin-bottom: 1.5rem;
      }
      .table-wrap {
        overflow-x: auto;
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
        vertical-align: top;
      }
      td.num,
      th.num {
        text-align: right;
        white-space: nowrap;
      }
      .reject-form {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        margin-top: 0.5rem;
      }
      .reject-form input {
        flex: 1 1 14rem;
        width: auto;
      }
      .reject-form label {
        margin: 0;
      }
    `,
  ]

  constructor() {
    super()
    this.version = 0
    this.loaded = undefined
    this.decisions = new Map()
    this.rejecting = undefined
    this.treasury = undefined
  }

  override connectedCallback(): void {
    super.connectedCallback()
    void this.load()
    this.timer = setInterval(() => void this.load(), REFRESH_MS)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    clearInterval(this.timer)
  }

  private async load(): Promise<void> {
    const problems: string[] = []
    const attempt = async <T>(what: string, load: () => Promise<T>, fallback: T): Promise<T> => {
      try {
        return await load()
      } catch (err) {
        problems.push(`${what}: ${(err as Error).message}`)
        return fallback
      }
    }
    const [health, agents, approvals, completed] = await Promise.all([
      attempt<Healthz | undefined>('health', () => this.api.health(), undefined),
      attempt('agents', () => this.api.agents(), []),
      attempt('approvals', () => this.api.approvals(), []),
      attempt('earnings', () => this.api.jobs({ status: 'completed', limit: 1000 }), []),
    ])
    this.loaded = { ...(health && { health }), agents, approvals, completed, problems }
  }

  private async decide(job: JobSummary, verdict: 'approve' | 'reject', reason = ''): Promise<void> {
    this.decisions = new Map(this.decisions).set(job.id, { state: 'busy' })
    try {
      const updated = verdict === 'approve' ? await this.api.approve(this.services.signer, job.id) : await this.api.reject(this.services.signer, job.id, reason)
      this.decisions = new Map(this.decisions).set(job.id, { state: 'done', text: verdict === 'approve' ? `Approved: the job is ${updated.status}.` : `Rejected: the job is ${updated.status}.` })
      this.rejecting = undefined
      await this.load()
    } catch (err) {
      const status = err instanceof HostApiError ? err.status : 0
      const lead = status === 401 ? 'The host did not accept the signature' : status === 403 ? 'Not allowed' : 'Failed'
      this.decisions = new Map(this.decisions).set(job.id, { state: 'failed', text: `${lead}: ${(err as Error).message}` })
    }
  }

  private async loadTreasury(): Promise<void> {
    this.treasury = { state: 'busy' }
    try {
      this.treasury = { state: 'loaded', agents: await this.api.treasury(this.services.signer) }
    } catch (err) {
      this.treasury = { state: 'failed', status: err instanceof HostApiError ? err.status : 0, text: (err as Error).message }
    }
  }

  private treasurySection() {
    const signer = this.services.signer
    const treasury = this.treasury
    const failure = (t: { status: number; text: string }) => {
      const lead = t.status === 503 ? 'No treasury' : t.status === 401 ? 'The host did not accept the signature' : t.status === 403 ? 'Not allowed' : 'Failed'
      return html`<p class="notice ${t.status === 503 ? 'warn' : 'error'}" role="alert" data-testid="treasury-error">${lead}: ${t.text}</p>`
    }
    return html`<section aria-labelledby="treasury-h">
      <div class="row" style="justify-content: space-between">
        <h3 id="treasury-h">Treasury</h3>
        <button data-testid="treasury-load" ?disabled=${!signer?.canSign || treasury?.state === 'busy'} @click=${() => this.loadTreasury()}>${treasury ? 'Reload treasury' : 'Show treasury'}</button>
      </div>
      <p class="hint">What the host's Lightning treasury holds for each agent. Operators only: each read is signed (NIP-98) by the logged-in key.</p>
      ${!signer?.canSign ? html`<p class="notice warn">Log in with a signer holding an operator key to read the treasury. <a href="#/login">Log in</a></p>` : nothing}
      ${treasury?.state === 'busy' ? html`<p role="status">Signing and asking the host…</p>` : nothing}
      ${treasury?.state === 'failed' ? failure(treasury) : nothing}
      ${treasury?.state === 'loaded'
        ? treasury.agents.length === 0
          ? html`<p class="empty" data-testid="treasury-empty">No agent has been paid yet.</p>`
          : html`<div class="table-wrap"><table data-testid="treasury">
              <caption class="sr-only">Treasury per agent</caption>
              <thead><tr><th scope="col">Agent</th><th scope="col" class="num">Payments</th><th scope="col" class="num">Last 24 h</th><th scope="col" class="num">Last 30 days</th><th scope="col" class="num">Earned</th><th scope="col" class="num">Fees</th><th scope="col" class="num">Pending withdrawal</th><th scope="col" class="num">Swept to cold</th><th scope="col" class="num">Hot wallet</th></tr></thead>
              <tbody>
                ${treasury.agents.map(
                  (a) => html`<tr data-testid="treasury-agent"><td>${a.agent}</td><td class="num">${a.payments}</td><td class="num">${formatMsats(a.earnedLast24hMsats)}</td><td class="num">${formatMsats(a.earnedLast30dMsats)}</td><td class="num">${formatMsats(a.earnedMsats)}</td><td class="num">${formatMsats(a.feesMsats)}</td><td class="num">${formatMsats(a.pendingWithdrawalMsats)}</td><td class="num">${formatMsats(a.coldWalletMsats)}</td><td class="num">${formatMsats(a.hotWalletMsats)}</td></tr>`,
                )}
              </tbody>
            </table></div>`
        : nothing}
    </section>`
  }

  private onReject(event: SubmitEvent, job: JobSummary): void {
    event.preventDefault()
    const reason = String(new FormData(event.target as HTMLFormElement).get('reason') ?? '').trim()
    if (reason) void this.decide(job, 'reject', reason)
  }

  private healthSection(loaded: Loaded) {
    const { model, now } = this.services
    const running = loaded.health?.agents ?? []
    return html`<section aria-labelledby="health-h">
      <h3 id="health-h">Health</h3>
      ${loaded.health
        ? html`<p data-testid="host-health" role="status">
            <span class="badge ${loaded.health.ok ? 'success' : 'error'}">${loaded.health.ok ? 'all agents running' : 'an agent is down'}</span>
            <span class="hint">/healthz: ${running.filter((a) => a.running).length} of ${running.length} running</span>
          </p>`
        : nothing}
      ${loaded.agents.length
        ? html`<div class="table-wrap"><table>
            <caption class="sr-only">The host's agents</caption>
            <thead><tr><th scope="col">Agent</th><th scope="col">Heartbeat</th><th scope="col">Capabilities</th><th scope="col">Relays</th><th scope="col" class="num">Running jobs</th><th scope="col" class="num">Outbox</th></tr></thead>
            <tbody>
              ${loaded.agents.map((agent) => {
                const heartbeat = model.agents.get(agent.pubkey)?.heartbeat
                const state = liveness(heartbeat, now())
                return html`<tr data-testid="operator-agent">
                  <td><a href="#/agent/${agent.pubkey}">${agent.name}</a> <span class="badge ${agent.running ? 'success' : 'error'}">${agent.running ? 'running' : 'stopped'}</span><br /><span class="mono hint">${shortNpub(agent.pubkey)}</span></td>
                  <td><span class="badge ${state}">${LIVENESS_TEXT[state]}</span>${heartbeat ? html`<br /><span class="hint">${formatAge(now() - heartbeat.createdAt)}</span>` : agent.lastHeartbeatAt ? html`<br /><span class="hint">sent ${formatAge(now() - agent.lastHeartbeatAt)}</span>` : nothing}</td>
                  <td>${agent.capabilities.map((c) => html`<div>${c.name} <span class="hint">(kind ${c.kind})</span> ${c.available ? nothing : html`<span class="badge error" title=${c.reason ?? ''}>unavailable${c.reason ? `: ${c.reason}` : ''}</span>`}</div>`)}</td>
                  <td>${agent.relays.map((r) => html`<div class="mono">${r.connected ? '●' : '○'} ${r.url}${r.connected ? '' : ' (down)'}</div>`)}</td>
                  <td class="num">${agent.runningJobs}</td>
                  <td class="num">${agent.outboxPending}</td>
                </tr>`
              })}
            </tbody>
          </table></div>`
        : html`<p class="empty">This host reports no agents.</p>`}
    </section>`
  }

  private approvalsSection(loaded: Loaded) {
    const signer = this.services.signer
    return html`<section aria-labelledby="approvals-h">
      <h3 id="approvals-h">Approvals (${loaded.approvals.length})</h3>
      ${signer?.canSign
        ? html`<p class="hint">Decisions are signed by ${shortNpub(signer.pubkey)} (NIP-98); the host accepts them from its operators only.</p>`
        : html`<p class="notice warn">Log in with a signer holding an operator key to approve or reject. <a href="#/login">Log in</a></p>`}
      ${loaded.approvals.length === 0
        ? html`<p class="empty" data-testid="approvals-empty">No job is waiting for approval.</p>`
        : html`<ul class="plain" style="list-style: none; padding: 0; display: grid; gap: 0.75rem">
            ${loaded.approvals.map((job) => this.approvalItem(job, signer?.canSign ?? false))}
          </ul>`}
    </section>`
  }

  private approvalItem(job: JobSummary, canSign: boolean) {
    const decision = this.decisions.get(job.id)
    const busy = decision?.state === 'busy'
    return html`<li class="card" data-testid="approval" aria-labelledby="approval-${job.id}">
      <div class="row" style="justify-content: space-between">
        <strong id="approval-${job.id}">${kindName(job.kind)} for ${job.agent}</strong>
        <span class="hint">${formatAge(this.services.now() - job.postedAt)}</span>
      </div>
      <p>${job.approval?.reason ?? 'waiting for an operator'}</p>
      <p class="hint">
        From <span class="mono">${shortNpub(job.requester)}</span>${job.priceMsats !== undefined ? html` · price ${formatMsats(job.priceMsats)}` : nothing}${job.bidMsats !== undefined ? html` · bid ${formatMsats(job.bidMsats)}` : nothing}${job.encrypted ? ' · encrypted' : ''}
        · <a href="#/jobs/${job.id}">job ${job.id.slice(0, 8)}</a>
      </p>
      <div class="row">
        <button class="primary" ?disabled=${!canSign || busy} @click=${() => this.decide(job, 'approve')} aria-label="Approve ${kindName(job.kind)} job ${job.id.slice(0, 8)}">Approve</button>
        <button ?disabled=${!canSign || busy} @click=${() => (this.rejecting = this.rejecting === job.id ? undefined : job.id)} aria-expanded=${this.rejecting === job.id ? 'true' : 'false'}>Reject…</button>
      </div>
      ${this.rejecting === job.id
        ? html`<form class="reject-form" @submit=${(e: SubmitEvent) => this.onReject(e, job)}>
            <label for="reason-${job.id}" class="sr-only">Reason for rejecting</label>
            <input id="reason-${job.id}" name="reason" required maxlength="500" placeholder="Reason (sent to the requester)" />
            <button type="submit" ?disabled=${busy}>Reject job</button>
          </form>`
        : nothing}
      ${decision?.state === 'busy' ? html`<p role="status">Signing and sending…</p>` : nothing}
      ${decision?.state === 'failed' ? html`<p class="notice error" role="alert" data-testid="approval-error">${decision.text}</p>` : nothing}
    </li>`
  }

  private earningsSection(loaded: Loaded) {
    const now = this.services.now()
    const byAgent = new Map<string, { jobs: number; msats: number; last24h: number }>()
    for (const agent of loaded.agents) byAgent.set(agent.name, { jobs: 0, msats: 0, last24h: 0 })
    for (const job of loaded.completed) {
      const entry = byAgent.get(job.agent) ?? { jobs: 0, msats: 0, last24h: 0 }
      entry.jobs++
      entry.msats += job.priceMsats ?? 0
      if (job.updatedAt > now - 86_400) entry.last24h += job.priceMsats ?? 0
      byAgent.set(job.agent, entry)
    }
    const total = [...byAgent.values()].reduce((sum, e) => sum + e.msats, 0)
    return html`<section aria-labelledby="earnings-h">
      <h3 id="earnings-h">Earnings</h3>
      <p class="hint">Prices of the completed jobs in the host's job log (the last 1000).</p>
      ${byAgent.size
        ? html`<div class="table-wrap"><table data-testid="earnings">
            <caption class="sr-only">Earnings per agent</caption>
            <thead><tr><th scope="col">Agent</th><th scope="col" class="num">Completed jobs</th><th scope="col" class="num">Last 24 h</th><th scope="col" class="num">Earned</th></tr></thead>
            <tbody>
              ${[...byAgent].map(([name, e]) => html`<tr><td>${name}</td><td class="num">${e.jobs}</td><td class="num">${formatMsats(e.last24h)}</td><td class="num">${formatMsats(e.msats)}</td></tr>`)}
              <tr><th scope="row">Total</th><td></td><td></td><td class="num"><strong>${formatMsats(total)}</strong></td></tr>
            </tbody>
          </table></div>`
        : html`<p class="empty">No completed jobs yet.</p>`}
    </section>`
  }

  override render() {
    const loaded = this.loaded
    return html`
      <div class="row" style="justify-content: space-between">
        <h2>Operator</h2>
        <button @click=${() => this.load()}>Refresh</button>
      </div>
      <p class="hint">The agents of the host serving this page (<span class="mono">${this.api.origin}</span>).</p>
      ${!loaded
        ? html`<p role="status">Asking the host…</p>`
        : loaded.problems.length === 4
          ? html`<div class="notice error" role="alert" data-testid="operator-unreachable">
              <p><strong>This page is not served by a Timmy host, or the host is not answering.</strong></p>
              <ul>${loaded.problems.map((p) => html`<li>${p}</li>`)}</ul>
              <p>Open the operator pages from the host itself (<code>timmy start</code>, then <code>http://127.0.0.1:8080/#/operator</code>).</p>
            </div>`
          : html`${loaded.problems.length ? html`<div class="notice error" role="alert"><ul>${loaded.problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : nothing}
            ${this.approvalsSection(loaded)} ${this.healthSection(loaded)} ${this.earningsSection(loaded)} ${this.treasurySection()}`}
    `
  }
}

customElements.define('timmy-operator', OperatorView)
