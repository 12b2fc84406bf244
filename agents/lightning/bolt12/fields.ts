import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js'
import { Bolt12Error } from './errors.js'
import {
  ByteReader, decodeTruncatedUint, encodeTruncatedUint, encodeU16, encodeU32, encodeU64, sortRecords, type TlvRecord,
} from './tlv.js'

/** Typed codecs for every TLV field of offers, invoice requests and invoices (BOLT 12, BOLT 4 blinded paths). */

interface Codec<T> {
  decode(value: Uint8Array, field: string): T
  encode(value: T, field: string): Uint8Array
}

/** A blinded path's introduction node: a node id, or a channel end (BOLT 1 `sciddir_or_pubkey`). */
export type IntroductionNode =
  | { nodeId: string }
  | { shortChannelId: string; direction: 0 | 1 }

export interface BlindedPathHop {
  blindedNodeId: string
  encryptedRecipientData: Uint8Array
}

export interface BlindedPath {
  introductionNode: IntroductionNode
  firstPathKey: string
  hops: BlindedPathHop[]
}

export interface BlindedPayinfo {
  feeBaseMsat: number
  feeProportionalMillionths: number
  cltvExpiryDelta: number
  htlcMinimumMsat: bigint
  htlcMaximumMsat: bigint
  features: Uint8Array
}

export interface FallbackAddress {
  version: number
  address: Uint8Array
}

