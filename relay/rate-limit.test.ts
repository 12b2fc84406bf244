import { describe, expect, it } from 'vitest'
import { TokenBucketLimiter } from './rate-limit.js'

describe('TokenBucketLimiter', () => {
  it('allows a burst, then refills at the configured rate, per key', () => {
    const limiter = new TokenBucketLimiter({ perSecond: 2, burst: 3 })
    expect([1, 2, 3, 4].map(() => limiter.take('a', 100))).toEqual([true, true, true, false])
    expect(limiter.take('b', 100)).toBe(true)
    expect(limiter.take('a', 100.25)).toBe(false)
    expect(limiter.take('a', 100.5)).toBe(true)
    expect(limiter.take('a', 100.5)).toBe(false)
    // A long pause refills only up to the burst size.
    expect([1, 2, 3, 4].map(() => limiter.take('a', 1000))).toEqual([true, true, true, false])
  })

  it('does not refill when the clock goes backwards', () => {
    const limiter = new TokenBucketLimiter({ perSecond: 10, burst: 1 })
    expect(limiter.take('a', 50)).toBe(true)
    expect(limiter.take('a', 40)).toBe(false)
    expect(limiter.take('a', 50)).toBe(false)
  })

  it('prunes only buckets that are full again', () => {
    const limiter = new TokenBucketLimiter({ perSecond: 1, burst: 2 })
    limiter.take('idle', 0)
    limiter.take('busy', 9)
    limiter.take('busy', 9)
    limiter.prune(10)
    expect(limiter.size).toBe(1)
    limiter.prune(20)
    expect(limiter.size).toBe(0)
  })
})
