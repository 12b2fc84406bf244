import { describe, expect, it } from 'vitest'
import { DEFAULT_RELAY_CONFIG, resolveRelayConfig } from './config.js'

describe('resolveRelayConfig', () => {
  it('returns the defaults when nothing is overridden', () => {
    expect(resolveRelayConfig({})).toEqual(DEFAULT_RELAY_CONFIG)
    expect(resolveRelayConfig()).toEqual(DEFAULT_RELAY_CONFIG)
  })

  it('merges valid overrides over the defaults', () => {
    const config = resolveRelayConfig({ maxLimit: 100, protectedKinds: [4], eventRatePerIp: { perSecond: 1, burst: 5 }, realIpHeader: 'X-Real-IP' })
    expect(config.maxLimit).toBe(100)
    expect(config.protectedKinds).toEqual([4])
    expect(config.eventRatePerIp).toEqual({ perSecond: 1, burst: 5 })
    expect(config.realIpHeader).toBe('x-real-ip')
    expect(config.maxMessageBytes).toBe(DEFAULT_RELAY_CONFIG.maxMessageBytes)
  })

  it('names every bad field, including unknown ones', () => {
    expect(() => resolveRelayConfig({ maxLimit: -1, blockedPubkeys: ['nope'], maxLimt: 5 })).toThrow(/maxLimit.*blockedPubkeys\.0|blockedPubkeys\.0.*maxLimit/)
    expect(() => resolveRelayConfig({ maxLimt: 5 })).toThrow(/invalid relay config: .*maxLimt/)
    expect(() => resolveRelayConfig({ relayUrl: 'https://x' })).toThrow(/relayUrl/)
    expect(() => resolveRelayConfig('not an object')).toThrow(/invalid relay config/)
  })

  it('keeps the defaults safe to share', () => {
    expect(Object.isFrozen(DEFAULT_RELAY_CONFIG)).toBe(true)
    expect(DEFAULT_RELAY_CONFIG.maxLimit).toBeGreaterThan(0)
    expect(DEFAULT_RELAY_CONFIG.protectedKinds).toEqual(expect.arrayContaining([4, 1059]))
  })
})
