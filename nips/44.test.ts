import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { v2 as tools } from 'nostr-tools/nip44'
import { chacha20 } from '@noble/ciphers/chacha.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js'
import { base64 } from '@scure/base'
import { generateSecretKey, getPublicKey } from './01.js'
import { calcPaddedLen, conversationKeyCache, decrypt, encrypt, getConversationKey, getMessageKeys, MAX_PLAINTEXT_LENGTH } from './44.js'

const VECTORS_PATH = fileURLToPath(new URL('../../shared/vectors/nip44/nip44.vectors.json', import.meta.url))
const haveVectors = existsSync(VECTORS_PATH)

interface Vectors {
  valid: {
    get_conversation_key: { sec1: string; pub2: string; conversation_key: string }[]
    get_message_keys: { conversation_key: string; keys: { nonce: string; chacha_key: string; chacha_nonce: string; hmac_key: string }[] }
    calc_padded_len: [number, number][]
    encrypt_decrypt: { sec1: string; sec2: string; conversation_key: string; nonce: string; plaintext: string; payload: string }[]
    encrypt_decrypt_long_msg: { conversation_key: string; nonce: string; pattern: string; repeat: number; plaintext_sha256: string; payload_sha256: string }[]
  }
  invalid: {
    encrypt_msg_lengths: number[]
    get_conversation_key: { sec1: string; pub2: string; note: string }[]
    decrypt: { conversation_key: string; nonce: string; plaintext: string; payload: string; note: string }[]
  }
}

const vectors: Vectors | undefined = haveVectors ? (JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as { v2: Vectors }).v2 : undefined
const hex = (s: string) => hexToBytes(s)
const sha256Hex = (s: string) => bytesToHex(sha256(new TextEncoder().encode(s)))

describe.skipIf(!haveVectors)('NIP-44 v2 official vectors (../shared/vectors/nip44/nip44.vectors.json; skipped when that folder is absent)', () => {
  const v = vectors as Vectors
  it('valid.get_conversation_key', () => {
    expect(v.valid.get_conversation_key.length).toBeGreaterThan(0)
    for (const c of v.valid.get_conversation_key) expect(bytesToHex(getConversationKey(hex(c.sec1), c.pub2))).toBe(c.conversation_key)
  })
  it('valid.get_message_keys', () => {
    const { conversation_key, keys } = v.valid.get_message_keys
    for (const k of keys) {
      const got = getMessageKeys(hex(conversation_key), hex(k.nonce))
      expect([bytesToHex(got.chachaKey), bytesToHex(got.chachaNonce), bytesToHex(got.hmacKey)]).toEqual([k.chacha_key, k.chacha_nonce, k.hmac_key])
    }
  })
  it('valid.calc_padded_len', () => {
    for (const [len, padded] of v.valid.calc_padded_len) expect(calcPaddedLen(len)).toBe(padded)
  })
  it('valid.encrypt_decrypt (both directions of the conversation)', () => {
    for (const c of v.valid.encrypt_decrypt) {
      const key = getConversationKey(hex(c.sec1), getPublicKey(hex(c.sec2)))
      expect(bytesToHex(key)).toBe(c.conversation_key)
      expect(getConversationKey(hex(c.sec2), getPublicKey(hex(c.sec1)))).toEqual(key)
      expect(encrypt(c.plaintext, key, hex(c.nonce))).toBe(c.payload)
      expect(decrypt(c.payload, key)).toBe(c.plaintext)
    }
  })
  it('valid.encrypt_decrypt_long_msg', () => {
    for (const c of v.valid.encrypt_decrypt_long_msg) {
      const plaintext = c.pattern.repeat(c.repeat)
      expect(sha256Hex(plaintext)).toBe(c.plaintext_sha256)
      const payload = encrypt(plaintext, hex(c.conversation_key), hex(c.nonce))
      expect(sha256Hex(payload)).toBe(c.payload_sha256)
      expect(decrypt(payload, hex(c.conversation_key))).toBe(plaintext)
    }
  })
  it('invalid.encrypt_msg_lengths', () => {
    const key = new Uint8Array(32).fill(1)
    for (const len of v.invalid.encrypt_msg_lengths) expect(() => encrypt('a'.repeat(len), key), `length ${len}`).toThrow(/plaintext/)
  })
  it('invalid.get_conversation_key', () => {
    for (const c of v.invalid.get_conversation_key) {
      expect(() => getConversationKey(hex(c.sec1), c.pub2), c.note).toThrow(c.note.startsWith('sec1') ? /secret key/ : /public key/)
    }
  })
  it('invalid.decrypt, each for the reason the vector names', () => {
    for (const c of v.invalid.decrypt) {
      expect(() => decrypt(c.payload, hex(c.conversation_key)), c.note).toThrow(c.note)
    }
  })
})

