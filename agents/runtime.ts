// The DVM agent: takes NIP-90 job requests from relays, decides, runs capabilities and answers —
// every decision appended to its job log with the effects it implies (see joblog.ts), every effect
// performed by the outbox pump after the commit. In memory there is only what can be rebuilt from
// the log: running jobs are re-run from their pending `run` effect, waits from their deadlines.
import { getPublicKey, type EventTemplate, type Filter, type NostrEvent } from '../nips/01.js'
import { buildDeletion, deletionTargets } from '../nips/09.js'
import { npubEncode } from '../nips/19.js'
import { isExpired } from '../nips/40.js'
import { buildRelayList } from '../nips/65.js'
import { buildHandlerInformation, HANDLER_KIND, type Nip90ParamInfo } from '../nips/89.js'
import {
  buildJobFeedback,
  buildJobResult,
  decryptJobContent,
  decryptJobRequest,
  FEEDBACK_KIND,
  isJobResultKind,
  parseJobFeedback,
  parseJobRequest,
  parseJobResult,
  resultKindFor,
  type FeedbackStatus,
  type JobRequest,
} from '../nips/90.js'
import { approveJob, rejectJob, type Decider } from './approvals.js'
import { AuctionBidder, isAuctionRequest } from './auction/bidder.js'
import type { Capability, JobContext, JobInput } from './capability.js'
import type { AgentProfile, AuctionSettings, TimmyConfig } from './config.js'
import type { EventCrypto } from './crypto.js'
import { buildHeartbeat, HEARTBEAT_KIND, isDead, orphanedClaims, parseHeartbeat, type Claim, type JobAnswer } from './heartbeat.js'
import type { AppendOptions, Effect, EffectSpec, JobLog } from './joblog.js'
import { requestInputBytes, RequesterLimits, type RequesterLimitSettings } from './limits.js'
import { silentLogger, type Logger } from './logger.js'
import type { JobMetrics } from './metrics.js'
import { AgentPayments, type AgentPaymentsOptions } from './payments.js'
import { accepted, RelayPool, relayUrls } from './pool.js'
import { amountDueMsats, isFinal, jobRequestOf, specOf, type JobFact, type JobState } from './state.js'
import { fetchUrlText, type UrlFetcher } from './url-input.js'
import { abortable } from './abortable.js'

export type AgentSettings = Pick<
  TimmyConfig,
  | 'heartbeatSeconds'
  | 'deadAfterIntervals'
  | 'takeoverWindowSeconds'
  | 'jobTimeoutSeconds'
  | 'inputWaitSeconds'
  | 'maxUrlInputBytes'
  | 'maxConcurrentJobs'
  | 'catchupSeconds'
  | 'approval'
>

export const DEFAULT_AGENT_SETTINGS: AgentSettings = {
  heartbeatSeconds: 60,
  deadAfterIntervals: 3,
  takeoverWindowSeconds: 3600,
  jobTimeoutSeconds: 300,
  inputWaitSeconds: 600,
  maxUrlInputBytes: 1_000_000,
  maxConcurrentJobs: 4,
  catchupSeconds: 300,
  approval: { kinds: [] },
}

export interface AgentOptions {
  /** Also the key name and the `name` of its profile. */
  name: string
  secretKey: Uint8Array
  capabilities: Capability[]
  /** Where it reads requests and publishes everything. */
  relays: string[]
  jobLog: JobLog
  crypto: EventCrypto
  settings?: Partial<AgentSettings>
  profile?: AgentProfile
  /** Unix milliseconds. */
  clock?: () => number
  log?: Logger
  fetchUrl?: UrlFetcher
  /** Per-requester rate, input size and concurrency limits (agents/limits.ts). */
  limits?: Partial<RequesterLimitSettings>
  metrics?: JobMetrics
  /** How often the outbox is checked for effects written by other processes (`timmy approvals`). */
  outboxPollMs?: number
  /** How this agent bids in sealed-bid auctions (cost models, encrypted reveals). */
  auction?: Partial<AuctionSettings>
  /** Ask for payment of priced jobs (agents/payments.ts); absent: priced jobs are answered for free. */
  payments?: AgentPaymentsOptions
}

export interface CapabilityStatus {
  id: string
  kind: number
  name: string
  available: boolean
  reason?: string
}

export interface AgentStatus {
  name: string
  pubkey: string
  npub: string
  running: boolean
  capabilities: CapabilityStatus[]
  relays: { url: string; connected: boolean; authenticated: boolean }[]
  jobs: Record<string, number>
  runningJobs: number
  outboxPending: number
  lastHeartbeatAt?: number
}

/** Why a running job was stopped. */
class JobStopped extends Error {
  constructor(readonly why: 'cancelled' | 'shutdown' | 'timeout') {
    super(why === 'timeout' ? 'the job took too long' : `job ${why}`)
  }
}

/** A job that cannot run as asked: the message is the human reason sent in the error feedback. */
class JobRefused extends Error {}

const PERMANENT_REJECTION = /^(invalid|blocked|pow|restricted):/
const MAX_RETRY_DELAY_MS = 60_000
const QUERY_TIMEOUT_MS = 5000
const DELETION_REFRESH_MS = 250
/** Values in one filter field that relays accept (our relay: 1000). */
const MAX_FILTER_IDS = 500

