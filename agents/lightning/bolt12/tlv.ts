import { concatBytes } from '@noble/hashes/utils.js'
import { Bolt12Error } from './errors.js'

/** BOLT 1 TLV primitives: BigSize, truncated integers and strict TLV streams. */

export interface TlvRecord {
  type: number
  value: Uint8Array
}

const U64_MAX = (1n << 64n) - 1n

/** Reads fixed-size fields from a byte array, failing with the field name when bytes run out. */
export class ByteReader {
  private offset = 0
  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  get remaining(): number {
    return this.bytes.length - this.offset
  }

  take(n: number, field: string): Uint8Array {
    if (n > this.remaining) throw new Bolt12Error(`${this.what}: truncated ${field}`)
    const out = this.bytes.subarray(this.offset, this.offset + n)
    this.offset += n
    return out
  }

  u8(field: string): number {
    return this.take(1, field)[0]
  }

  u16(field: string): number {
    const b = this.take(2, field)
    return (b[0] << 8) | b[1]
  }

  u32(field: string): number {
    return Number(readUint(this.take(4, field)))
  }

  u64(field: string): bigint {
    return readUint(this.take(8, field))
  }

  bigSize(field: string): bigint {
    const first = this.u8(field)
    if (first < 0xfd) return BigInt(first)
    const width = first === 0xfd ? 2 : first === 0xfe ? 4 : 8
    const value = readUint(this.take(width, field))
    const minimum = first === 0xfd ? 0xfdn : first === 0xfe ? 0x10000n : 0x100000000n
    if (value < minimum) throw new Bolt12Error(`${this.what}: ${field} is not minimally encoded`)
    return value
  }
}

function readUint(bytes: Uint8Array): bigint {
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

function writeUint(value: bigint, width: number): Uint8Array {
  const out = new Uint8Array(width)
  let v = value
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

export function encodeBigSize(value: bigint | number): Uint8Array {
  const v = BigInt(value)
  if (v < 0n || v > U64_MAX) throw new Bolt12Error(`BigSize out of range: ${v}`)
  if (v < 0xfdn) return Uint8Array.of(Number(v))
  if (v <= 0xffffn) return concatBytes(Uint8Array.of(0xfd), writeUint(v, 2))
  if (v <= 0xffffffffn) return concatBytes(Uint8Array.of(0xfe), writeUint(v, 4))
  return concatBytes(Uint8Array.of(0xff), writeUint(v, 8))
}

export const encodeU16 = (v: number): Uint8Array => writeUint(BigInt(v), 2)
export const encodeU32 = (v: number): Uint8Array => writeUint(BigInt(v), 4)
export const encodeU64 = (v: bigint): Uint8Array => writeUint(v, 8)

/** Truncated unsigned integer (tu16/tu32/tu64): big-endian without leading zero bytes; zero is empty. */
export function decodeTruncatedUint(value: Uint8Array, maxBytes: number, field: string): bigint {
  if (value.length > maxBytes) throw new Bolt12Error(`${field}: longer than ${maxBytes} bytes`)
  if (value.length > 0 && value[0] === 0) throw new Bolt12Error(`${field}: not minimally encoded (leading zero)`)
  return readUint(value)
}

export function encodeTruncatedUint(value: bigint, maxBytes: number, field: string): Uint8Array {
  if (value < 0n || value >= 1n << BigInt(8 * maxBytes)) throw new Bolt12Error(`${field}: ${value} out of range`)
  let width = 0
  for (let v = value; v > 0n; v >>= 8n) width++
  return writeUint(value, width)
}

/**
 * Parses a whole TLV stream: minimal BigSize types and lengths, strictly increasing types, no truncation.
 * Types are returned as numbers: every BOLT 12 range ends below 2^32, so larger types are rejected here.
 */
export function parseTlvStream(bytes: Uint8Array, what = 'tlv stream'): TlvRecord[] {
  const reader = new ByteReader(bytes, what)
  const records: TlvRecord[] = []
  let previous = -1
  while (reader.remaining > 0) {
    const bigType = reader.bigSize('type')
    if (bigType > BigInt(Number.MAX_SAFE_INTEGER)) throw new Bolt12Error(`${what}: type ${bigType} outside every BOLT 12 range`)
    const type = Number(bigType)
    if (type <= previous) throw new Bolt12Error(`${what}: type ${type} not strictly increasing after ${previous}`)
    const length = reader.bigSize(`length of type ${type}`)
    if (length > BigInt(reader.remaining)) throw new Bolt12Error(`${what}: truncated value of type ${type}`)
    records.push({ type, value: reader.take(Number(length), `value of type ${type}`) })
    previous = type
  }
  return records
}

export function encodeTlvRecord(record: TlvRecord): Uint8Array {
  return concatBytes(encodeBigSize(record.type), encodeBigSize(record.value.length), record.value)
}

/** Serializes records in the order given; callers sort them (see sortRecords) so the stream is canonical. */
export function serializeTlvStream(records: readonly TlvRecord[]): Uint8Array {
  return concatBytes(...records.map(encodeTlvRecord))
}

export function sortRecords(records: readonly TlvRecord[]): TlvRecord[] {
  const sorted = [...records].sort((a, b) => a.type - b.type)
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].type === sorted[i - 1].type) throw new Bolt12Error(`tlv stream: duplicate type ${sorted[i].type}`)
  }
  return sorted
}
