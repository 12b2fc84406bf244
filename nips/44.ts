// NIP-44 version 2: encrypted payloads (secp256k1 ECDH, HKDF-SHA256, ChaCha20, HMAC-SHA256 with
// the nonce as associated data, power-of-two-ish padding). Pure: the random nonce is the only
// input not passed in, and a caller may pass that too.
//
// Plaintexts are limited to 1..65535 bytes, the original NIP-44 v2 rule. In 2025 the NIP was
// extended (nips#1907) to 2^32-1 bytes with a 6-byte length prefix; we deliberately do not follow
// that yet: the published test-vector file (paulmillr/nip44, whose sha256 the NIP quotes) still
// requires 65536+ byte plaintexts to be rejected, most deployed clients cannot decrypt the
// extended form, and a message that large does not belong in a Nostr event anyway.
import { chacha20 } from '@noble/ciphers/chacha.js'
import { equalBytes } from '@noble/ciphers/utils.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { expand, extract } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes, hexToBytes, randomBytes } from '@noble/hashes/utils.js'
import { base64 } from '@scure/base'
import { isHex64 } from './01.js'

export const VERSION = 2
export const MIN_PLAINTEXT_LENGTH = 1
export const MAX_PLAINTEXT_LENGTH = 65535
// Base64 length bounds of a valid payload: 1 version + 32 nonce + (2 + 32..65536) padded + 32 MAC bytes.
const MIN_PAYLOAD_CHARS = 132
const MAX_PAYLOAD_CHARS = 87472
const MIN_DATA_BYTES = 99
const MAX_DATA_BYTES = 65603

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder('utf-8', { fatal: true })
const SALT = utf8Encoder.encode('nip44-v2')

function checkBytes(value: unknown, length: number, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) throw new TypeError(`${what} must be a ${length}-byte Uint8Array`)
}

/** The shared key of a conversation: HKDF-extract(salt "nip44-v2", ECDH x-coordinate). Symmetric in the two parties. */
export function getConversationKey(secretKey: Uint8Array, publicKeyHex: string): Uint8Array {
  checkBytes(secretKey, 32, 'secret key')
  if (!secp256k1.utils.isValidSecretKey(secretKey)) throw new Error('secret key is not a valid secp256k1 scalar (zero or not below the curve order)')
  if (!isHex64(publicKeyHex)) throw new TypeError('public key must be 64 lowercase hex characters')
  let shared: Uint8Array
  try {
    shared = secp256k1.getSharedSecret(secretKey, hexToBytes('02' + publicKeyHex))
  } catch {
    throw new Error('public key is not the x-coordinate of a point on secp256k1')
  }
  return extract(sha256, shared.subarray(1, 33), SALT)
}

/**
 * getConversationKey remembering its last `capacity` answers. The ECDH behind it costs milliseconds
 * in JS, and a DVM talks to the same peers over and over (request, feedback, result, payment).
 * The cache is keyed by both keys and holds only derived conversation keys; it lives as long as
 * the caller keeps the returned function.
 */
export function conversationKeyCache(capacity = 1024): (secretKey: Uint8Array, publicKeyHex: string) => Uint8Array {
  const cache = new Map<string, Uint8Array>()
  return (secretKey, publicKeyHex) => {
    checkBytes(secretKey, 32, 'secret key')
    const id = bytesToHex(secretKey) + publicKeyHex
    const hit = cache.get(id)
    if (hit) {
      cache.delete(id)
      cache.set(id, hit)
      return hit
    }
    const key = getConversationKey(secretKey, publicKeyHex)
    cache.set(id, key)
    if (cache.size > capacity) cache.delete(cache.keys().next().value as string)
    return key
  }
}

/** Per-message keys: HKDF-expand(conversation key, nonce) split into ChaCha key, ChaCha nonce and HMAC key. */
export function getMessageKeys(conversationKey: Uint8Array, nonce: Uint8Array): { chachaKey: Uint8Array; chachaNonce: Uint8Array; hmacKey: Uint8Array } {
  checkBytes(conversationKey, 32, 'conversation key')
  checkBytes(nonce, 32, 'nonce')
  const keys = expand(sha256, conversationKey, nonce, 76)
  return { chachaKey: keys.subarray(0, 32), chachaNonce: keys.subarray(32, 44), hmacKey: keys.subarray(44, 76) }
}

