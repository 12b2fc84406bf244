import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as tools from 'nostr-tools/nip19'
import { bech32 } from '@scure/base'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import {
  BECH32_MAX_LENGTH, decode, decodeToHexPubkey, naddrEncode, neventEncode, noteEncode, nprofileEncode, npubEncode, nsecEncode,
} from './19.js'

const rawBech32 = (prefix: string, bytes: Uint8Array | number[]) => bech32.encode(prefix, bech32.toWords(Uint8Array.from(bytes)), BECH32_MAX_LENGTH)
const tlv = (type: number, value: Uint8Array | number[]) => [type, value.length, ...value]

describe('NIP-19 spec examples', () => {
  it('encodes and decodes the npub example both ways', () => {
    const hex = '7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e'
    const npub = 'npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg'
    expect(npubEncode(hex)).toBe(npub)
    expect(decode(npub)).toEqual({ type: 'npub', data: hex })
    expect(npubEncode('3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d'))
      .toBe('npub180cvv07tjdrrgpa0j7j7tmnyl2yr6yr7l8j4s3evf6u64th6gkwsyjh6w6')
  })
  it('encodes and decodes the nsec example both ways', () => {
    const hex = '67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa'
    const nsec = 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5'
    expect(nsecEncode(hexToBytes(hex))).toBe(nsec)
    const decoded = decode(nsec)
    expect(decoded.type).toBe('nsec')
    expect(bytesToHex(decoded.data as Uint8Array)).toBe(hex)
  })
  it('decodes the nprofile example and re-encodes it identically', () => {
    const nprofile = 'nprofile1qqsrhuxx8l9ex335q7he0f09aej04zpazpl0ne2cgukyawd24mayt8gpp4mhxue69uhhytnc9e3k7mgpz4mhxue69uhkg6nzv9ejuumpv34kytnrdaksjlyr9p'
    const profile = { pubkey: '3bf0c63fcb93463407af97a5e5ee64fa883d107ef9e558472c4eb9aaaefa459d', relays: ['wss://r.x.com', 'wss://djbas.sadkb.com'] }
    expect(decode(nprofile)).toEqual({ type: 'nprofile', data: profile })
    expect(nprofileEncode(profile)).toBe(nprofile)
  })
})

describe('NIP-19 TLV pointers', () => {
  const id = 'ab'.repeat(32)
  const pubkey = 'cd'.repeat(32)
  it('round-trips nevent with and without optional fields (kind 0 included)', () => {
    expect(decode(noteEncode(id))).toEqual({ type: 'note', data: id })
    expect(decode(neventEncode({ id }))).toEqual({ type: 'nevent', data: { id, relays: [] } })
    const full = { id, relays: ['wss://a.example', 'wss://b.example'], author: pubkey, kind: 0 }
    expect(decode(neventEncode(full))).toEqual({ type: 'nevent', data: full })
  })
  it('round-trips naddr including an empty identifier and UTF-8 identifiers', () => {
    for (const identifier of ['', 'my-article', 'ünïcödé ✓']) {
      const address = { identifier, pubkey, kind: 30023, relays: ['wss://r.example'] }
      expect(decode(naddrEncode(address))).toEqual({ type: 'naddr', data: address })
    }
    expect(decode(naddrEncode({ identifier: 'x', pubkey, kind: 30000 }))).toEqual({ type: 'naddr', data: { identifier: 'x', pubkey, kind: 30000, relays: [] } })
  })
  it('ignores unknown TLV types and uses the first of repeated single-valued ones', () => {
    const bytes = [...tlv(9, [1, 2, 3]), ...tlv(0, hexToBytes(id)), ...tlv(0, hexToBytes(pubkey)), ...tlv(1, new TextEncoder().encode('wss://x')), ...tlv(200, [])]
    expect(decode(rawBech32('nevent', bytes))).toEqual({ type: 'nevent', data: { id, relays: ['wss://x'] } })
  })
  it('accepts an all-uppercase string (valid bech32) and rejects mixed case', () => {
    const npub = npubEncode(pubkey)
    expect(decode(npub.toUpperCase())).toEqual({ type: 'npub', data: pubkey })
    expect(() => decode(npub.slice(0, 10) + npub.slice(10).toUpperCase())).toThrow(/invalid bech32 string/)
  })
})

