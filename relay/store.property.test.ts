// The SQL translation of filters against the reference semantics: for random events (small pools of authors,
// kinds, tags and timestamps, so filters hit) and random filters, EventStore must give exactly what a plain
// in-memory model built on matchFilter gives: same save outcomes, same events, same order, limits applied,
// with replaceable, deleted and expired events handled the same way.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { compareEventsNewestFirst, eventAddress, isEphemeralKind, isNewerVersion, matchFilter, type Filter, type NostrEvent } from '../nips/01.js'
import { deletionApplies, DELETION_KIND } from '../nips/09.js'
import { isExpired } from '../nips/40.js'
import { EventStore, type SaveResult } from './store.js'

const NOW = 1000
const PUBKEYS = ['1', '2', '3'].map((c) => c.repeat(64))
const REGULAR_KINDS = [1, 7, 1059]
const OTHER_KINDS = [0, 3, 10002, 20001, 30023, DELETION_KIND]
const KINDS = [...REGULAR_KINDS, ...OTHER_KINDS]
const TAG_NAMES = ['e', 'p', 't', 'd', 'a', 'T']
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/)

/** The store's rules, written the obvious way over an array. */
class ModelStore {
  events: NostrEvent[] = []
  deletions: NostrEvent[] = []

  save(event: NostrEvent, now: number): SaveResult {
    if (isEphemeralKind(event.kind)) return { ok: true, message: '', stored: false }
    if (isExpired(event, now)) return { ok: false, message: 'invalid: event has expired' }
    if (this.events.some((e) => e.id === event.id)) return { ok: true, message: 'duplicate: already have this event', stored: false }
    if (this.deletions.some((d) => deletionApplies(d, event))) return { ok: false, message: 'blocked: event was deleted' }
    const address = eventAddress(event)
    const current = address === undefined ? undefined : this.events.find((e) => eventAddress(e) === address)
    if (current) {
      if (!isNewerVersion(event, current)) return { ok: true, message: 'duplicate: have a newer version of this event', stored: false }
      this.events = this.events.filter((e) => e !== current)
    }
    this.events.push(event)
    if (event.kind === DELETION_KIND) {
      this.deletions.push(event)
      this.events = this.events.filter((e) => !deletionApplies(event, e))
    }
    return { ok: true, message: '', stored: true }
  }

  matching(filter: Filter, now: number): NostrEvent[] {
    return this.events.filter((e) => !isExpired(e, now) && matchFilter(filter, e)).sort(compareEventsNewestFirst)
  }

  query(filters: Filter[], now: number): NostrEvent[] {
    const found = new Map<string, NostrEvent>()
    for (const filter of filters) {
      for (const e of this.matching(filter, now).slice(0, filter.limit ?? Infinity)) found.set(e.id, e)
    }
    return [...found.values()].sort(compareEventsNewestFirst)
  }

  count(filters: Filter[], now: number): number {
    return new Set(filters.flatMap((f) => this.matching(f, now).map((e) => e.id))).size
  }
}

