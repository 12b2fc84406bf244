import { readFileSync } from 'node:fs'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { finalizeEvent, getPublicKey, verifyEvent, type EventTemplate, type NostrEvent } from './01.js'
import { buildJobRequest } from './90.js'
import {
  AUCTION_COMMIT_KIND,
  AUCTION_OUTCOME_KIND,
  AUCTION_REVEAL_KIND,
  auctionRequestParams,
  buildCommit,
  buildOutcome,
  buildReveal,
  computeCommitment,
  computeOutcome,
  generateBidNonce,
  MAX_PREV_REFERENCES,
  openReveal,
  outcomeRecord,
  parseAuctionRequest,
  parseCommit,
  parseOutcome,
  parseReveal,
  verifyAuction,
  type AuctionRequest,
  type Outcome,
} from './auction.js'

const T0 = 1_767_225_600
const BID_DEADLINE = T0 + 300
const REVEAL_DEADLINE = T0 + 600
const RESERVE = 50_000

interface Party {
  sk: Uint8Array
  pk: string
}
const party = (byte: number): Party => {
  const sk = new Uint8Array(32).fill(byte)
  return { sk, pk: getPublicKey(sk) }
}
const [alice, bob, carol, dave, erin, mallory] = [1, 2, 3, 4, 5, 6].map(party)

function openAuction(
  options: { reserve?: number; by?: Party; bidDeadline?: number; revealDeadline?: number; minReputation?: number; reputationRoot?: string } = {},
): { event: NostrEvent; request: AuctionRequest } {
  const { minReputation, reputationRoot } = options
  const template = buildJobRequest({
    kind: 5001,
    inputs: [{ type: 'text', value: 'Summarize this.' }],
    params: auctionRequestParams({ bidDeadline: options.bidDeadline ?? BID_DEADLINE, revealDeadline: options.revealDeadline ?? REVEAL_DEADLINE, minReputation, reputationRoot }),
    bidMsats: options.reserve ?? RESERVE,
    createdAt: T0,
  })
  const event = finalizeEvent(template, (options.by ?? alice).sk)
  return { event, request: parseAuctionRequest(event) }
}

interface Bid {
  bidder: Party
  price: number
  nonce: string
  commit: NostrEvent
}

/** A signed commit; `template` lets a test break the rules the builder enforces. */
function commit(request: AuctionRequest, bidder: Party, price: number, at: number, previous: string[] = []): Bid {
  const nonce = generateBidNonce()
  const commitment = computeCommitment({ jobId: request.id, bidder: bidder.pk, priceMsats: price, nonce })
  const template: EventTemplate = {
    kind: AUCTION_COMMIT_KIND,
    created_at: at,
    tags: [['e', request.id], ['p', request.auctioneer], ['commitment', commitment], ...previous.map((id) => ['prev', id])],
    content: '',
  }
  return { bidder, price, nonce, commit: finalizeEvent(template, bidder.sk) }
}

function reveal(bid: Bid, at: number, options: { encrypted?: boolean; price?: number; nonce?: string; signer?: Party } = {}): NostrEvent {
  const parsed = parseCommit(bid.commit)
  const opening = { priceMsats: options.price ?? bid.price, nonce: options.nonce ?? bid.nonce }
  const honest = opening.priceMsats === bid.price && opening.nonce === bid.nonce
  const template: EventTemplate = honest
    ? buildReveal({ commit: parsed, opening, createdAt: at, bidderSecret: options.encrypted ? bid.bidder.sk : undefined })
    : {
        kind: AUCTION_REVEAL_KIND,
        created_at: at,
        tags: [['e', parsed.jobId], ['p', parsed.auctioneer], ['commit', parsed.id]],
        content: JSON.stringify({ amount: opening.priceMsats, nonce: opening.nonce }),
      }
  return finalizeEvent(template, (options.signer ?? bid.bidder).sk)
}

const REVEAL_AT = BID_DEADLINE + 60

function statusOf(outcome: Outcome, event: NostrEvent): string | undefined {
  return outcome.commits.find((c) => c.id === event.id)?.status ?? outcome.reveals.find((r) => r.id === event.id)?.status
}

function publish(outcome: Outcome, createdAt = REVEAL_DEADLINE, by: Party = alice): NostrEvent {
  return finalizeEvent(buildOutcome(outcome, createdAt), by.sk)
}

/** Re-signs an outcome after editing its tags, as a dishonest auctioneer would. */
function forge(outcomeEvent: NostrEvent, edit: (tags: string[][]) => string[][], by: Party = alice): NostrEvent {
  return finalizeEvent({ kind: outcomeEvent.kind, created_at: outcomeEvent.created_at, tags: edit(outcomeEvent.tags.map((t) => [...t])), content: '' }, by.sk)
}

describe('computeCommitment', () => {
  const jobId = 'aa'.repeat(32)
  const nonce = '11'.repeat(32)

  it('hashes the fixed-length encoding domain ‖ job ‖ bidder ‖ u64 price ‖ nonce', () => {
    const price = new Uint8Array(8)
    new DataView(price.buffer).setBigUint64(0, 21_000n)
    const expected = bytesToHex(sha256(concatBytes(utf8ToBytes('sealed-vickrey/commitment/v1'), hexToBytes(jobId), hexToBytes(bob.pk), price, hexToBytes(nonce))))
    expect(computeCommitment({ jobId, bidder: bob.pk, priceMsats: 21_000, nonce })).toBe(expected)
  })

  it('changes with every field', () => {
    const base = { jobId, bidder: bob.pk, priceMsats: 21_000, nonce }
    const variants = [
      base,
      { ...base, jobId: 'ab'.repeat(32) },
      { ...base, bidder: carol.pk },
      { ...base, priceMsats: 21_001 },
      { ...base, nonce: '12'.repeat(32) },
    ]
    expect(new Set(variants.map(computeCommitment)).size).toBe(variants.length)
  })

  it('rejects malformed inputs', () => {
    expect(() => computeCommitment({ jobId, bidder: bob.pk, priceMsats: -1, nonce })).toThrow(RangeError)
    expect(() => computeCommitment({ jobId, bidder: bob.pk, priceMsats: 1.5, nonce })).toThrow(RangeError)
    expect(() => computeCommitment({ jobId, bidder: bob.pk, priceMsats: 1, nonce: 'ab' })).toThrow(/nonce/)
    expect(() => computeCommitment({ jobId: 'x', bidder: bob.pk, priceMsats: 1, nonce })).toThrow(/jobId/)
  })

  it('generates distinct 32-byte nonces', () => {
    const a = generateBidNonce()
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(generateBidNonce()).not.toBe(a)
  })
})

