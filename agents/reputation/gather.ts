// Fetches the public events an agent's reputation is computed from — labels about it, zap receipts to
// it, the trust root's contact list and its follows' lists, deletions of those labels — and computes
// the score. Shared by `timmy reputation`, GET /api/reputation/:pubkey and the auctioneer. The query
// function must return events whose signatures it has checked: the score takes them as verified.
// Long-lived callers (the host, an auctioneer) keep a ReputationCache: each agent's labels and
// receipts are then fetched and checked once, and a lookup fetches only what is new.
import { isHex64, isNewerVersion, type Filter, type NostrEvent } from '../../nips/01.js'
import { deletionTargets, DELETION_KIND } from '../../nips/09.js'
import { AI_WOT_NAMESPACE, LABEL_KIND, TIMMY_LABEL_NAMESPACE } from '../../nips/32.js'
import { ZAP_RECEIPT_KIND } from '../../nips/57.js'
import {
  AgentLabels,
  buildTrustGraph,
  CONTACT_LIST_KIND,
  paymentFromZapReceipt,
  reputationValues,
  sybilBound,
  type LabelEvidence,
  type ReputationParams,
  type ReputationReport,
  type ReputationScore,
  type VerifiedPayment,
} from '../../nips/reputation.js'
import type { ZapperOf } from './zaps.js'

export type QueryEvents = (filters: Filter[]) => Promise<NostrEvent[]>

const WEIGHTLESS = 'no trust path and no verified payment'
/** Labels, and zap receipts, read per agent at most; past it the report says `truncated`. */
export const MAX_LABELS = 200_000
/** Ids or authors per filter, under relays' usual per-field limit. */
const CHUNK = 500
const PAGE = 5_000
/** How far before the newest event held a ReputationCache asks again: publishers' clocks run late. */
const SINCE_MARGIN_SECONDS = 600
/** A ReputationCache fetches everything again this often, catching what `since` cannot: late arrivals with old timestamps. */
export const DEFAULT_REFRESH_SECONDS = 300
/** Agents a ReputationCache holds; the least recently looked up goes first. */
export const DEFAULT_CACHED_AGENTS = 1_000

export interface GatherOptions {
  agent: string
  trustRoot?: string
  now: number
  params?: Partial<ReputationParams>
  /** Finds the key that signs the agent's zap receipts; without it no payment counts. */
  zappers?: ZapperOf
  /** Checks zap requests' (and receipts') signatures; default nips/01 verifyEvent. */
  verify?: (event: NostrEvent) => boolean
  /** Events kept from earlier lookups; without one, everything is fetched and read for this lookup alone. */
  cache?: ReputationCache
}

/** What the agent's zap receipts proved. */
export interface ZapCheck {
  /** The key its receipts must be signed by; null when the agent takes no zaps or it could not be found. */
  zapper: string | null
  receipts: number
  /** Job payments proved (receipts whose zap request names a job), paid by the score's `now`. */
  payments: number
  /** Receipts that proved nothing, by reason. */
  rejected: Record<string, number>
}

export interface GatheredReputation {
  report: ReputationReport
  /** Follows and follows of follows in the trust graph (the root excluded). */
  trustGraphSize: number
  /** More labels (or receipts) existed than MAX_LABELS; the newest were scored. */
  truncated: boolean
  zaps: ZapCheck
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK))
  return out
}

/**
 * Every event matching `filter`, newest first, paging back with `until` while pages bring new
 * events (relays cap how many one REQ returns), up to `max`.
 */
async function queryAll(query: QueryEvents, filter: Filter, max: number): Promise<{ events: NostrEvent[]; truncated: boolean }> {
  const byId = new Map<string, NostrEvent>()
  let until: number | undefined
  for (;;) {
    const page = await query([{ ...filter, limit: PAGE, ...(until !== undefined && { until }) }])
    let added = 0
    let oldest = Infinity
    for (const event of page) {
      oldest = Math.min(oldest, event.created_at)
      if (byId.has(event.id)) continue
      byId.set(event.id, event)
      added++
      if (byId.size >= max) return { events: [...byId.values()], truncated: true }
    }
    // `until` is inclusive, so the next page repeats the oldest second: stop once nothing is new.
    if (added === 0) return { events: [...byId.values()], truncated: false }
    until = oldest
  }
}

