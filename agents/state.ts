// A job's state is a pure fold over the facts in its log. Nothing here reads a clock, a key or a
// database: the runtime appends facts, `timmy job replay` folds them again and prints every step.
//
// Lifecycle:  posted → bidding → assigned → executing → completed | failed
//             bidding → awaiting-approval → assigned (approved) | failed (rejected)
//             sealed-bid auctions (nips/auction.md): posted → bidding (bid-committed, bid-revealed,
//               outcome-rejected) → assigned (won) | cancelled (lost)
//             payments (agents/payments.ts), pay before work: assigned → payment-required (invoice-issued)
//               → assigned (paid) → executing; pay after work: executing (invoice-issued) → completed (paid);
//               escrow: paid is the hold locked in, then payment-settled | payment-refunded
//             any state that is not final → cancelled | failed
import type { NostrEvent } from '../nips/01.js'
import type { JobInput } from './capability.js'
import type { JobRequest } from '../nips/90.js'

export type JobStatus = 'posted' | 'bidding' | 'awaiting-approval' | 'assigned' | 'payment-required' | 'executing' | 'completed' | 'failed' | 'cancelled'

export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled'])

/** What the request asks for, after decryption and parsing. */
export interface JobSpec {
  kind: number
  requester: string
  inputs: JobInput[]
  params: Record<string, string[]>
  output?: string
  bidMsats?: number
  /** The request's `relays` tag: results go there as well. */
  relays: string[]
  /** `p` tags: the DVMs the requester asked for (empty = open request). */
  targets: string[]
  /** Which scheme the request was encrypted with; feedback and results answer in the same. */
  encryption?: 'nip44' | 'nip04'
}

/** What a bidder keeps about an auction it bid in: enough to reveal and to check the outcome after a restart. */
export interface AuctionBid {
  auctioneer: string
  reserveMsats: number
  /** Unix seconds, from the request. */
  bidDeadline: number
  revealDeadline: number
  /** Where commits and reveals go (the request's relays). */
  relays: string[]
  /**
   * The opening of the commitment (price and nonce), NIP-44 encrypted to the agent's own key: it
   * is in the log before the commit is published, and stays secret from anyone who can read the
   * log (the HTTP API shows facts) until the bidder reveals it.
   */
  sealedOpening: string
  /** The signed commit event. */
  commit: NostrEvent
  revealId?: string
  /** Outcome events that failed verification: the bidder did not act on them. */
  rejectedOutcomes: { outcomeId: string; problems: string[] }[]
  result?: { outcome: 'won' | 'lost'; outcomeId?: string; clearingPriceMsats?: number; reason?: string }
}

/** What the requester was asked to pay (agents/payments.ts); its hash is the payment's identity. */
export interface JobPayment {
  paymentHash: string
  bolt11: string
  amountMsats: number
  /** Unix seconds. */
  expiresAt: number
  /** A hold invoice of the escrow: 'paid' means locked in, released by payment-settled. */
  escrow: boolean
  /** Whether the work waits for the payment. */
  beforeWork: boolean
  state: 'awaiting' | 'paid' | 'settled' | 'refunded' | 'expired'
  /** Unix milliseconds. */
  paidAt?: number
  reason?: string
}

/** Unix milliseconds, from the runtime's clock. */
type At = { at: number }