describe('auction request', () => {
  it('reads the reserve and deadlines from a NIP-90 job request', () => {
    const { request, event } = openAuction()
    expect(request).toMatchObject({ id: event.id, auctioneer: alice.pk, reserveMsats: RESERVE, bidDeadline: BID_DEADLINE, revealDeadline: REVEAL_DEADLINE })
  })

  it.each([
    ['no auction param', (p: Record<string, string[]>) => ({ ...p, auction: [] }), /auction param/],
    ['another mechanism', (p: Record<string, string[]>) => ({ ...p, auction: ['english'] }), /unknown auction mechanism/],
    ['reveal deadline not after bid deadline', (p: Record<string, string[]>) => ({ ...p, reveal_deadline: [String(BID_DEADLINE)] }), /reveal_deadline must be after/],
    ['bid deadline not after the request', (p: Record<string, string[]>) => ({ ...p, bid_deadline: [String(T0)] }), /bid_deadline must be after/],
    ['deadline not a number', (p: Record<string, string[]>) => ({ ...p, bid_deadline: ['soon'] }), /whole number/],
  ])('rejects a request with %s', (_name, edit, message) => {
    const params = edit(auctionRequestParams({ bidDeadline: BID_DEADLINE, revealDeadline: REVEAL_DEADLINE }))
    const event = finalizeEvent(buildJobRequest({ kind: 5001, inputs: [], params, bidMsats: RESERVE, createdAt: T0 }), alice.sk)
    expect(() => parseAuctionRequest(event)).toThrow(message)
  })

  it('needs a bid tag (the reserve)', () => {
    const params = auctionRequestParams({ bidDeadline: BID_DEADLINE, revealDeadline: REVEAL_DEADLINE })
    const event = finalizeEvent(buildJobRequest({ kind: 5001, inputs: [], params, createdAt: T0 }), alice.sk)
    expect(() => parseAuctionRequest(event)).toThrow(/^invalid: an auction needs a bid tag/)
  })
})

describe('commit and reveal events', () => {
  const { request } = openAuction()

  it('round-trip a commit', () => {
    const nonce = generateBidNonce()
    const prev = ['01'.repeat(32), '02'.repeat(32)]
    const event = finalizeEvent(buildCommit({ request, bidder: bob.pk, priceMsats: 20_000, nonce, previous: prev, createdAt: T0 + 10 }), bob.sk)
    const parsed = parseCommit(event)
    expect(parsed).toMatchObject({ id: event.id, bidder: bob.pk, jobId: request.id, auctioneer: alice.pk, previous: prev })
    expect(parsed.commitment).toBe(computeCommitment({ jobId: request.id, bidder: bob.pk, priceMsats: 20_000, nonce }))
  })

  it('will not build a commit after the deadline or above the reserve', () => {
    const nonce = generateBidNonce()
    expect(() => buildCommit({ request, bidder: bob.pk, priceMsats: 1, nonce, createdAt: BID_DEADLINE + 1 })).toThrow(/deadline/)
    expect(() => buildCommit({ request, bidder: bob.pk, priceMsats: RESERVE + 1, nonce, createdAt: T0 })).toThrow(/reserve/)
  })

  it.each([
    ['no commitment', (tags: string[][]) => tags.filter((t) => t[0] !== 'commitment'), /exactly one commitment tag/],
    ['two e tags', (tags: string[][]) => [...tags, ['e', '03'.repeat(32)]], /exactly one e tag/],
    ['a bad prev id', (tags: string[][]) => [...tags, ['prev', 'xyz']], /prev tag/],
    ['a repeated prev id', (tags: string[][]) => [...tags, ['prev', '04'.repeat(32)], ['prev', '04'.repeat(32)]], /twice/],
    ['too many prev ids', (tags: string[][]) => [...tags, ...Array.from({ length: MAX_PREV_REFERENCES + 1 }, (_, i) => ['prev', i.toString(16).padStart(64, '0')])], /more than/],
  ])('rejects a commit with %s', (_name, edit, message) => {
    const template = buildCommit({ request, bidder: bob.pk, priceMsats: 1, nonce: generateBidNonce(), createdAt: T0 })
    const event = finalizeEvent({ ...template, tags: edit(template.tags) }, bob.sk)
    expect(() => parseCommit(event)).toThrow(message)
  })

  it('rejects an event of another kind', () => {
    const event = finalizeEvent({ kind: 1, created_at: T0, tags: [], content: '' }, bob.sk)
    expect(() => parseCommit(event)).toThrow(/kind 7150/)
    expect(() => parseReveal(event)).toThrow(/kind 7151/)
    expect(() => parseOutcome(event)).toThrow(/kind 7152/)
  })

  it('round-trip public and encrypted reveals; only the auctioneer reads the encrypted one', () => {
    const bid = commit(request, bob, 21_000, T0 + 10)
    const plain = parseReveal(reveal(bid, REVEAL_AT))
    expect(plain).toMatchObject({ commitId: bid.commit.id, encrypted: false, opening: { priceMsats: 21_000, nonce: bid.nonce } })
    const sealed = parseReveal(reveal(bid, REVEAL_AT, { encrypted: true }))
    expect(sealed.encrypted).toBe(true)
    expect(sealed.opening).toBeUndefined()
    expect(sealed.event.content).not.toContain('21000')
    expect(openReveal(sealed, alice.sk)).toEqual({ priceMsats: 21_000, nonce: bid.nonce })
    expect(() => openReveal(sealed)).toThrow(/encrypted/)
    expect(() => openReveal(sealed, carol.sk)).toThrow()
  })

  it('will not build a reveal that does not open the commitment, or with another key', () => {
    const bid = commit(request, bob, 21_000, T0 + 10)
    const parsed = parseCommit(bid.commit)
    expect(() => buildReveal({ commit: parsed, opening: { priceMsats: 21_001, nonce: bid.nonce }, createdAt: REVEAL_AT })).toThrow(/does not match/)
    expect(() => buildReveal({ commit: parsed, opening: { priceMsats: 21_000, nonce: bid.nonce }, createdAt: REVEAL_AT, bidderSecret: carol.sk })).toThrow(/not the key/)
  })

  it('rejects a public reveal whose content is not an opening', () => {
    const bid = commit(request, bob, 21_000, T0 + 10)
    const template = buildReveal({ commit: parseCommit(bid.commit), opening: { priceMsats: 21_000, nonce: bid.nonce }, createdAt: REVEAL_AT })
    for (const content of ['not json', '[]', '{"amount":-1,"nonce":"' + bid.nonce + '"}', '{"amount":1,"nonce":"zz"}']) {
      expect(() => parseReveal(finalizeEvent({ ...template, content }, bob.sk))).toThrow(/^invalid: reveal/)
    }
  })
})

