// What the client knows about the swarm, folded from the events its relays send: agents (NIP-89
// announcements, kind 0 profiles, heartbeats, prices seen in their answers, reputation labels, zap
// receipts) and jobs (requests, feedback, results). Pure: no DOM, no sockets; time is passed in, and
// so is each agent's zap server key, which only its LNURL-pay endpoint can tell.
import { getTagValue, isHex64, isNewerVersion, verifyEvent, type NostrEvent } from '../nips/01.js'
import { deletionTargets } from '../nips/09.js'
import { ZAP_RECEIPT_KIND } from '../nips/57.js'
import { HANDLER_KIND, parseHandlerInformation, type HandlerInformation } from '../nips/89.js'
import { FEEDBACK_KIND, isJobRequestKind, isJobResultKind, parseJobFeedback, parseJobRequest, parseJobResult, type JobFeedback, type JobRequest, type JobResult } from '../nips/90.js'
import { LABEL_KIND, readJobOutcomeLabel, type JobOutcomeLabel } from '../nips/32.js'
import { AgentLabels, buildTrustGraph, paymentFromZapReceipt, type ReputationScore, type VerifiedPayment } from '../nips/reputation.js'


/** Agent heartbeats (agents/heartbeat.ts): replaceable, one per agent, content {status, interval, active_jobs}. */
export const HEARTBEAT_KIND = 11998
/** How many of its own intervals an agent may stay silent before it counts as gone (the runtime's default). */
export const DEAD_AFTER_INTERVALS = 3
/** Zap receipts kept per agent; later ones are dropped, as orphaned answers are. */
export const MAX_RECEIPTS_PER_AGENT = 5000

export interface Profile {
  name?: string
  displayName?: string
  about?: string
  picture?: string
  /** Lightning address (LUD-16) to zap. */
  lud16?: string
  /** Bech32 `lnurl1…` of the LNURL-pay endpoint (LUD-06), for profiles without a lightning address. */
  lud06?: string
  createdAt: number
}

export interface HeartbeatInfo {
  status: 'online' | 'offline'
  intervalSeconds: number
  activeJobs: number
  createdAt: number
}

export type Liveness = 'online' | 'late' | 'offline' | 'unknown'

export interface AgentEntry {
  pubkey: string
  /** Announcements by address (`31990:pubkey:d`), newest version of each. */
  handlers: Map<string, HandlerInformation>
  profile?: Profile
  heartbeat?: HeartbeatInfo
  /** The latest amount this agent asked for, per job kind, from its feedback and results. */
  pricesMsats: Map<number, number>
  reputation?: ReputationScore
}

export type JobPhase = 'posted' | 'payment-required' | 'processing' | 'partial' | 'error' | 'success'

export interface JobEntry {
  id: string
  request: JobRequest
  feedback: JobFeedback[]
  results: JobResult[]
}

function parseProfile(event: NostrEvent): Profile | undefined {
  let json: unknown
  try {
    json = JSON.parse(event.content)
  } catch {
    return undefined
  }
  if (typeof json !== 'object' || json === null) return undefined
  const raw = json as Record<string, unknown>
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value : undefined)
  return { name: text(raw.name), displayName: text(raw.display_name) ?? text(raw.displayName), about: text(raw.about), picture: text(raw.picture), lud16: text(raw.lud16)?.trim(), lud06: text(raw.lud06)?.trim(), createdAt: event.created_at }
}

function parseHeartbeat(event: NostrEvent): HeartbeatInfo | undefined {
  try {
    const body = JSON.parse(event.content) as Record<string, unknown>
    if ((body.status !== 'online' && body.status !== 'offline') || typeof body.interval !== 'number' || !(body.interval > 0)) return undefined
    return { status: body.status, intervalSeconds: body.interval, activeJobs: typeof body.active_jobs === 'number' ? body.active_jobs : 0, createdAt: event.created_at }
  } catch {
    return undefined
  }
}

/** A zap receipt to an agent, with the payment it proves once checked (null: it proves none). */
interface KeptReceipt {
  event: NostrEvent
  proves?: VerifiedPayment | null
}

/** The receipt itself was verified where it arrived; the zap request inside it was not. */
const onlyTheZapRequest = (receipt: NostrEvent) => (event: NostrEvent) => event === receipt || verifyEvent(event)

