import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from '../nips/01.js'
import { DEFAULT_RELAY_CONFIG, resolveRelayConfig, type RelayConfig } from './config.js'
import {
  defaultPolicies,
  mayRead,
  narrowFiltersForReader,
  powDifficulty,
  rateLimitPolicies,
  runPolicies,
  type PolicyContext,
  type WritePolicy,
} from './policy.js'

const NOW = 1_750_000_000
const alice = generateSecretKey()
const bob = generateSecretKey()
const alicePk = getPublicKey(alice)
const bobPk = getPublicKey(bob)

function ev(over: Partial<Pick<NostrEvent, 'kind' | 'tags' | 'content' | 'created_at'>> = {}, sk = alice): NostrEvent {
  return finalizeEvent({ kind: 1, tags: [], content: 'hi', created_at: NOW, ...over }, sk)
}

function ctx(over: Partial<PolicyContext> = {}, config: Partial<RelayConfig> = {}): PolicyContext {
  return { sourceIp: '10.0.0.1', authedPubkeys: new Set(), now: NOW, config: resolveRelayConfig(config), ...over }
}

const decide = (event: NostrEvent, c = ctx()) => runPolicies(defaultPolicies(c.config), event, c)

describe('runPolicies', () => {
  it('accepts when no policy objects, and the first opinion wins', () => {
    const e = ev()
    expect(runPolicies([], e, ctx())).toEqual({ action: 'accept' })
    const shadow: WritePolicy = () => ({ action: 'shadowReject', reason: 'blocked: spam' })
    const never: WritePolicy = () => {
      throw new Error('must not run after a decision')
    }
    expect(runPolicies([() => undefined, shadow, never], e, ctx())).toEqual({ action: 'shadowReject', reason: 'blocked: spam' })
  })
})

describe('defaultPolicies', () => {
  it('accepts an ordinary event', () => {
    expect(decide(ev())).toEqual({ action: 'accept' })
  })

  it('rejects created_at too far in the future or the past, at the configured edges', () => {
    const future = DEFAULT_RELAY_CONFIG.maxCreatedAtFutureSeconds
    const past = DEFAULT_RELAY_CONFIG.maxCreatedAtAgeSeconds
    expect(decide(ev({ created_at: NOW + future })).action).toBe('accept')
    expect(decide(ev({ created_at: NOW + future + 1 }))).toEqual({ action: 'reject', reason: expect.stringMatching(/^invalid: created_at .*future/) })
    expect(decide(ev({ created_at: NOW - past })).action).toBe('accept')
    expect(decide(ev({ created_at: NOW - past - 1 }))).toEqual({ action: 'reject', reason: expect.stringMatching(/^invalid: created_at .*past/) })
  })

  it('limits tags and content length', () => {
    const c = ctx({}, { maxEventTags: 2, maxContentLength: 5 })
    expect(decide(ev({ tags: [['t', 'a'], ['t', 'b']], content: '12345' }), c).action).toBe('accept')
    expect(decide(ev({ tags: [['t', 'a'], ['t', 'b'], ['t', 'c']] }), c)).toEqual({ action: 'reject', reason: 'invalid: more than 2 tags' })
    expect(decide(ev({ content: '123456' }), c)).toEqual({ action: 'reject', reason: 'invalid: content is longer than 5 characters' })
  })

  it('applies kind allow and deny lists and the pubkey blocklist', () => {
    expect(decide(ev({ kind: 7 }), ctx({}, { blockedKinds: [7] }))).toEqual({ action: 'reject', reason: 'blocked: kind 7 is not accepted here' })
    const onlyJobs = ctx({}, { allowedKinds: [5001, 6001] })
    expect(decide(ev({ kind: 5001 }), onlyJobs).action).toBe('accept')
    expect(decide(ev({ kind: 1 }), onlyJobs).action).toBe('reject')
    expect(decide(ev(), ctx({}, { blockedPubkeys: [alicePk] }))).toEqual({ action: 'reject', reason: 'blocked: this pubkey may not publish here' })
    expect(decide(ev({}, bob), ctx({}, { blockedPubkeys: [alicePk] })).action).toBe('accept')
  })

  it('rejects events that have already expired (NIP-40)', () => {
    expect(decide(ev({ tags: [['expiration', String(NOW)]] }))).toEqual({ action: 'reject', reason: 'invalid: event has already expired' })
    expect(decide(ev({ tags: [['expiration', String(NOW + 60)]] })).action).toBe('accept')
  })

  it('lets only the authenticated author publish a NIP-70 protected event', () => {
    const protectedNote = ev({ tags: [['-']] })
    expect(decide(protectedNote)).toEqual({ action: 'reject', reason: expect.stringMatching(/^auth-required: /) })
    expect(decide(protectedNote, ctx({ authedPubkeys: new Set([bobPk]) }))).toEqual({ action: 'reject', reason: expect.stringMatching(/^restricted: /) })
    expect(decide(protectedNote, ctx({ authedPubkeys: new Set([bobPk, alicePk]) })).action).toBe('accept')
  })

  it('requires proof of work when configured (NIP-13)', () => {
    const c = ctx({}, { minPowDifficulty: 8 })
    const e = ev()
    const expected = powDifficulty(e.id) >= 8 ? 'accept' : 'reject'
    expect(decide(e, c).action).toBe(expected)
    const mined = { ...e, id: '00' + e.id.slice(2) }
    expect(decide(mined, c).action).toBe('accept')
    const weak = { ...e, id: '0f' + e.id.slice(2) }
    expect(decide(weak, c)).toEqual({ action: 'reject', reason: 'pow: difficulty 4 is less than 8' })
  })
})