describe('computeOutcome: winner and price', () => {
  it('the lowest price wins and is paid the second-lowest', () => {
    const { event, request } = openAuction()
    const bids = [commit(request, bob, 30_000, T0 + 10), commit(request, carol, 21_000, T0 + 20), commit(request, dave, 25_000, T0 + 30)]
    const outcome = computeOutcome({ request: event, commits: bids.map((b) => b.commit), reveals: bids.map((b) => reveal(b, REVEAL_AT)) })
    expect(outcome.winner).toMatchObject({ bidder: carol.pk, priceMsats: 21_000 })
    expect(outcome.clearingPriceMsats).toBe(25_000)
    expect(outcome.ranked.map((b) => b.priceMsats)).toEqual([21_000, 25_000, 30_000])
    expect(outcome.commits.map((c) => c.status)).toEqual(['outbid', 'winner', 'outbid'])
    expect(outcome.rejected).toEqual([])
  })

  it('a single valid bid is paid the reserve', () => {
    const { event, request } = openAuction()
    const bid = commit(request, bob, 10_000, T0 + 10)
    const outcome = computeOutcome({ request: event, commits: [bid.commit], reveals: [reveal(bid, REVEAL_AT)] })
    expect(outcome.winner?.bidder).toBe(bob.pk)
    expect(outcome.clearingPriceMsats).toBe(RESERVE)
  })

  it('no bids: no winner and no price', () => {
    const { event } = openAuction()
    const outcome = computeOutcome({ request: event, commits: [], reveals: [] })
    expect(outcome).toMatchObject({ winner: null, clearingPriceMsats: null, ranked: [], commits: [], noReveals: [] })
    const published = parseOutcome(publish(outcome))
    expect(published.winner).toBeNull()
    expect(published.clearingPriceMsats).toBeNull()
  })

  it('a bid above the reserve is invalid and does not set the price', () => {
    const { event, request } = openAuction()
    const over = commit(request, bob, RESERVE + 1, T0 + 10)
    const under = commit(request, carol, 40_000, T0 + 20)
    const outcome = computeOutcome({ request: event, commits: [over.commit, under.commit], reveals: [reveal(over, REVEAL_AT), reveal(under, REVEAL_AT)] })
    expect(statusOf(outcome, over.commit)).toBe('above-reserve')
    expect(outcome.winner?.bidder).toBe(carol.pk)
    expect(outcome.clearingPriceMsats).toBe(RESERVE)
    expect(outcome.openings.map((o) => o.priceMsats)).toEqual([RESERVE + 1, 40_000])
    expect(outcome.rejected).toContainEqual(expect.objectContaining({ eventId: over.commit.id, code: 'above-reserve' }))
  })

  it('a bid at exactly the reserve is valid', () => {
    const { event, request } = openAuction()
    const bid = commit(request, bob, RESERVE, T0 + 10)
    expect(computeOutcome({ request: event, commits: [bid.commit], reveals: [reveal(bid, REVEAL_AT)] }).winner?.bidder).toBe(bob.pk)
  })

  it('breaks a price tie by reputation, then by the lower commitment', () => {
    const { event, request } = openAuction()
    const bids = [commit(request, bob, 20_000, T0 + 10), commit(request, carol, 20_000, T0 + 20), commit(request, dave, 20_000, T0 + 30)]
    const reveals = bids.map((b) => reveal(b, REVEAL_AT))
    const input = { request: event, commits: bids.map((b) => b.commit), reveals }
    const byReputation = computeOutcome({ ...input, reputation: new Map([[dave.pk, 5], [carol.pk, 2]]) })
    expect(byReputation.ranked.map((b) => b.bidder)).toEqual([dave.pk, carol.pk, bob.pk])
    expect(byReputation.clearingPriceMsats).toBe(20_000)
    expect(byReputation.reputation).toEqual({ [dave.pk]: 5, [carol.pk]: 2, [bob.pk]: 0 })

    const byHash = computeOutcome(input)
    const lowestCommitment = [...bids].sort((a, b) => (parseCommit(a.commit).commitment < parseCommit(b.commit).commitment ? -1 : 1))[0]
    expect(byHash.winner?.bidder).toBe(lowestCommitment.bidder.pk)
  })

  it('records reputation only for bidders who tied', () => {
    const { event, request } = openAuction()
    const bids = [commit(request, bob, 20_000, T0 + 10), commit(request, carol, 30_000, T0 + 20)]
    const outcome = computeOutcome({ request: event, commits: bids.map((b) => b.commit), reveals: bids.map((b) => reveal(b, REVEAL_AT)), reputation: new Map([[bob.pk, 3]]) })
    expect(outcome.reputation).toEqual({})
  })

  it('rejects a non-finite reputation score', () => {
    const { event } = openAuction()
    expect(() => computeOutcome({ request: event, commits: [], reveals: [], reputation: new Map([[bob.pk, NaN]]) })).toThrow(RangeError)
  })
})

