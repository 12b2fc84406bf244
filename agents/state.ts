// A job's state is a pure fold over the facts in its log. Nothing here reads a clock, a key or a
// database: the runtime appends facts, `timmy job replay` folds them again and prints every step.
//
// Lifecycle:  posted → bidding → assigned → executing → completed | failed
//             bidding → awaiting-approval → assigned (approved) | failed (rejected)
//             sealed-bid auctions (nips/auction.md): posted → bidding (bid-committed, bid-revealed,
//               outcome-rejected) → assigned (won) | cancelled (lost)
//             any state that is not final → cancelled | failed
import type { NostrEvent } from '../nips/01.js'
import type { JobInput } from './capability.js'
import type { JobRequest } from '../nips/90.js'

export type JobStatus = 'posted' | 'bidding' | 'awaiting-approval' | 'assigned' | 'executing' | 'completed' | 'failed' | 'cancelled'

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
  /** The bid: this agent's cost of the job (truthful bidding). */
  priceMsats: number
  /** The secret that opens the commitment: in the log before the commit is published. */
  nonce: string
  /** The signed commit event. */
  commit: NostrEvent
  revealId?: string
  /** Outcome events that failed verification: the bidder did not act on them. */
  rejectedOutcomes: { outcomeId: string; problems: string[] }[]
  result?: { outcome: 'won' | 'lost'; outcomeId?: string; clearingPriceMsats?: number; reason?: string }
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
  /** The quote; for an auction, the bid until it is won and then the clearing price. */
  priceMsats?: number
  auction?: AuctionBid
  approval?: { reason: string; decision?: 'approved' | 'rejected'; by?: string }
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
  'awaiting-input': ['assigned'],
  // 'executing' again after a crash or restart: the job runs once more, its result is sent once.
  started: ['assigned', 'executing'],
  partial: ['executing'],
  completed: ['executing'],
  failed: ['posted', 'bidding', 'awaiting-approval', 'assigned', 'executing'],
  cancelled: ['posted', 'bidding', 'awaiting-approval', 'assigned', 'executing'],
}

/** Facts that only an auction bid takes, and facts that only a quoted job takes. */
const AUCTION_FACTS: ReadonlySet<JobFactType> = new Set(['bid-revealed', 'outcome-rejected', 'won', 'lost'])
const QUOTE_FACTS: ReadonlySet<JobFactType> = new Set(['approval-required', 'assigned'])

export function canApply(state: JobState | undefined, fact: JobFact): boolean {
  if (!ALLOWED[fact.type].includes(state?.status ?? 'none')) return false
  if (AUCTION_FACTS.has(fact.type) && !state?.auction) return false
  if (QUOTE_FACTS.has(fact.type) && state?.auction) return false
  // One reveal per commit: a second would be a `duplicate` in the outcome.
  if (fact.type === 'bid-revealed' && state?.auction?.revealId) return false
  if (fact.type === 'won' && !state?.auction?.revealId) return false
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
      return { ...s, status: 'bidding', priceMsats: fact.bid.priceMsats, auction: { ...fact.bid, rejectedOutcomes: [] } }
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