describe('NIP-19 rejects bad input with the reason', () => {
  const id = 'ab'.repeat(32)
  const pubkey = 'cd'.repeat(32)
  it('on encode', () => {
    expect(() => npubEncode('AB'.repeat(32))).toThrow(/public key must be 64 lowercase hex/)
    expect(() => npubEncode('ab')).toThrow(/64 lowercase hex/)
    expect(() => noteEncode(undefined as unknown as string)).toThrow(/event id/)
    expect(() => nsecEncode(new Uint8Array(31))).toThrow(/32-byte Uint8Array/)
    expect(() => nsecEncode(new Uint8Array(32))).toThrow(/not a valid secp256k1 scalar/)
    expect(() => nsecEncode('ab'.repeat(32) as unknown as Uint8Array)).toThrow(TypeError)
    expect(() => nprofileEncode({ pubkey, relays: ['wss://' + 'a'.repeat(260)] })).toThrow(/at most 255/)
    expect(() => nprofileEncode({ pubkey, relays: [''] })).toThrow(/non-empty string/)
    expect(() => nprofileEncode({ pubkey, relays: 'wss://x' as unknown as string[] })).toThrow(/array of strings/)
    expect(() => neventEncode({ id, kind: 70000 })).toThrow(/kind must be an integer/)
    expect(() => neventEncode({ id, kind: 1.5 })).toThrow(/kind must be an integer/)
    expect(() => neventEncode({ id, author: 'nope' })).toThrow(/author must be 64/)
    expect(() => naddrEncode({ identifier: 'x'.repeat(256), pubkey, kind: 30023 })).toThrow(/identifier is 256 bytes/)
    expect(() => naddrEncode({ identifier: undefined as unknown as string, pubkey, kind: 30023 })).toThrow(/identifier must be a string/)
    expect(() => naddrEncode({ identifier: 'x', pubkey, kind: -1 })).toThrow(/kind/)
  })
  it('on decode', () => {
    expect(() => decode(42 as unknown as string)).toThrow(TypeError)
    expect(() => decode('npub1xyz')).toThrow(/invalid bech32 string/)
    expect(() => decode('hello')).toThrow(/invalid bech32 string/)
    const npub = npubEncode(pubkey)
    expect(() => decode(npub.slice(0, -1) + (npub.endsWith('q') ? 'p' : 'q'))).toThrow(/invalid bech32 string/)
    expect(() => decode(rawBech32('npub', new Uint8Array(31)))).toThrow(/invalid npub: public key must be 32 bytes, got 31/)
    expect(() => decode(rawBech32('note', new Uint8Array(33)))).toThrow(/invalid note: event id must be 32 bytes/)
    expect(() => decode(rawBech32('nsec', new Uint8Array(32)))).toThrow(/not a valid secp256k1 secret key/)
    expect(() => decode(rawBech32('nsec', new Uint8Array(32).fill(0xff)))).toThrow(/not a valid secp256k1 secret key/)
    expect(() => decode(rawBech32('nrelay', tlv(0, [1])))).toThrow(/unsupported NIP-19 prefix "nrelay"/)
    expect(() => decode(rawBech32('nprofile', tlv(1, [0x61])))).toThrow(/invalid nprofile: missing pubkey \(TLV type 0\)/)
    expect(() => decode(rawBech32('nprofile', tlv(0, [1, 2])))).toThrow(/pubkey must be 32 bytes, got 2/)
    expect(() => decode(rawBech32('nprofile', [...tlv(0, new Uint8Array(32)), 1]))).toThrow(/truncated TLV header/)
    expect(() => decode(rawBech32('nprofile', [0, 32, 1, 2]))).toThrow(/declares 32 bytes but only 2 remain/)
    expect(() => decode(rawBech32('nprofile', [...tlv(0, new Uint8Array(32)), ...tlv(1, [0xff, 0xfe])]))).toThrow(/relay is not valid UTF-8/)
    expect(() => decode(rawBech32('nevent', tlv(2, new Uint8Array(32))))).toThrow(/missing event id/)
    expect(() => decode(rawBech32('nevent', [...tlv(0, new Uint8Array(32)), ...tlv(2, [1])]))).toThrow(/author must be 32 bytes/)
    expect(() => decode(rawBech32('nevent', [...tlv(0, new Uint8Array(32)), ...tlv(3, [1, 2])]))).toThrow(/kind must be 4 bytes/)
    expect(() => decode(rawBech32('nevent', [...tlv(0, new Uint8Array(32)), ...tlv(3, [0, 1, 0, 0])]))).toThrow(/kind 65536 is above 65535/)
    const author = tlv(2, new Uint8Array(32))
    const kind = tlv(3, [0, 0, 0x75, 0x30])
    expect(() => decode(rawBech32('naddr', [...author, ...kind]))).toThrow(/missing identifier/)
    expect(() => decode(rawBech32('naddr', [...tlv(0, []), ...kind]))).toThrow(/missing pubkey/)
    expect(() => decode(rawBech32('naddr', [...tlv(0, []), ...author]))).toThrow(/missing kind/)
    expect(() => decode(rawBech32('naddr', [...tlv(0, [0xc3]), ...author, ...kind]))).toThrow(/identifier is not valid UTF-8/)
    expect(decode(rawBech32('naddr', [...tlv(0, []), ...author, ...kind]))).toEqual({ type: 'naddr', data: { identifier: '', pubkey: '00'.repeat(32), kind: 30000, relays: [] } })
  })
  it('enforces the 5000-character limit', () => {
    const relays = Array.from({ length: 20 }, (_, i) => `wss://${String(i).padStart(3, '0')}${'r'.repeat(200)}.example`)
    expect(() => nprofileEncode({ pubkey, relays })).toThrow()
    const justUnder = Array.from({ length: 14 }, () => `wss://${'r'.repeat(200)}.example`)
    expect(decode(nprofileEncode({ pubkey, relays: justUnder })).type).toBe('nprofile')
  })
})

