// Sealed-bid second-price (Vickrey) reverse auctions for NIP-90 jobs, as specified in nips/auction.md:
// commit (kind 7150), reveal (kind 7151) and outcome (kind 7152) events, the rules that close an
// auction, and a verifier that recomputes an outcome from the events alone.
// Pure: no I/O, no clock (deadlines come from the request, times from the events). Signature checks
// are injectable because they dominate the cost of closing and verifying a large auction.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { eventShapeError, getPublicKey, isHex64, NostrProtocolError, verifyEvent, type EventTemplate, type NostrEvent } from './01.js'
import * as nip44 from './44.js'
import { parseJobRequest } from './90.js'

export const AUCTION_COMMIT_KIND = 7150
export const AUCTION_REVEAL_KIND = 7151
export const AUCTION_OUTCOME_KIND = 7152
export const AUCTION_MECHANISM = 'sealed-vickrey'
/** Most `prev` references one commit may carry; bidders reference the frontier of what they saw. */
export const MAX_PREV_REFERENCES = 256
const COMMITMENT_DOMAIN = utf8ToBytes('sealed-vickrey/commitment/v1')
const DIGITS = /^(0|[1-9][0-9]*)$/

export type VerifyEvent = (event: NostrEvent) => boolean

function invalid(reason: string): never {
  throw new NostrProtocolError('invalid', reason)
}

function checkEvent(value: unknown, what: string, kind: number): NostrEvent {
  const shape = eventShapeError(value)
  if (shape) invalid(`${what}: ${shape}`)
  const event = value as NostrEvent
  if (event.kind !== kind) invalid(`${what} must be kind ${kind}, got ${event.kind}`)
  return event
}

function parseWholeNumber(value: string | undefined, what: string): number {
  if (value === undefined || !DIGITS.test(value)) return invalid(`${what} must be a whole number`)
  const n = Number(value)
  if (!Number.isSafeInteger(n)) return invalid(`${what} is too large`)
  return n
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Canonical order of commits and reveals: created_at, then id. */
function byTimeThenId(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): number {
  return a.createdAt - b.createdAt || compareStrings(a.id, b.id)
}

/** One tag's value, which must appear exactly once. */
function singleTag(tags: string[][], name: string, what: string): string {
  const found = tags.filter((tag) => tag[0] === name)
  if (found.length !== 1) invalid(`${what} needs exactly one ${name} tag, found ${found.length}`)
  const value = found[0][1]
  if (value === undefined) invalid(`${what}: ${name} tag needs a value`)
  return value
}

function singleHexTag(tags: string[][], name: string, what: string): string {
  const value = singleTag(tags, name, what)
  if (!isHex64(value)) invalid(`${what}: ${name} tag needs 64 lowercase hex characters`)
  return value
}

// ---------------------------------------------------------------------------------------------
// The auction: a NIP-90 job request with a reserve price and deadlines.

export interface AuctionRequest {
  /** The job id, which names the auction. */
  id: string
  kind: number
  /** The requester, who runs the auction and signs its outcome. */
  auctioneer: string
  /** The request's `bid` tag: the most the requester pays, in msats. */
  reserveMsats: number
  /** Unix seconds; commits must have created_at ≤ this. */
  bidDeadline: number
  /** Unix seconds; reveals must have bidDeadline < created_at ≤ this. */
  revealDeadline: number
  createdAt: number
  /** The request's `relays` tag, where bids should be published. */
  relays: string[]
  /** The `min_reputation` param: bidders whose score is below it are rejected. */
  minReputation?: number
  /** Whose web of trust the bidders' scores are computed in: the `reputation_root` param, or the auctioneer. */
  reputationRoot: string
  event: NostrEvent
}

/** A score from 0 to 1 written as a plain decimal: "0", "0.35", "1". */
const SCORE = /^(0|1)(\.[0-9]+)?$/

export interface AuctionTerms {
  bidDeadline: number
  revealDeadline: number
  /** Reject bidders whose reputation score (0..1) is below this. */
  minReputation?: number
  /** The trust root the scores are computed with; the auctioneer when absent. */
  reputationRoot?: string
}

/** The `param` entries that make a NIP-90 job request an auction (pass them to buildJobRequest with bidMsats = reserve). */
export function auctionRequestParams(terms: AuctionTerms): Record<string, string[]> {
  const { bidDeadline, revealDeadline, minReputation, reputationRoot } = terms
  if (!Number.isSafeInteger(bidDeadline) || bidDeadline < 0) throw new RangeError('bidDeadline must be unix seconds')
  if (!Number.isSafeInteger(revealDeadline) || revealDeadline <= bidDeadline) throw new RangeError('revealDeadline must be unix seconds after bidDeadline')
  const params: Record<string, string[]> = { auction: [AUCTION_MECHANISM], bid_deadline: [String(bidDeadline)], reveal_deadline: [String(revealDeadline)] }
  if (minReputation !== undefined) {
    // Written as JavaScript writes numbers, which for tiny ones is an exponent the param does not allow.
    if (!Number.isFinite(minReputation) || minReputation < 0 || minReputation > 1 || !SCORE.test(String(minReputation))) throw new RangeError('minReputation must be a decimal number from 0 to 1 (at least 1e-6)')
    params.min_reputation = [String(minReputation)]
  }
  if (reputationRoot !== undefined) {
    if (!isHex64(reputationRoot)) throw new TypeError('reputationRoot must be a 64-character lowercase hex pubkey')
    params.reputation_root = [reputationRoot]
  }
  return params
}

function singleParam(params: Record<string, string[]>, name: string): string {
  const values = params[name]
  if (!values || values.length !== 1) invalid(`an auction needs exactly one ${name} param`)
  return values[0]
}

function optionalParam(params: Record<string, string[]>, name: string): string | undefined {
  const values = params[name]
  if (values && values.length !== 1) invalid(`an auction takes at most one ${name} param`)
  return values?.[0]
}

function parseMinReputation(value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!SCORE.test(value) || Number(value) > 1) invalid(`min_reputation must be a decimal from 0 to 1, got ${JSON.stringify(value.slice(0, 32))}`)
  return Number(value)
}