export type JobFact = At &
  (
    | {
        type: 'posted'
        /** The request as it arrived (still encrypted, when it was). */
        request: NostrEvent
        /** Absent when the request could not be decrypted or parsed; a `failed` fact follows. */
        spec?: JobSpec
        /** Public key of the agent whose log this is. */
        agent: string
        /** Set when this agent took the job over from a dead one. */
        takeoverFrom?: string
      }
    | { type: 'quoted'; priceMsats: number }
    | { type: 'bid-committed'; bid: Omit<AuctionBid, 'revealId' | 'rejectedOutcomes' | 'result'> }
    | { type: 'bid-revealed'; revealId: string }
    | { type: 'outcome-rejected'; outcomeId: string; problems: string[] }
    | { type: 'won'; outcomeId: string; clearingPriceMsats: number }
    | { type: 'lost'; outcomeId?: string; reason: string }
    | { type: 'approval-required'; reason: string }
    | { type: 'approved'; by: string }
    | { type: 'rejected'; by: string; reason: string }
    | { type: 'assigned' }
    | { type: 'invoice-issued'; paymentHash: string; bolt11: string; amountMsats: number; expiresAt: number; escrow: boolean; beforeWork: boolean }
    | { type: 'paid'; paymentHash: string; amountMsats: number }
    | { type: 'payment-settled'; paymentHash: string }
    | { type: 'payment-refunded'; paymentHash: string; reason: string }
    | { type: 'invoice-expired'; paymentHash: string; reason: string }
    | { type: 'awaiting-input'; jobIds: string[]; deadline: number }
    | { type: 'started'; attempt: number }
    | { type: 'partial'; content: string }
    | { type: 'completed'; resultEventId: string; content: string; mimeType?: string }
    | { type: 'failed'; reason: string }
    | { type: 'cancelled'; reason: string; deletionId?: string }
  )

export type JobFactType = JobFact['type']

export interface JobState {
  id: string
  status: JobStatus
  agent: string
  request: NostrEvent
  spec?: JobSpec
  takeoverFrom?: string
  /** The quote; for an auction bid, the clearing price once won (the bid itself stays sealed). */
  priceMsats?: number
  auction?: AuctionBid
  approval?: { reason: string; decision?: 'approved' | 'rejected'; by?: string }
  payment?: JobPayment
  waitingFor?: { jobIds: string[]; deadline: number }
  /** How many times execution started (more than one after a crash or restart). */
  attempts: number
  partials: string[]
  result?: { eventId: string; content: string; mimeType?: string }
  error?: string
  cancelReason?: string
  postedAt: number
  updatedAt: number
}

export class IllegalTransitionError extends Error {
  constructor(
    readonly jobId: string,
    readonly from: JobStatus | 'none',
    readonly fact: JobFactType,
  ) {
    super(`job ${jobId}: '${fact}' cannot follow state '${from}'`)
    this.name = 'IllegalTransitionError'
  }
}

const ALLOWED: Record<JobFactType, ReadonlyArray<JobStatus | 'none'>> = {
  posted: ['none'],
  quoted: ['posted'],
  'bid-committed': ['posted'],
  'bid-revealed': ['bidding'],
  'outcome-rejected': ['bidding'],
  won: ['bidding'],
  lost: ['bidding'],
  'approval-required': ['bidding'],
  approved: ['awaiting-approval'],
  rejected: ['awaiting-approval'],
  assigned: ['bidding'],
  // Pay before work from 'assigned'; pay after work while the result is being made.
  'invoice-issued': ['assigned', 'executing'],
  // Pay after work: the result is out (completed) before the payment arrives.
  paid: ['payment-required', 'executing', 'completed'],
  'payment-settled': ['assigned', 'executing', 'completed', 'failed', 'cancelled'],
  'payment-refunded': ['payment-required', 'assigned', 'executing', 'completed', 'failed', 'cancelled'],
  'invoice-expired': ['payment-required', 'executing', 'completed', 'failed', 'cancelled'],
  'awaiting-input': ['assigned'],
  // 'executing' again after a crash or restart: the job runs once more, its result is sent once.
  started: ['assigned', 'executing'],
  partial: ['executing'],
  completed: ['executing'],
  failed: ['posted', 'bidding', 'awaiting-approval', 'assigned', 'payment-required', 'executing'],
  cancelled: ['posted', 'bidding', 'awaiting-approval', 'assigned', 'payment-required', 'executing'],
}