export class Agent {
  readonly name: string
  readonly pubkey: string
  readonly npub: string
  private readonly secretKey: Uint8Array
  private readonly capabilities: Capability[]
  private readonly byKind = new Map<number, Capability>()
  private readonly availability = new Map<string, { ok: boolean; reason?: string }>()
  private readonly relays: string[]
  private readonly settings: AgentSettings
  private readonly clock: () => number
  private readonly log: Logger
  readonly jobLog: JobLog
  private readonly crypto: EventCrypto
  private readonly fetchUrl: UrlFetcher
  private readonly limits: RequesterLimits
  private readonly metrics?: JobMetrics
  private readonly profile?: AgentProfile
  private readonly outboxPollMs: number
  private readonly auctions: AuctionBidder
  readonly payments?: AgentPayments
  private pool: RelayPool | undefined
  private requestSub: { update(f: Filter[]): void; close(): void } | undefined
  private deletionSub: { update(f: Filter[]): void; close(): void } | undefined
  private deletionSubTimer: NodeJS.Timeout | undefined
  private deletionSubKey = ''
  private pumpTimer: NodeJS.Timeout | undefined
  private pumpQueued = false
  private heartbeatTimer: NodeJS.Timeout | undefined
  private readonly inFlight = new Set<number>()
  private readonly inFlightWork = new Set<Promise<void>>()
  private readonly running = new Map<string, { controller: AbortController }>()
  /** Running jobs still waiting for input jobs: they do not count against maxConcurrentJobs (no deadlock between a chain's links). */
  private readonly waitingOnInputs = new Set<string>()
  /** Run effects found pending at start: their job may have been finished by someone else meanwhile. */
  private readonly resumed = new Set<number>()
  private readonly listeners = new Set<(state: JobState) => void>()
  private started = false
  private stopping = false
  private lastHeartbeatAt: number | undefined

  constructor(options: AgentOptions) {
    this.name = options.name
    this.secretKey = options.secretKey
    this.pubkey = getPublicKey(options.secretKey)
    this.npub = npubEncode(this.pubkey)
    this.capabilities = options.capabilities
    for (const capability of options.capabilities) {
      resultKindFor(capability.kind)
      if (this.byKind.has(capability.kind)) throw new Error(`agent ${this.name}: two capabilities serve kind ${capability.kind}`)
      this.byKind.set(capability.kind, capability)
    }
    this.relays = relayUrls(options.relays)
    if (this.relays.length === 0) throw new Error(`agent ${this.name}: no relays`)
    this.settings = { ...DEFAULT_AGENT_SETTINGS, ...options.settings }
    this.clock = options.clock ?? Date.now
    this.log = (options.log ?? silentLogger).child({ agent: this.name })
    this.jobLog = options.jobLog
    this.crypto = options.crypto
    this.fetchUrl = options.fetchUrl ?? fetchUrlText
    this.limits = new RequesterLimits(options.limits ?? {}, (id) => {
      const state = this.jobLog.state(id)
      return state !== undefined && !isFinal(state)
    })
    this.metrics = options.metrics
    this.profile = options.profile
    this.outboxPollMs = options.outboxPollMs ?? 1000
    this.auctions = new AuctionBidder(
      {
        pubkey: this.pubkey,
        secretKey: this.secretKey,
        relays: this.relays,
        jobLog: this.jobLog,
        log: this.log,
        clock: () => this.clock(),
        sign: (template) => this.sign(template),
        verify: (event) => this.crypto.verify(event),
        query: (relays, filters, timeoutMs = QUERY_TIMEOUT_MS) => this.relayPool.query(relays, filters, { timeoutMs }),
        subscribe: (relays, filters, onevent) => this.relayPool.subscribe(relays, filters, { onevent }),
        append: (jobId, facts, effects, options) => {
          const state = this.jobLog.append(jobId, facts, effects, options)
          if (state) this.afterAppend(state)
          return state
        },
        publishEffect: (event, extraRelays) => this.publishEffect(event, extraRelays),
        startEffects: (state) => this.startEffects(state, 'won the auction'),
        approvalReason: (kind, priceMsats) => this.approvalReason(kind, priceMsats),
      },
      options.auction,
    )
    if (options.payments) {
      this.payments = new AgentPayments(options.payments, {
        name: this.name,
        jobLog: this.jobLog,
        clock: () => this.clock(),
        log: this.log,
        append: (jobId, facts, effects, appendOptions) => this.appendPaymentFacts(jobId, facts, effects, appendOptions),
        feedback: (state, status, o = {}) => this.feedbackEvent(state, status, o.extraInfo, undefined, o.amountMsats, o.bolt11),
        publishEffect: (event, extraRelays) => this.publishEffect(event, extraRelays),
        abort: (jobId) => this.running.get(jobId)?.controller.abort(new JobStopped('cancelled')),
      })
    }
  }

  /** The effects that start an assigned job: its invoice first when it must be paid before work. */
  private startEffects(state: Pick<JobState, 'request' | 'spec' | 'priceMsats' | 'auction' | 'payment'>, note?: string): EffectSpec[] {
    const processing = () => this.publishEffect(this.feedbackEvent(state, 'processing', note), state.spec?.relays ?? [])
    return this.payments ? this.payments.startEffects(state, processing) : [processing(), { type: 'run' }]
  }

  /** Payment facts may follow a final fact (paid after the result): the job is not finished twice in the metrics. */
  private appendPaymentFacts(jobId: string, facts: JobFact[], effects: EffectSpec[] = [], options: AppendOptions = {}): JobState | undefined {
    const wasFinal = this.jobLog.state(jobId)
    const state = this.jobLog.append(jobId, facts, effects, options)
    if (!state) return state
    if (wasFinal && isFinal(wasFinal)) {
      this.schedulePump()
      for (const listener of this.listeners) listener(state)
    } else {
      this.afterAppend(state)
    }
    return state
  }

  private nowSeconds(): number {
    return Math.floor(this.clock() / 1000)
  }

  private sign(template: EventTemplate): NostrEvent {
    return this.crypto.sign(template, this.secretKey)
  }

  /** Events matching the filters from this agent's relays, signatures verified by the pool. */
  queryRelays(filters: Filter[]): Promise<NostrEvent[]> {
    return this.relayPool.query(this.relays, filters, { timeoutMs: QUERY_TIMEOUT_MS })
  }

  private get relayPool(): RelayPool {
    if (!this.pool) throw new Error(`agent ${this.name} is not started`)
    return this.pool
  }

