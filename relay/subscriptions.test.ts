import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { matchFilter, type Filter, type NostrEvent } from '../nips/01.js'
import { SubscriptionIndex, type IndexedFilter } from './subscriptions.js'

const hex = (n: number) => n.toString(16).padStart(64, '0')

function event(over: Partial<NostrEvent>): NostrEvent {
  return { id: hex(1), pubkey: hex(2), created_at: 100, kind: 1, tags: [], content: '', sig: '0'.repeat(128), ...over }
}

describe('SubscriptionIndex', () => {
  it('finds subscriptions through ids, authors, tags, kinds and unindexed filters, once each', () => {
    const index = new SubscriptionIndex<string>()
    const subs: Record<string, Filter[]> = {
      byId: [{ ids: [hex(1)] }],
      byAuthor: [{ authors: [hex(2)], kinds: [1] }],
      byTag: [{ '#p': [hex(9)] }],
      byKind: [{ kinds: [1], since: 50 }],
      open: [{ since: 10 }],
      twoFilters: [{ kinds: [1] }, { authors: [hex(2)] }],
      otherKind: [{ kinds: [7] }],
      tooOld: [{ kinds: [1], until: 50 }],
    }
    for (const [name, filters] of Object.entries(subs)) index.add(filters.map((filter) => ({ sub: name, filter })))
    const found = index.matching(event({ tags: [['p', hex(9)], ['p', hex(9)]] }))
    expect([...found].sort()).toEqual(['byAuthor', 'byId', 'byKind', 'byTag', 'open', 'twoFilters'])
  })

  it('forgets removed subscriptions', () => {
    const index = new SubscriptionIndex<string>()
    const entries = [{ sub: 'a', filter: { '#e': [hex(5)] } }, { sub: 'a', filter: {} }]
    index.add(entries)
    expect(index.matching(event({ tags: [['e', hex(5)]] })).size).toBe(1)
    index.remove(entries)
    expect(index.matching(event({ tags: [['e', hex(5)]] })).size).toBe(0)
  })

  it('agrees with checking every filter of every subscription', () => {
    const small = fc.integer({ min: 1, max: 4 })
    const filterArb: fc.Arbitrary<Filter> = fc.record(
      {
        ids: fc.array(small.map(hex), { maxLength: 2 }),
        authors: fc.array(small.map(hex), { maxLength: 2 }),
        kinds: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
        '#p': fc.array(small.map(hex), { maxLength: 2 }),
        '#t': fc.array(fc.constantFrom('a', 'b'), { maxLength: 2 }),
        since: fc.integer({ min: 90, max: 110 }),
      },
      { requiredKeys: [] },
    )
    const eventArb = fc.record({
      id: small.map(hex),
      pubkey: small.map(hex),
      kind: fc.integer({ min: 0, max: 3 }),
      created_at: fc.integer({ min: 90, max: 110 }),
      tags: fc.array(fc.oneof(small.map((n) => ['p', hex(n)]), fc.constantFrom<string[]>(['t', 'a'], ['t', 'b'], ['x'])), { maxLength: 4 }),
    })
    fc.assert(
      fc.property(fc.array(fc.array(filterArb, { minLength: 1, maxLength: 3 }), { maxLength: 8 }), fc.array(eventArb, { maxLength: 5 }), fc.nat(), (subs, events, removeAt) => {
        const index = new SubscriptionIndex<number>()
        const entries: IndexedFilter<number>[][] = subs.map((filters, sub) => filters.map((filter) => ({ sub, filter })))
        entries.forEach((e) => index.add(e))
        const removed = subs.length > 0 ? removeAt % subs.length : -1
        if (removed >= 0) index.remove(entries[removed])
        for (const partial of events) {
          const e = event(partial)
          const expected = subs.flatMap((filters, sub) => (sub !== removed && filters.some((f) => matchFilter(f, e)) ? [sub] : []))
          expect([...index.matching(e)].sort((a, b) => a - b)).toEqual(expected)
        }
      }),
    )
  })
})
