// NIP-49: password-encrypted secret keys (ncryptsec): scrypt(NFKC password) -> XChaCha20-Poly1305,
// with the key-security byte as associated data. Pure apart from the random salt and nonce.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { scrypt } from '@noble/hashes/scrypt.js'
import { concatBytes, randomBytes } from '@noble/hashes/utils.js'
import { bech32 } from '@scure/base'

export const NCRYPTSEC_VERSION = 0x02
/** How the key was handled before encryption: 0x00 known insecure, 0x01 known secure, 0x02 not tracked. */
export type KeySecurity = 0x00 | 0x01 | 0x02
/**
 * scrypt with r=8 needs 1 KiB × 2^logN of memory: 16 (the default) is 64 MiB. 22 (4 GiB) is the
 * largest the NIP lists; above it a hostile ncryptsec could make decryption exhaust memory.
 */
export const MAX_LOG_N = 22
const ENCODED_LENGTH = 91
const SALT_LENGTH = 16
const NONCE_LENGTH = 24
const BECH32_LIMIT = 5000

export interface EncryptSecretKeyOptions {
  logN?: number
  keySecurity?: KeySecurity
  /** 24 bytes; random when omitted. */
  nonce?: Uint8Array
}

function checkLogN(logN: unknown): number {
  if (!Number.isInteger(logN) || (logN as number) < 1 || (logN as number) > MAX_LOG_N) throw new RangeError(`logN must be an integer 1..${MAX_LOG_N}, got ${String(logN)}`)
  return logN as number
}

function deriveKey(password: string, salt: Uint8Array, logN: number): Uint8Array {
  const N = 2 ** logN
  return scrypt(password.normalize('NFKC'), salt, { N, r: 8, p: 1, dkLen: 32, maxmem: 1024 * (N + 1) })
}

export function encryptSecretKey(secretKey: Uint8Array, password: string, options: EncryptSecretKeyOptions = {}): string {
  const { logN = 16, keySecurity = 0x02, nonce = randomBytes(NONCE_LENGTH) } = options
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) throw new TypeError('secret key must be a 32-byte Uint8Array')
  if (!secp256k1.utils.isValidSecretKey(secretKey)) throw new Error('secret key is not a valid secp256k1 scalar (zero or not below the curve order)')
  if (typeof password !== 'string') throw new TypeError('password must be a string')
  checkLogN(logN)
  if (keySecurity !== 0x00 && keySecurity !== 0x01 && keySecurity !== 0x02) throw new RangeError('keySecurity must be 0x00, 0x01 or 0x02')
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_LENGTH) throw new TypeError(`nonce must be a ${NONCE_LENGTH}-byte Uint8Array`)
  const salt = randomBytes(SALT_LENGTH)
  const aad = Uint8Array.of(keySecurity)
  const ciphertext = xchacha20poly1305(deriveKey(password, salt, logN), nonce, aad).encrypt(secretKey)
  const bytes = concatBytes(Uint8Array.of(NCRYPTSEC_VERSION, logN), salt, nonce, aad, ciphertext)
  return bech32.encode('ncryptsec', bech32.toWords(bytes), BECH32_LIMIT)
}

/** Decrypts an ncryptsec; a wrong password and a corrupted ciphertext are indistinguishable and give one error. */
export function decryptSecretKey(ncryptsec: string, password: string): Uint8Array {
  if (typeof ncryptsec !== 'string') throw new TypeError('ncryptsec must be a string')
  if (typeof password !== 'string') throw new TypeError('password must be a string')
  let bytes: Uint8Array
  try {
    const decoded = bech32.decode(ncryptsec.trim() as `${string}1${string}`, BECH32_LIMIT)
    if (decoded.prefix !== 'ncryptsec') throw new Error(`prefix is ${JSON.stringify(decoded.prefix.slice(0, 20))}, expected "ncryptsec"`)
    bytes = bech32.fromWords(decoded.words)
  } catch (err) {
    throw new Error(`invalid ncryptsec: ${(err as Error).message}`)
  }
  if (bytes.length !== ENCODED_LENGTH) throw new Error(`invalid ncryptsec: ${bytes.length} bytes, expected ${ENCODED_LENGTH}`)
  if (bytes[0] !== NCRYPTSEC_VERSION) throw new Error(`invalid ncryptsec: unsupported version ${bytes[0]}, expected ${NCRYPTSEC_VERSION}`)
  const logN = bytes[1]
  if (logN < 1 || logN > MAX_LOG_N) throw new Error(`invalid ncryptsec: logN ${logN} is outside 1..${MAX_LOG_N}`)
  const salt = bytes.subarray(2, 2 + SALT_LENGTH)
  const nonce = bytes.subarray(2 + SALT_LENGTH, 2 + SALT_LENGTH + NONCE_LENGTH)
  const aad = bytes.subarray(2 + SALT_LENGTH + NONCE_LENGTH, 3 + SALT_LENGTH + NONCE_LENGTH)
  if (aad[0] > 0x02) throw new Error(`invalid ncryptsec: unknown key security byte ${aad[0]}`)
  const ciphertext = bytes.subarray(3 + SALT_LENGTH + NONCE_LENGTH)
  let secretKey: Uint8Array
  try {
    secretKey = xchacha20poly1305(deriveKey(password, salt, logN), nonce, aad).decrypt(ciphertext)
  } catch {
    throw new Error('could not decrypt ncryptsec: wrong password or corrupted data')
  }
  if (!secp256k1.utils.isValidSecretKey(secretKey)) throw new Error('ncryptsec decrypted to an invalid secp256k1 secret key')
  return secretKey
}
