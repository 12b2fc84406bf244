// Simulations of many random auctions through the real closing rules. Signatures are not what is
// under test here, so events carry a correct id and a dummy signature, and verification is injected.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { getEventHash, type EventTemplate, type NostrEvent } from './01.js'
import { buildJobRequest } from './90.js'
import {
  AUCTION_COMMIT_KIND,
  AUCTION_REVEAL_KIND,
  auctionRequestParams,
  buildOutcome,
  computeCommitment,
  computeOutcome,
  outcomeRecord,
  verifyAuction,
} from './auction.js'

const T0 = 1_767_225_600
const BID_DEADLINE = T0 + 300
const REVEAL_DEADLINE = T0 + 600
const acceptAll = () => true

const pubkeyOf = (name: string) => bytesToHex(sha256(utf8ToBytes(name)))
const AUCTIONEER = pubkeyOf('auctioneer')
const US = pubkeyOf('bidder 0')
const OTHERS = Array.from({ length: 8 }, (_, i) => pubkeyOf(`bidder ${i + 1}`))

function unsignedEvent(template: EventTemplate, pubkey: string): NostrEvent {
  const unsigned = { ...template, pubkey }
  return { ...unsigned, id: getEventHash(unsigned), sig: '0'.repeat(128) }
}

function requestEvent(reserve: number): NostrEvent {
  const params = auctionRequestParams({ bidDeadline: BID_DEADLINE, revealDeadline: REVEAL_DEADLINE })
  return unsignedEvent(buildJobRequest({ kind: 5001, inputs: [{ type: 'text', value: 'job' }], params, bidMsats: reserve, createdAt: T0 }), AUCTIONEER)
}

interface BidPlan {
  bidder: string
  price: number
  nonce: string
  commitAt: number
  /** When the bidder reveals; undefined: never. */
  revealAt?: number
}

/** Commit and reveal events for a plan, built by hand so that prices above the reserve are possible. */
function eventsFor(request: NostrEvent, plan: BidPlan): { commit: NostrEvent; reveal?: NostrEvent } {
  const commitment = computeCommitment({ jobId: request.id, bidder: plan.bidder, priceMsats: plan.price, nonce: plan.nonce })
  const commit = unsignedEvent(
    { kind: AUCTION_COMMIT_KIND, created_at: plan.commitAt, tags: [['e', request.id], ['p', AUCTIONEER], ['commitment', commitment]], content: '' },
    plan.bidder,
  )
  if (plan.revealAt === undefined) return { commit }
  const content = JSON.stringify({ amount: plan.price, nonce: plan.nonce })
  const reveal = unsignedEvent({ kind: AUCTION_REVEAL_KIND, created_at: plan.revealAt, tags: [['e', request.id], ['p', AUCTIONEER], ['commit', commit.id]], content }, plan.bidder)
  return { commit, reveal }
}

function runAuction(reserve: number, plans: BidPlan[], reputation: Map<string, number>) {
  const request = requestEvent(reserve)
  const events = plans.map((plan) => eventsFor(request, plan))
  const commits = events.map((e) => e.commit)
  const reveals = events.flatMap((e) => (e.reveal ? [e.reveal] : []))
  return { request, commits, reveals, outcome: computeOutcome({ request, commits, reveals, reputation, verify: acceptAll }) }
}

const nonce = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex)
// Prices on a coarse grid make ties (with each other, with the reserve, with the cost) common.
const price = fc.oneof(fc.integer({ min: 0, max: 12 }).map((x) => x * 5_000), fc.integer({ min: 0, max: 60_000 }))