async function queryChunked(query: QueryEvents, values: readonly string[], filterFor: (chunk: string[]) => Filter): Promise<NostrEvent[]> {
  const results = await Promise.all(chunks(values).map((chunk) => query([filterFor(chunk)])))
  return results.flat()
}

function follows(contactLists: readonly NostrEvent[], author: string): string[] {
  let newest: NostrEvent | undefined
  for (const e of contactLists) if (e.kind === CONTACT_LIST_KIND && e.pubkey === author && (!newest || isNewerVersion(e, newest))) newest = e
  return newest ? newest.tags.filter((t) => t[0] === 'p' && isHex64(t[1])).map((t) => t[1]) : []
}

const labelFilter = (agent: string): Filter => ({ kinds: [LABEL_KIND], '#p': [agent], '#L': [TIMMY_LABEL_NAMESPACE, AI_WOT_NAMESPACE] })
const receiptFilter = (agent: string): Filter => ({ kinds: [ZAP_RECEIPT_KIND], '#p': [agent] })

/** One agent's events as a ReputationCache holds them, with what the next lookup needs. */
export class HeldEvents {
  readonly labels: AgentLabels
  /** The label events, each once. */
  readonly events: NostrEvent[] = []
  /** Zap receipts to the agent, each once. */
  readonly receipts: NostrEvent[] = []
  /** More labels or receipts existed than MAX_LABELS; the newest were kept. */
  truncated = false
  readonly ids = new Set<string>()
  /** The newest event's created_at, no later than the clock: where the next lookup's `since` starts. */
  newest = 0
  /** Receipts checked against `checkedFor`, by id: each is checked once per zapper key. */
  private checked = new Map<string, ReturnType<typeof paymentFromZapReceipt>>()
  private checkedFor: string | undefined

  constructor(
    readonly agent: string,
    /** Clock (ms) of the fetch of everything these events came from. */
    readonly fullFetchAt: number,
  ) {
    this.labels = new AgentLabels(agent)
  }

  /**
   * The job payments the receipts prove when signed by `zapper`, paid by `now` (a receipt is dated
   * when the invoice was paid, NIP-57 Appendix E): a score as of a past moment, such as an auction's
   * bid deadline, counts no payment made after it.
   */
  payments(zapper: string | undefined, now: number, verify?: (event: NostrEvent) => boolean): { payments: VerifiedPayment[]; zaps: ZapCheck } {
    const zaps: ZapCheck = { zapper: zapper ?? null, receipts: this.receipts.length, payments: 0, rejected: {} }
    const payments: VerifiedPayment[] = []
    if (zapper === undefined) return { payments, zaps }
    if (this.checkedFor !== zapper) {
      this.checked = new Map()
      this.checkedFor = zapper
    }
    for (const receipt of this.receipts) {
      let check = this.checked.get(receipt.id)
      if (check === undefined) this.checked.set(receipt.id, (check = paymentFromZapReceipt(receipt, { agent: this.agent, zapper, ...(verify && { verify }) })))
      if (check.payment && receipt.created_at <= now) payments.push(check.payment)
      if (check.reason !== undefined) zaps.rejected[check.reason] = (zaps.rejected[check.reason] ?? 0) + 1
    }
    zaps.payments = payments.length
    return { payments, zaps }
  }
}

/**
 * Each agent's labels (in an AgentLabels) and zap receipts between lookups, so that an event is
 * fetched and read once. A lookup asks the relays only for labels and receipts since the newest held
 * (less SINCE_MARGIN_SECONDS), for deletions of the new labels and for recent label deletions;
 * every `refreshSeconds` it fetches everything again, which catches what those filters cannot (an
 * event that reached the relays late, with an old timestamp, or a deletion without a `k` tag).
 * Holds `maxAgents` agents, dropping the least recently looked up; concurrent lookups of one agent
 * share one fetch.
 */
