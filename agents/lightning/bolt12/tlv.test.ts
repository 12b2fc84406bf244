import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Bolt12Error } from './errors.js'
import {
  ByteReader, decodeTruncatedUint, encodeBigSize, encodeTruncatedUint, parseTlvStream, serializeTlvStream, sortRecords,
} from './tlv.js'

describe('BigSize (BOLT 1 appendix A vectors)', () => {
  const valid: Array<[bigint, string]> = [
    [0n, '00'], [252n, 'fc'], [253n, 'fd00fd'], [65535n, 'fdffff'], [65536n, 'fe00010000'],
    [4294967295n, 'feffffffff'], [4294967296n, 'ff0000000100000000'], [18446744073709551615n, 'ffffffffffffffffff'],
  ]
  for (const [value, hex] of valid) {
    it(`${value} <-> ${hex}`, () => {
      expect(bytesToHex(encodeBigSize(value))).toBe(hex)
      expect(new ByteReader(hexToBytes(hex), 't').bigSize('x')).toBe(value)
    })
  }
  for (const hex of ['fd00fc', 'fe0000ffff', 'ff00000000ffffffff']) {
    it(`rejects non-canonical ${hex}`, () => {
      expect(() => new ByteReader(hexToBytes(hex), 't').bigSize('x')).toThrow(/not minimally encoded/)
    })
  }
  for (const hex of ['fd00', 'feffff', 'ffffffffff', '']) {
    it(`rejects truncated '${hex}'`, () => {
      expect(() => new ByteReader(hexToBytes(hex), 't').bigSize('x')).toThrow(/truncated/)
    })
  }
})

describe('truncated integers', () => {
  it('encodes minimally and rejects leading zeros and overlong values', () => {
    expect(bytesToHex(encodeTruncatedUint(0n, 8, 'f'))).toBe('')
    expect(bytesToHex(encodeTruncatedUint(256n, 8, 'f'))).toBe('0100')
    expect(decodeTruncatedUint(hexToBytes('0100'), 8, 'f')).toBe(256n)
    expect(() => decodeTruncatedUint(hexToBytes('0001'), 8, 'f')).toThrow(/minimally/)
    expect(() => decodeTruncatedUint(hexToBytes('010000000000000000'), 8, 'f')).toThrow(/longer than 8/)
    expect(() => encodeTruncatedUint(1n << 32n, 4, 'f')).toThrow(/out of range/)
  })
  it('round-trips every u64', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => {
      expect(decodeTruncatedUint(encodeTruncatedUint(v, 8, 'f'), 8, 'f')).toBe(v)
    }))
  })
})

describe('TLV streams', () => {
  it('rejects disorder, duplicates, truncation and non-minimal lengths', () => {
    expect(() => parseTlvStream(hexToBytes('0200' + '0100'))).toThrow(/not strictly increasing/)
    expect(() => parseTlvStream(hexToBytes('0100' + '0100'))).toThrow(/not strictly increasing/)
    expect(() => parseTlvStream(hexToBytes('0102ff'))).toThrow(/truncated value/)
    expect(() => parseTlvStream(hexToBytes('01fd0001ff'))).toThrow(/not minimally encoded/)
    expect(() => parseTlvStream(hexToBytes('ff0000000100000000' + '00'))).not.toThrow()
    expect(() => parseTlvStream(hexToBytes('ff0020000000000000' + '00'))).toThrow(/outside every BOLT 12 range/)
    expect(() => sortRecords([{ type: 1, value: new Uint8Array() }, { type: 1, value: new Uint8Array() }])).toThrow(Bolt12Error)
  })
  it('round-trips sorted records', () => {
    const records = fc.uniqueArray(
      fc.record({ type: fc.integer({ min: 0, max: 4_000_000_000 }), value: fc.uint8Array({ maxLength: 300 }) }),
      { selector: (r) => r.type, maxLength: 10 },
    )
    fc.assert(fc.property(records, (rs) => {
      const sorted = sortRecords(rs)
      expect(parseTlvStream(serializeTlvStream(sorted))).toEqual(sorted)
    }))
  })
})