/** Reads a job request that opens a sealed-bid auction; throws NostrProtocolError('invalid', reason). */
export function parseAuctionRequest(value: unknown): AuctionRequest {
  const job = parseJobRequest(value)
  if (job.encrypted) invalid('an auction must be a public job request: encrypted params are addressed to a single provider')
  const mechanism = singleParam(job.params, 'auction')
  if (mechanism !== AUCTION_MECHANISM) invalid(`unknown auction mechanism ${JSON.stringify(mechanism.slice(0, 32))}; expected ${AUCTION_MECHANISM}`)
  if (job.bidMsats === undefined) invalid('an auction needs a bid tag: the reserve price in msats')
  const bidDeadline = parseWholeNumber(singleParam(job.params, 'bid_deadline'), 'bid_deadline')
  const revealDeadline = parseWholeNumber(singleParam(job.params, 'reveal_deadline'), 'reveal_deadline')
  if (bidDeadline <= job.event.created_at) invalid('bid_deadline must be after the request was created')
  if (revealDeadline <= bidDeadline) invalid('reveal_deadline must be after bid_deadline')
  const minReputation = parseMinReputation(optionalParam(job.params, 'min_reputation'))
  const reputationRoot = optionalParam(job.params, 'reputation_root') ?? job.pubkey
  if (!isHex64(reputationRoot)) invalid('reputation_root must be a 64-character lowercase hex pubkey')
  return {
    id: job.id,
    kind: job.kind,
    auctioneer: job.pubkey,
    reserveMsats: job.bidMsats,
    bidDeadline,
    revealDeadline,
    createdAt: job.event.created_at,
    relays: job.relays,
    ...(minReputation !== undefined && { minReputation }),
    reputationRoot,
    event: job.event,
  }
}

// ---------------------------------------------------------------------------------------------
// Commitments.

/** What a commitment binds: the price, a secret nonce, the job and the bidder. */
export interface SealedBid {
  jobId: string
  bidder: string
  priceMsats: number
  /** 32 random bytes, hex. */
  nonce: string
}

/** What a reveal discloses. */
export interface BidOpening {
  priceMsats: number
  nonce: string
}

function checkPrice(priceMsats: number, what = 'price'): void {
  if (!Number.isSafeInteger(priceMsats) || priceMsats < 0) throw new RangeError(`${what} must be a non-negative integer number of msats`)
}

/** A fresh 32-byte nonce for a sealed bid (hex). */
export function generateBidNonce(): string {
  return bytesToHex(randomBytes(32))
}

/**
 * sha256(domain ‖ job id ‖ bidder pubkey ‖ price as u64 big-endian ‖ nonce), hex. Every field has a
 * fixed length, so the encoding is unambiguous; the job id and pubkey stop a commitment from being
 * replayed in another auction or copied by another bidder.
 */
export function computeCommitment(bid: SealedBid): string {
  if (!isHex64(bid.jobId)) throw new TypeError('jobId must be 64 lowercase hex characters')
  if (!isHex64(bid.bidder)) throw new TypeError('bidder must be a 64-character lowercase hex pubkey')
  if (!isHex64(bid.nonce)) throw new TypeError('nonce must be 64 lowercase hex characters (32 bytes)')
  checkPrice(bid.priceMsats)
  const d = COMMITMENT_DOMAIN.length
  const bytes = new Uint8Array(d + 32 + 32 + 8 + 32)
  bytes.set(COMMITMENT_DOMAIN, 0)
  bytes.set(hexToBytes(bid.jobId), d)
  bytes.set(hexToBytes(bid.bidder), d + 32)
  new DataView(bytes.buffer).setBigUint64(d + 64, BigInt(bid.priceMsats), false)
  bytes.set(hexToBytes(bid.nonce), d + 72)
  return bytesToHex(sha256(bytes))
}

export interface AuctionCommit {
  id: string
  bidder: string
  createdAt: number
  jobId: string
  auctioneer: string
  commitment: string
  /** Commit ids the bidder had seen for this job (the hash chain). */
  previous: string[]
  event: NostrEvent
}

export interface BuildCommitOptions {
  request: AuctionRequest
  bidder: string
  priceMsats: number
  nonce: string
  /** Ids of the commits this bidder has seen for the job (the frontier is enough). */
  previous?: string[]
  createdAt: number
}

export function buildCommit(options: BuildCommitOptions): EventTemplate {
  const { request, bidder, priceMsats, nonce, previous = [], createdAt } = options
  if (createdAt > request.bidDeadline) throw new RangeError(`the bid deadline (${request.bidDeadline}) has passed`)
  if (priceMsats > request.reserveMsats) throw new RangeError(`price ${priceMsats} msats is above the reserve of ${request.reserveMsats} msats`)
  if (previous.length > MAX_PREV_REFERENCES) throw new RangeError(`at most ${MAX_PREV_REFERENCES} previous commits may be referenced`)
  for (const id of previous) if (!isHex64(id)) throw new TypeError('previous commit ids must be 64 lowercase hex characters')
  const commitment = computeCommitment({ jobId: request.id, bidder, priceMsats, nonce })
  const tags = [['e', request.id], ['p', request.auctioneer], ['commitment', commitment], ...[...new Set(previous)].map((id) => ['prev', id])]
  return { kind: AUCTION_COMMIT_KIND, created_at: createdAt, tags, content: '' }
}

