// Reputation of NIP-90 agents, as specified in nips/reputation.md: job-outcome labels (NIP-32, see
// nips/32.ts) decayed by age, weighted by the labeller's standing in the viewer's web of trust
// (kind-3 follows from a trust root) and by verified payments for the job, averaged against a prior.
// Labellers with no trust path count only through payments, and all of them together are capped.
// Pure and portable: the same events, trust root, payments and `now` give the same numbers on any
// IEEE-754 engine — only +, −, ×, ÷ are used (no Math.exp/log/pow, whose last bit may differ
// between engines), and every sum runs in one canonical order.
// Events are taken as already verified (signatures checked where they were fetched), so their
// NIP-01 shape is not checked again.
import { isHex64, isNewerVersion, type EventTemplate, type NostrEvent } from './01.js'
import { deletionTargets, DELETION_KIND } from './09.js'
import { validateZapReceipt } from './57.js'
import { AI_WOT_NAMESPACE, JOB_OUTCOMES, newJobOutcomeFields, readJobOutcomeFields, TIMMY_LABEL_NAMESPACE, type JobOutcome, type JobOutcomeFields } from './32.js'

export const CONTACT_LIST_KIND = 3
export const TRUSTED_ASSERTION_USER_KIND = 30382

export interface ReputationParams {
  /** A label this many seconds old counts half (whole seconds). */
  halfLifeSeconds: number
  /** Standing of the trust root's follows; the root itself stands at 1. */
  followWeight: number
  /** Standing of the follows of those follows. */
  followOfFollowWeight: number
  /** Verified msats at which a payment reaches half of its full effect. */
  paymentHalfMsats: number
  /** The most weight one trusted labeller's labels may carry together in one score, times its standing: job ids cost nothing to invent. */
  labellerCap: number
  /** The most weight all labellers without a trust path may carry together, in one score. */
  untrustedCap: number
  /** Weight of the prior: how many full-weight labels it takes to move a score halfway. */
  priorWeight: number
  /** The score of an agent nobody has labelled. */
  priorValue: number
}

export const DEFAULT_REPUTATION_PARAMS: Readonly<ReputationParams> = Object.freeze({
  halfLifeSeconds: 90 * 86_400,
  followWeight: 1,
  followOfFollowWeight: 0.25,
  paymentHalfMsats: 1_000_000,
  labellerCap: 5,
  untrustedCap: 1,
  priorWeight: 2,
  priorValue: 0.5,
})

/** Merges and checks parameters; throws RangeError naming the bad one. */
export function resolveReputationParams(overrides: Partial<ReputationParams> = {}): ReputationParams {
  const params = { ...DEFAULT_REPUTATION_PARAMS, ...overrides }
  const need = (ok: boolean, name: keyof ReputationParams, what: string) => {
    if (!ok) throw new RangeError(`reputation parameter ${name} must be ${what}, got ${params[name]}`)
  }
  need(Number.isSafeInteger(params.halfLifeSeconds) && params.halfLifeSeconds > 0, 'halfLifeSeconds', 'a positive whole number of seconds')
  need(Number.isFinite(params.followWeight) && params.followWeight > 0 && params.followWeight <= 1, 'followWeight', 'in (0, 1]')
  need(Number.isFinite(params.followOfFollowWeight) && params.followOfFollowWeight >= 0 && params.followOfFollowWeight <= params.followWeight, 'followOfFollowWeight', 'in [0, followWeight]')
  need(Number.isSafeInteger(params.paymentHalfMsats) && params.paymentHalfMsats > 0, 'paymentHalfMsats', 'a positive whole number of msats')
  need(Number.isFinite(params.labellerCap) && params.labellerCap > 0, 'labellerCap', 'a positive number')
  need(Number.isFinite(params.untrustedCap) && params.untrustedCap >= 0, 'untrustedCap', 'a non-negative number')
  need(Number.isFinite(params.priorWeight) && params.priorWeight > 0, 'priorWeight', 'a positive number')
  need(Number.isFinite(params.priorValue) && params.priorValue >= 0 && params.priorValue <= 1, 'priorValue', 'in [0, 1]')
  return params
}

// ---------------------------------------------------------------------------------------------
// Web of trust

export interface TrustGraph {
  root?: string
  /** pubkey → standing in (0, 1]; pubkeys absent have no trust path. */
  standing: ReadonlyMap<string, number>
}

