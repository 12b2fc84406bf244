import { describe, expect, it } from 'vitest'
import { verifyEvent as toolsVerify } from 'nostr-tools/pure'
import {
  eventAddress, eventShapeError, finalizeEvent, generateSecretKey, getEventHash, getPublicKey, isNewerVersion,
  kindClass, matchFilter, parseFilter, serializeEvent, verifyEvent,
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
  })
})
