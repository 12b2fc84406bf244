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
import { newJobOutcomeFields, readJobOutcomeFields, TIMMY_LABEL_NAMESPACE, type JobOutcome, type JobOutcomeFields } from './32.js'

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
 * The first 7 hex digits of a job id as a small integer, −1 for no job. Reputation looks labels up
 * by job a hundred thousand times; hashing this number instead of the 64-character id is what keeps
 * those lookups cheap. Ids that share the digits are told apart by the full id.
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

/** job key → job → payer → msats, for payments to one recipient. */
type PaymentIndex = Map<number, Map<string, Map<string, number>>>

function paymentIndex(payments: readonly VerifiedPayment[], recipient: string): PaymentIndex {
  const paid: PaymentIndex = new Map()
  for (const p of payments) {
    if (!isHex64(p.job) || !isHex64(p.payer) || (p.recipient !== recipient && !isHex64(p.recipient))) throw new TypeError('a verified payment needs hex job, payer and recipient')
    if (!Number.isSafeInteger(p.msats) || p.msats < 0) throw new RangeError('a verified payment needs a whole, non-negative msats amount')
    if (p.recipient !== recipient) continue
    const key = jobKey(p.job)
    let jobs = paid.get(key)
    if (jobs === undefined) paid.set(key, (jobs = new Map()))
    let payers = jobs.get(p.job)
    if (payers === undefined) jobs.set(p.job, (payers = new Map()))
    // Integer msats: the sum is exact whatever the order.
    payers.set(p.payer, (payers.get(p.payer) ?? 0) + p.msats)
  }
  return paid
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

const SUPERSEDED = 'superseded: one label per labeller and job counts'

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * The labels with weight, one column per field, indexed by arrival. Scores need only weight, value
 * and kind; the evidence objects are built from these columns when someone reads report.evidence,
 * so scoring alone allocates no object per label.
 */
class WeightedLabels {
  readonly events: NostrEvent[] = []
  readonly keys: number[] = []
  readonly jobs: (string | undefined)[] = []
  readonly kinds: (number | undefined)[] = []
  readonly outcomes: JobOutcome[] = []
  readonly qualities: (number | undefined)[] = []
  readonly namespaces: string[] = []
  readonly statedMsats: (number | undefined)[] = []
  readonly paidMsats: number[] = []
  readonly decays: number[] = []
  readonly values: number[] = []
  readonly weights: number[] = []

  /** Adds a label; returns its slot. */
  add(event: NostrEvent, key: number, fields: JobOutcomeFields, paidMsats: number, decayed: number, value: number, weight: number): number {
    this.events.push(event)
    this.keys.push(key)
    this.jobs.push(fields.job)
    this.kinds.push(fields.kind)
    this.outcomes.push(fields.outcome)
    this.qualities.push(fields.quality)
    this.namespaces.push(fields.namespace)
    this.statedMsats.push(fields.amountMsats)
    this.paidMsats.push(paidMsats)
    this.decays.push(decayed)
    this.values.push(value)
    return this.weights.push(weight) - 1
  }

  /**
   * Of two labels by one labeller for one job, whether `slot` wins over `known`: ours over ai.wot,
   * then newer, then lower id (isNewerVersion's rule, on the fields the evidence keeps).
   */
  supersedes(slot: number, known: number): boolean {
    const namespace = this.namespaces[slot]
    if (namespace !== this.namespaces[known]) return namespace === TIMMY_LABEL_NAMESPACE
    const a = this.events[slot]
    const b = this.events[known]
    return a.created_at !== b.created_at ? a.created_at > b.created_at : a.id < b.id
  }

  evidence(slot: number, labeller: string, standing: number): LabelEvidence {
    const event = this.events[slot]
    return {
      id: event.id,
      labeller,
      job: this.jobs[slot],
      kind: this.kinds[slot],
      outcome: this.outcomes[slot],
      quality: this.qualities[slot],
      namespace: this.namespaces[slot],
      createdAt: event.created_at,
      statedMsats: this.statedMsats[slot],
      paidMsats: this.paidMsats[slot],
      standing,
      decay: this.decays[slot],
      value: this.values[slot],
      weight: this.weights[slot],
    }
  }
}

/** One labeller's labels with weight (slots in WeightedLabels), in arrival order, several for one job until resolve() picks one. */
class LabellerLabels {
  readonly slots: number[] = []

  constructor(
    readonly labeller: string,
    readonly standing: number,
  ) {}

  /**
   * The label that counts for each job, in ascending job order (no job first), the order the sums
   * run in. Sorting also brings each job's labels together, in arrival order (the sort is stable):
   * they are weighed against each other as they arrived, and the losers go to `skipped`.
   */
  resolve(all: WeightedLabels, skipped: IgnoredLabel[]): number[] {
    const { slots } = this
    if (slots.length === 1) return slots
    const { keys, jobs, events } = all
    // Job keys order jobs as their ids do; the ids themselves decide only between equal keys.
    const order = slots.slice().sort((a, b) => keys[a] - keys[b] || compareStrings(jobs[a] ?? '', jobs[b] ?? ''))
    const counted: number[] = []
    let known = order[0]
    for (let i = 1; i < order.length; i++) {
      const slot = order[i]
      if (jobs[slot] !== jobs[known]) {
        counted.push(known)
        known = slot
      } else if (events[slot].id === events[known].id) {
        continue // the same event from another relay
      } else if (all.supersedes(slot, known)) {
        skipped.push({ id: events[known].id, reason: SUPERSEDED, supersededBy: events[slot].id })
        known = slot
      } else skipped.push({ id: events[slot].id, reason: SUPERSEDED, supersededBy: events[known].id })
    }
    counted.push(known)
    return counted
  }
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

/** Scores one agent overall and per capability, with the evidence behind each number. */
export function computeReputation(input: ReputationInput): ReputationReport {
  const { agent, labels, trust, payments = [], deletions = [], now } = input
  if (!isHex64(agent)) throw new TypeError('agent must be a 64-character lowercase hex pubkey')
  if (!Number.isSafeInteger(now) || now < 0) throw new TypeError('now must be unix seconds')
  const params = resolveReputationParams(input.params)
  const paid = paymentIndex(payments, agent)
  // label id → pubkeys that asked for its deletion (only its author's request counts).
  const deleted = new Map<string, Set<string>>()
  for (const deletion of deletions) {
    if (deletion.kind !== DELETION_KIND) continue
    for (const id of deletionTargets(deletion).ids) {
      let authors = deleted.get(id)
      if (authors === undefined) deleted.set(id, (authors = new Set()))
      authors.add(deletion.pubkey)
    }
  }

  const skipped: IgnoredLabel[] = []
  // Counted, not listed: a sybil army's labels should cost no more than counting them.
  let weightless = 0
  // A labeller's labels naming no job (ai.wot) collapse into one, like several labels for one job.
  // The other labels allocate nothing (one reused record).
  const byLabeller = new Map<string, LabellerLabels>()
  const weighted = new WeightedLabels()
  const fields = newJobOutcomeFields()
  for (const event of labels) {
    try {
      readJobOutcomeFields(event, agent, fields)
    } catch (err) {
      skipped.push({ id: event.id, reason: (err as Error).message })
      continue
    }
    const { id, pubkey: labeller, created_at: createdAt } = event
    if (fields.agent !== agent) skipped.push({ id, reason: 'about another agent' })
    else if (createdAt > now) skipped.push({ id, reason: 'dated after now' })
    else if (fields.expiration !== undefined && fields.expiration <= now) skipped.push({ id, reason: 'expired (NIP-40)' })
    else if (deleted.size > 0 && deleted.get(id)?.has(labeller)) skipped.push({ id, reason: 'deleted by its author (NIP-09)' })
    else {
      const job = fields.job
      const key = jobKey(job)
      const standing = trust.standing.get(labeller)
      const paidMsats = paid.size === 0 || job === undefined ? 0 : (paid.get(key)?.get(job)?.get(labeller) ?? 0)
      // Weight depends only on who labelled which job, so a weightless label is dropped before it
      // costs anything more: this is where a sybil army ends.
      if (standing === undefined && paidMsats === 0) {
        weightless++
        continue
      }
      let mine = byLabeller.get(labeller)
      if (mine === undefined) byLabeller.set(labeller, (mine = new LabellerLabels(labeller, standing ?? 0)))
      const payment = paymentFactor(paidMsats, params.paymentHalfMsats)
      const decayed = decay(now - createdAt, params.halfLifeSeconds)
      // decay × standing × (1 + payment factor) with a trust path; decay × payment factor without.
      const weight = mine.standing > 0 ? decayed * mine.standing * (1 + payment) : decayed * payment
      mine.slots.push(weighted.add(event, key, fields, paidMsats, decayed, outcomeValue(fields.outcome, fields.quality), weight))
    }
  }

  const overall = new ScoreSum()
  const perKind = new Map<number, ScoreSum>()
  const labellers = [...byLabeller.values()].sort((a, b) => compareStrings(a.labeller, b.labeller))
  const { weights, values, kinds } = weighted
  const countedByLabeller: number[][] = []
  for (const mine of labellers) {
    const counted = mine.resolve(weighted, skipped)
    countedByLabeller.push(counted)
    for (const slot of counted) {
      const weight = weights[slot]
      const value = values[slot]
      overall.add(weight, value, mine.standing)
      const kind = kinds[slot]
      if (kind !== undefined) {
        let sum = perKind.get(kind)
        if (sum === undefined) perKind.set(kind, (sum = new ScoreSum()))
        sum.add(weight, value, mine.standing)
      }
    }
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
    for (let i = 0; i < labellers.length; i++) {
      const { labeller, standing } = labellers[i]
      for (const slot of countedByLabeller[i]) list.push(weighted.evidence(slot, labeller, standing))
    }
    return list
  }
  return {
    agent,
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
