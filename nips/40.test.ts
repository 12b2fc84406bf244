import { describe, expect, it } from 'vitest'
import { getExpiration, isExpired } from './40.js'

const withTags = (...tags: string[][]) => ({ tags })

describe('NIP-40 expiration', () => {
  it('reads the spec example', () => {
    const event = { pubkey: 'a'.repeat(64), created_at: 1000000000, kind: 1, tags: [['expiration', '1600000000']], content: 'This message will expire at the specified timestamp and be deleted by relays.\n' }
    expect(getExpiration(event)).toBe(1600000000)
    expect(isExpired(event, 1599999999)).toBe(false)
    expect(isExpired(event, 1600000000)).toBe(true)
    expect(isExpired(event, 1700000000)).toBe(true)
  })
  it('never expires an event without an expiration tag', () => {
    expect(getExpiration(withTags(['t', 'x']))).toBeUndefined()
    expect(isExpired(withTags(), Number.MAX_SAFE_INTEGER)).toBe(false)
  })
  it('treats malformed expirations as absent', () => {
    for (const value of ['', 'soon', '-5', '1.5', '1e9', ' 100', '0x10', '9999999999999999', '99999999999999999']) {
      expect(getExpiration(withTags(['expiration', value])), value).toBeUndefined()
    }
    expect(getExpiration(withTags(['expiration']))).toBeUndefined()
    expect(isExpired(withTags(['expiration', 'soon']), 2e9)).toBe(false)
  })
  it('uses the first expiration tag', () => {
    expect(getExpiration(withTags(['expiration', '10'], ['expiration', '20']))).toBe(10)
    expect(getExpiration(withTags(['expiration', 'bad'], ['expiration', '20']))).toBeUndefined()
    expect(getExpiration(withTags(['expiration', '0']))).toBe(0)
  })
  it('rejects a non-numeric clock', () => {
    expect(() => isExpired(withTags(['expiration', '10']), NaN)).toThrow(/nowSeconds/)
  })
})