describe('computeOutcome: adversarial events', () => {
  it('a reveal that does not match the commitment is invalid and the bidder is a no-reveal', () => {
    const { event, request } = openAuction()
    const liar = commit(request, bob, 30_000, T0 + 10)
    const honest = commit(request, carol, 25_000, T0 + 20)
    const lie = reveal(liar, REVEAL_AT, { price: 10_000 })
    const outcome = computeOutcome({ request: event, commits: [liar.commit, honest.commit], reveals: [lie, reveal(honest, REVEAL_AT)] })
    expect(statusOf(outcome, lie)).toBe('invalid')
    expect(statusOf(outcome, liar.commit)).toBe('no-reveal')
    expect(outcome.noReveals).toEqual([{ commitId: liar.commit.id, bidder: bob.pk }])
    expect(outcome.winner?.bidder).toBe(carol.pk)
    expect(outcome.rejected).toContainEqual(expect.objectContaining({ eventId: lie.id, code: 'invalid', reason: expect.stringMatching(/does not match/) }))
  })

  it('a wrong nonce does not open the commitment either', () => {
    const { event, request } = openAuction()
    const bid = commit(request, bob, 30_000, T0 + 10)
    const bad = reveal(bid, REVEAL_AT, { nonce: generateBidNonce() })
    expect(statusOf(computeOutcome({ request: event, commits: [bid.commit], reveals: [bad] }), bad)).toBe('invalid')
  })

  it('a late commit does not count, and neither does its reveal', () => {
    const { event, request } = openAuction()
    const late = commit(request, bob, 1_000, BID_DEADLINE + 1)
    const onTime = commit(request, carol, 30_000, BID_DEADLINE)
    const lateReveal = reveal(late, REVEAL_AT)
    const outcome = computeOutcome({ request: event, commits: [late.commit, onTime.commit], reveals: [lateReveal, reveal(onTime, REVEAL_AT)] })
    expect(statusOf(outcome, late.commit)).toBe('late')
    expect(statusOf(outcome, lateReveal)).toBe('commit-not-counted')
    expect(outcome.winner?.bidder).toBe(carol.pk)
    expect(outcome.clearingPriceMsats).toBe(RESERVE)
  })

  it('a late reveal and an early reveal do not open the commit', () => {
    const { event, request } = openAuction()
    const a = commit(request, bob, 1_000, T0 + 10)
    const b = commit(request, carol, 2_000, T0 + 20)
    const late = reveal(a, REVEAL_DEADLINE + 1)
    const early = reveal(b, BID_DEADLINE)
    const outcome = computeOutcome({ request: event, commits: [a.commit, b.commit], reveals: [late, early] })
    expect(statusOf(outcome, late)).toBe('late')
    expect(statusOf(outcome, early)).toBe('early')
    expect(outcome.noReveals.map((n) => n.bidder).sort()).toEqual([bob.pk, carol.pk].sort())
    expect(outcome.winner).toBeNull()
  })

  it('a reveal exactly at the reveal deadline counts', () => {
    const { event, request } = openAuction()
    const a = commit(request, bob, 1_000, T0 + 10)
    expect(computeOutcome({ request: event, commits: [a.commit], reveals: [reveal(a, REVEAL_DEADLINE)] }).winner?.bidder).toBe(bob.pk)
  })

  it('only the first commit of a bidder counts; later ones are reported as duplicates', () => {
    const { event, request } = openAuction()
    const first = commit(request, bob, 30_000, T0 + 10)
    const second = commit(request, bob, 5_000, T0 + 20)
    const secondReveal = reveal(second, REVEAL_AT)
    const outcome = computeOutcome({ request: event, commits: [second.commit, first.commit], reveals: [secondReveal, reveal(first, REVEAL_AT + 1)] })
    expect(statusOf(outcome, first.commit)).toBe('winner')
    expect(statusOf(outcome, second.commit)).toBe('duplicate')
    expect(statusOf(outcome, secondReveal)).toBe('commit-not-counted')
    expect(outcome.winner?.priceMsats).toBe(30_000)
    expect(outcome.rejected).toContainEqual(expect.objectContaining({ eventId: second.commit.id, code: 'duplicate' }))
  })

  it('between two commits made in the same second, the lower id counts', () => {
    const { event, request } = openAuction()
    const [x, y] = [commit(request, bob, 30_000, T0 + 10), commit(request, bob, 5_000, T0 + 10)]
    const [first, second] = x.commit.id < y.commit.id ? [x, y] : [y, x]
    const outcome = computeOutcome({ request: event, commits: [second.commit, first.commit], reveals: [] })
    expect(statusOf(outcome, first.commit)).toBe('no-reveal')
    expect(statusOf(outcome, second.commit)).toBe('duplicate')
  })

  it('a second valid reveal of the same commit is a duplicate', () => {
    const { event, request } = openAuction()
    const bid = commit(request, bob, 30_000, T0 + 10)
    const [r1, r2] = [reveal(bid, REVEAL_AT), reveal(bid, REVEAL_AT + 5, { encrypted: true })]
    const outcome = computeOutcome({ request: event, commits: [bid.commit], reveals: [r2, r1], auctioneerSecret: alice.sk })
    expect(statusOf(outcome, r1)).toBe('opened')
    expect(statusOf(outcome, r2)).toBe('duplicate')
  })

  it('someone else cannot reveal a commit, even with the right opening', () => {
    const { event, request } = openAuction()
    const bid = commit(request, bob, 30_000, T0 + 10)
    const stolen = reveal(bid, REVEAL_AT, { signer: mallory })
    const outcome = computeOutcome({ request: event, commits: [bid.commit], reveals: [stolen] })
    expect(statusOf(outcome, stolen)).toBe('not-bidder')
    expect(statusOf(outcome, bid.commit)).toBe('no-reveal')
  })

  it('encrypted reveals open only with the auctioneer key', () => {
    const { event, request } = openAuction()
    const bid = commit(request, bob, 30_000, T0 + 10)
    const sealed = reveal(bid, REVEAL_AT, { encrypted: true })
    expect(computeOutcome({ request: event, commits: [bid.commit], reveals: [sealed], auctioneerSecret: alice.sk }).winner?.bidder).toBe(bob.pk)
    const blind = computeOutcome({ request: event, commits: [bid.commit], reveals: [sealed] })
    expect(statusOf(blind, sealed)).toBe('invalid')
    expect(blind.winner).toBeNull()
  })

  it('takes encrypted openings decrypted on arrival, and still checks them against the commitment', () => {
    const { event, request } = openAuction()
    const a = commit(request, bob, 30_000, T0 + 10)
    const b = commit(request, carol, 20_000, T0 + 20)
    const [ra, rb] = [reveal(a, REVEAL_AT, { encrypted: true }), reveal(b, REVEAL_AT, { encrypted: true })]
    const decryptedOnArrival = new Map([
      [ra.id, { priceMsats: 30_000, nonce: a.nonce }],
      [rb.id, { priceMsats: 1_000, nonce: b.nonce }],
    ])
    const outcome = computeOutcome({
      request: event,
      commits: [a.commit, b.commit],
      reveals: [ra, rb],
      openEncrypted: (r) => {
        const opening = decryptedOnArrival.get(r.id)
        if (!opening) throw new Error('not decrypted')
        return opening
      },
    })
    expect(statusOf(outcome, ra)).toBe('opened')
    expect(statusOf(outcome, rb)).toBe('invalid')
    expect(outcome.winner?.bidder).toBe(bob.pk)
  })

  it('ignores forged, foreign and malformed events without listing them', () => {
    const { event, request } = openAuction()
    const other = openAuction({ reserve: RESERVE + 1 })
    const good = commit(request, bob, 30_000, T0 + 10)
    const forged = { ...commit(request, carol, 1, T0 + 20).commit, created_at: T0 + 21 }
    const foreign = commit(other.request, dave, 1, T0 + 30)
    const malformed = finalizeEvent({ kind: AUCTION_COMMIT_KIND, created_at: T0, tags: [['e', request.id]], content: '' }, erin.sk)
    const outcome = computeOutcome({ request: event, commits: [good.commit, forged, foreign.commit, malformed], reveals: [reveal(good, REVEAL_AT)] })
    expect(outcome.commits.map((c) => c.id)).toEqual([good.commit.id])
    expect(outcome.rejected.map((r) => r.code).sort()).toEqual(['invalid-signature', 'malformed', 'not-this-auction'])
  })

  it('the auctioneer may not bid in its own auction', () => {
    const { event, request } = openAuction()
    const shill = commit(request, alice, 1_000, T0 + 10)
    const outcome = computeOutcome({ request: event, commits: [shill.commit], reveals: [reveal(shill, REVEAL_AT)] })
    expect(statusOf(outcome, shill.commit)).toBe('auctioneer-bid')
    expect(outcome.winner).toBeNull()
  })

  it('a reveal of a commit it does not know is listed as unknown-commit', () => {
    const { event, request } = openAuction()
    const bid = commit(request, bob, 30_000, T0 + 10)
    const orphan = reveal(bid, REVEAL_AT)
    const outcome = computeOutcome({ request: event, commits: [], reveals: [orphan] })
    expect(statusOf(outcome, orphan)).toBe('unknown-commit')
  })

  it('lists references to commits it does not have as unresolved', () => {
    const { event, request } = openAuction()
    const a = commit(request, bob, 30_000, T0 + 10)
    const b = commit(request, carol, 20_000, T0 + 20, [a.commit.id, 'ff'.repeat(32)])
    const outcome = computeOutcome({ request: event, commits: [b.commit], reveals: [] })
    expect(outcome.unresolved).toEqual([a.commit.id, 'ff'.repeat(32)].sort())
  })

  it('the result does not depend on the order the events arrive in', () => {
    const { event, request } = openAuction()
    const bids = [commit(request, bob, 30_000, T0 + 10), commit(request, carol, 20_000, T0 + 10), commit(request, dave, 25_000, T0 + 5)]
    const reveals = bids.map((b, i) => reveal(b, REVEAL_AT + i))
    const a = computeOutcome({ request: event, commits: bids.map((b) => b.commit), reveals })
    const b = computeOutcome({ request: event, commits: bids.map((x) => x.commit).reverse(), reveals: [...reveals].reverse() })
    expect(outcomeRecord(b)).toEqual(outcomeRecord(a))
  })

  it('checks every signature with the injected verifier', () => {
    const { event, request } = openAuction()
    const bid = commit(request, bob, 30_000, T0 + 10)
    const seen: string[] = []
    const outcome = computeOutcome({ request: event, commits: [bid.commit], reveals: [reveal(bid, REVEAL_AT)], verify: (e) => (seen.push(e.id), false) })
    expect(seen).toHaveLength(2)
    expect(outcome.commits).toEqual([])
  })
})