export function liveness(heartbeat: HeartbeatInfo | undefined, nowSeconds: number): Liveness {
  if (!heartbeat) return 'unknown'
  if (heartbeat.status === 'offline') return 'offline'
  const age = nowSeconds - heartbeat.createdAt
  if (age <= heartbeat.intervalSeconds * 1.5) return 'online'
  return age <= heartbeat.intervalSeconds * DEAD_AFTER_INTERVALS ? 'late' : 'offline'
}

/** Where a job stands, from the newest feedback, or success once a result is in. */
export function jobPhase(job: JobEntry): JobPhase {
  if (job.results.length > 0) return 'success'
  const latest = job.feedback.at(-1)
  return latest ? latest.status : 'posted'
}

export class SwarmModel {
  readonly agents = new Map<string, AgentEntry>()
  readonly jobs = new Map<string, JobEntry>()
  /** Answers that arrived before their request: replayed when it comes. */
  private readonly orphans = new Map<string, NostrEvent[]>()
  private readonly labels = new Map<string, NostrEvent>()
  /** The labels by the agent they name (`p`), each read once however often scores are refreshed. */
  private readonly labelsAbout = new Map<string, AgentLabels>()
  /** Zap receipts by recipient agent, then by id. */
  private readonly receipts = new Map<string, Map<string, KeptReceipt>>()
  /** Each agent's zap server key, once learned from its pay endpoint. */
  private readonly zappers = new Map<string, string>()
  private readonly contactLists = new Map<string, NostrEvent>()
  private readonly profiles = new Map<string, Profile>()
  private readonly deletedAddresses = new Set<string>()
  /** Bumped on every change, so views know when to redraw. */
  version = 0

  private agent(pubkey: string): AgentEntry {
    let entry = this.agents.get(pubkey)
    if (!entry) {
      entry = { pubkey, handlers: new Map(), pricesMsats: new Map() }
      const profile = this.profiles.get(pubkey)
      if (profile) entry.profile = profile
      this.agents.set(pubkey, entry)
    }
    return entry
  }

  profileOf(pubkey: string): Profile | undefined {
    return this.profiles.get(pubkey)
  }

  /** Folds one (already verified) event in; says whether anything changed. */
  apply(event: NostrEvent): boolean {
    const changed = this.fold(event)
    if (changed) this.version++
    return changed
  }

  private fold(event: NostrEvent): boolean {
    if (event.kind === 0) return this.foldProfile(event)
    if (event.kind === 3) return this.foldNewest(this.contactLists, event.pubkey, event)
    if (event.kind === 5) return this.foldDeletion(event)
    if (event.kind === HANDLER_KIND) return this.foldHandler(event)
    if (event.kind === HEARTBEAT_KIND) return this.foldHeartbeat(event)
    if (event.kind === LABEL_KIND) return this.foldLabel(event)
    if (event.kind === ZAP_RECEIPT_KIND) return this.foldReceipt(event)
    if (isJobRequestKind(event.kind)) return this.foldRequest(event)
    if (event.kind === FEEDBACK_KIND || isJobResultKind(event.kind)) return this.foldAnswer(event)
    return false
  }

  private foldNewest(map: Map<string, NostrEvent>, key: string, event: NostrEvent): boolean {
    const known = map.get(key)
    if (known && !isNewerVersion(event, known)) return false
    map.set(key, event)
    return true
  }

  private foldLabel(event: NostrEvent): boolean {
    if (this.labels.has(event.id)) return false
    this.labels.set(event.id, event)
    const about = new Set<string>()
    for (const tag of event.tags) if (tag[0] === 'p' && isHex64(tag[1])) about.add(tag[1])
    for (const agent of about) {
      let labels = this.labelsAbout.get(agent)
      if (labels === undefined) this.labelsAbout.set(agent, (labels = new AgentLabels(agent)))
      labels.add(event)
    }
    return true
  }

  /** Keeps a receipt to a known agent; whether it proves anything is checked when scores are refreshed. */
  private foldReceipt(event: NostrEvent): boolean {
    const agent = getTagValue(event, 'p')
    if (agent === undefined || !this.agents.has(agent)) return false
    let kept = this.receipts.get(agent)
    if (kept === undefined) this.receipts.set(agent, (kept = new Map()))
    if (kept.has(event.id) || kept.size >= MAX_RECEIPTS_PER_AGENT) return false
    kept.set(event.id, { event })
    return true
  }