export class ReputationCache {
  private readonly held = new Map<string, HeldEvents>()
  private readonly fetching = new Map<string, Promise<HeldEvents>>()
  private readonly refreshMs: number
  private readonly maxAgents: number
  private readonly clock: () => number

  constructor(options: { refreshSeconds?: number; maxAgents?: number; clock?: () => number } = {}) {
    this.refreshMs = (options.refreshSeconds ?? DEFAULT_REFRESH_SECONDS) * 1000
    this.maxAgents = options.maxAgents ?? DEFAULT_CACHED_AGENTS
    this.clock = options.clock ?? Date.now
    if (!(this.refreshMs >= 0) || !Number.isSafeInteger(this.maxAgents) || this.maxAgents < 1) throw new RangeError('ReputationCache needs refreshSeconds ≥ 0 and maxAgents ≥ 1')
  }

  /** The agent's events, brought up to date from the relays. */
  async eventsOf(query: QueryEvents, agent: string): Promise<HeldEvents> {
    let pending = this.fetching.get(agent)
    if (pending === undefined) {
      pending = this.update(query, agent).finally(() => this.fetching.delete(agent))
      this.fetching.set(agent, pending)
    }
    return pending
  }

  private async update(query: QueryEvents, agent: string): Promise<HeldEvents> {
    const startedAt = this.clock()
    const known = this.held.get(agent)
    const full = known === undefined || startedAt - known.fullFetchAt >= this.refreshMs
    const since = full ? undefined : known.newest - SINCE_MARGIN_SECONDS
    const recent = (filter: Filter): Filter => (since === undefined ? filter : { ...filter, since })
    const [labelled, receipted] = await Promise.all([queryAll(query, recent(labelFilter(agent)), MAX_LABELS), queryAll(query, recent(receiptFilter(agent)), MAX_LABELS)])
    const holding = full ? new HeldEvents(agent, startedAt) : known
    const unseen = (events: NostrEvent[]) => events.filter((e) => !holding.ids.has(e.id))
    const newLabels = unseen(labelled.events)
    const newReceipts = unseen(receipted.events)
    const addedLabels = newLabels.slice(0, MAX_LABELS - holding.events.length)
    const addedReceipts = newReceipts.slice(0, MAX_LABELS - holding.receipts.length)
    const [byTarget, recentDeletions] = await Promise.all([
      queryChunked(query, addedLabels.map((e) => e.id), (ids) => ({ kinds: [DELETION_KIND], '#e': ids })),
      since === undefined ? Promise.resolve([]) : query([{ kinds: [DELETION_KIND], '#k': [String(LABEL_KIND)], since }]),
    ])
    // Nothing changes until every fetch has answered: a failed lookup leaves the held events as they were.
    const nowSeconds = Math.floor(startedAt / 1000)
    const hold = (event: NostrEvent) => {
      holding.ids.add(event.id)
      holding.newest = Math.max(holding.newest, Math.min(event.created_at, nowSeconds))
    }
    for (const event of addedLabels) {
      hold(event)
      holding.events.push(event)
      holding.labels.add(event)
    }
    for (const receipt of addedReceipts) {
      hold(receipt)
      holding.receipts.push(receipt)
    }
    if (labelled.truncated || receipted.truncated || addedLabels.length < newLabels.length || addedReceipts.length < newReceipts.length) holding.truncated = true
    for (const deletion of byTarget) holding.labels.addDeletion(deletion)
    // Recent label deletions are about any agent's labels: keep those about this one's.
    for (const deletion of recentDeletions) if (deletionTargets(deletion).ids.some((id) => holding.ids.has(id))) holding.labels.addDeletion(deletion)
    this.held.delete(agent)
    this.held.set(agent, holding)
    for (const oldest of this.held.keys()) {
      if (this.held.size <= this.maxAgents) break
      this.held.delete(oldest)
    }
    return holding
  }
}

