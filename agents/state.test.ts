import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { NostrEvent } from '../nips/01.js'
import { amountDueMsats, applyFact, canApply, foldJob, IllegalTransitionError, isFinal, replayJob, type AuctionBid, type JobFact, type JobState } from './state.js'

const request: NostrEvent = { id: 'a'.repeat(64), pubkey: 'b'.repeat(64), created_at: 1, kind: 5001, tags: [['i', 'hi', 'text']], content: '', sig: 'c'.repeat(128) }
const spec = { kind: 5001, requester: request.pubkey, inputs: [{ type: 'text' as const, value: 'hi' }], params: {}, relays: [], targets: [] }
const posted: JobFact = { type: 'posted', at: 1000, request, spec, agent: 'd'.repeat(64) }
const commitEvent: NostrEvent = { ...request, id: 'f'.repeat(64), kind: 7150 }
const bid: Omit<AuctionBid, 'revealId' | 'rejectedOutcomes' | 'result'> = {
  auctioneer: request.pubkey,
  reserveMsats: 50_000,
  bidDeadline: 10,
  revealDeadline: 20,
  relays: [],
  sealedOpening: 'sealed',
  commit: commitEvent,
}
const committed: JobFact = { type: 'bid-committed', at: 1001, bid }

describe('job state fold', () => {
  it('walks the happy path posted → bidding → assigned → executing → completed', () => {
    const facts: JobFact[] = [
      posted,
      { type: 'quoted', at: 1001, priceMsats: 5000 },
      { type: 'assigned', at: 1002 },
      { type: 'started', at: 1003, attempt: 1 },
      { type: 'partial', at: 1004, content: 'half' },
      { type: 'completed', at: 1005, resultEventId: 'e'.repeat(64), content: 'done' },
    ]
    expect(replayJob(request.id, facts).map((s) => s.status)).toEqual(['posted', 'bidding', 'assigned', 'executing', 'executing', 'completed'])
    const final = foldJob(request.id, facts)!
    expect(final).toMatchObject({ status: 'completed', priceMsats: 5000, attempts: 1, partials: ['half'], result: { content: 'done' }, postedAt: 1000, updatedAt: 1005 })
    expect(isFinal(final)).toBe(true)
  })

  it('goes through the approval queue', () => {
    const waiting = foldJob(request.id, [posted, { type: 'quoted', at: 2, priceMsats: 9 }, { type: 'approval-required', at: 3, reason: 'expensive' }])!
    expect(waiting.status).toBe('awaiting-approval')
    expect(applyFact(waiting, { type: 'approved', at: 4, by: 'op' }, request.id)).toMatchObject({ status: 'assigned', approval: { decision: 'approved', by: 'op' } })
    expect(applyFact(waiting, { type: 'rejected', at: 4, by: 'op', reason: 'no' }, request.id)).toMatchObject({ status: 'failed', error: 'rejected by the operator: no' })
  })

  it('counts attempts when a job is started again after a restart', () => {
    const state = foldJob(request.id, [posted, { type: 'quoted', at: 2, priceMsats: 0 }, { type: 'assigned', at: 3 }, { type: 'started', at: 4, attempt: 1 }, { type: 'started', at: 5, attempt: 2 }])!
    expect(state).toMatchObject({ status: 'executing', attempts: 2 })
  })

  it('refuses facts that cannot follow, naming the job and the states', () => {
    expect(() => foldJob(request.id, [posted, { type: 'completed', at: 2, resultEventId: 'x', content: '' }])).toThrow(IllegalTransitionError)
    expect(() => foldJob(request.id, [{ type: 'assigned', at: 1 }])).toThrow(/'assigned' cannot follow state 'none'/)
    const cancelled = foldJob(request.id, [posted, { type: 'cancelled', at: 2, reason: 'deleted' }])!
    expect(canApply(cancelled, { type: 'completed', at: 3, resultEventId: 'x', content: '' })).toBe(false)
    expect(canApply(cancelled, { type: 'posted', at: 3, request, agent: 'x' })).toBe(false)
  })

  it('walks an auction bid: committed → revealed → won at the clearing price → completed', () => {
    const facts: JobFact[] = [
      posted,
      committed,
      { type: 'bid-revealed', at: 1002, revealId: '2'.repeat(64) },
      { type: 'outcome-rejected', at: 1003, outcomeId: '3'.repeat(64), problems: ['price: wrong'] },
      { type: 'won', at: 1004, outcomeId: '4'.repeat(64), clearingPriceMsats: 30_000 },
      { type: 'started', at: 1005, attempt: 1 },
      { type: 'completed', at: 1006, resultEventId: 'e'.repeat(64), content: 'done' },
    ]
    const states = replayJob(request.id, facts)
    expect(states.map((s) => s.status)).toEqual(['posted', 'bidding', 'bidding', 'bidding', 'assigned', 'executing', 'completed'])
    expect(states[1]).toMatchObject({ auction: { sealedOpening: 'sealed', commit: commitEvent } })
    expect(states[1].priceMsats).toBeUndefined()
    expect(amountDueMsats(states[1])).toBe(0)
    const final = states.at(-1)!
    expect(final.auction).toMatchObject({ revealId: '2'.repeat(64), rejectedOutcomes: [{ outcomeId: '3'.repeat(64) }], result: { outcome: 'won', clearingPriceMsats: 30_000 } })
    expect(final.priceMsats).toBe(30_000)
    expect(amountDueMsats(final)).toBe(30_000)
  })

  it('stops a losing bid, and keeps auction and quote facts apart', () => {
    const lost = foldJob(request.id, [posted, committed, { type: 'bid-revealed', at: 2, revealId: '2'.repeat(64) }, { type: 'lost', at: 3, outcomeId: '4'.repeat(64), reason: 'outbid' }])!
    expect(lost).toMatchObject({ status: 'cancelled', cancelReason: 'outbid', auction: { result: { outcome: 'lost', outcomeId: '4'.repeat(64) } } })
    expect(isFinal(lost)).toBe(true)
    const bidding = foldJob(request.id, [posted, committed])!
    expect(canApply(bidding, { type: 'assigned', at: 2 })).toBe(false)
    expect(canApply(bidding, { type: 'approval-required', at: 2, reason: 'r' })).toBe(false)
    expect(canApply(bidding, { type: 'won', at: 2, outcomeId: 'x', clearingPriceMsats: 1 })).toBe(false)
    const revealed = applyFact(bidding, { type: 'bid-revealed', at: 2, revealId: 'r' }, request.id)
    expect(canApply(revealed, { type: 'bid-revealed', at: 3, revealId: 'r2' })).toBe(false)
    const quoted = foldJob(request.id, [posted, { type: 'quoted', at: 2, priceMsats: 5 }])!
    expect(canApply(quoted, { type: 'bid-revealed', at: 3, revealId: 'r' })).toBe(false)
    expect(canApply(quoted, { type: 'lost', at: 3, reason: 'r' })).toBe(false)
    expect(amountDueMsats(quoted)).toBe(5)
  })

  const factArb: fc.Arbitrary<JobFact> = fc.oneof(
    fc.constant(committed),
    fc.constant<JobFact>({ type: 'bid-revealed', at: 0, revealId: 'r' }),
    fc.constant<JobFact>({ type: 'outcome-rejected', at: 0, outcomeId: 'o', problems: ['p'] }),
    fc.nat(100).map((p): JobFact => ({ type: 'won', at: 0, outcomeId: 'o', clearingPriceMsats: p })),
    fc.constant<JobFact>({ type: 'lost', at: 0, reason: 'outbid' }),
    fc.constant(posted),
    fc.nat(100).map((p): JobFact => ({ type: 'quoted', at: 0, priceMsats: p })),
    fc.constant<JobFact>({ type: 'approval-required', at: 0, reason: 'r' }),
    fc.constant<JobFact>({ type: 'approved', at: 0, by: 'op' }),
    fc.constant<JobFact>({ type: 'rejected', at: 0, by: 'op', reason: 'r' }),
    fc.constant<JobFact>({ type: 'assigned', at: 0 }),
    fc.nat(5).map((a): JobFact => ({ type: 'started', at: 0, attempt: a })),
    fc.constant<JobFact>({ type: 'partial', at: 0, content: 'p' }),
    fc.constant<JobFact>({ type: 'completed', at: 0, resultEventId: 'r', content: 'c' }),
    fc.constant<JobFact>({ type: 'failed', at: 0, reason: 'f' }),
    fc.constant<JobFact>({ type: 'cancelled', at: 0, reason: 'c' }),
  )

  it('replays deterministically and never leaves a final state (property)', () => {
    fc.assert(
      fc.property(fc.array(factArb, { maxLength: 12 }), (candidates) => {
        // Keep the facts a writer would have accepted, as the job log does.
        const accepted: JobFact[] = []
        let state: JobState | undefined
        for (const fact of candidates) {
          if (!canApply(state, fact)) continue
          state = applyFact(state, fact, request.id)
          accepted.push(fact)
        }
        const replayed = replayJob(request.id, accepted)
        expect(replayed.at(-1)).toEqual(foldJob(request.id, accepted))
        expect(replayJob(request.id, accepted)).toEqual(replayed)
        const firstFinal = replayed.findIndex(isFinal)
        if (firstFinal >= 0) expect(replayed.length).toBe(firstFinal + 1)
      }),
    )
  })
})