// Contact lists run to thousands of `p` tags each. A malformed one is not worth a full hex check:
// it can never equal a labeller's (verified) pubkey, so it gives nobody standing.
function followsIn(event: NostrEvent): string[] {
  const follows: string[] = []
  for (const tag of event.tags) if (tag[0] === 'p' && typeof tag[1] === 'string' && tag[1].length === 64) follows.push(tag[1])
  return follows
}

/**
 * Standing from the trust root's newest contact list (kind 3): the root 1, its follows
 * `followWeight`, their follows `followOfFollowWeight`. Pass the root's list and its follows' lists;
 * others are ignored. Without a root nobody has standing.
 */
export function buildTrustGraph(root: string | undefined, contactLists: readonly NostrEvent[], overrides: Partial<ReputationParams> = {}): TrustGraph {
  const params = resolveReputationParams(overrides)
  const standing = new Map<string, number>()
  if (root === undefined) return { standing }
  if (!isHex64(root)) throw new TypeError('trust root must be a 64-character lowercase hex pubkey')
  const newest = new Map<string, NostrEvent>()
  for (const event of contactLists) {
    if (event.kind !== CONTACT_LIST_KIND) continue
    const known = newest.get(event.pubkey)
    if (known === undefined || isNewerVersion(event, known)) newest.set(event.pubkey, event)
  }
  standing.set(root, 1)
  const rootList = newest.get(root)
  const direct = rootList ? followsIn(rootList) : []
  for (const pubkey of direct) if (!standing.has(pubkey)) standing.set(pubkey, params.followWeight)
  if (params.followOfFollowWeight > 0) {
    for (const follow of direct) {
      const list = newest.get(follow)
      if (list) for (const pubkey of followsIn(list)) if (!standing.has(pubkey)) standing.set(pubkey, params.followOfFollowWeight)
    }
  }
  return { root, standing }
}

// ---------------------------------------------------------------------------------------------
// Payments

/**
 * A payment the caller has verified: `payer` paid `recipient` `msats` for `job`. The hook for zap
 * receipts (kind 9735) and paid invoices: whoever validates them (agents/lightning) passes the result
 * here; nothing in a label's own `amount` tag is believed.
 */
export interface VerifiedPayment {
  job: string
  payer: string
  recipient: string
  msats: number
}

/**
 * The first 7 hex digits of a job id as a small integer, −1 for no job. Labels are sorted by job;
 * comparing this number instead of the 64-character id is what keeps that cheap. Ids that share
 * the digits are told apart by the full id.
 */
function jobKey(job: string | undefined): number {
  if (job === undefined) return -1
  let key = 0
  for (let i = 0; i < 7; i++) {
    const c = job.charCodeAt(i)
    key = key * 16 + (c <= 57 ? c - 48 : c - 87)
  }
  return key
}

/** job key → job → msats: what one payer paid one recipient. */
type PaidJobs = Map<number, Map<string, number>>

/** payer → what it paid, for the payments to one recipient. */
function paymentsByPayer(payments: readonly VerifiedPayment[], recipient: string): Map<string, PaidJobs> {
  const paid = new Map<string, PaidJobs>()
  for (const p of payments) {
    if (!isHex64(p.job) || !isHex64(p.payer) || (p.recipient !== recipient && !isHex64(p.recipient))) throw new TypeError('a verified payment needs hex job, payer and recipient')
    if (!Number.isSafeInteger(p.msats) || p.msats < 0) throw new RangeError('a verified payment needs a whole, non-negative msats amount')
    if (p.recipient !== recipient) continue
    let jobs = paid.get(p.payer)
    if (jobs === undefined) paid.set(p.payer, (jobs = new Map()))
    const key = jobKey(p.job)
    let sameKey = jobs.get(key)
    if (sameKey === undefined) jobs.set(key, (sameKey = new Map()))
    // Integer msats: the sum is exact whatever the order.
    sameKey.set(p.job, (sameKey.get(p.job) ?? 0) + p.msats)
  }
  return paid
}

/**
 * The job payment a zap receipt (NIP-57, kind 9735) proves (nips/reputation.md §2.4): valid against the
 * agent's zap server key `zapper` (Appendix F), with a zap request that names a job (`e`) and is signed
 * by the payer, for the amount its invoice carries. A valid zap for no job proves nothing and says no
 * reason; an invalid receipt says why. `verify` checks ids and signatures (default verifyEvent).
 */