/** Reads a commit event; throws NostrProtocolError('invalid', reason). Does not check the signature. */
export function parseCommit(value: unknown): AuctionCommit {
  const event = checkEvent(value, 'auction commit', AUCTION_COMMIT_KIND)
  const previous: string[] = []
  for (const tag of event.tags) {
    if (tag[0] !== 'prev') continue
    if (!isHex64(tag[1])) invalid('auction commit: prev tag needs a 64-character lowercase hex event id')
    if (previous.includes(tag[1])) invalid('auction commit: the same prev id appears twice')
    previous.push(tag[1])
  }
  if (previous.length > MAX_PREV_REFERENCES) invalid(`auction commit: more than ${MAX_PREV_REFERENCES} prev tags`)
  return {
    id: event.id,
    bidder: event.pubkey,
    createdAt: event.created_at,
    jobId: singleHexTag(event.tags, 'e', 'auction commit'),
    auctioneer: singleHexTag(event.tags, 'p', 'auction commit'),
    commitment: singleHexTag(event.tags, 'commitment', 'auction commit'),
    previous,
    event,
  }
}

// ---------------------------------------------------------------------------------------------
// Reveals.

export interface AuctionReveal {
  id: string
  bidder: string
  createdAt: number
  jobId: string
  auctioneer: string
  commitId: string
  /** The opening is NIP-44 encrypted to the auctioneer. */
  encrypted: boolean
  /** The opening of a public reveal; absent when encrypted. */
  opening?: BidOpening
  event: NostrEvent
}

function serializeOpening(opening: BidOpening): string {
  return JSON.stringify({ amount: opening.priceMsats, nonce: opening.nonce })
}

function parseOpening(json: string): BidOpening {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    return invalid('reveal content is not JSON')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('reveal content must be a JSON object')
  const { amount, nonce } = value as Record<string, unknown>
  if (!Number.isSafeInteger(amount) || (amount as number) < 0) invalid('reveal amount must be a non-negative integer number of msats')
  if (!isHex64(nonce)) invalid('reveal nonce must be 64 lowercase hex characters')
  return { priceMsats: amount as number, nonce }
}

export interface BuildRevealOptions {
  commit: AuctionCommit
  opening: BidOpening
  createdAt: number
  /** When given, the opening is NIP-44 encrypted to the auctioneer with this (the bidder's) key. */
  bidderSecret?: Uint8Array
}

export function buildReveal(options: BuildRevealOptions): EventTemplate {
  const { commit, opening, createdAt, bidderSecret } = options
  const expected = computeCommitment({ jobId: commit.jobId, bidder: commit.bidder, ...opening })
  if (expected !== commit.commitment) throw new Error('this opening does not match the commitment')
  const tags = [['e', commit.jobId], ['p', commit.auctioneer], ['commit', commit.id]]
  let content = serializeOpening(opening)
  if (bidderSecret) {
    if (getPublicKey(bidderSecret) !== commit.bidder) throw new Error('bidderSecret is not the key of the commit')
    content = nip44.encrypt(content, nip44.getConversationKey(bidderSecret, commit.auctioneer))
    tags.push(['encrypted'])
  }
  return { kind: AUCTION_REVEAL_KIND, created_at: createdAt, tags, content }
}

/** Reads a reveal event; throws NostrProtocolError('invalid', reason). Does not check the signature or the commitment. */
export function parseReveal(value: unknown): AuctionReveal {
  const event = checkEvent(value, 'auction reveal', AUCTION_REVEAL_KIND)
  const encrypted = event.tags.some((tag) => tag[0] === 'encrypted')
  const reveal: AuctionReveal = {
    id: event.id,
    bidder: event.pubkey,
    createdAt: event.created_at,
    jobId: singleHexTag(event.tags, 'e', 'auction reveal'),
    auctioneer: singleHexTag(event.tags, 'p', 'auction reveal'),
    commitId: singleHexTag(event.tags, 'commit', 'auction reveal'),
    encrypted,
    event,
  }
  if (!encrypted) reveal.opening = parseOpening(event.content)
  return reveal
}

/** The opening of a reveal: as published, or decrypted with the auctioneer's key. Throws if it cannot be read. */
export function openReveal(reveal: AuctionReveal, auctioneerSecret?: Uint8Array): BidOpening {
  if (reveal.opening) return reveal.opening
  if (!auctioneerSecret) throw new Error('the reveal is encrypted to the auctioneer')
  return parseOpening(nip44.decrypt(reveal.event.content, nip44.getConversationKey(auctioneerSecret, reveal.bidder)))
}

// ---------------------------------------------------------------------------------------------
// Closing an auction.

export const COMMIT_STATUSES = ['winner', 'outbid', 'no-reveal', 'above-reserve', 'late', 'duplicate', 'auctioneer-bid', 'below-minimum-reputation'] as const
export type CommitStatus = (typeof COMMIT_STATUSES)[number]
export const REVEAL_STATUSES = ['opened', 'duplicate', 'invalid', 'early', 'late', 'unknown-commit', 'not-bidder', 'commit-not-counted'] as const
export type RevealStatus = (typeof REVEAL_STATUSES)[number]

export interface ListedCommit {
  id: string
  bidder: string
  status: CommitStatus
}

export interface ListedReveal {
  id: string
  commitId: string
  status: RevealStatus
}

export interface ListedOpening {
  commitId: string
  priceMsats: number
  nonce: string
}