  /** Called with the job's new state after every append. */
  onJob(listener: (state: JobState) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async start(): Promise<void> {
    if (this.started) return
    this.started = true
    this.stopping = false
    this.pool = new RelayPool({
      verify: (event) => this.crypto.verify(event),
      signAuth: (template) => this.sign(template),
      clock: this.clock,
      log: this.log,
    })
    for (const effect of this.jobLog.dueEffects(Number.MAX_SAFE_INTEGER, 100_000)) if (effect.type === 'run') this.resumed.add(effect.id)
    // `timmy approvals` runs in another process: it needs to know whose log this is and where to publish.
    this.jobLog.setValue('agent.pubkey', this.pubkey)
    this.jobLog.setValue('agent.relays', JSON.stringify(this.relays))
    // Before intake starts: open bids get their timers back from the log, and new auctions are taken.
    this.auctions.resume()
    this.payments?.start()
    await this.refreshAvailability()
    void this.publishIdentity()
    this.refreshDeletionSub()
    this.schedulePump()
    await this.heartbeat()
    this.log.info({ npub: this.npub, kinds: [...this.availableKinds()], relays: this.relays }, 'agent started')
  }

  /** Stops taking work; running jobs stay in the log and resume at the next start. */
  async stop(): Promise<void> {
    if (!this.started || this.stopping) return
    this.stopping = true
    clearTimeout(this.heartbeatTimer)
    clearTimeout(this.pumpTimer)
    clearTimeout(this.deletionSubTimer)
    this.auctions.stop()
    await this.payments?.stop()
    this.requestSub?.close()
    this.deletionSub?.close()
    for (const { controller } of this.running.values()) controller.abort(new JobStopped('shutdown'))
    // Effects in flight finish against an open log: publishes get their OK (or stay pending for the next start).
    await Promise.race([Promise.all(this.inFlightWork), delay(5000)])
    const goodbye = this.sign(buildHeartbeat({ status: 'offline', intervalSeconds: this.settings.heartbeatSeconds, kinds: [...this.availableKinds()], activeJobs: 0, createdAt: this.nowSeconds() }))
    await this.relayPool.publish(this.relays, goodbye, { timeoutMs: 2000 }).catch(() => [])
    this.pool!.close()
    this.pool = undefined
    this.requestSub = undefined
    this.deletionSub = undefined
    this.deletionSubKey = ''
    this.started = false
    this.log.info({}, 'agent stopped')
  }

  status(): AgentStatus {
    return {
      name: this.name,
      pubkey: this.pubkey,
      npub: this.npub,
      running: this.started && !this.stopping,
      capabilities: this.capabilities.map((c) => {
        const a = this.availability.get(c.id)
        return { id: c.id, kind: c.kind, name: c.name, available: a?.ok ?? false, ...(a?.reason && { reason: a.reason }) }
      }),
      relays: this.pool?.status() ?? [],
      jobs: this.jobLog.countByStatus(),
      runningJobs: this.running.size,
      outboxPending: this.jobLog.pendingEffectCount(),
      ...(this.lastHeartbeatAt !== undefined && { lastHeartbeatAt: this.lastHeartbeatAt }),
    }
  }

  // ---- identity and announcements ------------------------------------------------------------

  private availableKinds(): Set<number> {
    return new Set(this.capabilities.filter((c) => this.availability.get(c.id)?.ok).map((c) => c.kind))
  }

  private async refreshAvailability(): Promise<void> {
    let changed = false
    for (const capability of this.capabilities) {
      const previous = this.availability.get(capability.id)
      const now = await capability.availability().catch((err: Error) => ({ ok: false as const, reason: `availability check failed: ${err.message}` }))
      const next = now.ok ? { ok: true } : { ok: false, reason: now.reason }
      this.availability.set(capability.id, next)
      if (previous?.ok === next.ok && previous?.reason === next.reason) continue
      changed = true
      if (next.ok) {
        void this.announce(capability)
      } else {
        this.log.warn({ capability: capability.id, kind: capability.kind, reason: next.reason }, 'capability not available: not announced')
        if (previous?.ok) void this.withdraw(capability)
      }
    }
    if (changed && this.pool) {
      this.subscribeRequests()
      this.refreshDeletionSub()
    }
  }

  private announcement(capability: Capability): EventTemplate {
    const nip90Params: Record<string, Nip90ParamInfo> = {}
    for (const p of capability.params) nip90Params[p.name] = { required: p.required ?? false, values: p.values ?? [], description: p.description }
    // Profile-like content: lud16 (zaps) and lno (BOLT12 offer) as in the kind 0 profile.
    const content = {
      name: capability.name,
      about: `${capability.about}${this.payments?.aboutSuffix() ?? ''}`,
      ...(this.profile?.picture && { picture: this.profile.picture }),
      encryptionSupported: true,
      nip90Params,
      ...this.payments?.profileFields(),
    }
    return buildHandlerInformation({ d: capability.id, kinds: [capability.kind], content, createdAt: this.nowSeconds() })
  }

  private async announce(capability: Capability): Promise<void> {
    await this.publishNow(this.sign(this.announcement(capability)), `announcement of ${capability.id}`)
  }

  /** A NIP-09 deletion of the announcement: clients stop offering a capability that cannot run. */
  private async withdraw(capability: Capability): Promise<void> {
    const deletion = buildDeletion({ addresses: [`${HANDLER_KIND}:${this.pubkey}:${capability.id}`], kinds: [HANDLER_KIND], reason: 'capability not available', createdAt: this.nowSeconds() })
    await this.publishNow(this.sign(deletion), `withdrawal of ${capability.id}`)
  }

  private async publishIdentity(): Promise<void> {
    const createdAt = this.nowSeconds()
    const profile = this.profile
    const identityTags = (profile?.identities ?? []).map((i) => ['i', `${i.platform}:${i.identity}`, i.proof])
    const metadata = {
      name: this.name,
      display_name: profile?.displayName ?? `Timmy ${this.name}`,
      about: `${profile?.about ?? aboutFromCapabilities(this.capabilities)}${this.payments?.aboutSuffix() ?? ''}`,
      ...(profile?.picture && { picture: profile.picture }),
      ...(profile?.nip05 && { nip05: profile.nip05 }),
      ...this.payments?.profileFields(),
      bot: true,
    }
    const events = [
      this.sign({ kind: 0, created_at: createdAt, tags: identityTags, content: JSON.stringify(metadata) }),
      this.sign(buildRelayList(this.relays.map((url) => ({ url, read: true, write: true })), createdAt)),
    ]
    // NIP-39 moved identity claims from kind 0 tags to kind 10011; both are published for old and new clients.
    if (identityTags.length) events.push(this.sign({ kind: 10011, created_at: createdAt, tags: identityTags, content: '' }))
    await Promise.all(events.map((e) => this.publishNow(e, `kind ${e.kind}`)))
  }

  /** Publishes outside the outbox (profile, announcements, heartbeats: re-sent on every start anyway). */
  private async publishNow(event: NostrEvent, what: string): Promise<boolean> {
    const outcomes = await this.relayPool.publish(this.relays, event).catch(() => [])
    const ok = accepted(outcomes)
    if (!ok) this.log.warn({ what, outcomes }, 'no relay accepted the event')
    return ok
  }

  // ---- intake --------------------------------------------------------------------------------

  private requestFilters(): Filter[] {
    const kinds = [...this.availableKinds()]
    if (kinds.length === 0) return []
    return [{ kinds, since: this.nowSeconds() - this.settings.catchupSeconds }]
  }

  /** (Re)subscribes to requests of the kinds available now. */
  private subscribeRequests(): void {
    const filters = this.requestFilters()
    if (filters.length === 0) {
      this.requestSub?.close()
      this.requestSub = undefined
    } else if (this.requestSub) {
      this.requestSub.update(filters)
    } else {
      this.requestSub = this.relayPool.subscribe(this.relays, filters, {
        onevent: (event) => this.onRequest(event),
        onclosed: (relay, reason) => this.log.warn({ relay, reason }, 'relay closed the job request subscription: no requests from it until restart'),
      })
    }
  }

  private onRequest(event: NostrEvent, takeoverFrom?: string): void {
    if (this.stopping || this.jobLog.has(event.id)) return
    const capability = this.byKind.get(event.kind)
    if (!capability || !this.availability.get(capability.id)?.ok) return
    const targets = event.tags.filter((t) => t[0] === 'p').map((t) => t[1])
    if (!takeoverFrom && targets.length > 0 && !targets.includes(this.pubkey)) return
    if (isExpired(event, this.nowSeconds())) return
    const encrypted = event.tags.some((t) => t[0] === 'encrypted')
    let request: JobRequest
    try {
      request = encrypted ? decryptJobRequest(event, this.secretKey) : parseJobRequest(event)
    } catch (err) {
      this.refuseUnreadable(event, (err as Error).message)
      return
    }
    const overLimit = this.limits.admit(request.pubkey, request.id, requestInputBytes(request), this.clock())
    if (overLimit) {
      // Refused before pricing or bidding; a requester who floods is told once a minute, not every time.
      if (overLimit.notify) this.refuseUnreadable(event, overLimit.reason)
      return
    }
    if (isAuctionRequest(request)) {
      // A dead agent's auction job is not taken over: the auctioneer opens a new auction.
      if (!takeoverFrom) this.auctions.consider(request, capability, paramProblem(capability, request.params) ?? inputProblem(request.inputs))
      return
    }
    this.admit(request, capability, takeoverFrom)
  }

  private refuseUnreadable(event: NostrEvent, reason: string): void {
    const at = this.clock()
    const state = { request: event, spec: undefined }
    const feedback = this.feedbackEvent(state, 'error', reason)
    const appended = this.jobLog.append(
      event.id,
      [
        { type: 'posted', at, request: event, agent: this.pubkey },
        { type: 'failed', at, reason },
      ],
      [this.publishEffect(feedback, [])],
      { ifNew: true },
    )
    if (appended) this.afterAppend(appended)
  }

  private admit(request: JobRequest, capability: Capability, takeoverFrom?: string): void {
    const at = this.clock()
    const spec = specOf(request)
    const facts: JobFact[] = [{ type: 'posted', at, request: request.event, spec, agent: this.pubkey, ...(takeoverFrom && { takeoverFrom }) }]
    const effects: EffectSpec[] = []
    const state = { request: request.event, spec }
    const refuse = (reason: string, amountMsats?: number) => {
      facts.push({ type: 'failed', at, reason })
      effects.push(this.publishEffect(this.feedbackEvent(state, 'error', reason, undefined, amountMsats), spec.relays))
    }
    const problem = paramProblem(capability, request.params) ?? inputProblem(request.inputs)
    let price: number | undefined
    if (!problem) {
      try {
        price = capability.price(request.inputs, request.params)
      } catch (err) {
        refuse(`cannot price this job: ${(err as Error).message}`)
      }
    }
    if (problem) {
      refuse(problem)
    } else if (price !== undefined) {
      facts.push({ type: 'quoted', at, priceMsats: price })
      const approval = this.approvalReason(request.kind, price)
      if (request.bidMsats !== undefined && request.bidMsats < price) {
        refuse(`the bid of ${request.bidMsats} msats is below the price of ${price} msats`, price)
      } else if (approval) {
        facts.push({ type: 'approval-required', at, reason: approval })
        effects.push(this.publishEffect(this.feedbackEvent(state, 'processing', 'waiting for operator approval'), spec.relays))
      } else {
        facts.push({ type: 'assigned', at })
        effects.push(...this.startEffects({ ...state, priceMsats: price }, takeoverFrom ? 'taken over from an agent that stopped' : undefined))
      }
    }
    const appended = this.jobLog.append(request.id, facts, effects, { ifNew: true })
    if (!appended) return
    this.metrics?.jobsReceived.inc({ agent: this.name, kind: String(request.kind) })
    this.log.info({ job: request.id, kind: request.kind, from: request.pubkey, status: appended.status, ...(takeoverFrom && { takeoverFrom }) }, 'job request taken')
    this.afterAppend(appended)
  }

  private approvalReason(kind: number, priceMsats: number): string | undefined {
    const { aboveMsats, kinds } = this.settings.approval
    if (kinds.includes(kind)) return `kind ${kind} jobs need operator approval`
    if (aboveMsats !== undefined && priceMsats > aboveMsats) return `price ${priceMsats} msats is above the approval threshold of ${aboveMsats} msats`
    return undefined
  }

  /** Approves a job waiting in the approval queue (HTTP API; `timmy approvals` writes to the log directly). */
  approve(jobId: string, by: string): JobState {
    const state = approveJob(this.jobLog, jobId, this.decider(by))
    this.afterAppend(state)
    return state
  }

  reject(jobId: string, by: string, reason: string): JobState {
    const state = rejectJob(this.jobLog, jobId, reason, this.decider(by))
    this.afterAppend(state)
    return state
  }

  private decider(by: string): Decider {
    return { by, now: this.clock(), secretKey: this.secretKey, sign: (t, sk) => this.crypto.sign(t, sk), relays: this.relays }
  }

  private afterAppend(state: JobState): void {
    if (isFinal(state)) this.recordFinal(state)
    this.refreshDeletionSub()
    this.schedulePump()
    for (const listener of this.listeners) listener(state)
  }

  private recordFinal(state: JobState): void {
    if (!this.metrics) return
    const labels = { agent: this.name, kind: String(state.request.kind), status: state.status }
    this.metrics.jobsFinished.inc(labels)
    this.metrics.jobDuration.observe(labels, Math.max(0, state.updatedAt - state.postedAt) / 1000)
  }

  // ---- events the agent sends ----------------------------------------------------------------

  private feedbackEvent(state: Pick<JobState, 'request' | 'spec'>, status: FeedbackStatus, extraInfo?: string, content?: string, amountMsats?: number, bolt11?: string): NostrEvent {
    return this.sign(
      buildJobFeedback({
        request: jobRequestOf(state),
        status,
        ...(extraInfo && { extraInfo }),
        ...(content !== undefined && { content }),
        ...(amountMsats !== undefined && { amountMsats }),
        ...(bolt11 && { bolt11 }),
        dvmSecretKey: this.secretKey,
        createdAt: this.nowSeconds(),
      }),
    )
  }

  private publishEffect(event: NostrEvent, extraRelays: string[]): EffectSpec {
    return { type: 'publish', event, relays: relayUrls([...this.relays, ...extraRelays]) }
  }

  // ---- the outbox pump -----------------------------------------------------------------------

  private schedulePump(): void {
    if (this.pumpQueued || !this.started || this.stopping) return
    this.pumpQueued = true
    setImmediate(() => {
      this.pumpQueued = false
      this.pump()
    })
  }

  private pump(): void {
    if (!this.started || this.stopping) return
    clearTimeout(this.pumpTimer)
    const now = this.clock()
    let runSlots = this.settings.maxConcurrentJobs - (this.running.size - this.waitingOnInputs.size)
    for (const due of this.jobLog.dueEffects(now)) {
      if (this.inFlight.has(due.id)) continue
      if (due.type === 'run' && runSlots <= 0) continue
      const effect = this.jobLog.effect(due.id)
      if (!effect) continue
      if (due.type === 'run') runSlots--
      this.inFlight.add(effect.id)
      const spec = effect.spec
      const work = (spec.type === 'run' ? this.runJob(effect) : spec.type === 'publish' ? this.publishFromOutbox(effect, spec) : this.performPayment(effect))
        .catch((err: Error) => this.log.error({ effect: effect.id, job: effect.jobId, err: err.message }, 'effect failed unexpectedly'))
        .finally(() => {
          this.inFlight.delete(effect.id)
          this.inFlightWork.delete(work)
          this.schedulePump()
        })
      this.inFlightWork.add(work)
    }
    this.metrics?.outboxPending.set({ agent: this.name }, this.jobLog.pendingEffectCount())
    const due = this.jobLog.nextEffectDue()
    const wait = due === undefined ? this.outboxPollMs : Math.min(this.outboxPollMs, Math.max(10, due - now))
    this.pumpTimer = setTimeout(() => this.pump(), wait)
    this.pumpTimer.unref()
  }

  private async publishFromOutbox(effect: Effect, spec: Extract<EffectSpec, { type: 'publish' }>): Promise<void> {
    const outcomes = await this.relayPool.publish(spec.relays, spec.event)
    const now = this.clock()
    if (accepted(outcomes)) {
      this.jobLog.completeEffect(effect.id, now)
      this.metrics?.eventsPublished.inc({ agent: this.name, outcome: 'accepted' })
      return
    }
    const summary = outcomes.map((o) => `${o.relay}: ${o.message}`).join('; ')
    if (outcomes.length > 0 && outcomes.every((o) => PERMANENT_REJECTION.test(o.message))) {
      this.jobLog.dropEffect(effect.id, now, summary)
      this.metrics?.eventsPublished.inc({ agent: this.name, outcome: 'rejected' })
      this.log.error({ job: effect.jobId, event: spec.event.id, kind: spec.event.kind, summary }, 'every relay rejected an event: dropped')
      return
    }
    const retryIn = Math.min(MAX_RETRY_DELAY_MS, 500 * 2 ** effect.attempts)
    this.jobLog.retryEffect(effect.id, now + retryIn, summary)
    this.metrics?.eventsPublished.inc({ agent: this.name, outcome: 'retry' })
    this.log.warn({ job: effect.jobId, event: spec.event.id, retryInMs: retryIn, summary }, 'event not accepted yet: will retry')
  }

  private async performPayment(effect: Effect): Promise<void> {
    if (!this.payments) {
      this.jobLog.dropEffect(effect.id, this.clock(), 'payments are not configured')
      return
    }
    await this.payments.perform(effect)
  }

  // ---- running jobs --------------------------------------------------------------------------

  private async runJob(effect: Effect): Promise<void> {
    const jobId = effect.jobId
    const state = this.jobLog.state(jobId)
    if (!state || isFinal(state) || state.status === 'awaiting-approval' || state.status === 'bidding' || state.status === 'payment-required') {
      this.jobLog.completeEffect(effect.id, this.clock(), 'nothing to run')
      return
    }
    if (this.payments?.mustInvoiceFirst(state)) {
      // Queued without its invoice (approved by `timmy approvals` in another process): invoice first.
      this.afterAppend(this.jobLog.append(jobId, [], [{ type: 'invoice' }], { completesEffect: effect.id })!)
      return
    }
    const capability = this.byKind.get(state.request.kind)
    if (!capability || !state.spec) {
      this.finish(jobId, effect, { type: 'failed', at: this.clock(), reason: `kind ${state.request.kind} is not served here any more` })
      return
    }
    const controller = new AbortController()
    this.running.set(jobId, { controller })
    this.metrics?.jobsRunning.set({ agent: this.name }, this.running.size)
    const timeout = setTimeout(() => controller.abort(new JobStopped('timeout')), this.settings.jobTimeoutSeconds * 1000)
    try {
      if (this.resumed.delete(effect.id)) {
        const answeredBy = await this.resultPublishedBy(state)
        if (answeredBy) {
          this.finish(jobId, effect, { type: 'cancelled', at: this.clock(), reason: `a result was already published by ${npubEncode(answeredBy)}` })
          return
        }
      }
      const inputs = await this.resolveInputs(state, controller.signal)
      const started = this.jobLog.append(jobId, [{ type: 'started', at: this.clock(), attempt: state.attempts + 1 }])!
      this.afterAppend(started)
      const runStart = performance.now()
      const output = await abortable(capability.run(this.jobContext(started, capability, inputs, controller.signal)), controller.signal)
      this.metrics?.runDuration.observe({ agent: this.name, kind: String(state.request.kind) }, (performance.now() - runStart) / 1000)
      const request = jobRequestOf(state)
      const current = this.jobLog.state(jobId) ?? state
      // Pay after work: the result carries the invoice, and a payment-required feedback goes with it.
      const invoice = await this.payments?.resultInvoice(current)
      const result = this.sign(
        buildJobResult({ request, content: output.content, amountMsats: amountDueMsats(state), ...(invoice && { bolt11: invoice.bolt11 }), dvmSecretKey: this.secretKey, createdAt: this.nowSeconds() }),
      )
      const success = this.feedbackEvent(state, 'success')
      const completed: JobFact = { type: 'completed', at: this.clock(), resultEventId: result.id, content: output.content, ...(output.mimeType && { mimeType: output.mimeType }) }
      this.finish(jobId, effect, [...(invoice ? [invoice.fact] : []), completed], [
        this.publishEffect(result, state.spec.relays),
        this.publishEffect(success, state.spec.relays),
        ...(invoice ? [invoice.feedback] : []),
        ...(this.payments?.completionEffects(current) ?? []),
      ])
      this.log.info({ job: jobId, result: result.id }, 'job completed')
    } catch (err) {
      const stopped = controller.signal.aborted ? (controller.signal.reason as JobStopped) : undefined
      if (stopped?.why === 'shutdown' || stopped?.why === 'cancelled' || this.jobLog.state(jobId)?.status === 'cancelled') return
      const reason = stopped?.why === 'timeout' ? `the job took longer than ${this.settings.jobTimeoutSeconds} s` : humanReason(err)
      this.log.warn({ job: jobId, reason }, 'job failed')
      this.finish(jobId, effect, { type: 'failed', at: this.clock(), reason }, [this.publishEffect(this.feedbackEvent(state, 'error', reason), state.spec.relays)])
    } finally {
      clearTimeout(timeout)
      this.running.delete(jobId)
      this.metrics?.jobsRunning.set({ agent: this.name }, this.running.size)
    }
  }

  /** Appends a final fact with its effects and marks the run effect done, all in one transaction. */
  private finish(jobId: string, effect: Effect, fact: JobFact | JobFact[], effects: EffectSpec[] = []): void {
    const facts = Array.isArray(fact) ? fact : [fact]
    let state: JobState | undefined
    try {
      state = this.jobLog.append(jobId, facts, effects, { completesEffect: effect.id })
    } catch (err) {
      // Cancelled while running: the cancellation already dropped this job's pending effects.
      this.log.info({ job: jobId, fact: facts[facts.length - 1].type, err: (err as Error).message }, 'job outcome discarded')
      return
    }
    if (state) this.afterAppend(state)
  }

  private jobContext(state: JobState, capability: Capability, inputs: JobInput[], signal: AbortSignal): JobContext {
    const params: Record<string, string[]> = { ...state.spec!.params }
    for (const p of capability.params) if (params[p.name] === undefined && p.default !== undefined) params[p.name] = [p.default]
    const relays = relayUrls([...this.relays, ...state.spec!.relays])
    return {
      params,
      inputs,
      ...(state.spec!.output && { output: state.spec!.output }),
      signal,
      now: () => this.nowSeconds(),
      log: (msg, extra) => this.log.info({ job: state.id, ...extra }, msg),
      queryEvents: (filters) => this.relayPool.query(relays, filters, { timeoutMs: QUERY_TIMEOUT_MS }),
      partial: async (content) => {
        if (signal.aborted) throw signal.reason
        const current = this.jobLog.state(state.id)!
        const feedback = this.feedbackEvent(current, 'partial', undefined, content)
        const next = this.jobLog.append(state.id, [{ type: 'partial', at: this.clock(), content }], [this.publishEffect(feedback, state.spec!.relays)])!
        this.afterAppend(next)
      },
    }
  }

  /** The text behind url, event and job inputs. */
  private async resolveInputs(state: JobState, signal: AbortSignal): Promise<JobInput[]> {
    const spec = state.spec!
    const relays = relayUrls([...this.relays, ...spec.relays])
    const jobIds = spec.inputs.filter((i) => i.type === 'job').map((i) => i.value)
    let jobResults = new Map<string, string>()
    if (jobIds.length) {
      let waiting = state.waitingFor
      if (!waiting) {
        const deadline = this.clock() + this.settings.inputWaitSeconds * 1000
        const next = this.jobLog.append(state.id, [{ type: 'awaiting-input', at: this.clock(), jobIds, deadline }])!
        this.afterAppend(next)
        waiting = next.waitingFor!
      }
      const hints = spec.inputs.filter((i) => i.type === 'job' && i.relay).map((i) => i.relay!)
      this.waitingOnInputs.add(state.id)
      this.schedulePump()
      try {
        jobResults = await this.awaitJobResults(jobIds, relayUrls([...relays, ...hints]), waiting.deadline, signal)
      } finally {
        this.waitingOnInputs.delete(state.id)
      }
    }
    return Promise.all(
      spec.inputs.map(async (input): Promise<JobInput> => {
        switch (input.type) {
          case 'text':
            return input
          case 'job':
            return { ...input, resolved: jobResults.get(input.value)! }
          case 'url':
            try {
              return { ...input, resolved: await this.fetchUrl(input.value, { signal, maxBytes: this.settings.maxUrlInputBytes }) }
            } catch (err) {
              if (signal.aborted) throw signal.reason
              throw new JobRefused(`cannot fetch input ${input.value}: ${(err as Error).message}`)
            }
          case 'event': {
            const where = relayUrls([...relays, ...(input.relay ? [input.relay] : [])])
            const [event] = await this.relayPool.query(where, [{ ids: [input.value] }], { timeoutMs: QUERY_TIMEOUT_MS })
            if (signal.aborted) throw signal.reason
            if (!event) throw new JobRefused(`input event ${input.value} was not found on ${where.join(', ')}`)
            return { ...input, resolved: event.content }
          }
        }
      }),
    )
  }

  /** Job chaining: waits for a result of each input job (any provider), until the deadline in the log. */
  private awaitJobResults(jobIds: string[], relays: string[], deadline: number, signal: AbortSignal): Promise<Map<string, string>> {
    return new Promise((resolve, reject) => {
      const results = new Map<string, string>()
      const finish = (err?: unknown) => {
        clearTimeout(timer)
        sub.close()
        signal.removeEventListener('abort', onAbort)
        if (err) reject(err)
        else resolve(results)
      }
      const onAbort = () => finish(signal.reason)
      const sub = this.relayPool.subscribe(relays, [{ '#e': jobIds }], {
        onevent: (event) => {
          if (!isJobResultKind(event.kind)) return
          let requestId: string
          let content: string
          try {
            requestId = parseJobResult(event).requestId
            content = decryptJobContent(event, this.secretKey)
          } catch (err) {
            this.log.debug({ event: event.id, err: (err as Error).message }, 'unusable result for an input job')
            return
          }
          if (!jobIds.includes(requestId) || results.has(requestId)) return
          results.set(requestId, content)
          if (results.size === jobIds.length) finish()
        },
      })
      const missing = () => jobIds.filter((id) => !results.has(id))
      const timer = setTimeout(() => finish(new JobRefused(`no result for input job ${missing().join(', ')} arrived in time`)), Math.max(0, deadline - this.clock()))
      if (signal.aborted) onAbort()
      else signal.addEventListener('abort', onAbort)
    })
  }

  /** Someone's result for this job, if one is on the relays (checked before re-running a job after a restart). */
  private async resultPublishedBy(state: JobState): Promise<string | undefined> {
    const relays = relayUrls([...this.relays, ...(state.spec?.relays ?? [])])
    const events = await this.relayPool.query(relays, [{ kinds: [resultKindFor(state.request.kind)], '#e': [state.id] }], { timeoutMs: QUERY_TIMEOUT_MS })
    // The job is not final in our log, so we never committed a result of our own: any result is someone else's.
    return events[0]?.pubkey
  }

  // ---- cancellation --------------------------------------------------------------------------

  /**
   * Watches for NIP-09 deletions of job requests: those that name the job kind (`k` tag, as NIP-09
   * asks and NDK does) with one standing filter, and those that do not by the ids of unfinished
   * jobs, a filter refreshed at most every DELETION_REFRESH_MS (a re-sent REQ also returns the
   * deletions stored meanwhile, so none is missed).
   */
  private refreshDeletionSub(): void {
    if (this.deletionSubTimer || !this.started || this.stopping) return
    this.deletionSubTimer = setTimeout(() => {
      this.deletionSubTimer = undefined
      if (!this.started || this.stopping) return
      const kinds = [...this.availableKinds()].map(String)
      const ids = this.jobLog.activeJobIds(MAX_FILTER_IDS)
      const filters: Filter[] = [
        ...(kinds.length ? [{ kinds: [5], '#k': kinds, since: this.nowSeconds() - this.settings.catchupSeconds }] : []),
        ...(ids.length ? [{ kinds: [5], '#e': ids }] : []),
      ]
      const key = JSON.stringify([kinds, ids])
      if (key === this.deletionSubKey) return
      this.deletionSubKey = key
      if (filters.length === 0) {
        this.deletionSub?.close()
        this.deletionSub = undefined
      } else if (this.deletionSub) {
        this.deletionSub.update(filters)
      } else {
        this.deletionSub = this.relayPool.subscribe(this.relays, filters, {
          onevent: (event) => this.onDeletion(event),
          onclosed: (relay, reason) => this.log.warn({ relay, reason }, 'relay closed the deletion subscription'),
        })
      }
    }, this.deletionSub ? DELETION_REFRESH_MS : 0)
    this.deletionSubTimer.unref()
  }

  private onDeletion(deletion: NostrEvent): void {
    for (const id of deletionTargets(deletion).ids) {
      const state = this.jobLog.state(id)
      if (!state || isFinal(state) || state.request.pubkey !== deletion.pubkey) continue
      const reason = deletion.content ? `deleted by the requester: ${deletion.content}` : 'deleted by the requester'
      const next = this.jobLog.append(id, [{ type: 'cancelled', at: this.clock(), reason, deletionId: deletion.id }], [], { dropPending: true })!
      this.running.get(id)?.controller.abort(new JobStopped('cancelled'))
      this.log.info({ job: id, deletion: deletion.id }, 'job cancelled by its requester')
      this.afterAppend(next)
    }
  }

  // ---- heartbeats and take-over ----------------------------------------------------------------

  private async heartbeat(): Promise<void> {
    if (!this.started || this.stopping) return
    try {
      const beat = this.sign(
        buildHeartbeat({ status: 'online', intervalSeconds: this.settings.heartbeatSeconds, kinds: [...this.availableKinds()], activeJobs: this.running.size, createdAt: this.nowSeconds() }),
      )
      if (await this.publishNow(beat, 'heartbeat')) this.lastHeartbeatAt = beat.created_at
      await this.refreshAvailability()
      await this.takeOverOrphans()
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'heartbeat round failed')
    } finally {
      if (this.started && !this.stopping) {
        this.heartbeatTimer = setTimeout(() => void this.heartbeat(), this.settings.heartbeatSeconds * 1000)
        this.heartbeatTimer.unref()
      }
    }
  }

