// NIP-01: basic protocol — event shape, serialization, id, signatures, kinds and filters.
// Pure: no I/O, no clock. Signing/verification use @noble/curves (BIP-340 Schnorr).
import { schnorr } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'

export interface NostrEvent {
  id: string
  pubkey: string
  created_at: number
  kind: number
  tags: string[][]
  content: string
  sig: string
}

export type UnsignedEvent = Omit<NostrEvent, 'id' | 'sig'>
export type EventTemplate = Omit<UnsignedEvent, 'pubkey'>

export interface Filter {
  ids?: string[]
  authors?: string[]
  kinds?: number[]
  since?: number
  until?: number
  limit?: number
  search?: string
  [tag: `#${string}`]: string[] | undefined
}

/** An error whose message starts with a NIP-01 machine-readable prefix ("invalid: ..."). */
export class NostrProtocolError extends Error {
  constructor(
    readonly prefix: 'invalid' | 'blocked' | 'rate-limited' | 'auth-required' | 'restricted' | 'duplicate' | 'pow' | 'error',
    reason: string,
  ) {
    super(`${prefix}: ${reason}`)
    this.name = 'NostrProtocolError'
  }
}

const HEX128 = /^[0-9a-f]{128}$/
export const MAX_KIND = 65535

// A table instead of /^[0-9a-f]{64}$/: ids and pubkeys are checked by the hundred thousand (reputation
// reads two per label), and the loop is about twice as fast as the regular expression.
const LOWER_HEX_DIGIT = new Uint8Array(128)
for (const c of '0123456789abcdef') LOWER_HEX_DIGIT[c.charCodeAt(0)] = 1

export function isHex64(value: unknown): value is string {
  if (typeof value !== 'string' || value.length !== 64) return false
  for (let i = 0; i < 64; i++) {
    const c = value.charCodeAt(i)
    if (c > 127 || LOWER_HEX_DIGIT[c] === 0) return false
  }
  return true
}

export function serializeEvent(event: UnsignedEvent): string {
  return JSON.stringify([0, event.pubkey, event.created_at, event.kind, event.tags, event.content])
}

export function getEventHash(event: UnsignedEvent): string {
  return bytesToHex(sha256(utf8ToBytes(serializeEvent(event))))
}

export function getPublicKey(secretKey: Uint8Array): string {
  return bytesToHex(schnorr.getPublicKey(secretKey))
}

export function generateSecretKey(): Uint8Array {
  return schnorr.utils.randomSecretKey()
}

export function finalizeEvent(template: EventTemplate, secretKey: Uint8Array): NostrEvent {
  const unsigned: UnsignedEvent = { ...template, pubkey: getPublicKey(secretKey) }
  const id = getEventHash(unsigned)
  const sig = bytesToHex(schnorr.sign(hexToBytes(id), secretKey))
  return { ...unsigned, id, sig }
}

/**
 * Structural validation of something that claims to be an event. Returns the reason it is not
 * one (suitable after an `invalid: ` prefix), or null. Does not check the id or signature.
 */
export function eventShapeError(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'event must be an object'
  const e = value as Record<string, unknown>
  if (!isHex64(e.id)) return 'id must be 64 lowercase hex characters'
  if (!isHex64(e.pubkey)) return 'pubkey must be 64 lowercase hex characters'
  if (typeof e.sig !== 'string' || !HEX128.test(e.sig)) return 'sig must be 128 lowercase hex characters'
  if (!Number.isSafeInteger(e.created_at) || (e.created_at as number) < 0) return 'created_at must be a non-negative integer'
  if (!Number.isInteger(e.kind) || (e.kind as number) < 0 || (e.kind as number) > MAX_KIND) return `kind must be an integer 0..${MAX_KIND}`
  if (typeof e.content !== 'string') return 'content must be a string'
  if (!Array.isArray(e.tags)) return 'tags must be an array'
  for (const tag of e.tags) {
    if (!Array.isArray(tag) || tag.length === 0) return 'each tag must be a non-empty array'
    for (const item of tag) if (typeof item !== 'string') return 'tag items must be strings'
  }
  return null
}

/** True when the id is the hash of the content and the signature is valid for it. */
export function verifyEvent(event: NostrEvent): boolean {
  if (getEventHash(event) !== event.id) return false
  try {
    return schnorr.verify(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(event.pubkey))
  } catch {
    return false
  }
}

export type KindClass = 'regular' | 'replaceable' | 'ephemeral' | 'addressable'

export function kindClass(kind: number): KindClass {
  if (kind === 0 || kind === 3 || (kind >= 10000 && kind < 20000)) return 'replaceable'
  if (kind >= 20000 && kind < 30000) return 'ephemeral'
  if (kind >= 30000 && kind < 40000) return 'addressable'
  return 'regular'
}

export const isReplaceableKind = (kind: number) => kindClass(kind) === 'replaceable'
export const isEphemeralKind = (kind: number) => kindClass(kind) === 'ephemeral'
export const isAddressableKind = (kind: number) => kindClass(kind) === 'addressable'

/** First value of the first tag with this name. */
export function getTagValue(event: Pick<NostrEvent, 'tags'>, name: string): string | undefined {
  for (const tag of event.tags) if (tag[0] === name) return tag[1]
  return undefined
}