/** Facts that only an auction bid takes, and facts that only a quoted job takes. */
const AUCTION_FACTS: ReadonlySet<JobFactType> = new Set(['bid-revealed', 'outcome-rejected', 'won', 'lost'])
const QUOTE_FACTS: ReadonlySet<JobFactType> = new Set(['approval-required', 'assigned'])
const PAYMENT_FACTS: ReadonlySet<JobFactType> = new Set(['invoice-issued', 'paid', 'payment-settled', 'payment-refunded', 'invoice-expired'])

export function canApply(state: JobState | undefined, fact: JobFact): boolean {
  if (!ALLOWED[fact.type].includes(state?.status ?? 'none')) return false
  if (AUCTION_FACTS.has(fact.type) && !state?.auction) return false
  if (QUOTE_FACTS.has(fact.type) && state?.auction) return false
  // One reveal per commit: a second would be a `duplicate` in the outcome.
  if (fact.type === 'bid-revealed' && state?.auction?.revealId) return false
  if (fact.type === 'won' && !state?.auction?.revealId) return false
  // One invoice per job; payment facts only about that invoice, each in its turn.
  if (fact.type === 'invoice-issued' && state?.payment) return false
  if (fact.type !== 'invoice-issued' && PAYMENT_FACTS.has(fact.type)) {
    const payment = state?.payment
    if (!payment || payment.paymentHash !== (fact as { paymentHash: string }).paymentHash) return false
    if (fact.type === 'paid' && payment.state !== 'awaiting') return false
    if (fact.type === 'invoice-expired' && payment.state !== 'awaiting') return false
    if (fact.type === 'payment-settled' && !(payment.escrow && payment.state === 'paid')) return false
    if (fact.type === 'payment-refunded' && !(payment.escrow && (payment.state === 'paid' || payment.state === 'awaiting'))) return false
  }
  return true
}

/** The state after one more fact; throws IllegalTransitionError for a fact that cannot follow. */
export function applyFact(state: JobState | undefined, fact: JobFact, jobId: string): JobState {
  if (!canApply(state, fact)) throw new IllegalTransitionError(jobId, state?.status ?? 'none', fact.type)
  if (fact.type === 'posted') {
    return {
      id: jobId,
      status: 'posted',
      agent: fact.agent,
      request: fact.request,
      ...(fact.spec && { spec: fact.spec }),
      ...(fact.takeoverFrom && { takeoverFrom: fact.takeoverFrom }),
      attempts: 0,
      partials: [],
      postedAt: fact.at,
      updatedAt: fact.at,
    }
  }
  const s: JobState = { ...state!, updatedAt: fact.at }
  switch (fact.type) {
    case 'quoted':
      return { ...s, status: 'bidding', priceMsats: fact.priceMsats }
    case 'bid-committed':
      return { ...s, status: 'bidding', auction: { ...fact.bid, rejectedOutcomes: [] } }
    case 'bid-revealed':
      return { ...s, auction: { ...s.auction!, revealId: fact.revealId } }
    case 'outcome-rejected':
      return { ...s, auction: { ...s.auction!, rejectedOutcomes: [...s.auction!.rejectedOutcomes, { outcomeId: fact.outcomeId, problems: fact.problems }] } }
    case 'won':
      return {
        ...s,
        status: 'assigned',
        priceMsats: fact.clearingPriceMsats,
        auction: { ...s.auction!, result: { outcome: 'won', outcomeId: fact.outcomeId, clearingPriceMsats: fact.clearingPriceMsats } },
      }
    case 'lost':
      return {
        ...s,
        status: 'cancelled',
        cancelReason: fact.reason,
        auction: { ...s.auction!, result: { outcome: 'lost', reason: fact.reason, ...(fact.outcomeId && { outcomeId: fact.outcomeId }) } },
      }
    case 'approval-required':
      return { ...s, status: 'awaiting-approval', approval: { reason: fact.reason } }
    case 'approved':
      return { ...s, status: 'assigned', approval: { ...s.approval!, decision: 'approved', by: fact.by } }
    case 'rejected':
      return { ...s, status: 'failed', approval: { ...s.approval!, decision: 'rejected', by: fact.by }, error: `rejected by the operator: ${fact.reason}` }
    case 'assigned':
      return { ...s, status: 'assigned' }
    case 'invoice-issued': {
      const { paymentHash, bolt11, amountMsats, expiresAt, escrow, beforeWork } = fact
      return { ...s, status: beforeWork ? 'payment-required' : s.status, payment: { paymentHash, bolt11, amountMsats, expiresAt, escrow, beforeWork, state: 'awaiting' } }
    }
    case 'paid':
      return { ...s, status: s.status === 'payment-required' ? 'assigned' : s.status, payment: { ...s.payment!, state: 'paid', paidAt: fact.at } }
    case 'payment-settled':
      return { ...s, payment: { ...s.payment!, state: 'settled' } }
    case 'payment-refunded':
      return { ...s, payment: { ...s.payment!, state: 'refunded', reason: fact.reason } }
    case 'invoice-expired':
      return { ...s, payment: { ...s.payment!, state: 'expired', reason: fact.reason } }
    case 'awaiting-input':
      return { ...s, waitingFor: { jobIds: fact.jobIds, deadline: fact.deadline } }
    case 'started':
      return { ...s, status: 'executing', attempts: Math.max(s.attempts, fact.attempt) }
    case 'partial':
      return { ...s, partials: [...s.partials, fact.content] }
    case 'completed':
      return { ...s, status: 'completed', result: { eventId: fact.resultEventId, content: fact.content, ...(fact.mimeType && { mimeType: fact.mimeType }) } }
    case 'failed':
      return { ...s, status: 'failed', error: fact.reason }
    case 'cancelled':
      return { ...s, status: 'cancelled', cancelReason: fact.reason }
  }
}