export interface Bip353Name {
  name: string
  domain: string
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8Encoder = new TextEncoder()

const bytes: Codec<Uint8Array> = {
  decode: (v) => v.slice(),
  encode: (v) => v,
}

const utf8: Codec<string> = {
  decode(v, field) {
    try {
      return utf8Decoder.decode(v)
    } catch {
      throw new Bolt12Error(`${field}: invalid UTF-8`)
    }
  },
  encode(v, field) {
    const encoded = utf8Encoder.encode(v)
    // TextEncoder silently replaces lone surrogates with U+FFFD; refuse instead of changing the text.
    if (utf8Decoder.decode(encoded) !== v) throw new Bolt12Error(`${field}: string is not valid Unicode`)
    return encoded
  },
}

const tu64: Codec<bigint> = {
  decode: (v, field) => decodeTruncatedUint(v, 8, field),
  encode: (v, field) => encodeTruncatedUint(v, 8, field),
}

const tu32: Codec<number> = {
  decode: (v, field) => Number(decodeTruncatedUint(v, 4, field)),
  encode: (v, field) => encodeTruncatedUint(BigInt(v), 4, field),
}

function fixedHex(length: number): Codec<string> {
  return {
    decode(v, field) {
      if (v.length !== length) throw new Bolt12Error(`${field}: length ${v.length}, expected ${length}`)
      return bytesToHex(v)
    },
    encode(v, field) {
      if (!new RegExp(`^[0-9a-f]{${2 * length}}$`).test(v)) throw new Bolt12Error(`${field}: expected ${length} bytes of lower-case hex`)
      return hexToBytes(v)
    },
  }
}

function checkPoint(b: Uint8Array, field: string): string {
  if (b.length !== 33 || (b[0] !== 2 && b[0] !== 3)) throw new Bolt12Error(`${field}: not a compressed secp256k1 point`)
  try {
    secp256k1.Point.fromBytes(b)
  } catch {
    throw new Bolt12Error(`${field}: not a valid secp256k1 point`)
  }
  return bytesToHex(b)
}

const point: Codec<string> = {
  decode: (v, field) => checkPoint(v, field),
  encode: (v, field) => {
    const b = fixedHex(33).encode(v, field)
    checkPoint(b, field)
    return b
  },
}

const chainHashes: Codec<string[]> = {
  decode(v, field) {
    if (v.length === 0) throw new Bolt12Error(`${field}: present with zero chains`)
    if (v.length % 32 !== 0) throw new Bolt12Error(`${field}: length ${v.length} is not a multiple of 32`)
    const out: string[] = []
    for (let i = 0; i < v.length; i += 32) out.push(bytesToHex(v.subarray(i, i + 32)))
    return out
  },
  encode(v, field) {
    if (v.length === 0) throw new Bolt12Error(`${field}: present with zero chains`)
    return concatBytes(...v.map((c) => fixedHex(32).encode(c, field)))
  },
}

function parseShortChannelId(scid: string, field: string): bigint {
  const m = /^(\d+)x(\d+)x(\d+)$/.exec(scid)
  const [block, tx, output] = m ? [BigInt(m[1]), BigInt(m[2]), BigInt(m[3])] : [-1n, 0n, 0n]
  if (block < 0n || block >= 1n << 24n || tx >= 1n << 24n || output >= 1n << 16n) {
    throw new Bolt12Error(`${field}: short channel id '${scid}' is not BLOCKxTXxOUTPUT`)
  }
  return (block << 40n) | (tx << 16n) | output
}

function formatShortChannelId(scid: bigint): string {
  return `${scid >> 40n}x${(scid >> 16n) & 0xffffffn}x${scid & 0xffffn}`
}

function readBlindedPath(r: ByteReader, field: string): BlindedPath {
  const kind = r.u8('first_node_id')
  let introductionNode: IntroductionNode
  if (kind === 0 || kind === 1) {
    introductionNode = { shortChannelId: formatShortChannelId(r.u64('first_node_id short_channel_id')), direction: kind }
  } else if (kind === 2 || kind === 3) {
    introductionNode = { nodeId: checkPoint(concatBytes(Uint8Array.of(kind), r.take(32, 'first_node_id')), `${field} first_node_id`) }
  } else {
    throw new Bolt12Error(`${field}: first_node_id starts with ${kind}, neither sciddir (0, 1) nor point (2, 3)`)
  }
  const firstPathKey = checkPoint(r.take(33, 'first_path_key'), `${field} first_path_key`)
  const numHops = r.u8('num_hops')
  if (numHops === 0) throw new Bolt12Error(`${field}: blinded path with num_hops 0`)
  const hops: BlindedPathHop[] = []
  for (let i = 0; i < numHops; i++) {
    const blindedNodeId = checkPoint(r.take(33, 'blinded_node_id'), `${field} blinded_node_id`)
    const encryptedRecipientData = r.take(r.u16('enclen'), 'encrypted_recipient_data').slice()
    hops.push({ blindedNodeId, encryptedRecipientData })
  }
  return { introductionNode, firstPathKey, hops }
}

function writeBlindedPath(p: BlindedPath, field: string): Uint8Array {
  const intro = 'nodeId' in p.introductionNode
    ? point.encode(p.introductionNode.nodeId, `${field} first_node_id`)
    : concatBytes(Uint8Array.of(p.introductionNode.direction), encodeU64(parseShortChannelId(p.introductionNode.shortChannelId, field)))
  if (p.hops.length === 0 || p.hops.length > 255) throw new Bolt12Error(`${field}: a blinded path needs 1 to 255 hops`)
  const hops = p.hops.map((h) => {
    if (h.encryptedRecipientData.length > 0xffff) throw new Bolt12Error(`${field}: encrypted_recipient_data over 65535 bytes`)
    return concatBytes(point.encode(h.blindedNodeId, `${field} blinded_node_id`), encodeU16(h.encryptedRecipientData.length), h.encryptedRecipientData)
  })
  return concatBytes(intro, point.encode(p.firstPathKey, `${field} first_path_key`), Uint8Array.of(p.hops.length), ...hops)
}

/** A non-empty list of items filling the whole value. */
function listOf<T>(read: (r: ByteReader, field: string) => T, write: (v: T, field: string) => Uint8Array): Codec<T[]> {
  return {
    decode(v, field) {
      if (v.length === 0) throw new Bolt12Error(`${field}: present but empty`)
      const r = new ByteReader(v, field)
      const out: T[] = []
      while (r.remaining > 0) out.push(read(r, field))
      return out
    },
    encode(v, field) {
      if (v.length === 0) throw new Bolt12Error(`${field}: present but empty`)
      return concatBytes(...v.map((item) => write(item, field)))
    },
  }
}

const blindedPaths = listOf(readBlindedPath, writeBlindedPath)

const blindedPayinfos = listOf<BlindedPayinfo>(
  (r) => ({
    feeBaseMsat: r.u32('fee_base_msat'),
    feeProportionalMillionths: r.u32('fee_proportional_millionths'),
    cltvExpiryDelta: r.u16('cltv_expiry_delta'),
    htlcMinimumMsat: r.u64('htlc_minimum_msat'),
    htlcMaximumMsat: r.u64('htlc_maximum_msat'),
    features: r.take(r.u16('flen'), 'features').slice(),
  }),
  (p) => concatBytes(
    encodeU32(p.feeBaseMsat), encodeU32(p.feeProportionalMillionths), encodeU16(p.cltvExpiryDelta),
    encodeU64(p.htlcMinimumMsat), encodeU64(p.htlcMaximumMsat), encodeU16(p.features.length), p.features,
  ),
)

const fallbackAddresses = listOf<FallbackAddress>(
  (r) => ({ version: r.u8('version'), address: r.take(r.u16('len'), 'address').slice() }),
  (f) => concatBytes(Uint8Array.of(f.version), encodeU16(f.address.length), f.address),
)

const BIP353_CHARS = /^[0-9a-zA-Z\-_.]*$/

const bip353Name: Codec<Bip353Name> = {
  decode(v, field) {
    const r = new ByteReader(v, field)
    const name = new TextDecoder().decode(r.take(r.u8('name_len'), 'name'))
    const domain = new TextDecoder().decode(r.take(r.u8('domain_len'), 'domain'))
    if (r.remaining > 0) throw new Bolt12Error(`${field}: ${r.remaining} trailing bytes`)
    if (!BIP353_CHARS.test(name) || !BIP353_CHARS.test(domain)) {
      throw new Bolt12Error(`${field}: name and domain may only contain 0-9 a-z A-Z - _ .`)
    }
    return { name, domain }
  },
  encode(v, field) {
    if (!BIP353_CHARS.test(v.name) || !BIP353_CHARS.test(v.domain) || v.name.length > 255 || v.domain.length > 255) {
      throw new Bolt12Error(`${field}: name and domain must be at most 255 of 0-9 a-z A-Z - _ .`)
    }
    const name = utf8Encoder.encode(v.name)
    const domain = utf8Encoder.encode(v.domain)
    return concatBytes(Uint8Array.of(name.length), name, Uint8Array.of(domain.length), domain)
  },
}

function field<T>(type: number, specName: string, codec: Codec<T>) {
  return { type, specName, codec }
}

/** Every field BOLT 12 defines, keyed by the camel-cased spec name. */
export const FIELDS = {
  invreqMetadata: field(0, 'invreq_metadata', bytes),
  offerChains: field(2, 'offer_chains', chainHashes),
  offerMetadata: field(4, 'offer_metadata', bytes),
  offerCurrency: field(6, 'offer_currency', utf8),
  offerAmount: field(8, 'offer_amount', tu64),
  offerDescription: field(10, 'offer_description', utf8),
  offerFeatures: field(12, 'offer_features', bytes),
  offerAbsoluteExpiry: field(14, 'offer_absolute_expiry', tu64),
  offerPaths: field(16, 'offer_paths', blindedPaths),
  offerIssuer: field(18, 'offer_issuer', utf8),
  offerQuantityMax: field(20, 'offer_quantity_max', tu64),
  offerIssuerId: field(22, 'offer_issuer_id', point),
  invreqChain: field(80, 'invreq_chain', fixedHex(32)),
  invreqAmount: field(82, 'invreq_amount', tu64),
  invreqFeatures: field(84, 'invreq_features', bytes),
  invreqQuantity: field(86, 'invreq_quantity', tu64),
  invreqPayerId: field(88, 'invreq_payer_id', point),
  invreqPayerNote: field(89, 'invreq_payer_note', utf8),
  invreqPaths: field(90, 'invreq_paths', blindedPaths),
  invreqBip353Name: field(91, 'invreq_bip_353_name', bip353Name),
  invoicePaths: field(160, 'invoice_paths', blindedPaths),
  invoiceBlindedpay: field(162, 'invoice_blindedpay', blindedPayinfos),
  invoiceCreatedAt: field(164, 'invoice_created_at', tu64),
  invoiceRelativeExpiry: field(166, 'invoice_relative_expiry', tu32),
  invoicePaymentHash: field(168, 'invoice_payment_hash', fixedHex(32)),
  invoiceAmount: field(170, 'invoice_amount', tu64),
  invoiceFallbacks: field(172, 'invoice_fallbacks', fallbackAddresses),
  invoiceFeatures: field(174, 'invoice_features', bytes),
  invoiceNodeId: field(176, 'invoice_node_id', point),
  signature: field(240, 'signature', fixedHex(64)),
}

export type FieldName = keyof typeof FIELDS
export type Fields = {
  [K in FieldName]?: (typeof FIELDS)[K]['codec'] extends Codec<infer T> ? T : never
}

export const OFFER_FIELDS = [
  'offerChains', 'offerMetadata', 'offerCurrency', 'offerAmount', 'offerDescription', 'offerFeatures',
  'offerAbsoluteExpiry', 'offerPaths', 'offerIssuer', 'offerQuantityMax', 'offerIssuerId',
] as const satisfies readonly FieldName[]

export const INVREQ_FIELDS = [
  'invreqMetadata', ...OFFER_FIELDS, 'invreqChain', 'invreqAmount', 'invreqFeatures', 'invreqQuantity',
  'invreqPayerId', 'invreqPayerNote', 'invreqPaths', 'invreqBip353Name', 'signature',
] as const satisfies readonly FieldName[]

export const INVOICE_FIELDS = [
  ...INVREQ_FIELDS, 'invoicePaths', 'invoiceBlindedpay', 'invoiceCreatedAt', 'invoiceRelativeExpiry',
  'invoicePaymentHash', 'invoiceAmount', 'invoiceFallbacks', 'invoiceFeatures', 'invoiceNodeId',
] as const satisfies readonly FieldName[]

/** Which TLV types a message may carry at all, and which of them this codec understands. */
export interface MessageSchema {
  name: 'offer' | 'invoice_request' | 'invoice'
  ranges: ReadonlyArray<readonly [number, number]>
  fields: readonly FieldName[]
}

export interface DecodedFields {
  fields: Fields
  /** Unknown odd records, kept so they can be copied verbatim (e.g. offer fields into an invoice request). */
  unknownFields: TlvRecord[]
}

export function decodeFields(records: readonly TlvRecord[], schema: MessageSchema): DecodedFields {
  const byType = new Map(schema.fields.map((name) => [FIELDS[name].type, name]))
  const fields: Record<string, unknown> = {}
  const unknownFields: TlvRecord[] = []
  for (const record of records) {
    if (!schema.ranges.some(([lo, hi]) => record.type >= lo && record.type <= hi)) {
      throw new Bolt12Error(`${schema.name}: TLV type ${record.type} is outside the ranges allowed in this message`)
    }
    const name = byType.get(record.type)
    if (name !== undefined) {
      const { specName, codec } = FIELDS[name]
      fields[name] = codec.decode(record.value, specName)
    } else if (record.type % 2 === 0) {
      throw new Bolt12Error(`${schema.name}: unknown even TLV type ${record.type}`)
    } else {
      unknownFields.push({ type: record.type, value: record.value.slice() })
    }
  }
  return { fields: fields as Fields, unknownFields }
}

/** Encodes the schema's fields present in `fields` plus `unknownFields`, sorted into a canonical stream. */
export function encodeFields(fields: Fields, unknownFields: readonly TlvRecord[], schema: MessageSchema): TlvRecord[] {
  const records: TlvRecord[] = []
  for (const name of schema.fields) {
    const value = fields[name]
    if (value === undefined) continue
    const { type, specName, codec } = FIELDS[name]
    records.push({ type, value: (codec as Codec<typeof value>).encode(value, specName) })
  }
  const known = new Set(schema.fields.map((n) => FIELDS[n].type))
  for (const record of unknownFields) {
    if (known.has(record.type) || record.type % 2 === 0) {
      throw new Bolt12Error(`${schema.name}: unknown field type ${record.type} must be odd and not a known field`)
    }
  }
  return sortRecords([...records, ...unknownFields])
}

/** The lowest even feature bit set in `features` (big-endian bitmap, bit 0 = least significant) not in `known`. */
export function unknownEvenFeature(features: Uint8Array, known: readonly number[] = []): number | undefined {
  for (let bit = 0; bit < features.length * 8; bit += 2) {
    const byte = features[features.length - 1 - (bit >> 3)]
    if ((byte >> (bit & 7)) & 1 && !known.includes(bit)) return bit
  }
  return undefined
}

export function hasFeature(features: Uint8Array | undefined, bit: number): boolean {
  if (!features || bit >> 3 >= features.length) return false
  return ((features[features.length - 1 - (bit >> 3)] >> (bit & 7)) & 1) === 1
}