describe('powDifficulty', () => {
  it('counts leading zero bits', () => {
    expect(powDifficulty('f'.repeat(64))).toBe(0)
    expect(powDifficulty('7' + 'f'.repeat(63))).toBe(1)
    expect(powDifficulty('000000000e9d97a1ab09fc381030b346cdd7a142ad57e6df0b46dc9bef6c7e2d')).toBe(36)
    expect(powDifficulty('0'.repeat(64))).toBe(256)
  })

  it('agrees with a bit-by-bit count', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
        const hex = Buffer.from(bytes).toString('hex')
        const bits = [...bytes].map((b) => b.toString(2).padStart(8, '0')).join('')
        const expected = bits.indexOf('1') === -1 ? 256 : bits.indexOf('1')
        expect(powDifficulty(hex)).toBe(expected)
      }),
    )
  })
})

describe('rateLimitPolicies', () => {
  it('limits per IP and per pubkey, refills over time, and leaves non-client sources alone', () => {
    const config = resolveRelayConfig({ eventRatePerIp: { perSecond: 1, burst: 2 }, eventRatePerPubkey: { perSecond: 1, burst: 3 } })
    const policies = rateLimitPolicies(config)
    const at = (now: number, sourceIp = '10.0.0.1', sk = alice) => runPolicies(policies, ev({}, sk), ctx({ now, sourceIp }, config))
    expect(at(NOW).action).toBe('accept')
    expect(at(NOW).action).toBe('accept')
    expect(at(NOW)).toEqual({ action: 'reject', reason: expect.stringMatching(/^rate-limited: .*IP/) })
    expect(at(NOW, '10.0.0.2').action).toBe('accept')
    expect(at(NOW, '10.0.0.3')).toEqual({ action: 'reject', reason: expect.stringMatching(/^rate-limited: .*pubkey/) })
    expect(at(NOW, '10.0.0.3', bob).action).toBe('accept')
    expect(at(NOW + 1, '10.0.0.1').action).toBe('accept')
    for (let i = 0; i < 10; i++) expect(at(NOW, '').action).toBe('accept')
  })
})

describe('read side of protected kinds', () => {
  const config = resolveRelayConfig({})
  const dm = ev({ kind: 4, tags: [['p', bobPk]], content: 'secret?iv=x' })

  it('shows a private message only to its author and its recipients', () => {
    expect(mayRead(dm, new Set(), config)).toBe(false)
    expect(mayRead(dm, new Set([alicePk]), config)).toBe(true)
    expect(mayRead(dm, new Set([bobPk]), config)).toBe(true)
    expect(mayRead(dm, new Set([getPublicKey(generateSecretKey())]), config)).toBe(false)
    expect(mayRead(ev(), new Set(), config)).toBe(true)
  })

  it('treats encrypted NIP-90 jobs as protected, and plain ones as public', () => {
    const encryptedJob = ev({ kind: 5001, tags: [['p', bobPk], ['encrypted']] })
    expect(mayRead(encryptedJob, new Set(), config)).toBe(false)
    expect(mayRead(encryptedJob, new Set([bobPk]), config)).toBe(true)
    expect(mayRead(ev({ kind: 5001 }), new Set(), config)).toBe(true)
    expect(mayRead(encryptedJob, new Set(), { ...config, protectEncryptedJobs: false })).toBe(true)
  })

  it('asks unauthenticated readers to AUTH and narrows authenticated ones to their own messages', () => {
    expect(narrowFiltersForReader([{ kinds: [1] }, { ids: [dm.id] }], new Set(), config)).toEqual({ ok: true, filters: [{ kinds: [1] }, { ids: [dm.id] }] })
    expect(narrowFiltersForReader([{ kinds: [1, 4] }], new Set(), config)).toEqual({ ok: false, reason: expect.stringMatching(/^auth-required: /) })
    expect(narrowFiltersForReader([{ kinds: [1, 4], limit: 5 }], new Set([bobPk]), config)).toEqual({
      ok: true,
      filters: [
        { kinds: [1], limit: 5 },
        { kinds: [4], limit: 5, authors: [bobPk] },
        { kinds: [4], limit: 5, '#p': [bobPk] },
      ],
    })
    // Asking for someone else's conversation with a third party yields nothing to query.
    expect(narrowFiltersForReader([{ kinds: [4], authors: [alicePk], '#p': [alicePk] }], new Set([bobPk]), config)).toEqual({ ok: true, filters: [] })
  })
})
