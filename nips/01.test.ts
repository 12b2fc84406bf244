import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { getEventHash as toolsHash, verifyEvent as toolsVerify } from 'nostr-tools/pure'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import {
  compareEventsNewestFirst, eventAddress, eventShapeError, finalizeEvent, generateSecretKey, getEventHash, getPublicKey, isNewerVersion,
  kindClass, matchFilter, matchFilters, parseFilter, serializeEvent, verifyEvent, type Filter, type NostrEvent,
} from './01.js'

describe('NIP-01 events', () => {
  const sk = generateSecretKey()
  it('signs events that an independent implementation verifies', () => {
    const ev = finalizeEvent({ kind: 1, created_at: 1700000000, tags: [['t', 'nostr']], content: 'hello\n"world"' }, sk)
    expect(ev.pubkey).toBe(getPublicKey(sk))
    expect(verifyEvent(ev)).toBe(true)
    expect(toolsVerify(ev)).toBe(true)
    expect(eventShapeError(ev)).toBeNull()
  })
  it('serializes exactly as the spec array with JSON escaping', () => {
    const e = { pubkey: 'a'.repeat(64), created_at: 1, kind: 1, tags: [['p', 'x']], content: 'line\nbreak\t"q"\\' }
    expect(serializeEvent(e)).toBe(`[0,"${'a'.repeat(64)}",1,1,[["p","x"]],"line\\nbreak\\t\\"q\\"\\\\"]`)
    expect(getEventHash(e)).toMatch(/^[0-9a-f]{64}$/)
  })
  it('rejects tampered events', () => {
    const ev = finalizeEvent({ kind: 1, created_at: 1, tags: [], content: 'a' }, sk)
    expect(verifyEvent({ ...ev, content: 'b' })).toBe(false)
    expect(verifyEvent({ ...ev, sig: ev.sig.replace(/^./, ev.sig[0] === '0' ? '1' : '0') })).toBe(false)
    expect(verifyEvent({ ...ev, sig: 'zz' })).toBe(false)
    expect(verifyEvent({ ...ev, sig: ev.sig.slice(1) })).toBe(false)
  })
  it('explains malformed events', () => {
    expect(eventShapeError(null)).toMatch(/object/)
    expect(eventShapeError({ id: 'XYZ' })).toMatch(/id/)
    const ev = finalizeEvent({ kind: 1, created_at: 1, tags: [], content: '' }, sk)
    expect(eventShapeError({ ...ev, kind: 70000 })).toMatch(/kind/)
    expect(eventShapeError({ ...ev, tags: [[1]] })).toMatch(/strings/)
    expect(eventShapeError({ ...ev, created_at: 1.5 })).toMatch(/created_at/)
  })
  it('classifies kinds', () => {
    expect([0, 1, 3, 5, 10002, 20001, 30023, 40000].map(kindClass)).toEqual([
      'replaceable', 'regular', 'replaceable', 'regular', 'replaceable', 'ephemeral', 'addressable', 'regular',
    ])
    expect(eventAddress({ kind: 30023, pubkey: 'p', tags: [['d', 'x']] })).toBe('30023:p:x')
    expect(eventAddress({ kind: 1, pubkey: 'p', tags: [] })).toBeUndefined()
    expect(isNewerVersion({ created_at: 2, id: 'b' }, { created_at: 1, id: 'a' })).toBe(true)
    expect(isNewerVersion({ created_at: 1, id: 'a' }, { created_at: 1, id: 'b' })).toBe(true)
    expect(isNewerVersion({ created_at: 1, id: 'b' }, { created_at: 1, id: 'a' })).toBe(false)
  })
})

