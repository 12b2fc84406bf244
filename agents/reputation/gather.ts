// Fetches the public events an agent's reputation is computed from — labels about it, the trust
// root's contact list and its follows' lists, deletions of those labels — and computes the score.
// Shared by `timmy reputation` and GET /api/reputation/:pubkey. The query function must return
// events whose signatures it has checked: the score takes them as verified.
import { isHex64, isNewerVersion, type Filter, type NostrEvent } from '../../nips/01.js'
import { DELETION_KIND } from '../../nips/09.js'
import { AI_WOT_NAMESPACE, LABEL_KIND, TIMMY_LABEL_NAMESPACE } from '../../nips/32.js'
import {
  buildTrustGraph,
  computeReputation,
  CONTACT_LIST_KIND,
  reputationValues,
  sybilBound,
  type LabelEvidence,
  type ReputationParams,
  type ReputationReport,
  type ReputationScore,
  type VerifiedPayment,
} from '../../nips/reputation.js'

export type QueryEvents = (filters: Filter[]) => Promise<NostrEvent[]>

const WEIGHTLESS = 'no trust path and no verified payment'
/** Labels read per agent at most; past it the report says `truncated`. */
export const MAX_LABELS = 200_000
/** Ids or authors per filter, under relays' usual per-field limit. */
const CHUNK = 500
const PAGE = 5_000

export interface GatherOptions {
  agent: string
  trustRoot?: string
  now: number
  params?: Partial<ReputationParams>
  /** Verified payments for the labelled jobs: the hook zap-receipt validation plugs into. */
  verifiedPayments?: (labels: NostrEvent[]) => Promise<VerifiedPayment[]>
}

export interface GatheredReputation {
  report: ReputationReport
  /** Follows and follows of follows in the trust graph (the root excluded). */
  trustGraphSize: number
  /** More labels existed than MAX_LABELS; the newest were scored. */
  truncated: boolean
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

export async function gatherReputation(query: QueryEvents, options: GatherOptions): Promise<GatheredReputation> {
  const { agent, trustRoot, now, params } = options
  const labelFilter: Filter = { kinds: [LABEL_KIND], '#p': [agent], '#L': [TIMMY_LABEL_NAMESPACE, AI_WOT_NAMESPACE] }
  const [labelled, rootLists] = await Promise.all([
    queryAll(query, labelFilter, MAX_LABELS),
    trustRoot ? query([{ kinds: [CONTACT_LIST_KIND], authors: [trustRoot] }]) : Promise.resolve([]),
  ])
  const direct = trustRoot ? [...new Set(follows(rootLists, trustRoot))] : []
  const [followLists, deletions, payments] = await Promise.all([
    queryChunked(query, direct, (authors) => ({ kinds: [CONTACT_LIST_KIND], authors })),
    queryChunked(query, labelled.events.map((e) => e.id), (ids) => ({ kinds: [DELETION_KIND], '#e': ids })),
    options.verifiedPayments ? options.verifiedPayments(labelled.events) : Promise.resolve([]),
  ])
  const trust = buildTrustGraph(trustRoot, [...rootLists, ...followLists], params)
  const report = computeReputation({ agent, labels: labelled.events, trust, payments, deletions, now, params })
  return { report, trustGraphSize: trust.standing.size - (trustRoot ? 1 : 0), truncated: labelled.truncated }
}

/**
 * Scores for the auctioneer (agents/auction ReputationLookup): bidder → the value a job of `kind` is
 * judged by (nips/reputation.ts scoreFor), with the auction's trust root and as of the moment it
 * names (the bid deadline, nips/auction.md §5.1), so that anyone recomputes the same numbers.
 */
export function reputationLookup(
  query: QueryEvents,
  options: { verifiedPayments?: GatherOptions['verifiedPayments'] } = {},
): (bidders: string[], kind: number, scoring: { at: number; trustRoot: string }) => Promise<Map<string, number>> {
  return async (bidders, kind, { at, trustRoot }) => {
    const gathered = await Promise.all(
      bidders.map((agent) => gatherReputation(query, { agent, trustRoot, now: at, verifiedPayments: options.verifiedPayments })),
    )
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
  }
  if (kind !== undefined) summary.kind = byKind[kind] ? { ...byKind[kind], kind, scope: 'kind' } : { ...overall, kind, scope: 'overall' }
  return summary
}