  /** Jobs claimed by agents that died (heartbeat too old) and never answered: this agent runs them. */
  async takeOverOrphans(): Promise<number> {
    const kinds = [...this.availableKinds()]
    if (kinds.length === 0) return 0
    const pool = this.relayPool
    const now = this.nowSeconds()
    const beats = await pool.query(this.relays, [{ kinds: [HEARTBEAT_KIND], '#k': kinds.map(String) }], { timeoutMs: QUERY_TIMEOUT_MS })
    const dead = new Set(
      beats
        .map(parseHeartbeat)
        .filter((h) => h !== undefined && h.pubkey !== this.pubkey && isDead(h, now, this.settings.deadAfterIntervals))
        .map((h) => h!.pubkey),
    )
    if (dead.size === 0) return 0
    const feedback = await pool.query(this.relays, [{ kinds: [FEEDBACK_KIND], authors: [...dead], since: now - this.settings.takeoverWindowSeconds }], { timeoutMs: QUERY_TIMEOUT_MS })
    const claims: Claim[] = []
    for (const event of feedback) {
      try {
        const parsed = parseJobFeedback(event)
        if (parsed.status === 'processing' && !this.jobLog.has(parsed.requestId)) claims.push({ requestId: parsed.requestId, claimer: event.pubkey, claimedAt: event.created_at })
      } catch {
        // not NIP-90 feedback we can read
      }
    }
    if (claims.length === 0) return 0
    const ids = [...new Set(claims.map((c) => c.requestId))]
    const requests = new Map((await pool.query(this.relays, [{ ids }], { timeoutMs: QUERY_TIMEOUT_MS })).map((e) => [e.id, e]))
    const answers: JobAnswer[] = []
    const related = await pool.query(this.relays, [{ '#e': ids, kinds: [FEEDBACK_KIND, 5, ...kinds.map((k) => k + 1000)] }], { timeoutMs: QUERY_TIMEOUT_MS })
    for (const event of related) {
      const requestId = event.tags.find((t) => t[0] === 'e')?.[1]
      if (!requestId) continue
      if (event.kind === 5) {
        for (const id of deletionTargets(event).ids) if (requests.get(id)?.pubkey === event.pubkey) answers.push({ requestId: id, pubkey: event.pubkey, type: 'deletion', createdAt: event.created_at })
      } else if (isJobResultKind(event.kind)) {
        answers.push({ requestId, pubkey: event.pubkey, type: 'result', createdAt: event.created_at })
      } else {
        const status = event.tags.find((t) => t[0] === 'status')?.[1]
        if (status === 'error' || status === 'success' || status === 'processing') answers.push({ requestId, pubkey: event.pubkey, type: status, createdAt: event.created_at })
      }
    }
    let taken = 0
    for (const claim of orphanedClaims(claims, answers, dead)) {
      const request = requests.get(claim.requestId)
      if (!request || !kinds.includes(request.kind)) continue
      const encrypted = request.tags.some((t) => t[0] === 'encrypted')
      if (encrypted && !request.tags.some((t) => t[0] === 'p' && t[1] === this.pubkey)) {
        this.log.info({ job: request.id, claimer: claim.claimer }, 'cannot take over an encrypted job addressed to another agent')
        continue
      }
      this.log.warn({ job: request.id, claimer: claim.claimer }, 'taking over a job claimed by a dead agent')
      this.onRequest(request, claim.claimer)
      if (this.jobLog.has(request.id)) taken++
    }
    return taken
  }
}

/** The first problem with the request's params, as a reason for the requester. */
function paramProblem(capability: Capability, params: Record<string, string[]>): string | undefined {
  for (const spec of capability.params) {
    const values = params[spec.name]
    if (spec.required && values === undefined && spec.default === undefined) return `missing required param ${spec.name}`
    if (values && spec.values?.length) {
      const bad = values.find((v) => !spec.values!.includes(v))
      if (bad !== undefined) return `param ${spec.name} must be one of ${spec.values.join(', ')}, not ${JSON.stringify(bad.slice(0, 64))}`
    }
  }
  return undefined
}

function inputProblem(inputs: JobInput[]): string | undefined {
  return inputs.length === 0 ? 'the request has no input (i tag)' : undefined
}

function aboutFromCapabilities(capabilities: Capability[]): string {
  return `A Timmy agent (NIP-90 DVM): ${capabilities.map((c) => `${c.name} (kind ${c.kind})`).join(', ')}.`
}

function humanReason(err: unknown): string {
  if (err instanceof JobRefused) return err.message
  const message = err instanceof Error ? err.message : String(err)
  return message.split('\n')[0].slice(0, 300) || 'the job failed'
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