export function paymentFromZapReceipt(receipt: NostrEvent, expected: { agent: string; zapper: string; verify?: (event: NostrEvent) => boolean }): { payment?: VerifiedPayment; reason?: string } {
  const checked = validateZapReceipt(receipt, { nostrPubkey: expected.zapper, recipientPubkey: expected.agent, ...(expected.verify && { verify: expected.verify }) })
  if (!checked.ok) return { reason: checked.reason }
  const { eventId, senderPubkey, amountMsats } = checked.zap
  if (eventId === undefined || !isHex64(eventId)) return {}
  return { payment: { job: eventId, payer: senderPubkey, recipient: expected.agent, msats: amountMsats } }
}

// ---------------------------------------------------------------------------------------------
// Arithmetic

const LN2 = 0.6931471805599453
const SERIES_TERMS = 20

/**
 * 2^(−age/halfLife) from +, ×, ÷ only. Whole half-lives are exact halvings; the remaining fraction
 * f ∈ [0, 1) goes through the Taylor series of e^(−f·ln 2), whose 20 terms leave an error below 1e−22.
 */
export function decayFactor(ageSeconds: number, halfLifeSeconds: number): number {
  if (!Number.isSafeInteger(ageSeconds) || ageSeconds < 0) throw new RangeError('ageSeconds must be a non-negative whole number')
  if (!Number.isSafeInteger(halfLifeSeconds) || halfLifeSeconds <= 0) throw new RangeError('halfLifeSeconds must be a positive whole number')
  return decay(ageSeconds, halfLifeSeconds)
}

/** decayFactor for arguments already checked. */
function decay(ageSeconds: number, halfLifeSeconds: number): number {
  const remainder = ageSeconds % halfLifeSeconds
  let halvings = (ageSeconds - remainder) / halfLifeSeconds
  // Past ~1100 halvings even a subnormal is gone; stop rather than loop on ancient labels.
  if (halvings > 1100) return 0
  const t = -(remainder / halfLifeSeconds) * LN2
  let factor = 1
  for (let k = SERIES_TERMS; k >= 1; k--) factor = 1 + (t / k) * factor
  while (halvings-- > 0) factor *= 0.5
  return factor
}

/**
 * What one label says, in [0, 1]. Quality q reads as (q + 3) / 8 — 1 → 0.5 … 5 → 1 — and a label
 * without quality as 3. A late delivery is worth half; failures and faults nothing.
 */
export function outcomeValue(outcome: JobOutcome, quality: number | undefined): number {
  const q = quality === undefined ? 0.75 : (quality + 3) / 8
  if (outcome === 'success') return q
  if (outcome === 'late') return q / 2
  return 0
}

/** Share of a payment's full effect: msats / (msats + paymentHalfMsats), in [0, 1). */
export function paymentFactor(msats: number, paymentHalfMsats: number): number {
  return msats === 0 ? 0 : msats / (msats + paymentHalfMsats)
}

// ---------------------------------------------------------------------------------------------
// Scores

export interface ReputationScore {
  /** In [0, 1]: the weighted mean of the counted labels' values and the prior. */
  value: number
  /** Decayed weight of labels from labellers with a trust path, after the per-labeller cap. */
  trustedWeight: number
  /** Decayed, payment-backed weight of labellers without one, after the caps. */
  untrustedWeight: number
  /** Labels counted in this score. */
  labels: number
}

export interface LabelEvidence {
  id: string
  labeller: string
  job?: string
  kind?: number
  outcome: JobOutcome
  quality?: number
  namespace: string
  createdAt: number
  /** The amount the label claims; informational. */
  statedMsats?: number
  /** Verified payments from the labeller to the agent for this job. */
  paidMsats: number
  /** Labeller's standing: 0 means no trust path, and the label counts only through payment. */
  standing: number
  decay: number
  value: number
  /** decay × standing × (1 + payment factor) with a trust path; decay × payment factor without. Before the caps. */
  weight: number
}

export interface IgnoredLabel {
  id: string
  reason: string
  /** For a label another label by the same labeller for the same job replaced. */
  supersededBy?: string
}

export interface ReputationReport {
  agent: string
  trustRoot?: string
  now: number
  params: ReputationParams
  overall: ReputationScore
  /** Per capability (job request kind), keys in ascending order; only labels naming a kind count here. */
  byKind: Record<string, ReputationScore>
  /** Counted labels, in the canonical order the sums ran in (labeller, then job); built when first read. */
  evidence: LabelEvidence[]
  /** Labels left out, each with why, sorted by id. */
  ignored: IgnoredLabel[]
  /**
   * Labels whose labeller has neither a trust path nor a verified payment for the job: well-formed,
   * but without weight, so only counted. An event given twice counts twice here (and nowhere else).
   */
  weightless: number
}

