import { describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, type NostrEvent } from './01.js'
import { AUTH_KIND, authEventError, buildAuthEvent } from './42.js'

const sk = generateSecretKey()
const now = 1_700_000_000
const check = { challenge: 'challengestringhere', relayUrl: 'wss://relay.example.com', now }
const signed = (overrides: { relay?: string; challenge?: string; createdAt?: number } = {}) =>
  finalizeEvent(buildAuthEvent({ relayUrl: overrides.relay ?? 'wss://relay.example.com/', challenge: overrides.challenge ?? 'challengestringhere', createdAt: overrides.createdAt ?? now }), sk)

describe('NIP-42 buildAuthEvent', () => {
  it('builds the canonical event of the spec example', () => {
    expect(buildAuthEvent({ relayUrl: 'wss://relay.example.com/', challenge: 'challengestringhere', createdAt: now })).toEqual({
      kind: 22242, created_at: now, tags: [['relay', 'wss://relay.example.com/'], ['challenge', 'challengestringhere']], content: '',
    })
    expect(AUTH_KIND).toBe(22242)
  })
  it('rejects bad input', () => {
    expect(() => buildAuthEvent({ relayUrl: 'https://relay.example.com', challenge: 'c', createdAt: now })).toThrow(/scheme must be ws or wss/)
    expect(() => buildAuthEvent({ relayUrl: 'wss://r.example', challenge: '', createdAt: now })).toThrow(/challenge must be a non-empty string/)
    expect(() => buildAuthEvent({ relayUrl: 'wss://r.example', challenge: 'c', createdAt: 1.5 })).toThrow(/createdAt/)
  })
})

describe('NIP-42 authEventError', () => {
  it('accepts a fresh, signed event for this relay and challenge', () => {
    expect(authEventError(signed(), check)).toBeNull()
  })
  it('matches the relay tag after normalization', () => {
    for (const relay of ['wss://relay.example.com', 'WSS://Relay.Example.com:443/', 'wss://relay.example.com/#x']) {
      expect(authEventError(signed({ relay }), check), relay).toBeNull()
    }
    expect(authEventError(signed({ relay: 'wss://other.example.com' }), check)).toMatch(/relay tag "wss:\/\/other.example.com" does not match this relay/)
    expect(authEventError(signed({ relay: 'ws://relay.example.com' }), check)).toMatch(/does not match this relay/)
    expect(authEventError(signed({ relay: 'wss://relay.example.com:8443' }), check)).toMatch(/does not match this relay/)
    expect(authEventError(signed({ relay: 'wss://relay.example.com/other' }), check)).toMatch(/does not match this relay/)
  })
  it('enforces the created_at window in both directions', () => {
    expect(authEventError(signed({ createdAt: now - 600 }), check)).toBeNull()
    expect(authEventError(signed({ createdAt: now + 600 }), check)).toBeNull()
    expect(authEventError(signed({ createdAt: now - 601 }), check)).toMatch(/more than 600 seconds/)
    expect(authEventError(signed({ createdAt: now + 601 }), check)).toMatch(/more than 600 seconds/)
    expect(authEventError(signed({ createdAt: now - 100 }), { ...check, maxSkewSeconds: 60 })).toMatch(/more than 60 seconds/)
  })
  it('explains every other failure', () => {
    expect(authEventError(signed({ challenge: 'old' }), check)).toMatch(/challenge tag does not match/)
    const noTags = (keep: string) => finalizeEvent({ kind: AUTH_KIND, created_at: now, tags: signed().tags.filter((t) => t[0] === keep), content: '' }, sk)
    expect(authEventError(noTags('relay'), check)).toMatch(/no challenge tag/)
    expect(authEventError(noTags('challenge'), check)).toMatch(/no relay tag/)
    const badRelay = finalizeEvent({ kind: AUTH_KIND, created_at: now, tags: [['relay', 'not a url'], ['challenge', check.challenge]], content: '' }, sk)
    expect(authEventError(badRelay, check)).toMatch(/relay tag is not a valid/)
    const wrongKind = finalizeEvent({ ...buildAuthEvent({ relayUrl: check.relayUrl, challenge: check.challenge, createdAt: now }), kind: 1 }, sk)
    expect(authEventError(wrongKind, check)).toMatch(/must be kind 22242, got 1/)
    const good = signed()
    expect(authEventError({ ...good, content: 'tampered' }, check)).toMatch(/bad event id or signature/)
    expect(authEventError({ ...good, sig: '0'.repeat(128) }, check)).toMatch(/bad event id or signature/)
    expect(authEventError({ ...good, id: 'nope' } as NostrEvent, check)).toMatch(/id must be 64/)
  })
})