/** What an outcome event states; everything in it can be recomputed from the events. */
export interface OutcomeRecord {
  jobId: string
  auctioneer: string
  winner: { bidder: string; commitId: string } | null
  /** What the winner is paid: the second-lowest valid price, or the reserve when it was the only valid bid. */
  clearingPriceMsats: number | null
  /** Every commit of this auction the auctioneer saw, in (created_at, id) order. */
  commits: ListedCommit[]
  /** Every reveal of this auction the auctioneer saw, in (created_at, id) order. */
  reveals: ListedReveal[]
  /** Every valid opening (ranked and above-reserve bids), in commit order: encrypted reveals become checkable. */
  openings: ListedOpening[]
  /** The reputation scores the rules used: of bidders rejected below the minimum, and of bidders whose prices tied. */
  reputation: Record<string, number>
  /** Ids referenced by listed commits (`prev`) that are not listed: the auctioneer says it never saw them. */
  unresolved: string[]
}

export interface RankedBid {
  commitId: string
  bidder: string
  priceMsats: number
  nonce: string
  commitment: string
  reputation: number
}

export interface Rejection {
  eventId: string
  type: 'commit' | 'reveal'
  /** A listed status, or why the event is not part of the auction: invalid-signature, malformed, not-this-auction. */
  code: string
  reason: string
}

export interface Outcome extends OutcomeRecord {
  reserveMsats: number
  winner: RankedBid | null
  /** Valid bids, best first: lowest price, then higher reputation, then lower commitment hash. */
  ranked: RankedBid[]
  /** Bidders who committed in time and did not reveal validly. */
  noReveals: { commitId: string; bidder: string }[]
  /** Every input event that did not become a ranked bid or a used opening, with why. */
  rejected: Rejection[]
}

interface CloseInput {
  request: AuctionRequest
  commits: readonly NostrEvent[]
  reveals: readonly NostrEvent[]
  reputation: ReadonlyMap<string, number>
  /**
   * How a bidder missing from `reputation` fares against the minimum: as a score of 0 (the
   * auctioneer's and a scoring verifier's view), or as meeting it (a verifier that has only the
   * scores the outcome states, which names only the bidders it rejected).
   */
  unscored: 'zero' | 'meets-minimum'

  open: (reveal: AuctionReveal) => BidOpening
  verify: VerifyEvent
}

function belongsTo(item: { jobId: string; auctioneer: string }, request: AuctionRequest): boolean {
  return item.jobId === request.id && item.auctioneer === request.auctioneer
}

/** Parses, authenticates and de-duplicates the events of one auction; the others go to `rejected`. */
function collect<T extends { id: string; createdAt: number; jobId: string; auctioneer: string }>(
  events: readonly NostrEvent[],
  type: 'commit' | 'reveal',
  parse: (event: NostrEvent) => T,
  request: AuctionRequest,
  verify: VerifyEvent,
  rejected: Rejection[],
): T[] {
  const seen = new Set<string>()
  const items: T[] = []
  for (const event of events) {
    let item: T
    try {
      item = parse(event)
    } catch (err) {
      rejected.push({ eventId: String((event as { id?: unknown }).id), type, code: 'malformed', reason: (err as Error).message })
      continue
    }
    if (seen.has(item.id)) continue
    if (!belongsTo(item, request)) {
      rejected.push({ eventId: item.id, type, code: 'not-this-auction', reason: `it names job ${item.jobId} and auctioneer ${item.auctioneer}` })
      continue
    }
    if (!verify(event)) {
      rejected.push({ eventId: item.id, type, code: 'invalid-signature', reason: 'the id or signature is invalid' })
      continue
    }
    seen.add(item.id)
    items.push(item)
  }
  return items.sort(byTimeThenId)
}

function rankBids(a: RankedBid, b: RankedBid): number {
  return a.priceMsats - b.priceMsats || b.reputation - a.reputation || compareStrings(a.commitment, b.commitment)
}