export interface ReputationInput {
  /** The agent being scored (hex pubkey). */
  agent: string
  /**
   * Kind-1985 events (others are ignored with a reason). Duplicates by id change no score, only the
   * `weightless` count: a caller merging relays drops them first, as gatherReputation does.
   */
  labels: readonly NostrEvent[]
  trust: TrustGraph
  payments?: readonly VerifiedPayment[]
  /** Kind-5 deletion requests: a label its author deleted does not count. */
  deletions?: readonly NostrEvent[]
  /** Unix seconds. */
  now: number
  params?: Partial<ReputationParams>
}

/** One score's sums. Labels arrive labeller by labeller; a trusted labeller's share is capped when it ends. */
class ScoreSum {
  trustedWeight = 0
  trustedValue = 0
  untrustedWeight = 0
  untrustedValue = 0
  labels = 0
  private labellerWeight = 0
  private labellerValue = 0
  private labellerStanding = 0

  add(weight: number, value: number, standing: number): void {
    this.labels++
    this.labellerWeight += weight
    this.labellerValue += weight * value
    this.labellerStanding = standing
  }

  /**
   * Closes the current labeller. A trusted labeller's labels together weigh at most
   * labellerCap × its standing; labellers without standing are capped together, in score().
   */
  endLabeller(params: ReputationParams): void {
    if (this.labellerWeight === 0) return
    if (this.labellerStanding > 0) {
      const cap = params.labellerCap * this.labellerStanding
      const capped = this.labellerWeight > cap
      this.trustedWeight += capped ? cap : this.labellerWeight
      this.trustedValue += capped ? this.labellerValue * (cap / this.labellerWeight) : this.labellerValue
    } else {
      this.untrustedWeight += this.labellerWeight
      this.untrustedValue += this.labellerValue
    }
    this.labellerWeight = 0
    this.labellerValue = 0
  }

  score(params: ReputationParams): ReputationScore {
    const capped = this.untrustedWeight > params.untrustedCap
    const untrustedWeight = capped ? params.untrustedCap : this.untrustedWeight
    const untrustedValue = capped ? this.untrustedValue * (params.untrustedCap / this.untrustedWeight) : this.untrustedValue
    const numerator = this.trustedValue + untrustedValue + params.priorWeight * params.priorValue
    const denominator = this.trustedWeight + untrustedWeight + params.priorWeight
    // Rounding can push a mean of values ≤ 1 a hair above 1; clamp to the documented range.
    return { value: Math.min(1, numerator / denominator), trustedWeight: this.trustedWeight, untrustedWeight, labels: this.labels }
  }
}

const SUPERSEDED = 'superseded: one label per labeller and job counts'
/** In the numeric columns: no kind, quality, stated amount or expiration. */
const NONE = -1

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** The namespaces a job-outcome label can be in, by their code in LabellerLabels.namespaces. */
const NAMESPACES = [TIMMY_LABEL_NAMESPACE, AI_WOT_NAMESPACE] as const

// A read label's numbers, one row of LabellerLabels.rows per label: the offsets of its fields.
const CREATED_AT = 0
const JOB_KEY = 1
const KIND = 2
const VALUE = 3
const EXPIRATION = 4
const STATED_MSATS = 5
/** Index in JOB_OUTCOMES. */
const OUTCOME = 6
const QUALITY = 7
/** Index in NAMESPACES. */
const NAMESPACE = 8
const ROW = 9

/**
 * One labeller's labels about the agent. The labels read so far are kept in arrival order — their
 * numbers as rows of one typed array, off the JavaScript heap where a hundred thousand labels cost
 * the garbage collector nothing; an absent number is NONE — with their slots in job order (each
 * job's labels in arrival order). A score walks them in that order, touching one row per label, and
 * builds evidence objects only when someone reads report.evidence.
 */
class LabellerLabels {
  /** Read and left out whatever the score: malformed, or about another agent. */
  readonly rejected: IgnoredLabel[] = []
  /** Labels read and kept. */
  length = 0
  readonly events: NostrEvent[] = []
  readonly jobs: (string | undefined)[] = []
  rows = new Float64Array(0)
  /** Slots in job order; the slots from its length on were read by the current score and are not in it yet. */
  order: number[] = []