describe('truthful bidding is weakly dominant', () => {
  const auction = fc.record({
    reserve: fc.integer({ min: 1, max: 12 }).map((x) => x * 5_000),
    cost: price,
    misreport: price,
    ourNonce: nonce,
    ourReputation: fc.integer({ min: -2, max: 2 }),
    others: fc.array(fc.record({ price, nonce, reputation: fc.integer({ min: -2, max: 2 }), reveals: fc.boolean() }), { maxLength: 6 }),
  })

  it('no misreport ever earns a bidder more than bidding its true cost, and truth never loses money', () => {
    fc.assert(
      fc.property(auction, ({ reserve, cost, misreport, ourNonce, ourReputation, others }) => {
        const reputation = new Map(others.map((o, i) => [OTHERS[i], o.reputation]))
        reputation.set(US, ourReputation)
        const otherPlans: BidPlan[] = others.map((o, i) => ({
          bidder: OTHERS[i],
          price: o.price,
          nonce: o.nonce,
          commitAt: T0 + 10 + i,
          revealAt: o.reveals ? BID_DEADLINE + 10 + i : undefined,
        }))
        const utility = (bid: number): number => {
          const plan: BidPlan = { bidder: US, price: bid, nonce: ourNonce, commitAt: T0 + 5, revealAt: BID_DEADLINE + 5 }
          const { outcome } = runAuction(reserve, [plan, ...otherPlans], reputation)
          return outcome.winner?.bidder === US ? outcome.clearingPriceMsats! - cost : 0
        }
        const truthful = utility(cost)
        expect(truthful).toBeGreaterThanOrEqual(0)
        expect(truthful).toBeGreaterThanOrEqual(utility(misreport))
      }),
      { numRuns: 400 },
    )
  })
})

describe('closing rules on random auctions', () => {
  const plan = fc.record({
    bidder: fc.integer({ min: 0, max: OTHERS.length - 1 }).map((i) => OTHERS[i]),
    price,
    nonce,
    commitAt: fc.integer({ min: T0, max: BID_DEADLINE + 60 }),
    revealAt: fc.option(fc.integer({ min: BID_DEADLINE - 30, max: REVEAL_DEADLINE + 30 }), { nil: undefined }),
  })
  const scenario = fc.record({
    reserve: fc.integer({ min: 1, max: 12 }).map((x) => x * 5_000),
    plans: fc.array(plan, { maxLength: 10 }),
    reputation: fc.array(fc.integer({ min: -3, max: 3 }), { minLength: OTHERS.length, maxLength: OTHERS.length }),
  })

  it('pay the lowest valid bid the next price (or the reserve), list everything, and verify', () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ({ reserve, plans, reputation }, seed) => {
        const scores = new Map(OTHERS.map((pk, i) => [pk, reputation[i]]))
        const { request, commits, reveals, outcome } = runAuction(reserve, plans, scores)

        const prices = outcome.ranked.map((b) => b.priceMsats)
        expect(prices).toEqual([...prices].sort((a, b) => a - b))
        for (const p of prices) expect(p).toBeLessThanOrEqual(reserve)
        expect(new Set(outcome.ranked.map((b) => b.bidder)).size).toBe(outcome.ranked.length)
        if (outcome.winner) {
          expect(outcome.winner).toBe(outcome.ranked[0])
          expect(outcome.clearingPriceMsats).toBe(outcome.ranked[1]?.priceMsats ?? reserve)
          expect(outcome.winner.priceMsats).toBeLessThanOrEqual(outcome.clearingPriceMsats!)
        } else {
          expect(outcome.ranked).toEqual([])
          expect(outcome.clearingPriceMsats).toBeNull()
        }
        expect(outcome.commits.map((c) => c.id).sort()).toEqual([...new Set(commits.map((c) => c.id))].sort())
        expect(outcome.reveals.map((r) => r.id).sort()).toEqual([...new Set(reveals.map((r) => r.id))].sort())
        for (const c of outcome.commits.filter((c) => c.status === 'late')) expect(commits.find((e) => e.id === c.id)!.created_at).toBeGreaterThan(BID_DEADLINE)

        // Arrival order does not matter.
        const shuffle = <T>(items: T[]) => items.map((item, i) => ({ item, key: (i * 2654435761 + seed) % 4294967296 })).sort((a, b) => a.key - b.key).map((x) => x.item)
        const again = computeOutcome({ request, commits: shuffle(commits), reveals: shuffle(reveals), reputation: scores, verify: acceptAll })
        expect(outcomeRecord(again)).toEqual(outcomeRecord(outcome))

        // Anyone can check it.
        const outcomeEvent = unsignedEvent(buildOutcome(outcome, REVEAL_DEADLINE), AUCTIONEER)
        const verification = verifyAuction({ request, outcomeEvent, commits, reveals, reputation: scores, verify: acceptAll })
        expect(verification.problems).toEqual([])
      }),
      { numRuns: 200 },
    )
  })
})