/** Padded length for an unpadded length: 32 minimum, then chunks of 1/8 of the next power of two. */
export function calcPaddedLen(len: number): number {
  if (!Number.isSafeInteger(len) || len < 1) throw new RangeError(`length must be a positive integer, got ${len}`)
  if (len <= 32) return 32
  const nextPower = 2 ** (Math.floor(Math.log2(len - 1)) + 1)
  const chunk = nextPower <= 256 ? 32 : nextPower / 8
  return chunk * (Math.floor((len - 1) / chunk) + 1)
}

function pad(plaintext: string): Uint8Array {
  if (typeof plaintext !== 'string') throw new TypeError('plaintext must be a string')
  // A UTF-8 byte is at least one UTF-16 unit's worth, so this bounds huge strings before encoding them.
  if (plaintext.length > MAX_PLAINTEXT_LENGTH) throw new RangeError(`plaintext is longer than ${MAX_PLAINTEXT_LENGTH} bytes`)
  const unpadded = utf8Encoder.encode(plaintext)
  if (unpadded.length < MIN_PLAINTEXT_LENGTH) throw new RangeError('plaintext must not be empty')
  if (unpadded.length > MAX_PLAINTEXT_LENGTH) throw new RangeError(`plaintext is ${unpadded.length} bytes in UTF-8; the limit is ${MAX_PLAINTEXT_LENGTH}`)
  const padded = new Uint8Array(2 + calcPaddedLen(unpadded.length))
  new DataView(padded.buffer).setUint16(0, unpadded.length, false)
  padded.set(unpadded, 2)
  return padded
}

function unpad(padded: Uint8Array): string {
  const length = new DataView(padded.buffer, padded.byteOffset, padded.byteLength).getUint16(0, false)
  if (length < MIN_PLAINTEXT_LENGTH || padded.length !== 2 + calcPaddedLen(length)) throw new Error('invalid padding')
  try {
    return utf8Decoder.decode(padded.subarray(2, 2 + length))
  } catch {
    throw new Error('decrypted plaintext is not valid UTF-8')
  }
}

function hmacWithNonce(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return hmac(sha256, key, concatBytes(nonce, ciphertext))
}

export function encrypt(plaintext: string, conversationKey: Uint8Array, nonce: Uint8Array = randomBytes(32)): string {
  const padded = pad(plaintext)
  const { chachaKey, chachaNonce, hmacKey } = getMessageKeys(conversationKey, nonce)
  const ciphertext = chacha20(chachaKey, chachaNonce, padded)
  return base64.encode(concatBytes(Uint8Array.of(VERSION), nonce, ciphertext, hmacWithNonce(hmacKey, nonce, ciphertext)))
}

/** Decrypts a v2 payload; throws with the reason (unknown version, bad base64, bad size, invalid MAC, invalid padding). */
export function decrypt(payload: string, conversationKey: Uint8Array): string {
  if (typeof payload !== 'string') throw new TypeError('payload must be a string')
  checkBytes(conversationKey, 32, 'conversation key')
  // '#' marks a future non-base64 encoding; say so instead of failing as bad base64.
  if (payload.startsWith('#')) throw new Error('unknown encryption version (payload starts with #)')
  if (payload.length < MIN_PAYLOAD_CHARS || payload.length > MAX_PAYLOAD_CHARS) {
    throw new Error(`invalid payload length: ${payload.length} characters (must be ${MIN_PAYLOAD_CHARS}..${MAX_PAYLOAD_CHARS})`)
  }
  let data: Uint8Array
  try {
    data = base64.decode(payload)
  } catch (err) {
    throw new Error(`invalid base64: ${(err as Error).message}`)
  }
  if (data.length < MIN_DATA_BYTES || data.length > MAX_DATA_BYTES) throw new Error(`invalid data length: ${data.length} bytes`)
  if (data[0] !== VERSION) throw new Error(`unknown encryption version ${data[0]}`)
  const nonce = data.subarray(1, 33)
  const ciphertext = data.subarray(33, -32)
  const mac = data.subarray(-32)
  const { chachaKey, chachaNonce, hmacKey } = getMessageKeys(conversationKey, nonce)
  if (!equalBytes(hmacWithNonce(hmacKey, nonce, ciphertext), mac)) throw new Error('invalid MAC')
  return unpad(chacha20(chachaKey, chachaNonce, ciphertext))
}
