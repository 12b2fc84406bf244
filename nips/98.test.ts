import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, type NostrEvent } from './01.js'
import { buildHttpAuth, decodeAuthorizationHeader, encodeAuthorizationHeader, HTTP_AUTH_KIND, httpAuthError, payloadHash } from './98.js'

const sk = generateSecretKey()
const NOW = 1_767_225_600
const URL_ = 'http://127.0.0.1:8080/api/approvals/' + 'a'.repeat(64) + '/approve'
const BODY = new TextEncoder().encode('{"by":"alice"}')

function signed(overrides: { url?: string; method?: string; body?: Uint8Array | string; createdAt?: number } = {}): NostrEvent {
  return finalizeEvent(buildHttpAuth({ url: overrides.url ?? URL_, method: overrides.method ?? 'POST', body: overrides.body ?? BODY, createdAt: overrides.createdAt ?? NOW }), sk)
}
const check = { url: URL_, method: 'POST', body: BODY, now: NOW }

describe('NIP-98 HTTP auth', () => {
  it('builds kind 27235 with u, method and the sha256 of the body', () => {
    const template = buildHttpAuth({ url: URL_, method: 'post', body: BODY, createdAt: NOW })
    expect(template.kind).toBe(HTTP_AUTH_KIND)
    expect(template.tags).toEqual([
      ['u', URL_],
      ['method', 'POST'],
      ['payload', payloadHash(BODY)],
    ])
    expect(payloadHash('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(buildHttpAuth({ url: URL_, method: 'GET', createdAt: NOW }).tags.some((t) => t[0] === 'payload')).toBe(false)
    expect(() => buildHttpAuth({ url: 'ftp://x/', method: 'GET', createdAt: NOW })).toThrow(/http and https/)
  })

  it('accepts an event signed for this URL, method and body within the window', () => {
    expect(httpAuthError(signed(), check)).toBeNull()
    expect(httpAuthError(signed({ createdAt: NOW - 60 }), check)).toBeNull()
    expect(httpAuthError(signed({ createdAt: NOW + 60 }), check)).toBeNull()
    // WHATWG-equal spellings of the same URL are the same URL.
    expect(httpAuthError(signed({ url: 'HTTP://127.0.0.1:8080/api/approvals/' + 'a'.repeat(64) + '/approve' }), check)).toBeNull()
    expect(httpAuthError(signed({ url: 'http://example.com:80/x', method: 'GET', body: '' }), { url: 'http://example.com/x', method: 'GET', now: NOW })).toBeNull()
  })

  it.each([
    ['stale', signed({ createdAt: NOW - 61 }), /stale/],
    ['from the future', signed({ createdAt: NOW + 61 }), /future/],
    ['another path', signed({ url: 'http://127.0.0.1:8080/api/approvals/' + 'b'.repeat(64) + '/approve' }), /u tag .* does not match/],
    ['another host', signed({ url: URL_.replace('127.0.0.1', 'localhost') }), /does not match the requested URL/],
    ['another query', signed({ url: `${URL_}?x=1` }), /does not match the requested URL/],
    ['another scheme', signed({ url: URL_.replace('http:', 'https:') }), /does not match the requested URL/],
    ['another method', signed({ method: 'GET' }), /method tag "GET" does not match the request method POST/],
    ['another body', signed({ body: '{"by":"mallory"}' }), /payload tag does not match/],
  ])('refuses an event %s', (_what, event, reason) => {
    expect(httpAuthError(event, check)).toMatch(reason)
  })

  it('refuses a body without a payload tag, a payload without a body, other kinds and bad signatures', () => {
    const noPayload = finalizeEvent({ kind: HTTP_AUTH_KIND, created_at: NOW, tags: [['u', URL_], ['method', 'POST']], content: '' }, sk)
    expect(httpAuthError(noPayload, check)).toMatch(/no payload tag/)
    expect(httpAuthError(signed(), { ...check, body: new Uint8Array() })).toMatch(/no body/)
    expect(httpAuthError(finalizeEvent({ kind: 22242, created_at: NOW, tags: [['u', URL_], ['method', 'POST']], content: '' }, sk), check)).toMatch(/kind 27235/)
    const noU = finalizeEvent({ kind: HTTP_AUTH_KIND, created_at: NOW, tags: [['method', 'POST']], content: '' }, sk)
    expect(httpAuthError(noU, check)).toMatch(/no u tag/)
    const event = signed()
    expect(httpAuthError({ ...event, sig: event.sig.replace(/^./, (c) => (c === '0' ? '1' : '0')) }, check)).toMatch(/signature/)
    expect(httpAuthError({ ...event, content: 'changed' }, check)).toMatch(/signature/)
  })

  it('round-trips the Authorization header, padded or not, base64 or base64url', () => {
    const event = signed()
    const header = encodeAuthorizationHeader(event)
    expect(header).toMatch(/^Nostr [A-Za-z0-9+/]+=*$/)
    expect(decodeAuthorizationHeader(header)).toEqual({ event })
    const b64url = header.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
    expect(decodeAuthorizationHeader(b64url)).toEqual({ event })
  })

  it.each([
    [undefined, /missing Authorization header/],
    ['Bearer abc', /must be "Nostr/],
    ['Nostr !!!', /must be "Nostr/],
    ['Nostr aGVsbG8=', /base64-encoded JSON/],
    [`Nostr ${btoa('{"kind":27235}')}`, /malformed/],
    [`Nostr ${'A'.repeat(9000)}`, /longer than/],
  ])('explains why header %j carries no auth event', (header, reason) => {
    const decoded = decodeAuthorizationHeader(header)
    expect('reason' in decoded && decoded.reason).toMatch(reason)
  })

  it('a change to any tag value or to created_at invalidates the event (property)', () => {
    const event = signed()
    fc.assert(
      fc.property(fc.integer({ min: 0, max: event.tags.length - 1 }), fc.string({ minLength: 1, maxLength: 20 }), (index, suffix) => {
        const tags = event.tags.map((t, i) => (i === index ? [t[0], t[1] + suffix] : t))
        expect(httpAuthError({ ...event, tags }, check)).not.toBeNull()
      }),
      { numRuns: 100 },
    )
    fc.assert(
      fc.property(fc.integer({ min: -60, max: 60 }).filter((d) => d !== 0), (delta) => {
        expect(httpAuthError({ ...event, created_at: NOW + delta }, check)).toMatch(/signature/)
      }),
      { numRuns: 50 },
    )
  })
})
