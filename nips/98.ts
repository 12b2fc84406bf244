// NIP-98: HTTP Auth. A kind 27235 event, signed for one request, sent base64-encoded in
// `Authorization: Nostr <base64>`. Pure: the server passes in the URL it was asked for, the method,
// the body and the current time; replay protection (ids seen within the window) is the server's.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { base64 } from '@scure/base'
import { eventShapeError, getTagValue, verifyEvent, type EventTemplate, type NostrEvent } from './01.js'

export const HTTP_AUTH_KIND = 27235
export const AUTH_SCHEME = 'Nostr'
export const DEFAULT_HTTP_AUTH_WINDOW_SECONDS = 60
/** An Authorization header longer than this is refused before decoding (an auth event is a few hundred bytes). */
export const MAX_AUTH_HEADER_LENGTH = 8192

export function payloadHash(body: Uint8Array | string): string {
  return bytesToHex(sha256(typeof body === 'string' ? utf8ToBytes(body) : body))
}

export interface HttpAuthRequest {
  /** Absolute URL of the request. */
  url: string
  method: string
  /** The request body; its sha256 goes in the `payload` tag. */
  body?: Uint8Array | string
  createdAt: number
}

export function buildHttpAuth({ url, method, body, createdAt }: HttpAuthRequest): EventTemplate {
  const parsed = new URL(url)
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`NIP-98 covers http and https URLs, not ${parsed.protocol}`)
  if (!/^[A-Za-z]+$/.test(method)) throw new TypeError(`invalid HTTP method ${JSON.stringify(method)}`)
  if (!Number.isSafeInteger(createdAt) || createdAt < 0) throw new TypeError('createdAt must be a non-negative integer (unix seconds)')
  const tags = [
    ['u', url],
    ['method', method.toUpperCase()],
  ]
  if (body !== undefined && body.length > 0) tags.push(['payload', payloadHash(body)])
  return { kind: HTTP_AUTH_KIND, created_at: createdAt, tags, content: '' }
}

/** The Authorization header value carrying a signed auth event. */
export function encodeAuthorizationHeader(event: NostrEvent): string {
  return `${AUTH_SCHEME} ${base64.encode(utf8ToBytes(JSON.stringify(event)))}`
}

/** The event in an `Authorization: Nostr <base64>` header, or the reason there is none. */
export function decodeAuthorizationHeader(header: string | undefined): { event: NostrEvent } | { reason: string } {
  if (header === undefined || header === '') return { reason: 'missing Authorization header (NIP-98: "Nostr <base64 of a signed kind 27235 event>")' }
  if (header.length > MAX_AUTH_HEADER_LENGTH) return { reason: `Authorization header longer than ${MAX_AUTH_HEADER_LENGTH} characters` }
  const match = /^Nostr\s+([A-Za-z0-9+/_-]+={0,2})\s*$/i.exec(header)
  if (!match) return { reason: 'Authorization header must be "Nostr <base64 of a signed kind 27235 event>"' }
  let value: unknown
  try {
    // Padded or not, base64 or base64url: clients differ.
    const standard = match[1].replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/')
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64.decode(standard.padEnd(Math.ceil(standard.length / 4) * 4, '='))))
  } catch {
    return { reason: 'Authorization header does not hold base64-encoded JSON' }
  }
  const shape = eventShapeError(value)
  if (shape !== null) return { reason: `auth event is malformed: ${shape}` }
  return { event: value as NostrEvent }
}

export interface HttpAuthCheck {
  /** The absolute URL the server was asked for. */
  url: string
  method: string
  /** The body as received; when non-empty the event must carry its sha256 in a `payload` tag. */
  body?: Uint8Array
  now: number
  windowSeconds?: number
}

/**
 * Why this event does not authorize this request, or null when it does. Cheap checks first, the
 * signature last. URLs are compared after WHATWG parsing (so `HTTP://Host:80/a` equals
 * `http://host/a`), including the query string: a signature for one query does not cover another.
 */
export function httpAuthError(event: NostrEvent, { url, method, body, now, windowSeconds = DEFAULT_HTTP_AUTH_WINDOW_SECONDS }: HttpAuthCheck): string | null {
  const shape = eventShapeError(event)
  if (shape !== null) return `auth event is malformed: ${shape}`
  if (event.kind !== HTTP_AUTH_KIND) return `auth event must be kind ${HTTP_AUTH_KIND}, got ${event.kind}`
  if (event.created_at > now + windowSeconds) return `auth event is from the future (created_at more than ${windowSeconds} s ahead of the server's clock)`
  if (event.created_at < now - windowSeconds) return `auth event is stale (created_at more than ${windowSeconds} s behind the server's clock); sign a new one for each request`
  const u = getTagValue(event, 'u')
  if (u === undefined) return 'auth event has no u tag'
  if (sameUrl(u, url) === false) return `u tag ${JSON.stringify(u.slice(0, 200))} does not match the requested URL ${JSON.stringify(url.slice(0, 200))}`
  const eventMethod = getTagValue(event, 'method')
  if (eventMethod === undefined) return 'auth event has no method tag'
  if (eventMethod.toUpperCase() !== method.toUpperCase()) return `method tag ${JSON.stringify(eventMethod.slice(0, 20))} does not match the request method ${method}`
  const payload = getTagValue(event, 'payload')
  if (body !== undefined && body.length > 0) {
    if (payload === undefined) return 'the request has a body but the auth event has no payload tag (sha256 of the body, hex)'
    if (payload.toLowerCase() !== payloadHash(body)) return 'payload tag does not match the sha256 of the request body'
  } else if (payload !== undefined && payload.toLowerCase() !== payloadHash(new Uint8Array())) {
    return 'payload tag is set but the request has no body'
  }
  if (!verifyEvent(event)) return 'bad event id or signature'
  return null
}

function sameUrl(a: string, b: string): boolean {
  try {
    const x = new URL(a)
    const y = new URL(b)
    return x.protocol === y.protocol && x.host === y.host && x.pathname === y.pathname && x.search === y.search
  } catch {
    return false
  }
}