describe('outcome event', () => {
  it('round-trips through buildOutcome and parseOutcome', () => {
    const { event, request } = openAuction()
    const bids = [commit(request, bob, 20_000, T0 + 10), commit(request, carol, 20_000, T0 + 20), commit(request, dave, 1_000, T0 + 30, ['ee'.repeat(32)])]
    const outcome = computeOutcome({
      request: event,
      commits: bids.map((b) => b.commit),
      reveals: [reveal(bids[0], REVEAL_AT), reveal(bids[1], REVEAL_AT, { encrypted: true })],
      reputation: new Map([[carol.pk, 0.25]]),
      auctioneerSecret: alice.sk,
    })
    const published = publish(outcome)
    expect(published.tags).toContainEqual(['p', carol.pk])
    const { id, createdAt, event: parsedEvent, ...record } = parseOutcome(published)
    expect(record).toEqual(outcomeRecord(outcome))
    expect([id, createdAt, parsedEvent]).toEqual([published.id, REVEAL_DEADLINE, published])
  })

  it.each([
    ['a winner without a price', (tags: string[][]) => tags.filter((t) => t[0] !== 'price'), /go together/],
    ['two winners', (tags: string[][]) => [...tags, tags.find((t) => t[0] === 'winner')!], /more than one winner/],
    ['a winner tag that names an outbid commit', (tags: string[][]) => tags.map((t) => (t[0] === 'commit' ? [...t.slice(0, 3), 'outbid'] : t)), /does not match/],
    ['an unknown status', (tags: string[][]) => tags.map((t) => (t[0] === 'reveal' ? [...t.slice(0, 3), 'maybe'] : t)), /unknown reveal status/],
    ['a bad opening amount', (tags: string[][]) => tags.map((t) => (t[0] === 'opening' ? [t[0], t[1], '-5', t[3]] : t)), /opening amount/],
  ])('rejects an outcome with %s', (_name, edit, message) => {
    const { event, request } = openAuction()
    const bid = commit(request, bob, 20_000, T0 + 10)
    const published = publish(computeOutcome({ request: event, commits: [bid.commit], reveals: [reveal(bid, REVEAL_AT)] }))
    expect(() => parseOutcome(forge(published, edit))).toThrow(message)
  })
})