  /**
   * Sets the key that signs `agent`'s zap receipts: the `nostrPubkey` of the LNURL-pay endpoint its
   * profile names (payEndpointUrl, zapperFromPayEndpoint), or undefined when it takes no zaps. Says
   * whether it changed; scores follow at the next refreshReputation.
   */
  setZapper(agent: string, zapper: string | undefined): boolean {
    if (zapper !== undefined && !isHex64(zapper)) throw new TypeError('a zap server key must be a 64-character lowercase hex pubkey')
    if (this.zappers.get(agent) === zapper) return false
    if (zapper === undefined) this.zappers.delete(agent)
    else this.zappers.set(agent, zapper)
    this.version++
    return true
  }

  /**
   * The job payments `agent`'s receipts prove against its zap server key, paid by `nowSeconds` (a
   * receipt is dated when the invoice was paid); each receipt is checked once.
   */
  private paymentsTo(agent: string, nowSeconds: number): VerifiedPayment[] {
    const zapper = this.zappers.get(agent)
    const kept = this.receipts.get(agent)
    const payments: VerifiedPayment[] = []
    if (zapper === undefined || kept === undefined) return payments
    for (const receipt of kept.values()) {
      // Only the zap server's own receipts can prove a payment: the others are not worth two signature checks.
      // A receipt can be valid against its own signer only, so one check per receipt is one per key.
      if (receipt.event.pubkey !== zapper || receipt.event.created_at > nowSeconds) continue
      if (receipt.proves === undefined) receipt.proves = paymentFromZapReceipt(receipt.event, { agent, zapper, verify: onlyTheZapRequest(receipt.event) }).payment ?? null
      if (receipt.proves !== null) payments.push(receipt.proves)
    }
    return payments
  }

  private foldProfile(event: NostrEvent): boolean {
    const profile = parseProfile(event)
    const known = this.profiles.get(event.pubkey)
    if (!profile || (known && known.createdAt >= event.created_at)) return false
    this.profiles.set(event.pubkey, profile)
    const agent = this.agents.get(event.pubkey)
    if (agent) agent.profile = profile
    return true
  }

  private foldHandler(event: NostrEvent): boolean {
    let info: HandlerInformation
    try {
      info = parseHandlerInformation(event)
    } catch {
      return false
    }
    if (this.deletedAddresses.has(info.address)) return false
    const agent = this.agent(event.pubkey)
    const known = agent.handlers.get(info.address)
    if (known && !isNewerVersion(event, known.event)) return false
    agent.handlers.set(info.address, info)
    return true
  }

  private foldDeletion(event: NostrEvent): boolean {
    let changed = false
    for (const address of deletionTargets(event).addresses) {
      // Only the author may delete an address, and only versions up to the deletion's time.
      if (!address.startsWith(`${HANDLER_KIND}:${event.pubkey}:`)) continue
      const agent = this.agents.get(event.pubkey)
      const known = agent?.handlers.get(address)
      if (known && known.event.created_at > event.created_at) continue
      this.deletedAddresses.add(address)
      if (agent?.handlers.delete(address)) changed = true
    }
    return changed
  }

  private foldHeartbeat(event: NostrEvent): boolean {
    const heartbeat = parseHeartbeat(event)
    if (!heartbeat) return false
    const agent = this.agent(event.pubkey)
    if (agent.heartbeat && agent.heartbeat.createdAt >= heartbeat.createdAt) return false
    agent.heartbeat = heartbeat
    return true
  }

  private foldRequest(event: NostrEvent): boolean {
    if (this.jobs.has(event.id)) return false
    let request: JobRequest
    try {
      request = parseJobRequest(event)
    } catch {
      return false
    }
    this.jobs.set(event.id, { id: event.id, request, feedback: [], results: [] })
    for (const answer of this.orphans.get(event.id) ?? []) this.foldAnswer(answer)
    this.orphans.delete(event.id)
    return true
  }