  constructor(readonly labeller: string) {}

  /** Makes room for `more` labels. */
  reserve(more: number): void {
    if ((this.length + more) * ROW <= this.rows.length) return
    const rows = new Float64Array(Math.max(this.length + more, 2 * this.length) * ROW)
    rows.set(this.rows)
    this.rows = rows
  }

  /** Keeps a read label; reserve() made room for it. */
  append(event: NostrEvent, fields: JobOutcomeFields): void {
    const { rows } = this
    const row = this.length++ * ROW
    this.events.push(event)
    this.jobs.push(fields.job)
    rows[row + CREATED_AT] = event.created_at
    rows[row + JOB_KEY] = jobKey(fields.job)
    rows[row + KIND] = fields.kind ?? NONE
    rows[row + VALUE] = outcomeValue(fields.outcome, fields.quality)
    rows[row + EXPIRATION] = fields.expiration ?? NONE
    rows[row + STATED_MSATS] = fields.amountMsats ?? NONE
    rows[row + OUTCOME] = JOB_OUTCOMES.indexOf(fields.outcome)
    rows[row + QUALITY] = fields.quality ?? NONE
    rows[row + NAMESPACE] = fields.namespace === TIMMY_LABEL_NAMESPACE ? 0 : 1
  }

  /** Job order: job keys order jobs as their ids do; the ids themselves decide only between equal keys. */
  private compareJobs(a: number, b: number): number {
    return this.rows[a * ROW + JOB_KEY] - this.rows[b * ROW + JOB_KEY] || compareStrings(this.jobs[a] ?? '', this.jobs[b] ?? '')
  }

  /** Puts the labels appended since the last call into job order, among the earlier ones. */
  sort(): void {
    const total = this.length
    const sorted = this.order.length
    if (sorted === total) return
    // Stable, and earlier arrivals first on a tie: each job's labels stay in arrival order, the order they are weighed against each other in.
    const added: number[] = []
    for (let slot = sorted; slot < total; slot++) added.push(slot)
    added.sort((a, b) => this.compareJobs(a, b))
    if (sorted === 0) {
      this.order = added
      return
    }
    const earlier = this.order
    const order: number[] = []
    let i = 0
    let j = 0
    while (i < sorted && j < added.length) order.push(this.compareJobs(added[j], earlier[i]) < 0 ? added[j++] : earlier[i++])
    while (i < sorted) order.push(earlier[i++])
    while (j < added.length) order.push(added[j++])
    this.order = order
  }

  /**
   * Of two labels for one job, whether `slot` wins over `known`: ours over ai.wot, then newer, then
   * lower id (isNewerVersion's rule, on the fields the evidence keeps).
   */
  supersedes(slot: number, known: number): boolean {
    const { rows } = this
    const namespace = rows[slot * ROW + NAMESPACE]
    if (namespace !== rows[known * ROW + NAMESPACE]) return NAMESPACES[namespace] === TIMMY_LABEL_NAMESPACE
    const a = rows[slot * ROW + CREATED_AT]
    const b = rows[known * ROW + CREATED_AT]
    return a !== b ? a > b : this.events[slot].id < this.events[known].id
  }

  evidence(slot: number, standing: number, paidMsats: number, decayed: number, weight: number): LabelEvidence {
    const row = slot * ROW
    const optional = (field: number) => (this.rows[row + field] === NONE ? undefined : this.rows[row + field])
    return {
      id: this.events[slot].id,
      labeller: this.labeller,
      job: this.jobs[slot],
      kind: optional(KIND),
      outcome: JOB_OUTCOMES[this.rows[row + OUTCOME]],
      quality: optional(QUALITY),
      namespace: NAMESPACES[this.rows[row + NAMESPACE]],
      createdAt: this.rows[row + CREATED_AT],
      statedMsats: optional(STATED_MSATS),
      paidMsats,
      standing,
      decay: decayed,
      value: this.rows[row + VALUE],
      weight,
    }
  }
}

/** A labeller in AgentLabels: most keys never get weight, so their labels are only counted, never read. */
class Labeller {
  /** Labels filed, read or not: a labeller without weight has them all counted as weightless. */
  filed = 0
  /** The score that last gave this labeller weight (AgentLabels.scores): its unread labels are read then. */
  weightedIn = 0
  /** Created by the first score that gives this labeller weight. */
  read: LabellerLabels | undefined

  constructor(readonly pubkey: string) {}
}