function close(input: CloseInput): Outcome {
  const { request, reputation } = input
  const rejected: Rejection[] = []
  const commits = collect(input.commits, 'commit', parseCommit, request, input.verify, rejected)
  const reveals = collect(input.reveals, 'reveal', parseReveal, request, input.verify, rejected)

  const commitStatus = new Map<string, CommitStatus>()
  const commitById = new Map<string, AuctionCommit>()
  const counted = new Map<string, AuctionCommit>() // bidder -> the commit that counts
  const belowMinimum: Record<string, number> = {} // bidder -> its score, below the minimum
  const min = request.minReputation
  const scoreBelowMinimum = (bidder: string): number | undefined => {
    if (min === undefined) return undefined
    const score = reputation.get(bidder) ?? (input.unscored === 'zero' ? 0 : undefined)
    return score !== undefined && score < min ? score : undefined
  }
  for (const commit of commits) {
    commitById.set(commit.id, commit)
    let status: CommitStatus | undefined
    let reason = ''
    let score: number | undefined
    if (commit.bidder === request.auctioneer) {
      status = 'auctioneer-bid'
      reason = 'the auctioneer may not bid in its own auction'
    } else if (commit.createdAt > request.bidDeadline) {
      status = 'late'
      reason = `created_at ${commit.createdAt} is after the bid deadline ${request.bidDeadline}`
    } else if ((score = scoreBelowMinimum(commit.bidder)) !== undefined) {
      status = 'below-minimum-reputation'
      reason = `the bidder's reputation score ${score} is below the minimum ${min}`
      belowMinimum[commit.bidder] = score
    } else if (counted.has(commit.bidder)) {
      status = 'duplicate'
      reason = `the bidder's first commit ${counted.get(commit.bidder)!.id} is the one that counts`
    } else {
      counted.set(commit.bidder, commit)
    }
    if (status) {
      commitStatus.set(commit.id, status)
      rejected.push({ eventId: commit.id, type: 'commit', code: status, reason })
    }
  }
  const unresolved = [...new Set(commits.flatMap((c) => c.previous.filter((id) => !commitById.has(id))))].sort()

  const openings = new Map<string, BidOpening>() // commit id -> opening
  const listedReveals: ListedReveal[] = []
  for (const reveal of reveals) {
    const commit = commitById.get(reveal.commitId)
    let status: RevealStatus = 'opened'
    let reason = ''
    if (!commit) {
      ;[status, reason] = ['unknown-commit', `commit ${reveal.commitId} is not a commit of this auction`]
    } else if (commit.bidder !== reveal.bidder) {
      ;[status, reason] = ['not-bidder', 'it is not signed by the bidder of the commit']
    } else if (commitStatus.has(commit.id)) {
      ;[status, reason] = ['commit-not-counted', `the commit is ${commitStatus.get(commit.id)}`]
    } else if (reveal.createdAt <= request.bidDeadline) {
      ;[status, reason] = ['early', `created_at ${reveal.createdAt} is not after the bid deadline ${request.bidDeadline}`]
    } else if (reveal.createdAt > request.revealDeadline) {
      ;[status, reason] = ['late', `created_at ${reveal.createdAt} is after the reveal deadline ${request.revealDeadline}`]
    } else {
      let opening: BidOpening | undefined
      try {
        opening = input.open(reveal)
      } catch (err) {
        ;[status, reason] = ['invalid', `cannot read the opening: ${(err as Error).message}`]
      }
      if (opening) {
        if (computeCommitment({ jobId: request.id, bidder: commit.bidder, ...opening }) !== commit.commitment) {
          ;[status, reason] = ['invalid', 'the opening does not match the commitment']
        } else if (openings.has(commit.id)) {
          ;[status, reason] = ['duplicate', 'an earlier reveal already opened this commit']
        } else {
          openings.set(commit.id, opening)
        }
      }
    }
    listedReveals.push({ id: reveal.id, commitId: reveal.commitId, status })
    if (status !== 'opened') rejected.push({ eventId: reveal.id, type: 'reveal', code: status, reason })
  }

  const ranked: RankedBid[] = []
  const noReveals: Outcome['noReveals'] = []
  for (const commit of counted.values()) {
    const opening = openings.get(commit.id)
    if (!opening) {
      commitStatus.set(commit.id, 'no-reveal')
      noReveals.push({ commitId: commit.id, bidder: commit.bidder })
      rejected.push({ eventId: commit.id, type: 'commit', code: 'no-reveal', reason: 'no valid reveal before the reveal deadline' })
    } else if (opening.priceMsats > request.reserveMsats) {
      commitStatus.set(commit.id, 'above-reserve')
      rejected.push({ eventId: commit.id, type: 'commit', code: 'above-reserve', reason: `${opening.priceMsats} msats is above the reserve of ${request.reserveMsats} msats` })
    } else {
      ranked.push({ commitId: commit.id, bidder: commit.bidder, ...opening, commitment: commit.commitment, reputation: reputation.get(commit.bidder) ?? 0 })
    }
  }
  ranked.sort(rankBids)
  ranked.forEach((bid, i) => commitStatus.set(bid.commitId, i === 0 ? 'winner' : 'outbid'))
  const winner = ranked[0] ?? null
  const clearingPriceMsats = winner ? (ranked[1]?.priceMsats ?? request.reserveMsats) : null

  const usedScores: Record<string, number> = { ...belowMinimum }
  for (const bid of ranked) {
    if (ranked.some((other) => other !== bid && other.priceMsats === bid.priceMsats)) usedScores[bid.bidder] = bid.reputation
  }

  return {
    jobId: request.id,
    auctioneer: request.auctioneer,
    reserveMsats: request.reserveMsats,
    winner,
    clearingPriceMsats,
    ranked,
    commits: commits.map((c) => ({ id: c.id, bidder: c.bidder, status: commitStatus.get(c.id)! })),
    reveals: listedReveals,
    openings: commits.filter((c) => openings.has(c.id)).map((c) => ({ commitId: c.id, ...openings.get(c.id)! })),
    reputation: usedScores,
    unresolved,
    noReveals,
    rejected,
  }
}

function reputationMap(reputation: ReadonlyMap<string, number> | undefined): ReadonlyMap<string, number> {
  for (const [pubkey, score] of reputation ?? []) if (!Number.isFinite(score)) throw new RangeError(`reputation of ${pubkey} is not a finite number`)
  return reputation ?? new Map()
}

export interface ComputeOutcomeOptions {
  /** The job request event that opened the auction. */
  request: NostrEvent
  commits: readonly NostrEvent[]
  reveals: readonly NostrEvent[]
  /**
   * pubkey → score (nips/reputation.md, computed at the bid deadline in the request's reputation
   * root): a higher score wins a price tie, and one below the request's `min_reputation` rejects
   * the bidder. Missing pubkeys score 0.
   */
  reputation?: ReadonlyMap<string, number>
  /** Needed to read reveals encrypted to the auctioneer; without it (or openEncrypted) they count as invalid. */
  auctioneerSecret?: Uint8Array
  /**
   * Reads an encrypted reveal's opening instead of decrypting it here: each decryption costs an ECDH, so a
   * runtime decrypts reveals as they arrive and hands the openings in. Throws when it has none. Every
   * opening is still checked against its commitment.
   */
  openEncrypted?: (reveal: AuctionReveal) => BidOpening
  /** Signature check for every commit and reveal (default: nips/01 verifyEvent). */
  verify?: VerifyEvent
}

/** Closes an auction: applies the rules of nips/auction.md to the events the auctioneer has. */
export function computeOutcome(options: ComputeOutcomeOptions): Outcome {
  const { auctioneerSecret, openEncrypted } = options
  return close({
    request: parseAuctionRequest(options.request),
    commits: options.commits,
    reveals: options.reveals,
    reputation: reputationMap(options.reputation),
    unscored: 'zero',
    open: (reveal) => (reveal.opening || !openEncrypted ? openReveal(reveal, auctioneerSecret) : openEncrypted(reveal)),
    verify: options.verify ?? verifyEvent,
  })
}

