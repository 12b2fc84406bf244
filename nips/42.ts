// NIP-42: client authentication to relays (kind 22242 AUTH events). Pure: the relay passes in
// its challenge, its own URL and the current time.
import { eventShapeError, getTagValue, verifyEvent, type EventTemplate, type NostrEvent } from './01.js'
import { normalizeRelayUrl } from './relay-url.js'

export const AUTH_KIND = 22242
export const DEFAULT_AUTH_MAX_SKEW_SECONDS = 600

export function buildAuthEvent({ relayUrl, challenge, createdAt }: { relayUrl: string; challenge: string; createdAt: number }): EventTemplate {
  normalizeRelayUrl(relayUrl)
  if (typeof challenge !== 'string' || challenge === '') throw new TypeError('challenge must be a non-empty string')
  if (!Number.isSafeInteger(createdAt) || createdAt < 0) throw new TypeError('createdAt must be a non-negative integer (unix seconds)')
  return { kind: AUTH_KIND, created_at: createdAt, tags: [['relay', relayUrl], ['challenge', challenge]], content: '' }
}

export interface AuthCheck {
  challenge: string
  /** This relay's public URL; compared with the event's `relay` tag after normalizeRelayUrl. */
  relayUrl: string
  now: number
  maxSkewSeconds?: number
}

/**
 * Why this AUTH event does not authenticate to this relay, or null when it does. Cheap checks come
 * first; the signature is checked last. The reason reads well after an `auth-required: ` or
 * `invalid: ` prefix.
 */
export function authEventError(event: NostrEvent, { challenge, relayUrl, now, maxSkewSeconds = DEFAULT_AUTH_MAX_SKEW_SECONDS }: AuthCheck): string | null {
  const shape = eventShapeError(event)
  if (shape !== null) return shape
  if (event.kind !== AUTH_KIND) return `auth event must be kind ${AUTH_KIND}, got ${event.kind}`
  const eventChallenge = getTagValue(event, 'challenge')
  if (eventChallenge === undefined) return 'auth event has no challenge tag'
  if (eventChallenge !== challenge) return 'challenge tag does not match the challenge this relay sent'
  const eventRelay = getTagValue(event, 'relay')
  if (eventRelay === undefined) return 'auth event has no relay tag'
  let normalized: string
  try {
    normalized = normalizeRelayUrl(eventRelay)
  } catch {
    return 'relay tag is not a valid ws:// or wss:// URL'
  }
  if (normalized !== normalizeRelayUrl(relayUrl)) return `relay tag ${JSON.stringify(normalized.slice(0, 100))} does not match this relay`
  if (Math.abs(event.created_at - now) > maxSkewSeconds) return `created_at is more than ${maxSkewSeconds} seconds from the relay's clock`
  if (!verifyEvent(event)) return 'bad event id or signature'
  return null
}