/** Input to AgentLabels.score: what a score depends on besides the labels. */
export type ScoreOptions = Omit<ReputationInput, 'agent' | 'labels' | 'deletions'>

/** A labeller a score gives weight: a trust path, or at least one verified payment to the agent. */
interface WeightedLabeller {
  labels: LabellerLabels
  /** 0 without a trust path. */
  standing: number
  /** What this labeller verifiably paid the agent. */
  paid: PaidJobs | undefined
}

/**
 * The labels about one agent, kept to be scored again and again: events are filed by author as
 * they arrive, and each is read (its tags parsed and checked) at most once, by the first score that
 * gives its author weight. A score then walks only the labellers with a trust path or a payment,
 * through their labels' rows; the labels of keys with neither (a sybil army) are never read and
 * cost one map lookup per key. Adding the same event twice changes no score, only `weightless`.
 */
export class AgentLabels {
  readonly agent: string
  private readonly labellers = new Map<string, Labeller>()
  private readonly fields = newJobOutcomeFields()
  /** Label id → pubkeys that asked for its deletion; only its author's request counts. */
  private readonly deletionRequests = new Map<string, Set<string>>()
  /**
   * Filed events not yet read, in arrival order, with their labellers. Reading walks them in this
   * order, the order they lie in memory, rather than labeller by labeller: a hundred thousand events
   * read out of order cost more in cache misses than in parsing.
   */
  private unread: NostrEvent[] = []
  private unreadLabellers: Labeller[] = []
  private filed = 0
  private scores = 0

  constructor(agent: string) {
    if (!isHex64(agent)) throw new TypeError('agent must be a 64-character lowercase hex pubkey')
    this.agent = agent
  }

  /** Labels filed so far, read or not. */
  get size(): number {
    return this.filed
  }

  /**
   * Files a verified event: a kind-1985 label about the agent, or anything else, which is left out
   * with its reason once read.
   */
  add(event: NostrEvent): void {
    let mine = this.labellers.get(event.pubkey)
    if (mine === undefined) this.labellers.set(event.pubkey, (mine = new Labeller(event.pubkey)))
    this.unread.push(event)
    this.unreadLabellers.push(mine)
    mine.filed++
    this.filed++
  }

  /** Takes a kind-5 deletion request into account (others are ignored): a label its author deleted does not count. */
  addDeletion(event: NostrEvent): void {
    if (event.kind !== DELETION_KIND) return
    for (const id of deletionTargets(event).ids) {
      let authors = this.deletionRequests.get(id)
      if (authors === undefined) this.deletionRequests.set(id, (authors = new Set()))
      authors.add(event.pubkey)
    }
  }

  /** Reads the unread events of the labellers the current score gives weight; the others stay unread. */
  private readWeighted(): void {
    const { fields, agent, unread, unreadLabellers, scores } = this
    let kept = 0
    for (let i = 0; i < unread.length; i++) {
      const event = unread[i]
      const mine = unreadLabellers[i]
      if (mine.weightedIn !== scores) {
        unread[kept] = event
        unreadLabellers[kept++] = mine
        continue
      }
      const read = mine.read as LabellerLabels
      // Room for all its unread labels at once: the rows are allocated once, not grown label by label.
      if (read.length * ROW === read.rows.length) read.reserve(mine.filed - read.length - read.rejected.length)
      try {
        readJobOutcomeFields(event, agent, fields)
      } catch (err) {
        read.rejected.push({ id: event.id, reason: (err as Error).message })
        continue
      }
      if (fields.agent !== agent) read.rejected.push({ id: event.id, reason: 'about another agent' })
      else read.append(event, fields)
    }
    unread.length = kept
    unreadLabellers.length = kept
  }