  private foldAnswer(event: NostrEvent): boolean {
    let answer: JobFeedback | JobResult
    try {
      answer = event.kind === FEEDBACK_KIND ? parseJobFeedback(event) : parseJobResult(event)
    } catch {
      return false
    }
    const job = this.jobs.get(answer.requestId)
    if (!job) {
      const waiting = this.orphans.get(answer.requestId) ?? []
      if (waiting.some((e) => e.id === event.id)) return false
      if (this.orphans.size < 5000) this.orphans.set(answer.requestId, [...waiting, event])
      return false
    }
    if (event.kind === FEEDBACK_KIND) {
      if (job.feedback.some((f) => f.id === event.id)) return false
      job.feedback.push(answer as JobFeedback)
      job.feedback.sort((a, b) => a.event.created_at - b.event.created_at)
    } else {
      if (answer.customer !== job.request.pubkey || event.kind !== job.request.kind + 1000) return false
      if (job.results.some((r) => r.id === event.id)) return false
      job.results.push(answer as JobResult)
    }
    if (answer.amountMsats !== undefined && answer.amountMsats > 0) this.agent(event.pubkey).pricesMsats.set(job.request.kind, answer.amountMsats)
    return true
  }

  /**
   * Recomputes every agent's reputation from the job-outcome labels seen, with `viewer`'s contact
   * lists as the trust root and the job payments the agent's zap receipts prove against its zap
   * server key, made by `nowSeconds` (nips/reputation.md §2.4). Without a viewer only paid labels count.
   */
  refreshReputation(viewer: string | undefined, nowSeconds: number): void {
    const trust = buildTrustGraph(viewer, [...this.contactLists.values()])
    for (const agent of this.agents.values()) {
      const labels = this.labelsAbout.get(agent.pubkey)
      if (labels === undefined) {
        delete agent.reputation
        continue
      }
      agent.reputation = labels.score({ trust, payments: this.paymentsTo(agent.pubkey, nowSeconds), now: nowSeconds }).overall
    }
    this.version++
  }

  /** The job-outcome labels (ratings) about one job, newest first; malformed labels are left out. */
  ratingsOf(jobId: string): JobOutcomeLabel[] {
    return this.ratingsTagged('e', jobId)
  }

  /** The job-outcome labels about one agent, newest first. */
  ratingsAbout(agent: string): JobOutcomeLabel[] {
    return this.ratingsTagged('p', agent)
  }

  private ratingsTagged(tag: 'e' | 'p', value: string): JobOutcomeLabel[] {
    const ratings: JobOutcomeLabel[] = []
    for (const event of this.labels.values()) {
      if (!event.tags.some((t) => t[0] === tag && t[1] === value)) continue
      try {
        ratings.push(readJobOutcomeLabel(event))
      } catch {
        // Not a job-outcome label we can read: ignored, as nips/reputation.ts does.
      }
    }
    return ratings.sort((a, b) => b.createdAt - a.createdAt)
  }

  /** The pubkeys whose contact lists the viewer's trust graph needs next (the viewer's follows). */
  followsOf(pubkey: string): string[] {
    const list = this.contactLists.get(pubkey)
    return list ? list.tags.filter((t) => t[0] === 'p' && /^[0-9a-f]{64}$/.test(t[1] ?? '')).map((t) => t[1]) : []
  }

  /** Agents with at least one live announcement, best reputation first, then most recently seen. */
  directory(): AgentEntry[] {
    return [...this.agents.values()]
      .filter((a) => a.handlers.size > 0)
      .sort((a, b) => (b.reputation?.value ?? -1) - (a.reputation?.value ?? -1) || (b.heartbeat?.createdAt ?? 0) - (a.heartbeat?.createdAt ?? 0) || (a.pubkey < b.pubkey ? -1 : 1))
  }

  /** Job kinds some agent announced: what the activity subscription asks for. */
  announcedKinds(): number[] {
    const kinds = new Set<number>()
    for (const agent of this.agents.values()) for (const handler of agent.handlers.values()) for (const kind of handler.kinds) if (isJobRequestKind(kind)) kinds.add(kind)
    return [...kinds].sort((a, b) => a - b)
  }

  findHandler(address: string): HandlerInformation | undefined {
    const pubkey = address.split(':')[1] ?? ''
    return this.agents.get(pubkey)?.handlers.get(address)
  }
}

export function displayName(pubkey: string, profile: Profile | undefined): string {
  return profile?.displayName ?? profile?.name ?? `${pubkey.slice(0, 8)}…`
}