describe('NIP-01 filters', () => {
  const sk = generateSecretKey()
  const ev = finalizeEvent({ kind: 1, created_at: 100, tags: [['e', 'x'.repeat(64)], ['t', 'nostr']], content: '' }, sk)
  it('matches each field', () => {
    expect(matchFilter({}, ev)).toBe(true)
    expect(matchFilter({ ids: [ev.id] }, ev)).toBe(true)
    expect(matchFilter({ authors: [ev.pubkey], kinds: [1] }, ev)).toBe(true)
    expect(matchFilter({ kinds: [2] }, ev)).toBe(false)
    expect(matchFilter({ since: 100, until: 100 }, ev)).toBe(true)
    expect(matchFilter({ since: 101 }, ev)).toBe(false)
    expect(matchFilter({ until: 99 }, ev)).toBe(false)
    expect(matchFilter({ '#t': ['nostr', 'x'] }, ev)).toBe(true)
    expect(matchFilter({ '#t': ['other'] }, ev)).toBe(false)
    expect(matchFilter({ '#p': ['a'] }, ev)).toBe(false)
    expect(matchFilter({ ids: [] }, ev)).toBe(false)
  })
  it('parses wire filters with clear reasons', () => {
    expect(parseFilter({ kinds: [1], '#e': ['a'], limit: 5 })).toEqual({ kinds: [1], '#e': ['a'], limit: 5 })
    expect(() => parseFilter({ kinds: ['1'] })).toThrow(/invalid: kinds/)
    expect(() => parseFilter({ ids: ['ABC'] })).toThrow(/invalid: ids/)
    expect(() => parseFilter({ limit: 1e300 })).toThrow(/invalid: limit/)
    expect(() => parseFilter({ foo: 1 })).toThrow(/unknown filter field/)
    expect(() => parseFilter([])).toThrow(/object/)
    expect(parseFilter({ search: 'best nostr apps', '#T': ['x'] })).toEqual({ search: 'best nostr apps', '#T': ['x'] })
    expect(() => parseFilter({ search: 5 })).toThrow(/invalid: search must be a string/)
    expect(() => parseFilter({ '#e': 'x' })).toThrow(/invalid: #e must be an array/)
    expect(() => parseFilter({ '#e': [1] })).toThrow(/invalid: #e must contain strings/)
    expect(() => parseFilter({ authors: 'x' })).toThrow(/invalid: authors must be an array/)
    expect(() => parseFilter({ kinds: 1 })).toThrow(/invalid: kinds must be an array/)
    expect(() => parseFilter({ kinds: [1, 2, 3] }, { maxValuesPerField: 2, maxTagFilters: 1 })).toThrow(/kinds has more than 2 values/)
    expect(() => parseFilter({ ids: ['a'.repeat(64), 'b'.repeat(64), 'c'.repeat(64)] }, { maxValuesPerField: 2, maxTagFilters: 1 })).toThrow(/ids has more than 2/)
    expect(() => parseFilter({ '#e': ['a', 'b', 'c'] }, { maxValuesPerField: 2, maxTagFilters: 1 })).toThrow(/#e has more than 2/)
    expect(() => parseFilter({ '#e': [], '#p': [] }, { maxValuesPerField: 2, maxTagFilters: 1 })).toThrow(/more than 1 tag filters/)
  })
  it('orders events newest first, ties by lowest id', () => {
    const at = (created_at: number, id: string) => ({ ...ev, created_at, id })
    const sorted = [at(1, 'b'), at(3, 'a'), at(1, 'a'), at(2, 'c'), at(1, 'a')].sort(compareEventsNewestFirst)
    expect(sorted.map((e) => `${e.created_at}${e.id}`)).toEqual(['3a', '2c', '1a', '1a', '1b'])
  })
})

describe('NIP-01 properties', () => {
  const secretKey = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k))
  const tagItem = fc.string({ unit: 'grapheme', maxLength: 12 })
  const template = fc.record({
    kind: fc.integer({ min: 0, max: 65535 }),
    created_at: fc.integer({ min: 0, max: 2 ** 40 }),
    tags: fc.array(fc.array(tagItem, { minLength: 1, maxLength: 4 }), { maxLength: 5 }),
    content: fc.string({ unit: 'grapheme', maxLength: 200 }),
  })

  it('serialize -> hash -> sign -> verify round-trips and agrees with nostr-tools', () => {
    fc.assert(fc.property(template, secretKey, (t, sk) => {
      const ev = finalizeEvent(t, sk)
      expect(JSON.parse(serializeEvent(ev))).toEqual([0, ev.pubkey, t.created_at, t.kind, t.tags, t.content])
      expect(ev.id).toBe(getEventHash(ev))
      expect(ev.id).toBe(toolsHash(ev))
      expect(eventShapeError(ev)).toBeNull()
      expect(verifyEvent(ev)).toBe(true)
      expect(toolsVerify({ ...ev })).toBe(true)
    }), { numRuns: 60 })
  })
  it('any change to a signed field breaks verification', () => {
    const sk = generateSecretKey()
    const change = fc.constantFrom('content', 'kind', 'created_at', 'tags', 'pubkey')
    fc.assert(fc.property(template, change, (t, field) => {
      const ev = finalizeEvent(t, sk)
      const changed: NostrEvent = { ...ev }
      if (field === 'content') changed.content = ev.content + 'x'
      if (field === 'kind') changed.kind = (ev.kind + 1) % 65536
      if (field === 'created_at') changed.created_at = ev.created_at + 1
      if (field === 'tags') changed.tags = [...ev.tags, ['x']]
      if (field === 'pubkey') changed.pubkey = getPublicKey(generateSecretKey())
      expect(verifyEvent(changed)).toBe(false)
    }), { numRuns: 40 })
  })

  // Small pools so that random filters and events actually match each other.
  const hexPool = ['a', 'b', 'c'].map((c) => c.repeat(64))
  const tagNames = ['e', 'p', 't', 'T']
  const tagValues = ['x', 'y', 'z', '']
  const event: fc.Arbitrary<NostrEvent> = fc.record({
    id: fc.constantFrom(...hexPool),
    pubkey: fc.constantFrom(...hexPool),
    created_at: fc.integer({ min: 0, max: 20 }),
    kind: fc.integer({ min: 0, max: 4 }),
    tags: fc.array(fc.oneof(
      fc.tuple(fc.constantFrom(...tagNames), fc.constantFrom(...tagValues)).map((t) => [...t]),
      fc.constantFrom(...tagNames).map((n) => [n]),
      fc.tuple(fc.constantFrom(...tagNames), fc.constantFrom(...tagValues), fc.constantFrom(...tagValues)).map((t) => [...t]),
    ), { maxLength: 4 }),
    content: fc.constant(''),
    sig: fc.constant('0'.repeat(128)),
  })
  const values = <T>(pool: T[]) => fc.option(fc.subarray(pool), { nil: undefined })
  const filter: fc.Arbitrary<Filter> = fc.record({
    ids: values(hexPool),
    authors: values(hexPool),
    kinds: values([0, 1, 2, 3, 4]),
    since: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
    until: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
    limit: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
    '#e': values(tagValues),
    '#t': values(tagValues),
    '#T': values(tagValues),
  }, { requiredKeys: [] })

  // Straight from the NIP-01 text: every present condition must hold; a tag condition holds when
  // some tag has that name and a first value in the list; limit does not filter single events.
  const reference = (f: Filter, e: NostrEvent): boolean => Object.entries(f).every(([key, value]) => {
    if (value === undefined || key === 'limit') return true
    if (key === 'ids') return (value as string[]).indexOf(e.id) >= 0
    if (key === 'authors') return (value as string[]).indexOf(e.pubkey) >= 0
    if (key === 'kinds') return (value as number[]).indexOf(e.kind) >= 0
    if (key === 'since') return e.created_at >= (value as number)
    if (key === 'until') return e.created_at <= (value as number)
    return e.tags.filter((t) => t[0] === key.slice(1) && t.length >= 2).some((t) => (value as string[]).indexOf(t[1]) >= 0)
  })

  it('matchFilter agrees with a naive reference on random events and filters', () => {
    fc.assert(fc.property(filter, event, (f, e) => {
      expect(matchFilter(f, e)).toBe(reference(f, e))
    }), { numRuns: 2000 })
  })
  it('matchFilters is "any filter matches"', () => {
    fc.assert(fc.property(fc.array(filter, { maxLength: 3 }), event, (fs, e) => {
      expect(matchFilters(fs, e)).toBe(fs.some((f) => reference(f, e)))
    }), { numRuns: 500 })
  })
  it('parseFilter accepts every well-formed filter after a JSON round trip, unchanged', () => {
    fc.assert(fc.property(filter, (f) => {
      const wire = JSON.parse(JSON.stringify(f)) as unknown
      expect(parseFilter(wire)).toEqual(wire)
    }), { numRuns: 300 })
  })
})