  /** Scores the agent overall and per capability, with the evidence behind each number. */
  score(options: ScoreOptions): ReputationReport {
    const { trust, payments = [], now } = options
    if (!Number.isSafeInteger(now) || now < 0) throw new TypeError('now must be unix seconds')
    const params = resolveReputationParams(options.params)
    const paidBy = paymentsByPayer(payments, this.agent)

    // Counted, not listed: a sybil army's labels should cost no more than counting them.
    let weightless = 0
    const weighted: WeightedLabeller[] = []
    const scoreNumber = ++this.scores
    for (const labeller of this.labellers.values()) {
      const standing = trust.standing.get(labeller.pubkey) ?? 0
      const paid = paidBy.get(labeller.pubkey)
      if (standing > 0 || paid !== undefined) {
        weighted.push({ labels: (labeller.read ??= new LabellerLabels(labeller.pubkey)), standing, paid })
        labeller.weightedIn = scoreNumber
      } else weightless += labeller.filed
    }
    weighted.sort((a, b) => compareStrings(a.labels.labeller, b.labels.labeller))
    if (this.unread.length > 0) this.readWeighted()
    let capacity = 0
    for (const { labels } of weighted) {
      labels.sort()
      capacity += labels.length
    }

    const { deletionRequests } = this
    const { halfLifeSeconds, paymentHalfMsats } = params
    const skipped: IgnoredLabel[] = []
    const overall = new ScoreSum()
    const perKind = new Map<number, ScoreSum>()
    // The counted labels in the order the sums ran in, with what their evidence needs beyond the columns.
    let counted = 0
    const countedLabeller = new Int32Array(capacity)
    const countedSlot = new Int32Array(capacity)
    const countedPaid = new Float64Array(capacity)
    const countedDecay = new Float64Array(capacity)
    const countedWeight = new Float64Array(capacity)

    for (let w = 0; w < weighted.length; w++) {
      const { labels, standing, paid } = weighted[w]
      for (const rejected of labels.rejected) skipped.push(rejected)
      const { events, jobs, rows, labeller, order } = labels
      const count = (slot: number, paidMsats: number) => {
        const row = slot * ROW
        const decayed = decay(now - rows[row + CREATED_AT], halfLifeSeconds)
        const payment = paymentFactor(paidMsats, paymentHalfMsats)
        // decay × standing × (1 + payment factor) with a trust path; decay × payment factor without.
        const weight = standing > 0 ? decayed * standing * (1 + payment) : decayed * payment
        const value = rows[row + VALUE]
        overall.add(weight, value, standing)
        const kind = rows[row + KIND]
        if (kind !== NONE) {
          let sum = perKind.get(kind)
          if (sum === undefined) perKind.set(kind, (sum = new ScoreSum()))
          sum.add(weight, value, standing)
        }
        countedLabeller[counted] = w
        countedSlot[counted] = slot
        countedPaid[counted] = paidMsats
        countedDecay[counted] = decayed
        countedWeight[counted++] = weight
      }
      // One label per job counts: walking the labels in job order, `known` is the best so far of the
      // current job. The columns decide the common case; the events are touched for labels left out.
      let known = NONE
      let knownPaid = 0
      for (let i = 0; i < order.length; i++) {
        const slot = order[i]
        const row = slot * ROW
        const expiration = rows[row + EXPIRATION]
        if (rows[row + CREATED_AT] > now) skipped.push({ id: events[slot].id, reason: 'dated after now' })
        else if (expiration !== NONE && expiration <= now) skipped.push({ id: events[slot].id, reason: 'expired (NIP-40)' })
        else if (deletionRequests.size > 0 && deletionRequests.get(events[slot].id)?.has(labeller)) skipped.push({ id: events[slot].id, reason: 'deleted by its author (NIP-09)' })
        else {
          const key = rows[row + JOB_KEY]
          const job = jobs[slot]
          const paidMsats = paid === undefined || job === undefined ? 0 : (paid.get(key)?.get(job) ?? 0)
          if (standing === 0 && paidMsats === 0) weightless++
          else if (known === NONE) (known = slot), (knownPaid = paidMsats)
          else if (key !== rows[known * ROW + JOB_KEY] || job !== jobs[known]) {
            count(known, knownPaid)
            known = slot
            knownPaid = paidMsats
          } else if (events[slot].id === events[known].id) continue // the same event from another relay
          else if (labels.supersedes(slot, known)) {
            skipped.push({ id: events[known].id, reason: SUPERSEDED, supersededBy: events[slot].id })
            known = slot
            knownPaid = paidMsats
          } else skipped.push({ id: events[slot].id, reason: SUPERSEDED, supersededBy: events[known].id })
        }
      }
      if (known !== NONE) count(known, knownPaid)
      overall.endLabeller(params)
      for (const sum of perKind.values()) sum.endLabeller(params)
    }
    skipped.sort((a, b) => compareStrings(a.id, b.id))
    // An event delivered twice is reported once.
    const ignored = skipped.filter((item, i) => i === 0 || item.id !== skipped[i - 1].id)

    const byKind: Record<string, ReputationScore> = {}
    for (const kind of [...perKind.keys()].sort((a, b) => a - b)) byKind[kind] = (perKind.get(kind) as ScoreSum).score(params)
    let evidence: LabelEvidence[] | undefined
    const listEvidence = (): LabelEvidence[] => {
      const list: LabelEvidence[] = []
      for (let i = 0; i < counted; i++) {
        const { labels, standing } = weighted[countedLabeller[i]]
        list.push(labels.evidence(countedSlot[i], standing, countedPaid[i], countedDecay[i], countedWeight[i]))
      }
      return list
    }
    return {
      agent: this.agent,
      trustRoot: trust.root,
      now,
      params,
      overall: overall.score(params),
      byKind,
      // Built on first read: callers that want only the scores (the auction, the directory) never pay for it.
      get evidence() {
        return (evidence ??= listEvidence())
      },
      ignored,
      weightless,
    }
  }
}