// Tag values are drawn from a pool shared with the filters; some are ids and addresses of the pool's events
// so that deletions and #e / #a filters find something.
const eventsArbitrary = fc
  .uniqueArray(hex64, { minLength: 15, maxLength: 40 })
  .chain((ids) => {
    const addresses = PUBKEYS.flatMap((p) => [`30023:${p}:x`, `30023:${p}:`, `0:${p}:`])
    const tagValue = fc.oneof(
      { weight: 2, arbitrary: fc.constantFrom('x', 'y', '', 'z') },
      { weight: 3, arbitrary: fc.constantFrom(...ids) },
      { weight: 2, arbitrary: fc.constantFrom(...addresses) },
      { weight: 1, arbitrary: fc.constantFrom(...PUBKEYS) },
    )
    const tag = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...TAG_NAMES), tagValue).map(([n, v]) => [n, v]) },
      // Hashtags from a tiny set: many events share them, often at the same created_at.
      { weight: 3, arbitrary: fc.constantFrom<string[]>(['t', 'x'], ['t', 'y']) },
      { weight: 1, arbitrary: fc.constantFrom<string[]>(['k', '1'], ['k', '1059'], ['e'], ['client', 'x'], ['p', 'x', 'wss://relay']) },
      { weight: 1, arbitrary: fc.integer({ min: NOW - 3, max: NOW + 3 }).map((t) => ['expiration', String(t)]) },
    )
    // Deletion requests name events of the pool, so that some of them take effect.
    const deletionTag = fc.oneof(
      fc.constantFrom(...ids).map((id) => ['e', id]),
      fc.constantFrom(...addresses).map((a) => ['a', a]),
      fc.constantFrom<string[]>(['k', '1059'], ['e', 'nothing']),
    )
    const event = (id: string) =>
      fc
        .oneof({ weight: 3, arbitrary: fc.constantFrom(...REGULAR_KINDS) }, { weight: 2, arbitrary: fc.constantFrom(...OTHER_KINDS) })
        .chain((kind) =>
          fc.record({
            id: fc.constant(id),
            pubkey: fc.constantFrom(...PUBKEYS),
            created_at: fc.integer({ min: 990, max: 992 }),
            kind: fc.constant(kind),
            tags: fc.array(kind === DELETION_KIND ? deletionTag : tag, { maxLength: 5, size: 'max' }),
            content: fc.constant(''),
            sig: fc.constant('0'.repeat(128)),
          }),
        )
    // Some events are sent again later: as duplicates, or after they were replaced, deleted or expired.
    const resent = fc.array(fc.nat(ids.length - 1), { maxLength: 8 })
    return fc.tuple(fc.tuple(...ids.map(event)), resent).map(([events, again]) => ({ events: [...events, ...again.map((i) => events[i])], ids, addresses }))
  })
  .chain(({ events, ids, addresses }) => {
    const values = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('x', 'y') },
      { weight: 3, arbitrary: fc.constantFrom('', 'z', ...ids.slice(0, 5), ...addresses.slice(0, 3), ...PUBKEYS) },
    )
    // Empty lists must match nothing; they are rare in practice, so rarer here too.
    const list = <T>(arb: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 12, arbitrary: fc.array(arb, { minLength: 1, maxLength: 3 }) }, { weight: 1, arbitrary: fc.constant<T[]>([]) })
    const fields: Record<string, fc.Arbitrary<unknown>> = {
      ids: list(fc.constantFrom(...ids, 'f'.repeat(64))),
      authors: list(fc.constantFrom(...PUBKEYS)),
      kinds: list(fc.constantFrom(...KINDS)),
      since: fc.integer({ min: 989, max: 993 }),
      until: fc.integer({ min: 989, max: 993 }),
      ...Object.fromEntries(TAG_NAMES.map((name) => [`#${name}`, list(values)])),
    }
    // One or two fields (and maybe a limit) per filter, as clients send them; more would AND down to nothing.
    const filter = fc
      .uniqueArray(fc.constantFrom(...Object.keys(fields)), { maxLength: 2 })
      .chain((keys) => fc.record(Object.fromEntries(keys.map((k) => [k, fields[k]]))) as fc.Arbitrary<Filter>)
      .chain((f) => fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }).map((limit) => (limit === undefined ? f : { ...f, limit })))
    return fc.record({
      events: fc.constant(events),
      batches: fc.integer({ min: 1, max: 4 }),
      saveNow: fc.integer({ min: NOW - 2, max: NOW }),
      queryNow: fc.integer({ min: NOW, max: NOW + 3 }),
      filters: fc.array(fc.array(filter, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 5 }),
    })
  })

describe('EventStore against the in-memory model', () => {
  it('saves, queries and counts like matchFilter over the model', () => {
    fc.assert(
      fc.property(eventsArbitrary, ({ events, batches, saveNow, queryNow, filters }) => {
        const store = EventStore.open(':memory:')
        try {
          const model = new ModelStore()
          const size = Math.ceil(events.length / batches)
          for (let i = 0; i < events.length; i += size) {
            const batch = events.slice(i, i + size)
            expect(store.saveMany(batch, saveNow)).toEqual(batch.map((e) => model.save(e, saveNow)))
          }
          for (const filterSet of filters) {
            expect(store.query(filterSet, queryNow)).toEqual(model.query(filterSet, queryNow))
            expect(store.count(filterSet, queryNow)).toBe(model.count(filterSet, queryNow))
          }
          const expired = model.events.filter((e) => isExpired(e, queryNow)).length
          expect(store.deleteExpired(queryNow)).toBe(expired)
          expect(store.query([{}], NOW - 10)).toEqual(model.query([{}], NOW - 10).filter((e) => !isExpired(e, queryNow)))
        } finally {
          store.close()
        }
      }),
      { numRuns: 150 },
    )
  })
})