/** The part of an outcome that its event states. */
export function outcomeRecord(outcome: OutcomeRecord): OutcomeRecord {
  return {
    jobId: outcome.jobId,
    auctioneer: outcome.auctioneer,
    winner: outcome.winner && { bidder: outcome.winner.bidder, commitId: outcome.winner.commitId },
    clearingPriceMsats: outcome.clearingPriceMsats,
    commits: outcome.commits.map(({ id, bidder, status }) => ({ id, bidder, status })),
    reveals: outcome.reveals.map(({ id, commitId, status }) => ({ id, commitId, status })),
    openings: outcome.openings.map(({ commitId, priceMsats, nonce }) => ({ commitId, priceMsats, nonce })),
    reputation: { ...outcome.reputation },
    unresolved: [...outcome.unresolved],
  }
}

export function buildOutcome(outcome: OutcomeRecord, createdAt: number): EventTemplate {
  const tags: string[][] = [['e', outcome.jobId]]
  if (outcome.winner) {
    tags.push(['p', outcome.winner.bidder], ['winner', outcome.winner.bidder, outcome.winner.commitId], ['price', String(outcome.clearingPriceMsats)])
  }
  for (const c of outcome.commits) tags.push(['commit', c.id, c.bidder, c.status])
  for (const r of outcome.reveals) tags.push(['reveal', r.id, r.commitId, r.status])
  for (const o of outcome.openings) tags.push(['opening', o.commitId, String(o.priceMsats), o.nonce])
  for (const [pubkey, score] of Object.entries(outcome.reputation)) tags.push(['reputation', pubkey, String(score)])
  for (const id of outcome.unresolved) tags.push(['unresolved', id])
  return { kind: AUCTION_OUTCOME_KIND, created_at: createdAt, tags, content: '' }
}

export interface AuctionOutcome extends OutcomeRecord {
  id: string
  createdAt: number
  event: NostrEvent
}

function hexAt(tag: string[], index: number, what: string): string {
  if (!isHex64(tag[index])) invalid(`auction outcome: ${what} in a ${tag[0]} tag must be 64 lowercase hex characters`)
  return tag[index]
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly (string | undefined)[]).includes(value)) invalid(`auction outcome: unknown ${what} ${JSON.stringify(String(value).slice(0, 32))}`)
  return value as T
}

/** Reads an outcome event; throws NostrProtocolError('invalid', reason). Does not check the signature. */
export function parseOutcome(value: unknown): AuctionOutcome {
  const event = checkEvent(value, 'auction outcome', AUCTION_OUTCOME_KIND)
  const outcome: AuctionOutcome = {
    id: event.id,
    createdAt: event.created_at,
    jobId: singleHexTag(event.tags, 'e', 'auction outcome'),
    auctioneer: event.pubkey,
    winner: null,
    clearingPriceMsats: null,
    commits: [],
    reveals: [],
    openings: [],
    reputation: {},
    unresolved: [],
    event,
  }
  for (const tag of event.tags) {
    switch (tag[0]) {
      case 'winner':
        if (outcome.winner) invalid('auction outcome: more than one winner tag')
        outcome.winner = { bidder: hexAt(tag, 1, 'the bidder'), commitId: hexAt(tag, 2, 'the commit id') }
        break
      case 'price':
        if (outcome.clearingPriceMsats !== null) invalid('auction outcome: more than one price tag')
        outcome.clearingPriceMsats = parseWholeNumber(tag[1], 'auction outcome: price')
        break
      case 'commit':
        outcome.commits.push({ id: hexAt(tag, 1, 'the commit id'), bidder: hexAt(tag, 2, 'the bidder'), status: oneOf(tag[3], COMMIT_STATUSES, 'commit status') })
        break
      case 'reveal':
        outcome.reveals.push({ id: hexAt(tag, 1, 'the reveal id'), commitId: hexAt(tag, 2, 'the commit id'), status: oneOf(tag[3], REVEAL_STATUSES, 'reveal status') })
        break
      case 'opening':
        outcome.openings.push({ commitId: hexAt(tag, 1, 'the commit id'), priceMsats: parseWholeNumber(tag[2], 'auction outcome: opening amount'), nonce: hexAt(tag, 3, 'the nonce') })
        break
      case 'reputation': {
        const score = Number(tag[2])
        if (tag[2] === undefined || tag[2].trim() === '' || !Number.isFinite(score)) invalid('auction outcome: reputation score must be a finite number')
        outcome.reputation[hexAt(tag, 1, 'the pubkey')] = score
        break
      }
      case 'unresolved':
        outcome.unresolved.push(hexAt(tag, 1, 'the id'))
        break
    }
  }
  if ((outcome.winner === null) !== (outcome.clearingPriceMsats === null)) invalid('auction outcome: a winner tag and a price tag go together')
  const winners = outcome.commits.filter((c) => c.status === 'winner')
  if (winners.length > 1) invalid('auction outcome: more than one commit has status winner')
  if (outcome.winner && (winners.length !== 1 || winners[0].id !== outcome.winner.commitId || winners[0].bidder !== outcome.winner.bidder)) {
    invalid('auction outcome: the winner tag does not match the commit listed as winner')
  }
  if (!outcome.winner && winners.length > 0) invalid('auction outcome: a commit has status winner but there is no winner tag')
  return outcome
}

// ---------------------------------------------------------------------------------------------
// Verification by anyone.