describe('decodeToHexPubkey', () => {
  const sk = secp256k1.utils.randomSecretKey()
  const pubkey = bytesToHex(secp256k1.getPublicKey(sk).subarray(1))
  it('accepts hex in any case, npub and nprofile', () => {
    expect(decodeToHexPubkey(pubkey)).toBe(pubkey)
    expect(decodeToHexPubkey(` ${pubkey.toUpperCase()} `)).toBe(pubkey)
    expect(decodeToHexPubkey(npubEncode(pubkey))).toBe(pubkey)
    expect(decodeToHexPubkey(nprofileEncode({ pubkey, relays: ['wss://r.example'] }))).toBe(pubkey)
  })
  it('refuses secrets, other entities and garbage', () => {
    expect(() => decodeToHexPubkey(nsecEncode(sk))).toThrow(/secret key \(nsec\)/)
    expect(() => decodeToHexPubkey(noteEncode(pubkey))).toThrow(/got note/)
    expect(() => decodeToHexPubkey('abc')).toThrow(/invalid bech32/)
    expect(() => decodeToHexPubkey(null as unknown as string)).toThrow(TypeError)
  })
})

describe('NIP-19 agrees with nostr-tools', () => {
  const hex = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex)
  const relays = fc.array(fc.webUrl({ validSchemes: ['wss', 'ws'] }).filter((u) => u.length <= 255), { maxLength: 3 })
  const kind = fc.integer({ min: 0, max: 65535 })
  const identifier = fc.string({ unit: 'grapheme', maxLength: 40 })

  it('npub, note and nsec encode identically and decode each other', () => {
    fc.assert(fc.property(hex, (h) => {
      expect(npubEncode(h)).toBe(tools.npubEncode(h))
      expect(noteEncode(h)).toBe(tools.noteEncode(h))
      expect(decode(tools.npubEncode(h))).toEqual(tools.decode(npubEncode(h)))
      const key = hexToBytes(h)
      if (!secp256k1.utils.isValidSecretKey(key)) return
      expect(nsecEncode(key)).toBe(tools.nsecEncode(key))
      expect(decode(tools.nsecEncode(key)).data).toEqual(key)
    }))
  })
  it('nprofile, nevent and naddr decode across implementations', () => {
    fc.assert(fc.property(hex, relays, (pubkey, relays) => {
      const ours = { pubkey, relays }
      expect(tools.decode(nprofileEncode(ours))).toEqual({ type: 'nprofile', data: ours })
      expect(decode(tools.nprofileEncode(ours))).toEqual({ type: 'nprofile', data: ours })
    }))
    fc.assert(fc.property(hex, relays, fc.option(hex, { nil: undefined }), fc.option(kind, { nil: undefined }), (id, relays, author, k) => {
      const pointer = { id, relays, ...(author === undefined ? {} : { author }), ...(k === undefined ? {} : { kind: k }) }
      const fromTools = tools.decode(neventEncode(pointer))
      expect(fromTools.type).toBe('nevent')
      expect({ ...fromTools.data as object }).toEqual({ id, relays, author, kind: k })
      expect(decode(tools.neventEncode(pointer))).toEqual({ type: 'nevent', data: pointer })
    }))
    fc.assert(fc.property(identifier, hex, kind, relays, (identifier, pubkey, kind, relays) => {
      const address = { identifier, pubkey, kind, relays }
      expect(tools.decode(naddrEncode(address))).toEqual({ type: 'naddr', data: address })
      expect(decode(tools.naddrEncode(address))).toEqual({ type: 'naddr', data: address })
    }))
  })
  it('never throws anything but an Error with a message on random strings', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), hex.map((h) => npubEncode(h).slice(0, 20) + h.slice(0, 5))), (s) => {
      try {
        decode(s)
      } catch (err) {
        expect(err).toBeInstanceOf(Error)
        expect((err as Error).message.length).toBeGreaterThan(0)
      }
    }))
  })
})
