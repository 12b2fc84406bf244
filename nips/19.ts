// NIP-19: bech32-encoded entities (npub, nsec, note) and TLV pointers (nprofile, nevent, naddr).
// Pure. Every malformed input throws with the reason, including the ones nostr-tools lets through
// (wrong payload lengths, TLV values over 255 bytes, kinds out of range, invalid UTF-8).
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js'
import { bech32 } from '@scure/base'
import { isHex64, MAX_KIND } from './01.js'

/** NIP-19 strings may exceed bech32's 90-character limit; this is the limit clients agree on. */
export const BECH32_MAX_LENGTH = 5000

export interface ProfilePointer {
  pubkey: string
  relays?: string[]
}

export interface EventPointer {
  id: string
  relays?: string[]
  author?: string
  kind?: number
}

export interface AddressPointer {
  identifier: string
  pubkey: string
  kind: number
  relays?: string[]
}

export type DecodedNip19 =
  | { type: 'npub'; data: string }
  | { type: 'nsec'; data: Uint8Array }
  | { type: 'note'; data: string }
  | { type: 'nprofile'; data: { pubkey: string; relays: string[] } }
  | { type: 'nevent'; data: { id: string; relays: string[]; author?: string; kind?: number } }
  | { type: 'naddr'; data: { identifier: string; pubkey: string; kind: number; relays: string[] } }

const TLV_SPECIAL = 0
const TLV_RELAY = 1
const TLV_AUTHOR = 2
const TLV_KIND = 3

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })

function hex32(value: unknown, what: string): Uint8Array {
  if (!isHex64(value)) throw new TypeError(`${what} must be 64 lowercase hex characters`)
  return hexToBytes(value)
}

function checkSecretKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new TypeError('secret key must be a 32-byte Uint8Array')
  if (!secp256k1.utils.isValidSecretKey(key)) throw new Error('secret key is not a valid secp256k1 scalar (zero or not below the curve order)')
}

function checkKind(kind: unknown): number {
  if (!Number.isInteger(kind) || (kind as number) < 0 || (kind as number) > MAX_KIND) throw new TypeError(`kind must be an integer 0..${MAX_KIND}`)
  return kind as number
}

function encodeBech32(prefix: string, data: Uint8Array): string {
  return bech32.encode(prefix, bech32.toWords(data), BECH32_MAX_LENGTH)
}

function tlvEntry(type: number, value: Uint8Array, what: string): Uint8Array {
  if (value.length > 255) throw new Error(`${what} is ${value.length} bytes; a TLV value holds at most 255`)
  return concatBytes(Uint8Array.of(type, value.length), value)
}

function relayEntries(relays: unknown): Uint8Array[] {
  if (relays === undefined) return []
  if (!Array.isArray(relays)) throw new TypeError('relays must be an array of strings')
  return relays.map((relay) => {
    if (typeof relay !== 'string' || relay === '') throw new TypeError('each relay must be a non-empty string')
    return tlvEntry(TLV_RELAY, utf8Encoder.encode(relay), `relay ${JSON.stringify(relay.slice(0, 40))}`)
  })
}

function kindBytes(kind: number): Uint8Array {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, kind, false)
  return bytes
}

export function npubEncode(hex: string): string {
  return encodeBech32('npub', hex32(hex, 'public key'))
}

export function nsecEncode(bytes: Uint8Array): string {
  checkSecretKey(bytes)
  return encodeBech32('nsec', bytes)
}

export function noteEncode(hex: string): string {
  return encodeBech32('note', hex32(hex, 'event id'))
}

export function nprofileEncode(profile: ProfilePointer): string {
  return encodeBech32('nprofile', concatBytes(
    tlvEntry(TLV_SPECIAL, hex32(profile.pubkey, 'pubkey'), 'pubkey'),
    ...relayEntries(profile.relays),
  ))
}

export function neventEncode(event: EventPointer): string {
  return encodeBech32('nevent', concatBytes(
    tlvEntry(TLV_SPECIAL, hex32(event.id, 'id'), 'id'),
    ...relayEntries(event.relays),
    ...(event.author === undefined ? [] : [tlvEntry(TLV_AUTHOR, hex32(event.author, 'author'), 'author')]),
    ...(event.kind === undefined ? [] : [tlvEntry(TLV_KIND, kindBytes(checkKind(event.kind)), 'kind')]),
  ))
}

export function naddrEncode(address: AddressPointer): string {
  if (typeof address.identifier !== 'string') throw new TypeError('identifier must be a string (the d tag; may be empty)')
  return encodeBech32('naddr', concatBytes(
    tlvEntry(TLV_SPECIAL, utf8Encoder.encode(address.identifier), 'identifier'),
    ...relayEntries(address.relays),
    tlvEntry(TLV_AUTHOR, hex32(address.pubkey, 'pubkey'), 'pubkey'),
    tlvEntry(TLV_KIND, kindBytes(checkKind(address.kind)), 'kind'),
  ))
}

/** TLV values by type, in order of appearance. */
function parseTlv(data: Uint8Array, prefix: string): Map<number, Uint8Array[]> {
  const entries = new Map<number, Uint8Array[]>()
  let at = 0
  while (at < data.length) {
    if (at + 2 > data.length) throw new Error(`invalid ${prefix}: truncated TLV header at byte ${at}`)
    const type = data[at]
    const length = data[at + 1]
    const start = at + 2
    if (start + length > data.length) throw new Error(`invalid ${prefix}: TLV type ${type} declares ${length} bytes but only ${data.length - start} remain`)
    const list = entries.get(type) ?? []
    list.push(data.subarray(start, start + length))
    entries.set(type, list)
    at = start + length
  }
  return entries
}