export function foldJob(jobId: string, facts: readonly JobFact[]): JobState | undefined {
  let state: JobState | undefined
  for (const fact of facts) state = applyFact(state, fact, jobId)
  return state
}

/** Every intermediate state, one per fact: what `timmy job replay` prints. */
export function replayJob(jobId: string, facts: readonly JobFact[]): JobState[] {
  const states: JobState[] = []
  let state: JobState | undefined
  for (const fact of facts) {
    state = applyFact(state, fact, jobId)
    states.push(state)
  }
  return states
}

/**
 * What the requester is asked to pay for the job: the quote, or for an auction the clearing price
 * (the second-lowest bid), never the winner's own bid. Results and invoices take it from here.
 */
export function amountDueMsats(state: Pick<JobState, 'priceMsats' | 'auction'>): number {
  if (state.auction) return state.auction.result?.clearingPriceMsats ?? 0
  return state.priceMsats ?? 0
}

export function isFinal(state: Pick<JobState, 'status'>): boolean {
  return FINAL_STATUSES.has(state.status)
}

/** The job's request in the shape the NIP-90 builders take (decrypted view for encrypted requests). */
export function jobRequestOf(state: Pick<JobState, 'request' | 'spec'>): JobRequest {
  const { request, spec } = state
  return {
    id: request.id,
    kind: request.kind,
    pubkey: request.pubkey,
    inputs: spec?.inputs.map(({ type, value, relay, marker }) => ({ type, value, ...(relay && { relay }), ...(marker && { marker }) })) ?? [],
    params: spec?.params ?? {},
    relays: spec?.relays ?? [],
    targets: spec?.targets ?? [],
    encrypted: spec?.encryption !== undefined,
    ...(spec?.encryption && { encryption: spec.encryption }),
    ...(spec?.output && { output: spec.output }),
    ...(spec?.bidMsats !== undefined && { bidMsats: spec.bidMsats }),
    event: request,
  }
}

export function specOf(request: JobRequest): JobSpec {
  return {
    kind: request.kind,
    requester: request.pubkey,
    inputs: request.inputs,
    params: request.params,
    relays: request.relays,
    targets: request.targets,
    ...(request.output && { output: request.output }),
    ...(request.bidMsats !== undefined && { bidMsats: request.bidMsats }),
    ...(request.encryption && { encryption: request.encryption }),
  }
}
