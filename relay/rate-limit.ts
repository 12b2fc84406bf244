// Token buckets keyed by a string (an IP, a pubkey, a connection). Time is passed in, in seconds.
import type { TokenBucketRate } from './config.js'

interface Bucket {
  tokens: number
  updatedAt: number
}

export class TokenBucketLimiter {
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly rate: TokenBucketRate) {}

  /** Spends one token for `key`; false when the bucket is empty (the caller should refuse). */
  take(key: string, nowSeconds: number): boolean {
    let bucket = this.buckets.get(key)
    if (bucket === undefined) {
      bucket = { tokens: this.rate.burst, updatedAt: nowSeconds }
      this.buckets.set(key, bucket)
    } else {
      this.refill(bucket, nowSeconds)
    }
    if (bucket.tokens < 1) return false
    bucket.tokens -= 1
    return true
  }

  /** Forgets buckets that have refilled completely, so that memory follows active keys only. */
  prune(nowSeconds: number): void {
    for (const [key, bucket] of this.buckets) {
      this.refill(bucket, nowSeconds)
      if (bucket.tokens >= this.rate.burst) this.buckets.delete(key)
    }
  }

  get size(): number {
    return this.buckets.size
  }

  private refill(bucket: Bucket, nowSeconds: number): void {
    const elapsed = nowSeconds - bucket.updatedAt
    if (elapsed > 0) {
      bucket.tokens = Math.min(this.rate.burst, bucket.tokens + elapsed * this.rate.perSecond)
      bucket.updatedAt = nowSeconds
    }
  }
}