/** `d` tag of an addressable event; a missing `d` tag counts as the empty string. */
export function getDTag(event: Pick<NostrEvent, 'tags'>): string {
  return getTagValue(event, 'd') ?? ''
}

/** The `kind:pubkey:d` address of a replaceable or addressable event, or undefined. */
export function eventAddress(event: Pick<NostrEvent, 'kind' | 'pubkey' | 'tags'>): string | undefined {
  const cls = kindClass(event.kind)
  if (cls === 'replaceable') return `${event.kind}:${event.pubkey}:`
  if (cls === 'addressable') return `${event.kind}:${event.pubkey}:${getDTag(event)}`
  return undefined
}

/**
 * Of two versions of one replaceable/addressable event, is `candidate` newer than `existing`?
 * Ties in created_at keep the lowest id, as NIP-01 specifies.
 */
export function isNewerVersion(candidate: Pick<NostrEvent, 'created_at' | 'id'>, existing: Pick<NostrEvent, 'created_at' | 'id'>): boolean {
  if (candidate.created_at !== existing.created_at) return candidate.created_at > existing.created_at
  return candidate.id < existing.id
}

const FILTER_KEYS = new Set(['ids', 'authors', 'kinds', 'since', 'until', 'limit', 'search'])

/** Limits a relay applies while validating filters. */
export interface FilterLimits {
  maxValuesPerField: number
  maxTagFilters: number
}

export const DEFAULT_FILTER_LIMITS: FilterLimits = { maxValuesPerField: 1000, maxTagFilters: 10 }

/** Checks a filter from the wire; throws NostrProtocolError('invalid', ...) with the reason. */
export function parseFilter(value: unknown, limits: FilterLimits = DEFAULT_FILTER_LIMITS): Filter {
  const bad = (reason: string): never => {
    throw new NostrProtocolError('invalid', reason)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad('filter must be an object')
  const input = value as Record<string, unknown>
  const filter: Filter = {}
  let tagFilters = 0
  for (const [key, v] of Object.entries(input)) {
    if (key === 'ids' || key === 'authors') {
      if (!Array.isArray(v)) bad(`${key} must be an array`)
      const list = v as unknown[]
      if (list.length > limits.maxValuesPerField) bad(`${key} has more than ${limits.maxValuesPerField} values`)
      for (const item of list) if (!isHex64(item)) bad(`${key} must contain 64-character lowercase hex strings`)
      filter[key] = list as string[]
    } else if (key === 'kinds') {
      if (!Array.isArray(v)) bad('kinds must be an array')
      const list = v as unknown[]
      if (list.length > limits.maxValuesPerField) bad(`kinds has more than ${limits.maxValuesPerField} values`)
      for (const item of list) if (!Number.isInteger(item) || (item as number) < 0 || (item as number) > MAX_KIND) bad(`kinds must contain integers 0..${MAX_KIND}`)
      filter.kinds = list as number[]
    } else if (key === 'since' || key === 'until' || key === 'limit') {
      if (!Number.isSafeInteger(v) || (v as number) < 0) bad(`${key} must be a non-negative integer`)
      filter[key] = v as number
    } else if (key === 'search') {
      if (typeof v !== 'string') bad('search must be a string')
      filter.search = v as string
    } else if (/^#[a-zA-Z]$/.test(key)) {
      if (!Array.isArray(v)) bad(`${key} must be an array`)
      const list = v as unknown[]
      if (list.length > limits.maxValuesPerField) bad(`${key} has more than ${limits.maxValuesPerField} values`)
      for (const item of list) if (typeof item !== 'string') bad(`${key} must contain strings`)
      if (++tagFilters > limits.maxTagFilters) bad(`more than ${limits.maxTagFilters} tag filters`)
      filter[key as `#${string}`] = list as string[]
    } else if (!FILTER_KEYS.has(key)) {
      bad(`unknown filter field ${JSON.stringify(key.slice(0, 32))}`)
    }
  }
  return filter
}

/** Does the event match this filter? (`limit` does not apply to a single event.) */
export function matchFilter(filter: Filter, event: NostrEvent): boolean {
  if (filter.ids && !filter.ids.includes(event.id)) return false
  if (filter.authors && !filter.authors.includes(event.pubkey)) return false
  if (filter.kinds && !filter.kinds.includes(event.kind)) return false
  if (filter.since !== undefined && event.created_at < filter.since) return false
  if (filter.until !== undefined && event.created_at > filter.until) return false
  for (const key in filter) {
    if (key.charCodeAt(0) !== 35 /* # */ || key.length !== 2) continue
    const wanted = filter[key as `#${string}`]
    if (!wanted) continue
    const name = key[1]
    if (!event.tags.some((tag) => tag[0] === name && tag.length > 1 && wanted.includes(tag[1]))) return false
  }
  return true
}

export function matchFilters(filters: Filter[], event: NostrEvent): boolean {
  return filters.some((f) => matchFilter(f, event))
}

/** Orders events the way relays return them: newest first, ties by id ascending. */
export function compareEventsNewestFirst(a: NostrEvent, b: NostrEvent): number {
  return b.created_at - a.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}