export interface VerifyAuctionOptions {
  request: NostrEvent
  outcomeEvent: NostrEvent
  /** Every commit the verifier found for the job (e.g. `{"kinds":[7150],"#e":[job id]}` on the auction's relays). */
  commits: readonly NostrEvent[]
  /** Every reveal the verifier found for the job. */
  reveals: readonly NostrEvent[]
  /**
   * The verifier's own reputation scores (missing pubkeys score 0), to check the ones the outcome
   * used against; without them the stated scores are taken for rejections and tie-breaks, and the
   * bidders it counted are taken to meet the minimum.
   */
  reputation?: ReadonlyMap<string, number>
  /** The auctioneer's key, to check encrypted reveals the outcome calls invalid. */
  auctioneerSecret?: Uint8Array
  /** Signature check (default: nips/01 verifyEvent); each event is checked at most once. */
  verify?: VerifyEvent
}

export interface AuctionVerification {
  ok: boolean
  /** Everything wrong with the outcome; empty when ok. */
  problems: string[]
  /** What could not be checked from the events given (e.g. encrypted reveals called invalid). */
  notes: string[]
}

function short(id: string): string {
  return id.slice(0, 12)
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && new Set(a).size === new Set([...a, ...b]).size
}

function tryParse<T>(parse: (e: NostrEvent) => T, event: NostrEvent): T | undefined {
  try {
    return parse(event)
  } catch {
    return undefined
  }
}

/**
 * Recomputes an auction from its events and says whether the outcome event states the result of
 * the rules: same listed events in canonical order, same statuses, openings, winner and price, no
 * listed commit referencing a commit the outcome hides, and no valid commit or reveal left out.
 */
export function verifyAuction(options: VerifyAuctionOptions): AuctionVerification {
  const problems: string[] = []
  const notes: string[] = []
  const done = () => ({ ok: problems.length === 0, problems, notes })
  const checked = new WeakMap<NostrEvent, boolean>()
  const baseVerify = options.verify ?? verifyEvent
  const verify: VerifyEvent = (event) => {
    let ok = checked.get(event)
    if (ok === undefined) checked.set(event, (ok = baseVerify(event)))
    return ok
  }

  let request: AuctionRequest
  try {
    request = parseAuctionRequest(options.request)
  } catch (err) {
    problems.push(`request: ${(err as Error).message}`)
    return done()
  }
  if (!verify(options.request)) problems.push('request: the id or signature is invalid')
  let stated: AuctionOutcome
  try {
    stated = parseOutcome(options.outcomeEvent)
  } catch (err) {
    problems.push(`outcome: ${(err as Error).message}`)
    return done()
  }
  if (!verify(options.outcomeEvent)) problems.push('outcome: the id or signature is invalid')
  if (stated.auctioneer !== request.auctioneer) problems.push(`outcome: signed by ${short(stated.auctioneer)}, not by the auctioneer ${short(request.auctioneer)}`)
  if (stated.jobId !== request.id) problems.push(`outcome: names job ${short(stated.jobId)}, not ${short(request.id)}`)
  if (stated.createdAt < request.revealDeadline) problems.push(`outcome: created at ${stated.createdAt}, before the reveal deadline ${request.revealDeadline}`)

  // The events the outcome lists, picked by id from what the verifier has (an authentic copy first).
  const pick = (events: readonly NostrEvent[], ids: readonly string[], type: string): NostrEvent[] => {
    const byId = new Map<string, NostrEvent[]>()
    for (const e of events) byId.set(e.id, [...(byId.get(e.id) ?? []), e])
    const picked: NostrEvent[] = []
    for (const id of new Set(ids)) {
      const copies = byId.get(id)
      if (!copies) problems.push(`missing ${type} ${short(id)}: the outcome lists it but it was not given`)
      else picked.push(copies.find(verify) ?? copies[0])
    }
    return picked
  }
  const listedCommitIds = stated.commits.map((c) => c.id)
  const listedRevealIds = stated.reveals.map((r) => r.id)
  const listedCommits = pick(options.commits, listedCommitIds, 'commit')
  const listedReveals = pick(options.reveals, listedRevealIds, 'reveal')
  if (listedCommits.length !== new Set(listedCommitIds).size || listedReveals.length !== new Set(listedRevealIds).size) return done()

  const statedOpenings = new Map(stated.openings.map((o) => [o.commitId, o]))
  const statedRevealStatus = new Map(stated.reveals.map((r) => [r.id, r.status]))
  const secret = options.auctioneerSecret
  // Without the auctioneer's key an encrypted reveal can only be checked through the opening the outcome states.
  const open = (reveal: AuctionReveal): BidOpening => {
    if (reveal.opening || secret) return openReveal(reveal, secret)
    const status = statedRevealStatus.get(reveal.id)
    const opening = statedOpenings.get(reveal.commitId)
    if ((status === 'opened' || status === 'duplicate') && opening) return opening
    if (status === 'invalid') notes.push(`encrypted reveal ${short(reveal.id)} is called invalid by the outcome; only the auctioneer (or the bidder, by publishing its opening) can check that`)
    throw new Error('encrypted, and the outcome states no opening for it')
  }
  // Without scores of its own the verifier can only hold the outcome to the scores it states: it
  // names the bidders it rejected below the minimum, and the others are taken to meet it.
  const reputation = options.reputation ?? new Map(Object.entries(stated.reputation))
  if (!options.reputation) {
    const rejected = new Set(stated.commits.filter((c) => c.status === 'below-minimum-reputation').map((c) => c.bidder))
    if (rejected.size > 0) notes.push('bidders were rejected below the minimum reputation by the scores the outcome states; pass reputation to check them')
    if (request.minReputation !== undefined) notes.push(`bidders counted were taken to meet the minimum reputation ${request.minReputation}; pass reputation to check them`)
    if (Object.keys(stated.reputation).some((pubkey) => !rejected.has(pubkey))) notes.push('price ties were broken with the reputation scores the outcome states; pass reputation to check them')
  }
  const recomputed = outcomeRecord(
    close({ request, commits: listedCommits, reveals: listedReveals, reputation: reputationMap(reputation), unscored: options.reputation ? 'zero' : 'meets-minimum', open, verify }),
  )

  compareListed('commit', stated.commits, recomputed.commits, problems)
  compareListed('reveal', stated.reveals, recomputed.reveals, problems)
  compareOpenings(stated.openings, recomputed.openings, problems)
  const winner = (w: OutcomeRecord['winner']) => (w ? `${short(w.bidder)} (commit ${short(w.commitId)})` : 'none')
  if (winner(stated.winner) !== winner(recomputed.winner)) problems.push(`winner: the outcome says ${winner(stated.winner)}, the rules give ${winner(recomputed.winner)}`)
  if (stated.clearingPriceMsats !== recomputed.clearingPriceMsats) {
    problems.push(`price: the outcome says ${stated.clearingPriceMsats ?? 'none'}, the rules give ${recomputed.clearingPriceMsats ?? 'none'} msats`)
  }
  // Every score the rules used, and with the verifier's own scores every score the outcome states.
  for (const pubkey of new Set([...Object.keys(recomputed.reputation), ...Object.keys(stated.reputation)])) {
    const said = stated.reputation[pubkey] as number | undefined
    const score = pubkey in recomputed.reputation ? recomputed.reputation[pubkey] : options.reputation ? (options.reputation.get(pubkey) ?? 0) : said
    if (said !== score) problems.push(`reputation of ${short(pubkey)}: the outcome says ${said ?? 'nothing'}, the verifier's scores say ${score}`)
  }

  // Dropped bids, seen through the hash chain and through what the verifier found itself.
  const listedCommitSet = new Set(listedCommitIds)
  const statedUnresolved = new Set(stated.unresolved)
  for (const event of listedCommits) {
    const commit = tryParse(parseCommit, event)
    for (const ref of commit?.previous ?? []) {
      if (!listedCommitSet.has(ref) && !statedUnresolved.has(ref)) {
        problems.push(`dropped bid: commit ${short(event.id)} references commit ${short(ref)}, which the outcome neither lists nor declares unresolved`)
      }
    }
  }
  if (!sameSet(stated.unresolved, recomputed.unresolved)) {
    const extra = stated.unresolved.filter((id) => !recomputed.unresolved.includes(id))
    if (extra.length > 0) problems.push(`unresolved: the outcome declares ${extra.map(short).join(', ')} unresolved, but no listed commit references them or they are listed`)
  }
  if (stated.unresolved.length > 0) {
    notes.push(`the outcome declares ${stated.unresolved.length} referenced commit(s) unresolved (${stated.unresolved.map(short).join(', ')}); fetch them by id to check that no such valid commit exists`)
  }
  const timelyCommit = (event: NostrEvent): AuctionCommit | undefined => {
    const commit = tryParse(parseCommit, event)
    return commit && belongsTo(commit, request) && commit.createdAt <= request.bidDeadline && commit.bidder !== request.auctioneer && verify(event) ? commit : undefined
  }
  for (const event of options.commits) {
    if (listedCommitSet.has(event.id) || !timelyCommit(event)) continue
    problems.push(
      statedUnresolved.has(event.id)
        ? `dropped bid: the outcome declares commit ${short(event.id)} unresolved, but it is a valid commit made before the bid deadline`
        : `dropped bid: commit ${short(event.id)} by ${short(event.pubkey)} was made before the bid deadline but the outcome does not list it`,
    )
  }
  const listedRevealSet = new Set(listedRevealIds)
  for (const event of options.reveals) {
    if (listedRevealSet.has(event.id)) continue
    const reveal = tryParse(parseReveal, event)
    if (!reveal || !belongsTo(reveal, request) || !listedCommitSet.has(reveal.commitId)) continue
    if (reveal.createdAt <= request.bidDeadline || reveal.createdAt > request.revealDeadline || !verify(event)) continue
    problems.push(`ignored reveal: reveal ${short(event.id)} of commit ${short(reveal.commitId)} was made in the reveal window but the outcome does not list it`)
  }
  return done()
}

