// NIP-40: expiration timestamps. Pure: the caller passes the current time.
import type { NostrEvent } from './01.js'

/**
 * The unix time in the first `expiration` tag, or undefined when there is none or it is not a
 * plain decimal integer (a malformed expiration is treated as absent, like other unknown tags).
 */
export function getExpiration(event: Pick<NostrEvent, 'tags'>): number | undefined {
  const tag = event.tags.find((t) => t[0] === 'expiration')
  if (tag === undefined || typeof tag[1] !== 'string' || !/^\d{1,16}$/.test(tag[1])) return undefined
  const seconds = Number(tag[1])
  return Number.isSafeInteger(seconds) ? seconds : undefined
}

/** Expired from the expiration second on: that is the moment the NIP says relays should delete it. */
export function isExpired(event: Pick<NostrEvent, 'tags'>, nowSeconds: number): boolean {
  if (!Number.isFinite(nowSeconds)) throw new TypeError('nowSeconds must be a finite number of unix seconds')
  const expiration = getExpiration(event)
  return expiration !== undefined && expiration <= nowSeconds
}