function utf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8Decoder.decode(bytes)
  } catch {
    throw new Error(`${what} is not valid UTF-8`)
  }
}

function requireOne(tlv: Map<number, Uint8Array[]>, type: number, prefix: string, what: string): Uint8Array {
  const value = tlv.get(type)?.[0]
  if (value === undefined) throw new Error(`invalid ${prefix}: missing ${what} (TLV type ${type})`)
  return value
}

function fixedLength(value: Uint8Array, length: number, prefix: string, what: string): Uint8Array {
  if (value.length !== length) throw new Error(`invalid ${prefix}: ${what} must be ${length} bytes, got ${value.length}`)
  return value
}

function decodeKind(value: Uint8Array, prefix: string): number {
  const kind = new DataView(fixedLength(value, 4, prefix, 'kind').buffer, value.byteOffset, 4).getUint32(0, false)
  if (kind > MAX_KIND) throw new Error(`invalid ${prefix}: kind ${kind} is above ${MAX_KIND}`)
  return kind
}

function decodeRelays(tlv: Map<number, Uint8Array[]>, prefix: string): string[] {
  return (tlv.get(TLV_RELAY) ?? []).map((bytes) => utf8(bytes, `invalid ${prefix}: relay`))
}

/** Decodes any NIP-19 string. Unknown TLV types are ignored; required ones must be present and well-formed. */
export function decode(str: string): DecodedNip19 {
  if (typeof str !== 'string') throw new TypeError('NIP-19 value must be a string')
  let prefix: string
  let data: Uint8Array
  try {
    const decoded = bech32.decode(str as `${string}1${string}`, BECH32_MAX_LENGTH)
    prefix = decoded.prefix
    data = bech32.fromWords(decoded.words)
  } catch (err) {
    throw new Error(`invalid bech32 string: ${(err as Error).message}`)
  }
  switch (prefix) {
    case 'npub':
      return { type: 'npub', data: bytesToHex(fixedLength(data, 32, prefix, 'public key')) }
    case 'note':
      return { type: 'note', data: bytesToHex(fixedLength(data, 32, prefix, 'event id')) }
    case 'nsec':
      fixedLength(data, 32, prefix, 'secret key')
      if (!secp256k1.utils.isValidSecretKey(data)) throw new Error('invalid nsec: not a valid secp256k1 secret key')
      return { type: 'nsec', data }
    case 'nprofile': {
      const tlv = parseTlv(data, prefix)
      const pubkey = fixedLength(requireOne(tlv, TLV_SPECIAL, prefix, 'pubkey'), 32, prefix, 'pubkey')
      return { type: 'nprofile', data: { pubkey: bytesToHex(pubkey), relays: decodeRelays(tlv, prefix) } }
    }
    case 'nevent': {
      const tlv = parseTlv(data, prefix)
      const id = fixedLength(requireOne(tlv, TLV_SPECIAL, prefix, 'event id'), 32, prefix, 'event id')
      const result: { id: string; relays: string[]; author?: string; kind?: number } = { id: bytesToHex(id), relays: decodeRelays(tlv, prefix) }
      const author = tlv.get(TLV_AUTHOR)?.[0]
      if (author !== undefined) result.author = bytesToHex(fixedLength(author, 32, prefix, 'author'))
      const kind = tlv.get(TLV_KIND)?.[0]
      if (kind !== undefined) result.kind = decodeKind(kind, prefix)
      return { type: 'nevent', data: result }
    }
    case 'naddr': {
      const tlv = parseTlv(data, prefix)
      const identifier = utf8(requireOne(tlv, TLV_SPECIAL, prefix, 'identifier'), 'invalid naddr: identifier')
      const pubkey = fixedLength(requireOne(tlv, TLV_AUTHOR, prefix, 'pubkey'), 32, prefix, 'pubkey')
      const kind = decodeKind(requireOne(tlv, TLV_KIND, prefix, 'kind'), prefix)
      return { type: 'naddr', data: { identifier, pubkey: bytesToHex(pubkey), kind, relays: decodeRelays(tlv, prefix) } }
    }
    default:
      throw new Error(`unsupported NIP-19 prefix ${JSON.stringify(prefix.slice(0, 20))} (expected npub, nsec, note, nprofile, nevent or naddr)`)
  }
}

/** A hex public key from user input: hex (any case), npub or nprofile. Refuses an nsec by name. */
export function decodeToHexPubkey(npubOrHex: string): string {
  if (typeof npubOrHex !== 'string') throw new TypeError('public key must be a string')
  const text = npubOrHex.trim()
  if (/^[0-9a-fA-F]{64}$/.test(text)) return text.toLowerCase()
  const decoded = decode(text)
  if (decoded.type === 'npub') return decoded.data
  if (decoded.type === 'nprofile') return decoded.data.pubkey
  if (decoded.type === 'nsec') throw new Error('expected a public key but got a secret key (nsec): never share it')
  throw new Error(`expected a public key (hex, npub or nprofile), got ${decoded.type}`)
}
