// NIP-11: relay information document. parseRelayInformation checks a fetched document field by
// field and keeps only the fields we understand, as the NIP asks of clients.
import { isHex64 } from './01.js'

export const RELAY_INFO_MEDIA_TYPE = 'application/nostr+json'

export interface RelayLimitation {
  max_message_length?: number
  max_subscriptions?: number
  max_filters?: number
  max_limit?: number
  max_subid_length?: number
  max_event_tags?: number
  max_content_length?: number
  min_pow_difficulty?: number
  auth_required?: boolean
  payment_required?: boolean
  restricted_writes?: boolean
  created_at_lower_limit?: number
  created_at_upper_limit?: number
  default_limit?: number
}

/** A kind or an inclusive [from, to] range of kinds. */
export type KindOrRange = number | [number, number]

export interface RetentionSpec {
  kinds?: KindOrRange[]
  /** Seconds; null means forever, 0 means not stored. */
  time?: number | null
  count?: number
}

export interface Fee {
  amount: number
  unit: string
  period?: number
  kinds?: number[]
}

export interface RelayFees {
  admission?: Fee[]
  subscription?: Fee[]
  publication?: Fee[]
}

export interface RelayInformation {
  name?: string
  description?: string
  /** Administrative contact, 64 lowercase hex. */
  pubkey?: string
  contact?: string
  supported_nips?: number[]
  supported_nips_at?: number
  software?: string
  version?: string
  limitation?: RelayLimitation
  retention?: RetentionSpec[]
  relay_countries?: string[]
  language_tags?: string[]
  tags?: string[]
  posting_policy?: string
  payments_url?: string
  fees?: RelayFees
  icon?: string
  banner?: string
  privacy_policy?: string
  terms_of_service?: string
}

const STRING_FIELDS = ['name', 'description', 'contact', 'software', 'version', 'posting_policy', 'payments_url', 'icon', 'banner', 'privacy_policy', 'terms_of_service'] as const
const STRING_LIST_FIELDS = ['relay_countries', 'language_tags', 'tags'] as const
const LIMITATION_INTEGERS = [
  'max_message_length', 'max_subscriptions', 'max_filters', 'max_limit', 'max_subid_length', 'max_event_tags',
  'max_content_length', 'min_pow_difficulty', 'created_at_lower_limit', 'created_at_upper_limit', 'default_limit',
] as const
const LIMITATION_BOOLEANS = ['auth_required', 'payment_required', 'restricted_writes'] as const
const FEE_CATEGORIES = ['admission', 'subscription', 'publication'] as const

type Json = Record<string, unknown>

function fail(path: string, expected: string): never {
  throw new Error(`invalid relay information: ${path} must be ${expected}`)
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0
}

function countAt(value: unknown, path: string): number {
  if (!isCount(value)) fail(path, 'a non-negative integer')
  return value
}

function arrayAt(value: unknown, path: string): unknown[] {
  if (!Array.isArray(value)) fail(path, 'an array')
  return value
}

/**
 * Validates a relay information document (already JSON-parsed). Unknown fields are dropped;
 * fields set to null count as absent (relays commonly emit `"contact": null`); anything of the
 * wrong type throws an Error naming the field.
 */
export function parseRelayInformation(json: unknown): RelayInformation {
  if (!isObject(json)) throw new Error('invalid relay information: document must be a JSON object')
  const info: RelayInformation = {}
  const present = (key: string) => json[key] !== undefined && json[key] !== null

  for (const key of STRING_FIELDS) {
    if (!present(key)) continue
    if (typeof json[key] !== 'string') fail(key, 'a string')
    info[key] = json[key] as string
  }
  if (present('pubkey')) {
    if (!isHex64(json.pubkey)) fail('pubkey', '64 lowercase hex characters')
    info.pubkey = json.pubkey
  }
  if (present('supported_nips')) info.supported_nips = arrayAt(json.supported_nips, 'supported_nips').map((nip, i) => countAt(nip, `supported_nips[${i}]`))
  if (present('supported_nips_at')) info.supported_nips_at = countAt(json.supported_nips_at, 'supported_nips_at')
  for (const key of STRING_LIST_FIELDS) {
    if (!present(key)) continue
    info[key] = arrayAt(json[key], key).map((item, i) => {
      if (typeof item !== 'string') fail(`${key}[${i}]`, 'a string')
      return item
    })
  }
  if (present('limitation')) info.limitation = parseLimitation(json.limitation)
  if (present('retention')) info.retention = arrayAt(json.retention, 'retention').map((spec, i) => parseRetention(spec, `retention[${i}]`))
  if (present('fees')) info.fees = parseFees(json.fees)
  return info
}

function parseLimitation(value: unknown): RelayLimitation {
  if (!isObject(value)) fail('limitation', 'an object')
  const limitation: RelayLimitation = {}
  for (const key of LIMITATION_INTEGERS) {
    if (value[key] === undefined || value[key] === null) continue
    limitation[key] = countAt(value[key], `limitation.${key}`)
  }
  for (const key of LIMITATION_BOOLEANS) {
    if (value[key] === undefined || value[key] === null) continue
    if (typeof value[key] !== 'boolean') fail(`limitation.${key}`, 'a boolean')
    limitation[key] = value[key] as boolean
  }
  return limitation
}

function parseRetention(value: unknown, path: string): RetentionSpec {
  if (!isObject(value)) fail(path, 'an object')
  const spec: RetentionSpec = {}
  if (value.kinds !== undefined) {
    spec.kinds = arrayAt(value.kinds, `${path}.kinds`).map((kind, i): KindOrRange => {
      if (isCount(kind)) return kind
      if (Array.isArray(kind) && kind.length === 2 && isCount(kind[0]) && isCount(kind[1]) && kind[0] <= kind[1]) return [kind[0], kind[1]]
      fail(`${path}.kinds[${i}]`, 'a kind or a [from, to] range of kinds')
    })
  }
  // null is meaningful here: it says "kept forever".
  if (value.time !== undefined) spec.time = value.time === null ? null : countAt(value.time, `${path}.time`)
  if (value.count !== undefined) spec.count = countAt(value.count, `${path}.count`)
  return spec
}

function parseFees(value: unknown): RelayFees {
  if (!isObject(value)) fail('fees', 'an object')
  const fees: RelayFees = {}
  for (const category of FEE_CATEGORIES) {
    if (value[category] === undefined || value[category] === null) continue
    fees[category] = arrayAt(value[category], `fees.${category}`).map((fee, i) => {
      const path = `fees.${category}[${i}]`
      if (!isObject(fee)) fail(path, 'an object')
      if (typeof fee.unit !== 'string') fail(`${path}.unit`, 'a string')
      const parsed: Fee = { amount: countAt(fee.amount, `${path}.amount`), unit: fee.unit }
      if (fee.period !== undefined) parsed.period = countAt(fee.period, `${path}.period`)
      if (fee.kinds !== undefined) parsed.kinds = arrayAt(fee.kinds, `${path}.kinds`).map((k, j) => countAt(k, `${path}.kinds[${j}]`))
      return parsed
    })
  }
  return fees
}