/** Scores one agent from a list of events: AgentLabels for one use. */
export function computeReputation(input: ReputationInput): ReputationReport {
  const labels = new AgentLabels(input.agent)
  for (const event of input.labels) labels.add(event)
  for (const deletion of input.deletions ?? []) labels.addDeletion(deletion)
  return labels.score(input)
}

/**
 * The most a score can move when labels from labellers without a trust path are added or removed,
 * whatever their number and payments: untrustedCap / (trustedWeight + priorWeight + untrustedCap).
 * Labels with neither a trust path nor a verified payment move it by exactly 0.
 */
export function sybilBound(score: Pick<ReputationScore, 'trustedWeight'>, overrides: Partial<ReputationParams> = {}): number {
  const params = resolveReputationParams(overrides)
  return params.untrustedCap / (score.trustedWeight + params.priorWeight + params.untrustedCap)
}

// ---------------------------------------------------------------------------------------------
// For the market

/** The score that matters for a job of `kind`: that capability's, or overall when it has no labels yet. */
export function scoreFor(report: ReputationReport, kind?: number): ReputationScore {
  return (kind !== undefined ? report.byKind[kind] : undefined) ?? report.overall
}

export interface MinimumReputation {
  value: number
  /** Also require this much evidence from labellers with a trust path (payment-backed strangers are capped). */
  trustedWeight?: number
}

export function meetsMinimumReputation(score: ReputationScore, min: number | MinimumReputation): boolean {
  const { value, trustedWeight = 0 } = typeof min === 'number' ? { value: min } : min
  return score.value >= value && score.trustedWeight >= trustedWeight
}

/** Best first: higher value, then more trusted evidence, then more untrusted evidence. */
export function compareReputation(a: ReputationScore, b: ReputationScore): number {
  return b.value - a.value || b.trustedWeight - a.trustedWeight || b.untrustedWeight - a.untrustedWeight
}

/** pubkey → value, the map the auction breaks price ties with (nips/auction.ts). */
export function reputationValues(reports: Iterable<ReputationReport>, kind?: number): Map<string, number> {
  const values = new Map<string, number>()
  for (const report of reports) values.set(report.agent, scoreFor(report, kind).value)
  return values
}

/** The agent directory's order: best reputation first, unscored agents last, ties by pubkey. */
export function sortAgentDirectory<T extends { pubkey: string }>(agents: readonly T[], scores: ReadonlyMap<string, ReputationScore>): T[] {
  return [...agents].sort((a, b) => {
    const sa = scores.get(a.pubkey)
    const sb = scores.get(b.pubkey)
    if (sa && sb) return compareReputation(sa, sb) || compareStrings(a.pubkey, b.pubkey)
    if (sa || sb) return sa ? -1 : 1
    return compareStrings(a.pubkey, b.pubkey)
  })
}

/**
 * A NIP-85 trusted assertion (kind 30382) publishing a score as `rank` 0–100, for clients that read
 * those. NIP-85 wants one service key per algorithm and per trust root: the caller picks the key.
 */
export function buildTrustedAssertion({ agent, score, createdAt }: { agent: string; score: ReputationScore; createdAt: number }): EventTemplate {
  if (!isHex64(agent)) throw new TypeError('agent must be a 64-character lowercase hex pubkey')
  if (!Number.isSafeInteger(createdAt) || createdAt < 0) throw new TypeError('createdAt must be unix seconds')
  return { kind: TRUSTED_ASSERTION_USER_KIND, created_at: createdAt, tags: [['d', agent], ['rank', String(Math.round(score.value * 100))]], content: '' }
}