describe('NIP-44 v2', () => {
  const alice = generateSecretKey()
  const bob = generateSecretKey()
  const key = getConversationKey(alice, getPublicKey(bob))

  it('gives both parties the same conversation key', () => {
    expect(getConversationKey(bob, getPublicKey(alice))).toEqual(key)
  })
  it('accepts exactly 1..65535 UTF-8 bytes, counting bytes not characters', () => {
    expect(MAX_PLAINTEXT_LENGTH).toBe(65535)
    expect(decrypt(encrypt('x'.repeat(65535), key), key)).toHaveLength(65535)
    expect(() => encrypt('', key)).toThrow(/must not be empty/)
    expect(() => encrypt('é'.repeat(32768), key)).toThrow(/65536 bytes in UTF-8; the limit is 65535/)
    expect(() => encrypt('x'.repeat(65536), key)).toThrow(/longer than 65535 bytes/)
  })
  it('uses a fresh random nonce by default', () => {
    expect(encrypt('hi', key)).not.toBe(encrypt('hi', key))
  })
  it('rejects bad keys, nonces and argument types with the reason', () => {
    expect(() => getConversationKey(new Uint8Array(31), getPublicKey(bob))).toThrow(/secret key must be a 32-byte Uint8Array/)
    expect(() => getConversationKey(alice, 'AB'.repeat(32))).toThrow(/public key must be 64 lowercase hex/)
    expect(() => encrypt('hi', new Uint8Array(16))).toThrow(/conversation key must be a 32-byte/)
    expect(() => encrypt('hi', key, new Uint8Array(24))).toThrow(/nonce must be a 32-byte/)
    expect(() => encrypt(42 as unknown as string, key)).toThrow(/plaintext must be a string/)
    expect(() => decrypt(null as unknown as string, key)).toThrow(/payload must be a string/)
    expect(() => decrypt(encrypt('hi', key), new Uint8Array(8))).toThrow(/conversation key must be a 32-byte/)
    expect(() => calcPaddedLen(0)).toThrow(/positive integer/)
    expect(() => calcPaddedLen(1.5)).toThrow(/positive integer/)
  })
  it('rejects tampered, truncated and oversized payloads', () => {
    const payload = encrypt('secret message', key)
    const bytes = base64.decode(payload)
    const flip = (i: number) => { const b = bytes.slice(); b[i] ^= 1; return base64.encode(b) }
    expect(() => decrypt(flip(40), key)).toThrow(/invalid MAC/)
    expect(() => decrypt(flip(bytes.length - 1), key)).toThrow(/invalid MAC/)
    expect(() => decrypt(flip(0), key)).toThrow(/unknown encryption version 3/)
    expect(() => decrypt(payload, getConversationKey(alice, getPublicKey(alice)))).toThrow(/invalid MAC/)
    expect(() => decrypt('A'.repeat(87473), key)).toThrow(/invalid payload length: 87473/)
    expect(() => decrypt(base64.encode(new Uint8Array(65604).fill(2)), key)).toThrow(/invalid data length: 65604 bytes/)
    expect(() => decrypt(base64.encode(new Uint8Array(100).fill(2)).slice(0, 132) + '!!!!', key)).toThrow(/invalid base64/)
    expect(() => decrypt(base64.encode(new Uint8Array(98).fill(2)) + '====', key)).toThrow(/invalid/)
  })
  it('rejects a correctly authenticated plaintext that is not UTF-8', () => {
    // Only a holder of the conversation key can build this: length prefix 2, then bytes ff fe.
    const nonce = new Uint8Array(32).fill(7)
    const { chachaKey, chachaNonce, hmacKey } = getMessageKeys(key, nonce)
    const padded = new Uint8Array(34)
    padded.set([0, 2, 0xff, 0xfe])
    const ciphertext = chacha20(chachaKey, chachaNonce, padded)
    const mac = hmac(sha256, hmacKey, concatBytes(nonce, ciphertext))
    const payload = base64.encode(concatBytes(Uint8Array.of(2), nonce, ciphertext, mac))
    expect(() => decrypt(payload, key)).toThrow(/not valid UTF-8/)
  })

  it('interoperates with nostr-tools in both directions', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1000 })
    fc.assert(fc.property(text, fc.uint8Array({ minLength: 32, maxLength: 32 }), (plaintext, nonce) => {
      const ours = encrypt(plaintext, key, nonce)
      expect(ours).toBe(tools.encrypt(plaintext, key, nonce))
      expect(tools.decrypt(ours, key)).toBe(plaintext)
      expect(decrypt(tools.encrypt(plaintext, key), key)).toBe(plaintext)
    }), { numRuns: 100 })
    expect(tools.utils.getConversationKey(alice, getPublicKey(bob))).toEqual(key)
  })
  it('calcPaddedLen is monotone, never shrinks and wastes at most about 1/8', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1 << 20 }), (len) => {
      const padded = calcPaddedLen(len)
      expect(padded).toBeGreaterThanOrEqual(len)
      expect(padded).toBeGreaterThanOrEqual(calcPaddedLen(Math.max(1, len - 1)))
      expect(padded - len).toBeLessThan(Math.max(32, len / 4))
      expect(padded).toBe(tools.utils.calcPaddedLen(len))
    }))
  })
})

describe('conversationKeyCache', () => {
  it('answers as getConversationKey does, keeps at most `capacity` keys, and checks its input', () => {
    const cached = conversationKeyCache(2)
    const [a, b, c] = [generateSecretKey(), generateSecretKey(), generateSecretKey()]
    const peers = [a, b, c].map((k) => getPublicKey(k))
    for (const peer of [...peers, ...peers]) expect(cached(a, peer)).toEqual(getConversationKey(a, peer))
    // The same object comes back for a recent pair: the ECDH was not redone.
    expect(cached(a, peers[2])).toBe(cached(a, peers[2]))
    const first = cached(a, peers[0])
    cached(a, peers[1])
    cached(a, peers[2])
    expect(cached(a, peers[0])).not.toBe(first) // evicted after two newer pairs
    expect(cached(b, peers[0])).toEqual(cached(a, peers[1]))
    expect(() => cached(new Uint8Array(31), peers[0])).toThrow(/32-byte/)
  })
})
