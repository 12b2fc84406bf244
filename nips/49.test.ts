import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import * as tools from 'nostr-tools/nip49'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { scrypt } from '@noble/hashes/scrypt.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToHex, concatBytes } from '@noble/hashes/utils.js'
import { bech32 } from '@scure/base'
import { generateSecretKey } from './01.js'
import { decryptSecretKey, encryptSecretKey } from './49.js'

const toBytes = (ncryptsec: string) => bech32.fromWords(bech32.decode(ncryptsec as `${string}1${string}`, 5000).words)
const fromBytes = (bytes: Uint8Array) => bech32.encode('ncryptsec', bech32.toWords(bytes), 5000)

describe('NIP-49 spec test data', () => {
  const ncryptsec = 'ncryptsec1qgg9947rlpvqu76pj5ecreduf9jxhselq2nae2kghhvd5g7dgjtcxfqtd67p9m0w57lspw8gsq6yphnm8623nsl8xn9j4jdzz84zm3frztj3z7s35vpzmqf6ksu8r89qk5z2zxfmu5gv8th8wclt0h4p'
  it('decrypts with password "nostr" at logN 16 to the given key', () => {
    expect(toBytes(ncryptsec)[1]).toBe(16)
    expect(bytesToHex(decryptSecretKey(ncryptsec, 'nostr'))).toBe('3501454135014541350145413501453fefb02227e449e57cf4d3a3ce05378683')
  })
  it('refuses a wrong password with a clear error', () => {
    expect(() => decryptSecretKey(ncryptsec, 'Nostr')).toThrow('could not decrypt ncryptsec: wrong password or corrupted data')
  })
})

describe('NIP-49 encryption', () => {
  const sk = generateSecretKey()
  it('produces 91-byte v2 payloads with the chosen logN, nonce and key-security byte, and round-trips', () => {
    const nonce = new Uint8Array(24).fill(9)
    const ncryptsec = encryptSecretKey(sk, 'correct horse', { logN: 4, keySecurity: 0x01, nonce })
    const bytes = toBytes(ncryptsec)
    expect(ncryptsec.startsWith('ncryptsec1')).toBe(true)
    expect(bytes.length).toBe(91)
    expect([bytes[0], bytes[1], bytes[42]]).toEqual([2, 4, 1])
    expect(bytes.subarray(18, 42)).toEqual(nonce)
    expect(decryptSecretKey(ncryptsec, 'correct horse')).toEqual(sk)
    expect(toBytes(encryptSecretKey(sk, 'x', { logN: 2 }))[42]).toBe(2)
  })
  it('salts every encryption, so equal inputs give different outputs', () => {
    const nonce = new Uint8Array(24)
    expect(encryptSecretKey(sk, 'pw', { logN: 2, nonce })).not.toBe(encryptSecretKey(sk, 'pw', { logN: 2, nonce }))
  })
  it('normalizes passwords to NFKC', () => {
    const ncryptsec = encryptSecretKey(sk, '\u212Bngstr\u00f6m', { logN: 2 }) // ANGSTROM SIGN, composed ö
    expect(decryptSecretKey(ncryptsec, '\u00C5ngstro\u0308m')).toEqual(sk) // LATIN A WITH RING, decomposed ö
    expect(() => decryptSecretKey(ncryptsec, 'angstrom')).toThrow(/wrong password/)
  })
  it('authenticates the key-security byte', () => {
    const bytes = toBytes(encryptSecretKey(sk, 'pw', { logN: 2, keySecurity: 0x00 }))
    bytes[42] = 0x01
    expect(() => decryptSecretKey(fromBytes(bytes), 'pw')).toThrow(/wrong password or corrupted/)
  })
  it('rejects bad arguments with the reason', () => {
    expect(() => encryptSecretKey(new Uint8Array(31), 'pw')).toThrow(/32-byte Uint8Array/)
    expect(() => encryptSecretKey(new Uint8Array(32), 'pw')).toThrow(/not a valid secp256k1 scalar/)
    expect(() => encryptSecretKey(sk, 5 as unknown as string)).toThrow(/password must be a string/)
    expect(() => encryptSecretKey(sk, 'pw', { logN: 0 })).toThrow(/logN must be an integer 1..22, got 0/)
    expect(() => encryptSecretKey(sk, 'pw', { logN: 23 })).toThrow(/logN must be/)
    expect(() => encryptSecretKey(sk, 'pw', { logN: 2.5 })).toThrow(/logN must be/)
    expect(() => encryptSecretKey(sk, 'pw', { logN: 2, keySecurity: 3 as 0 })).toThrow(/keySecurity must be/)
    expect(() => encryptSecretKey(sk, 'pw', { logN: 2, nonce: new Uint8Array(12) })).toThrow(/nonce must be a 24-byte/)
  })
  it('rejects malformed ncryptsec strings with the reason', () => {
    const good = toBytes(encryptSecretKey(sk, 'pw', { logN: 2 }))
    const variant = (i: number, value: number) => { const b = good.slice(); b[i] = value; return fromBytes(b) }
    expect(() => decryptSecretKey(7 as unknown as string, 'pw')).toThrow(/ncryptsec must be a string/)
    expect(() => decryptSecretKey(fromBytes(good), null as unknown as string)).toThrow(/password must be a string/)
    expect(() => decryptSecretKey('ncryptsec1qqqq', 'pw')).toThrow(/invalid ncryptsec/)
    expect(() => decryptSecretKey(bech32.encode('nsec', bech32.toWords(good), 5000), 'pw')).toThrow(/prefix is "nsec", expected "ncryptsec"/)
    expect(() => decryptSecretKey(fromBytes(good.subarray(0, 90)), 'pw')).toThrow(/90 bytes, expected 91/)
    expect(() => decryptSecretKey(variant(0, 1), 'pw')).toThrow(/unsupported version 1/)
    expect(() => decryptSecretKey(variant(1, 0), 'pw')).toThrow(/logN 0 is outside/)
    expect(() => decryptSecretKey(variant(1, 40), 'pw')).toThrow(/logN 40 is outside/)
    expect(() => decryptSecretKey(variant(42, 7), 'pw')).toThrow(/unknown key security byte 7/)
    expect(() => decryptSecretKey(variant(60, good[60] ^ 1), 'pw')).toThrow(/wrong password or corrupted/)
  })
  it('refuses an authentic ncryptsec that holds an invalid secret key', () => {
    const salt = new Uint8Array(16)
    const nonce = new Uint8Array(24)
    const key = scrypt('pw', salt, { N: 4, r: 8, p: 1, dkLen: 32 })
    const ciphertext = xchacha20poly1305(key, nonce, Uint8Array.of(2)).encrypt(new Uint8Array(32))
    const ncryptsec = fromBytes(concatBytes(Uint8Array.of(2, 2), salt, nonce, Uint8Array.of(2), ciphertext))
    expect(() => decryptSecretKey(ncryptsec, 'pw')).toThrow(/invalid secp256k1 secret key/)
  })
  it('interoperates with nostr-tools for random keys and passwords', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k)),
      fc.string({ maxLength: 24 }),
      fc.integer({ min: 1, max: 4 }),
      fc.constantFrom<0 | 1 | 2>(0, 1, 2),
      (key, password, logN, keySecurity) => {
        expect(tools.decrypt(encryptSecretKey(key, password, { logN, keySecurity }), password)).toEqual(key)
        expect(decryptSecretKey(tools.encrypt(key, password, logN, keySecurity), password)).toEqual(key)
      },
    ), { numRuns: 40 })
  })
})