function compareListed<T extends { id: string; status: string }>(type: string, stated: readonly T[], recomputed: readonly T[], problems: string[]): void {
  const recomputedById = new Map(recomputed.map((item) => [item.id, item]))
  for (const item of stated) {
    const expected = recomputedById.get(item.id)
    if (!expected) problems.push(`${type} ${short(item.id)}: listed, but it is not a valid ${type} of this auction (wrong job, malformed or badly signed)`)
    else if (JSON.stringify(expected) !== JSON.stringify(item)) problems.push(`${type} ${short(item.id)}: the outcome says ${JSON.stringify(item)}, the rules give ${JSON.stringify(expected)}`)
  }
  const statedOrder = stated.map((item) => item.id).filter((id) => recomputedById.has(id))
  const canonical = recomputed.map((item) => item.id)
  if (statedOrder.length === canonical.length && statedOrder.some((id, i) => id !== canonical[i])) {
    problems.push(`${type}s are not listed in (created_at, id) order: reordered`)
  }
  if (new Set(stated.map((item) => item.id)).size !== stated.length) problems.push(`${type}s: the same id is listed twice`)
}

function compareOpenings(stated: readonly ListedOpening[], recomputed: readonly ListedOpening[], problems: string[]): void {
  const key = (o: ListedOpening) => `${o.commitId}:${o.priceMsats}:${o.nonce}`
  const expected = new Set(recomputed.map(key))
  const given = new Set(stated.map(key))
  for (const o of stated) if (!expected.has(key(o))) problems.push(`opening of commit ${short(o.commitId)} (${o.priceMsats} msats) is not a valid opening the rules use`)
  for (const o of recomputed) if (!given.has(key(o))) problems.push(`opening of commit ${short(o.commitId)} (${o.priceMsats} msats) is missing from the outcome`)
}