describe('verifyAuction', () => {
  /** An honest three-bid auction: bob 30k (public), carol 21k (encrypted), dave 25k (commits, never reveals). */
  function honestAuction() {
    const { event, request } = openAuction()
    const b = commit(request, bob, 30_000, T0 + 10)
    const c = commit(request, carol, 21_000, T0 + 20, [b.commit.id])
    const d = commit(request, dave, 25_000, T0 + 30, [c.commit.id])
    const commits = [b.commit, c.commit, d.commit]
    const reveals = [reveal(b, REVEAL_AT), reveal(c, REVEAL_AT + 1, { encrypted: true })]
    const outcome = computeOutcome({ request: event, commits, reveals, auctioneerSecret: alice.sk })
    return { event, request, bids: { b, c, d }, commits, reveals, outcome, outcomeEvent: publish(outcome) }
  }

  it('accepts an honest auction, encrypted reveals included, without the auctioneer key', () => {
    const a = honestAuction()
    expect(a.outcome.winner?.bidder).toBe(carol.pk)
    expect(a.outcome.clearingPriceMsats).toBe(30_000)
    expect(a.outcome.noReveals.map((n) => n.bidder)).toEqual([dave.pk])
    expect(verifyAuction({ request: a.event, outcomeEvent: a.outcomeEvent, commits: a.commits, reveals: a.reveals })).toEqual({ ok: true, problems: [], notes: [] })
  })

  it('verifies each event once with the injected verifier', () => {
    const a = honestAuction()
    const counts = new Map<string, number>()
    const result = verifyAuction({
      request: a.event,
      outcomeEvent: a.outcomeEvent,
      commits: a.commits,
      reveals: a.reveals,
      verify: (e) => (counts.set(e.id, (counts.get(e.id) ?? 0) + 1), verifyEvent(e)),
    })
    expect(result.ok).toBe(true)
    expect(counts.size).toBe(2 + a.commits.length + a.reveals.length)
    expect(Math.max(...counts.values())).toBe(1)
  })

  it('detects a dropped bid through the hash chain, without having the bid', () => {
    const a = honestAuction()
    // The auctioneer drops carol's winning bid and her reveal, then hides the chain's evidence.
    const commits = [a.bids.b.commit, a.bids.d.commit]
    const reveals = [a.reveals[0]]
    const dishonest = computeOutcome({ request: a.event, commits, reveals, auctioneerSecret: alice.sk })
    expect(dishonest.unresolved).toEqual([a.bids.c.commit.id])
    const silent = forge(publish(dishonest), (tags) => tags.filter((t) => t[0] !== 'unresolved'))
    const result = verifyAuction({ request: a.event, outcomeEvent: silent, commits, reveals })
    expect(result.ok).toBe(false)
    expect(result.problems).toContainEqual(expect.stringMatching(/^dropped bid: commit .* references commit .* neither lists nor declares/))
  })

  it('a drop declared as unresolved is caught by anyone who has the bid, and flagged to those who do not', () => {
    const a = honestAuction()
    const dishonest = computeOutcome({ request: a.event, commits: [a.bids.b.commit, a.bids.d.commit], reveals: [a.reveals[0]] })
    const outcomeEvent = publish(dishonest)
    const withoutBid = verifyAuction({ request: a.event, outcomeEvent, commits: [a.bids.b.commit, a.bids.d.commit], reveals: a.reveals })
    expect(withoutBid.ok).toBe(true)
    expect(withoutBid.notes).toContainEqual(expect.stringMatching(/unresolved/))
    const withBid = verifyAuction({ request: a.event, outcomeEvent, commits: a.commits, reveals: a.reveals })
    expect(withBid.problems).toContainEqual(expect.stringMatching(/^dropped bid: the outcome declares commit .* unresolved, but it is a valid commit/))
  })

  it('detects a dropped bid that nothing references, when the verifier finds it', () => {
    const a = honestAuction()
    const late = commit(a.request, erin, 1_000, T0 + 40)
    const result = verifyAuction({ request: a.event, outcomeEvent: a.outcomeEvent, commits: [...a.commits, late.commit], reveals: [...a.reveals, reveal(late, REVEAL_AT)] })
    expect(result.problems).toContainEqual(expect.stringMatching(/^dropped bid: commit .* was made before the bid deadline but the outcome does not list it/))
  })

  it('does not count a commit made after the deadline as dropped', () => {
    const a = honestAuction()
    const late = commit(a.request, erin, 1_000, BID_DEADLINE + 1)
    expect(verifyAuction({ request: a.event, outcomeEvent: a.outcomeEvent, commits: [...a.commits, late.commit], reveals: a.reveals }).ok).toBe(true)
  })

  it('detects an ignored reveal', () => {
    const a = honestAuction()
    const outcome = computeOutcome({ request: a.event, commits: a.commits, reveals: [a.reveals[0]] })
    const result = verifyAuction({ request: a.event, outcomeEvent: publish(outcome), commits: a.commits, reveals: a.reveals })
    expect(result.problems).toContainEqual(expect.stringMatching(/^ignored reveal: reveal .* of commit .* was made in the reveal window/))
  })

  it('detects reordered commits', () => {
    const a = honestAuction()
    const reordered = forge(a.outcomeEvent, (tags) => {
      const commits = tags.filter((t) => t[0] === 'commit')
      const rest = tags.filter((t) => t[0] !== 'commit')
      return [...rest, ...[commits[1], commits[0], commits[2]]]
    })
    const result = verifyAuction({ request: a.event, outcomeEvent: reordered, commits: a.commits, reveals: a.reveals })
    expect(result.problems).toEqual(['commits are not listed in (created_at, id) order: reordered'])
  })

  it('detects a forged winner and price', () => {
    const a = honestAuction()
    const forged = forge(a.outcomeEvent, (tags) =>
      tags.map((t) => {
        if (t[0] === 'price') return ['price', '45000']
        return t
      }),
    )
    const result = verifyAuction({ request: a.event, outcomeEvent: forged, commits: a.commits, reveals: a.reveals })
    expect(result.problems).toEqual(['price: the outcome says 45000, the rules give 30000 msats'])

    const otherWinner = forge(a.outcomeEvent, (tags) =>
      tags
        .filter((t) => t[0] !== 'p')
        .map((t) => {
          if (t[0] === 'winner') return ['winner', bob.pk, a.bids.b.commit.id]
          if (t[0] === 'commit' && t[1] === a.bids.b.commit.id) return [...t.slice(0, 3), 'winner']
          if (t[0] === 'commit' && t[1] === a.bids.c.commit.id) return [...t.slice(0, 3), 'outbid']
          return t
        }),
    )
    const second = verifyAuction({ request: a.event, outcomeEvent: otherWinner, commits: a.commits, reveals: a.reveals })
    expect(second.ok).toBe(false)
    expect(second.problems).toContainEqual(expect.stringMatching(/^winner: the outcome says .*, the rules give/))
  })

  it('detects an outcome that was tampered with, or signed by someone else, or published early', () => {
    const a = honestAuction()
    const tampered = { ...a.outcomeEvent, tags: a.outcomeEvent.tags.map((t) => (t[0] === 'price' ? ['price', '1'] : t)) }
    expect(verifyAuction({ request: a.event, outcomeEvent: tampered, commits: a.commits, reveals: a.reveals }).problems).toContainEqual('outcome: the id or signature is invalid')
    const impostor = forge(a.outcomeEvent, (tags) => tags, mallory)
    expect(verifyAuction({ request: a.event, outcomeEvent: impostor, commits: a.commits, reveals: a.reveals }).problems).toContainEqual(expect.stringMatching(/^outcome: signed by .*, not by the auctioneer/))
    const early = finalizeEvent({ ...buildOutcome(a.outcome, REVEAL_DEADLINE - 1) }, alice.sk)
    expect(verifyAuction({ request: a.event, outcomeEvent: early, commits: a.commits, reveals: a.reveals }).problems).toContainEqual(expect.stringMatching(/before the reveal deadline/))
  })

  it('detects a false opening stated for an encrypted reveal', () => {
    const a = honestAuction()
    const lie = forge(a.outcomeEvent, (tags) => tags.map((t) => (t[0] === 'opening' && t[1] === a.bids.c.commit.id ? [t[0], t[1], '29000', t[3]] : t)))
    const result = verifyAuction({ request: a.event, outcomeEvent: lie, commits: a.commits, reveals: a.reveals })
    expect(result.ok).toBe(false)
    expect(result.problems).toContainEqual(expect.stringMatching(/^opening of commit .* \(29000 msats\) is not a valid opening/))
  })

  it('an encrypted reveal called invalid is a note for outsiders and a problem for the key holder', () => {
    const a = honestAuction()
    // The auctioneer "fails to decrypt" carol's winning reveal.
    const outcomeEvent = publish(computeOutcome({ request: a.event, commits: a.commits, reveals: a.reveals }))
    const outsider = verifyAuction({ request: a.event, outcomeEvent, commits: a.commits, reveals: a.reveals })
    expect(outsider.ok).toBe(true)
    expect(outsider.notes).toContainEqual(expect.stringMatching(/^encrypted reveal .* is called invalid/))
    const keyHolder = verifyAuction({ request: a.event, outcomeEvent, commits: a.commits, reveals: a.reveals, auctioneerSecret: alice.sk })
    expect(keyHolder.ok).toBe(false)
    expect(keyHolder.problems).toContainEqual(expect.stringMatching(/^winner:/))
  })

  it('checks reputation tie-breaks against the verifier’s own scores', () => {
    const { event, request } = openAuction()
    const bids = [commit(request, bob, 20_000, T0 + 10), commit(request, carol, 20_000, T0 + 20)]
    const input = { request: event, commits: bids.map((b) => b.commit), reveals: bids.map((b) => reveal(b, REVEAL_AT)) }
    const outcomeEvent = publish(computeOutcome({ ...input, reputation: new Map([[bob.pk, 9]]) }))
    const trusting = verifyAuction({ ...input, outcomeEvent })
    expect(trusting.ok).toBe(true)
    expect(trusting.notes).toContainEqual(expect.stringMatching(/reputation scores the outcome states/))
    expect(verifyAuction({ ...input, outcomeEvent, reputation: new Map([[bob.pk, 9]]) })).toMatchObject({ ok: true, notes: [] })
    const skeptical = verifyAuction({ ...input, outcomeEvent, reputation: new Map([[carol.pk, 9]]) })
    expect(skeptical.problems).toContainEqual(expect.stringMatching(/^reputation of .*: the outcome says 9, the verifier's scores say 0/))
    expect(skeptical.problems).toContainEqual(expect.stringMatching(/^winner:/))
  })

  it('reports events the outcome lists but the verifier does not have', () => {
    const a = honestAuction()
    const result = verifyAuction({ request: a.event, outcomeEvent: a.outcomeEvent, commits: a.commits.slice(1), reveals: a.reveals })
    expect(result.problems).toEqual([`missing commit ${a.bids.b.commit.id.slice(0, 12)}: the outcome lists it but it was not given`])
  })

  it('reports a listed event with a bad signature', () => {
    const a = honestAuction()
    const forgedCommit = { ...a.bids.d.commit, sig: a.bids.b.commit.sig }
    const result = verifyAuction({ request: a.event, outcomeEvent: a.outcomeEvent, commits: [a.bids.b.commit, a.bids.c.commit, forgedCommit], reveals: a.reveals })
    expect(result.problems).toContainEqual(expect.stringMatching(/^commit .*: listed, but it is not a valid commit of this auction/))
  })

  it('reports an invalid request', () => {
    const a = honestAuction()
    const result = verifyAuction({ request: { ...a.event, kind: 1 }, outcomeEvent: a.outcomeEvent, commits: a.commits, reveals: a.reveals })
    expect(result.ok).toBe(false)
    expect(result.problems[0]).toMatch(/^request: /)
  })
})

describe('minimum reputation', () => {
  it('is read from the request, with the requester as trust root unless another is named', () => {
    expect(openAuction().request).toMatchObject({ reputationRoot: alice.pk })
    expect(openAuction().request.minReputation).toBeUndefined()
    expect(openAuction({ minReputation: 0.25 }).request).toMatchObject({ minReputation: 0.25, reputationRoot: alice.pk })
    expect(openAuction({ minReputation: 1, reputationRoot: erin.pk }).request).toMatchObject({ minReputation: 1, reputationRoot: erin.pk })
  })

  it.each([
    ['a minimum above 1', { min_reputation: ['1.5'] }, /min_reputation must be a decimal from 0 to 1/],
    ['a negative minimum', { min_reputation: ['-0.1'] }, /min_reputation must be a decimal from 0 to 1/],
    ['a minimum that is not a number', { min_reputation: ['high'] }, /min_reputation must be a decimal from 0 to 1/],
    ['two minimums', { min_reputation: ['0.1', '0.2'] }, /at most one min_reputation param/],
    ['a root that is not a pubkey', { reputation_root: ['npub1xyz'] }, /reputation_root must be a 64-character/],
  ])('rejects a request with %s', (_name, extra, message) => {
    const params = { ...auctionRequestParams({ bidDeadline: BID_DEADLINE, revealDeadline: REVEAL_DEADLINE }), ...extra }
    const event = finalizeEvent(buildJobRequest({ kind: 5001, inputs: [], params, bidMsats: RESERVE, createdAt: T0 }), alice.sk)
    expect(() => parseAuctionRequest(event)).toThrow(message)
  })

  it('will not build params with a minimum outside 0..1 or a malformed root', () => {
    expect(() => auctionRequestParams({ bidDeadline: BID_DEADLINE, revealDeadline: REVEAL_DEADLINE, minReputation: 2 })).toThrow(RangeError)
    expect(() => auctionRequestParams({ bidDeadline: BID_DEADLINE, revealDeadline: REVEAL_DEADLINE, reputationRoot: 'x' })).toThrow(TypeError)
  })

  /** Bob bids lowest but scores 0.4; carol (0.8) and dave (0.6, exactly the minimum) count. */
  function gatedAuction() {
    const { event, request } = openAuction({ minReputation: 0.6 })
    const b = commit(request, bob, 10_000, T0 + 10)
    const c = commit(request, carol, 20_000, T0 + 20, [b.commit.id])
    const d = commit(request, dave, 30_000, T0 + 30, [c.commit.id])
    const bob2 = commit(request, bob, 5_000, T0 + 40, [d.commit.id])
    const commits = [b.commit, c.commit, d.commit, bob2.commit]
    const reveals = [reveal(b, REVEAL_AT), reveal(c, REVEAL_AT), reveal(d, REVEAL_AT)]
    const scores = new Map([[bob.pk, 0.4], [carol.pk, 0.8], [dave.pk, 0.6]])
    const outcome = computeOutcome({ request: event, commits, reveals, reputation: scores })
    return { event, request, bids: { b, c, d, bob2 }, commits, reveals, scores, outcome, outcomeEvent: publish(outcome) }
  }

  it('rejects every commit of a bidder below the minimum, listing each with its score', () => {
    const a = gatedAuction()
    expect(a.outcome.commits.map((c) => c.status)).toEqual(['below-minimum-reputation', 'winner', 'outbid', 'below-minimum-reputation'])
    expect(statusOf(a.outcome, a.reveals[0])).toBe('commit-not-counted')
    expect(a.outcome.reputation).toEqual({ [bob.pk]: 0.4 })
    expect(a.outcome.rejected.filter((r) => r.code === 'below-minimum-reputation').map((r) => r.reason)).toEqual([
      "the bidder's reputation score 0.4 is below the minimum 0.6",
      "the bidder's reputation score 0.4 is below the minimum 0.6",
    ])
    expect(a.outcome.winner?.bidder).toBe(carol.pk)
    expect(a.outcome.clearingPriceMsats).toBe(30_000)
    expect(a.outcome.unresolved).toEqual([])
    expect(parseOutcome(a.outcomeEvent).reputation).toEqual({ [bob.pk]: 0.4 })
  })

  it('scores a bidder missing from the scores 0, and rejects nobody without a minimum', () => {
    const a = gatedAuction()
    const unscored = computeOutcome({ request: a.event, commits: a.commits, reveals: a.reveals, reputation: new Map([[carol.pk, 0.8]]) })
    expect(unscored.commits.map((c) => c.status)).toEqual(['below-minimum-reputation', 'winner', 'below-minimum-reputation', 'below-minimum-reputation'])
    expect(unscored.reputation).toEqual({ [bob.pk]: 0, [dave.pk]: 0 })
    const { event, request } = openAuction()
    const b = commit(request, bob, 10_000, T0 + 10)
    const open = computeOutcome({ request: event, commits: [b.commit], reveals: [reveal(b, REVEAL_AT)], reputation: new Map([[bob.pk, 0]]) })
    expect(open.winner?.bidder).toBe(bob.pk)
    expect(open.reputation).toEqual({})
  })

  it('verifies with the stated scores, saying what it could not check, and with the verifier’s own', () => {
    const a = gatedAuction()
    const input = { request: a.event, outcomeEvent: a.outcomeEvent, commits: a.commits, reveals: a.reveals }
    const trusting = verifyAuction(input)
    expect(trusting.ok).toBe(true)
    expect(trusting.notes).toEqual([
      'bidders were rejected below the minimum reputation by the scores the outcome states; pass reputation to check them',
      'bidders counted were taken to meet the minimum reputation 0.6; pass reputation to check them',
    ])
    expect(verifyAuction({ ...input, reputation: a.scores })).toEqual({ ok: true, problems: [], notes: [] })
  })

  it('flags a stated score that differs from the verifier’s, and a rejection its scores do not support', () => {
    const a = gatedAuction()
    const input = { request: a.event, outcomeEvent: a.outcomeEvent, commits: a.commits, reveals: a.reveals }
    const lower = verifyAuction({ ...input, reputation: new Map([...a.scores, [bob.pk, 0.3]]) })
    expect(lower.problems).toEqual([`reputation of ${bob.pk.slice(0, 12)}: the outcome says 0.4, the verifier's scores say 0.3`])
    const above = verifyAuction({ ...input, reputation: new Map([...a.scores, [bob.pk, 0.9]]) })
    expect(above.ok).toBe(false)
    expect(above.problems).toContainEqual(expect.stringMatching(new RegExp(`^commit ${a.bids.b.commit.id.slice(0, 12)}: the outcome says .*below-minimum-reputation.*, the rules give .*winner`)))
    expect(above.problems).toContainEqual(expect.stringMatching(/^winner: the outcome says .*, the rules give /))
    expect(above.problems).toContainEqual(`reputation of ${bob.pk.slice(0, 12)}: the outcome says 0.4, the verifier's scores say 0.9`)
    const dave = verifyAuction({ ...input, reputation: new Map([...a.scores, [a.bids.d.bidder.pk, 0.59]]) })
    expect(dave.problems).toContainEqual(expect.stringMatching(/the outcome says .*outbid.*, the rules give .*below-minimum-reputation/))
  })

  it('catches a rejection whose score the outcome does not state, or states above the minimum', () => {
    const a = gatedAuction()
    const input = { request: a.event, commits: a.commits, reveals: a.reveals }
    const unstated = verifyAuction({ ...input, outcomeEvent: forge(a.outcomeEvent, (tags) => tags.filter((t) => t[0] !== 'reputation')) })
    expect(unstated.ok).toBe(false)
    expect(unstated.problems).toContainEqual(expect.stringMatching(/the outcome says .*below-minimum-reputation.*, the rules give /))
    const inconsistent = verifyAuction({ ...input, outcomeEvent: forge(a.outcomeEvent, (tags) => tags.map((t) => (t[0] === 'reputation' ? [t[0], t[1], '0.7'] : t))) })
    expect(inconsistent.ok).toBe(false)
  })

  it('catches an outcome that drops a below-minimum bid instead of listing it', () => {
    const a = gatedAuction()
    // The auctioneer leaves bob's commits (and reveal) out altogether rather than listing them as rejected.
    const kept = a.commits.filter((e) => e.pubkey !== bob.pk)
    const dropped = computeOutcome({ request: a.event, commits: kept, reveals: a.reveals.slice(1), reputation: a.scores })
    const silent = forge(publish(dropped), (tags) => tags.filter((t) => t[0] !== 'unresolved'))
    const fromChain = verifyAuction({ request: a.event, outcomeEvent: silent, commits: kept, reveals: a.reveals.slice(1), reputation: a.scores })
    expect(fromChain.problems).toContainEqual(expect.stringMatching(/^dropped bid: commit .* references commit .* neither lists nor declares/))
    const withBid = verifyAuction({ request: a.event, outcomeEvent: publish(dropped), commits: a.commits, reveals: a.reveals, reputation: a.scores })
    expect(withBid.problems).toContainEqual(expect.stringMatching(/^dropped bid: the outcome declares commit .* unresolved, but it is a valid commit/))
  })
})

describe('nips/auction.md examples', () => {
  const markdown = readFileSync(new URL('./auction.md', import.meta.url), 'utf8')
  const blocks = [...markdown.matchAll(/```json\n([\s\S]*?)\n```/g)].map((m) => JSON.parse(m[1]) as Record<string, unknown>)
  const events = blocks.filter((b) => 'kind' in b) as unknown as NostrEvent[]
  const isRequest = (e: NostrEvent) => e.kind >= 5000 && e.kind < 6000
  // Each example auction: its request and the events tagged with its id.
  const auctions = events.filter(isRequest).map((request) => {
    const of = (kind: number) => events.filter((e) => e.kind === kind && e.tags.some((t) => t[0] === 'e' && t[1] === request.id))
    return { request, commits: of(AUCTION_COMMIT_KIND), reveals: of(AUCTION_REVEAL_KIND), outcomes: of(AUCTION_OUTCOME_KIND) }
  })
  const [plain, withMinimum] = auctions

  it('has two auctions, each with a request, commits, reveals and an outcome, all validly signed', () => {
    expect(auctions).toHaveLength(2)
    for (const auction of auctions) {
      expect(auction.commits.length).toBeGreaterThan(1)
      expect(auction.reveals.length).toBeGreaterThan(1)
      expect(auction.outcomes).toHaveLength(1)
    }
    expect(auctions.reduce((n, a) => n + 1 + a.commits.length + a.reveals.length + a.outcomes.length, 0)).toBe(events.length)
    expect(events.length + 1).toBe(blocks.length)
    for (const event of events) expect(verifyEvent(event), event.id).toBe(true)
  })

  it('every example parses with the module parsers', () => {
    for (const event of events) {
      if (event.kind === AUCTION_COMMIT_KIND) parseCommit(event)
      else if (event.kind === AUCTION_REVEAL_KIND) parseReveal(event)
      else if (event.kind === AUCTION_OUTCOME_KIND) parseOutcome(event)
      else parseAuctionRequest(event)
    }
  })

  it('the commitment test vector holds, and opens the first commit', () => {
    const vector = blocks.find((b) => 'commitment' in b) as { job_id: string; bidder: string; amount: number; nonce: string; commitment: string }
    expect(computeCommitment({ jobId: vector.job_id, bidder: vector.bidder, priceMsats: vector.amount, nonce: vector.nonce })).toBe(vector.commitment)
    expect(plain.commits.map((e) => parseCommit(e).commitment)).toContain(vector.commitment)
  })

  it('the example auction verifies, and the encrypted reveal opens with the example auctioneer key (0x01…)', () => {
    const { request, commits, reveals, outcomes: [outcomeEvent] } = plain
    expect(request.pubkey).toBe(alice.pk)
    expect(verifyAuction({ request, outcomeEvent, commits, reveals, auctioneerSecret: alice.sk })).toEqual({ ok: true, problems: [], notes: [] })
    const encrypted = reveals.map(parseReveal).find((r) => r.encrypted)!
    expect(openReveal(encrypted, alice.sk).priceMsats).toBeGreaterThan(0)
    const recomputed = computeOutcome({ request, commits, reveals, auctioneerSecret: alice.sk })
    const { id: _id, createdAt: _c, event: _e, ...stated } = parseOutcome(outcomeEvent)
    expect(stated).toEqual(outcomeRecord(recomputed))
  })

  it('the example with a minimum reputation verifies with the scores it states, and with the same scores computed (0x04… 0.5, 0x02… 0.7)', () => {
    const { request, commits, reveals, outcomes: [outcomeEvent] } = withMinimum
    expect(parseAuctionRequest(request)).toMatchObject({ minReputation: 0.6, reputationRoot: alice.pk })
    const scores = new Map([[dave.pk, 0.5], [bob.pk, 0.7]])
    const stated = verifyAuction({ request, outcomeEvent, commits, reveals })
    expect(stated.ok).toBe(true)
    expect(stated.notes.join('\n')).toMatch(/minimum reputation/)
    expect(verifyAuction({ request, outcomeEvent, commits, reveals, reputation: scores })).toEqual({ ok: true, problems: [], notes: [] })
    const { id: _id, createdAt: _c, event: _e, ...record } = parseOutcome(outcomeEvent)
    expect(record).toEqual(outcomeRecord(computeOutcome({ request, commits, reveals, reputation: scores })))
    expect(record.reputation).toEqual({ [dave.pk]: 0.5 })
  })
})