export async function gatherReputation(query: QueryEvents, options: GatherOptions): Promise<GatheredReputation> {
  const { agent, trustRoot, now, params } = options
  if (!isHex64(agent)) throw new TypeError('agent must be a 64-character lowercase hex pubkey')
  const cache = options.cache ?? new ReputationCache()
  const [held, rootLists, zapper] = await Promise.all([
    cache.eventsOf(query, agent),
    trustRoot ? query([{ kinds: [CONTACT_LIST_KIND], authors: [trustRoot] }]) : Promise.resolve([]),
    options.zappers ? options.zappers(agent) : Promise.resolve(undefined),
  ])
  const direct = trustRoot ? [...new Set(follows(rootLists, trustRoot))] : []
  const followLists = await queryChunked(query, direct, (authors) => ({ kinds: [CONTACT_LIST_KIND], authors }))
  const trust = buildTrustGraph(trustRoot, [...rootLists, ...followLists], params)
  const { payments, zaps } = held.payments(zapper, now, options.verify)
  const report = held.labels.score({ trust, payments, now, params })
  return { report, trustGraphSize: trust.standing.size - (trustRoot ? 1 : 0), truncated: held.truncated, zaps }
}

/**
 * Scores for the auctioneer (agents/auction ReputationLookup): bidder → the value a job of `kind` is
 * judged by (nips/reputation.ts scoreFor), with the auction's trust root and as of the moment it
 * names (the bid deadline, nips/auction.md §5.1), so that anyone recomputes the same numbers.
 */
export function reputationLookup(
  query: QueryEvents,
  options: Pick<GatherOptions, 'zappers' | 'verify' | 'cache'> = {},
): (bidders: string[], kind: number, scoring: { at: number; trustRoot: string }) => Promise<Map<string, number>> {
  // Kept across lookups: an auctioneer scores the same bidders auction after auction.
  const cache = options.cache ?? new ReputationCache()
  return async (bidders, kind, { at, trustRoot }) => {
    const gathered = await Promise.all(bidders.map((agent) => gatherReputation(query, { ...options, agent, trustRoot, now: at, cache })))
    return reputationValues(gathered.map((g) => g.report), kind)
  }
}

export interface ReputationSummary {
  agent: string
  trustRoot: string | null
  trustGraphSize: number
  now: number
  params: ReputationParams
  overall: ReputationScore & { sybilBound: number }
  byKind: Record<string, ReputationScore & { sybilBound: number }>
  /** Counted labels, heaviest first (ties by id), at most `evidenceLimit`. */
  evidence: LabelEvidence[]
  evidenceCount: number
  /** How many labels were left out, by reason. */
  ignored: Record<string, number>
  truncated: boolean
  /** The zap receipts behind the payments counted. */
  zaps: ZapCheck
  /** With a kind asked for: the score a job of that kind is judged by — its own, or overall while it has no labels. */
  kind?: ReputationSummary['overall'] & { kind: number; scope: 'kind' | 'overall' }
}

/** What the CLI prints and the HTTP API returns: scores with their sybil bounds, and the heaviest evidence. */
export function summarize(gathered: GatheredReputation, evidenceLimit: number, kind?: number): ReputationSummary {
  const { report } = gathered
  const withBound = (score: ReputationScore) => ({ ...score, sybilBound: sybilBound(score, report.params) })
  const byKind: Record<string, ReputationScore & { sybilBound: number }> = {}
  for (const [kind, score] of Object.entries(report.byKind)) byKind[kind] = withBound(score)
  const ignored: Record<string, number> = {}
  if (report.weightless > 0) ignored[WEIGHTLESS] = report.weightless
  for (const { reason } of report.ignored) ignored[reason] = (ignored[reason] ?? 0) + 1
  const evidence = [...report.evidence].sort((a, b) => b.weight - a.weight || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, evidenceLimit)
  const overall = withBound(report.overall)
  const summary: ReputationSummary = {
    agent: report.agent,
    trustRoot: report.trustRoot ?? null,
    trustGraphSize: gathered.trustGraphSize,
    now: report.now,
    params: report.params,
    overall,
    byKind,
    evidence,
    evidenceCount: report.evidence.length,
    ignored,
    truncated: gathered.truncated,
    zaps: gathered.zaps,
  }
  if (kind !== undefined) summary.kind = byKind[kind] ? { ...byKind[kind], kind, scope: 'kind' } : { ...overall, kind, scope: 'overall' }
  return summary
}
