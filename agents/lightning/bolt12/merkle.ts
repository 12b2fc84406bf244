import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { Bolt12Error } from './errors.js'
import { encodeBigSize, encodeTlvRecord, serializeTlvStream, sortRecords, type TlvRecord } from './tlv.js'

/** BOLT 12 signature calculation: BIP-340 tagged hashes over a Merkle tree of the non-signature TLV records. */

export const SIGNATURE_TYPE_MIN = 240
export const SIGNATURE_TYPE_MAX = 1000

export const isSignatureType = (type: number): boolean => type >= SIGNATURE_TYPE_MIN && type <= SIGNATURE_TYPE_MAX

export type SignedMessageName = 'invoice_request' | 'invoice'

/** H(tag, msg) = SHA256(SHA256(tag) || SHA256(tag) || msg) */
export function taggedHash(tag: string | Uint8Array, msg: Uint8Array): Uint8Array {
  const tagHash = sha256(typeof tag === 'string' ? utf8ToBytes(tag) : tag)
  return sha256(concatBytes(tagHash, tagHash, msg))
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

function branch(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) <= 0 ? taggedHash('LnBranch', concatBytes(a, b)) : taggedHash('LnBranch', concatBytes(b, a))
}

/**
 * Merkle root of a TLV stream, skipping signature records (types 240..1000). Each record is a leaf
 * H("LnLeaf", tlv) paired with H("LnNonce"||first-tlv, type); with a non-power-of-two count the deepest
 * subtrees are on the lowest-order leaves.
 */
export function merkleRoot(records: readonly TlvRecord[]): Uint8Array {
  const signed = records.filter((r) => !isSignatureType(r.type))
  if (signed.length === 0) throw new Bolt12Error('merkle: no non-signature TLV records to hash')
  const nonceTag = concatBytes(utf8ToBytes('LnNonce'), encodeTlvRecord(signed[0]))
  const level = signed.map((r) =>
    branch(taggedHash('LnLeaf', encodeTlvRecord(r)), taggedHash(nonceTag, encodeBigSize(r.type))),
  )
  for (let step = 1; step < level.length; step *= 2) {
    for (let i = 0; i + step < level.length; i += 2 * step) level[i] = branch(level[i], level[i + step])
  }
  return level[0]
}

/** The 32 bytes a BIP-340 signature covers: H("lightning" || messagename || fieldname, merkle-root). */
export function signatureHash(messageName: SignedMessageName, merkle: Uint8Array, fieldName = 'signature'): Uint8Array {
  return taggedHash(`lightning${messageName}${fieldName}`, merkle)
}

/** `publicKey` is the 33-byte compressed point from the message; BIP-340 uses its x coordinate. */
export function verifyMerkleSignature(
  messageName: SignedMessageName,
  records: readonly TlvRecord[],
  signature: Uint8Array,
  publicKey: Uint8Array,
): boolean {
  try {
    return schnorr.verify(signature, signatureHash(messageName, merkleRoot(records)), publicKey.subarray(1))
  } catch {
    return false
  }
}

export function signMerkleRoot(
  messageName: SignedMessageName,
  records: readonly TlvRecord[],
  secretKey: Uint8Array,
  auxRand?: Uint8Array,
): Uint8Array {
  return schnorr.sign(signatureHash(messageName, merkleRoot(records)), secretKey, auxRand)
}

/**
 * Signs a message's records into a TLV stream whose only signature record is `signature` (240). Signature-range
 * records already present (a copied signature, unknown odd ones) are dropped: they are not this writer's to repeat.
 */
export function signTlvStream(
  messageName: SignedMessageName,
  records: readonly TlvRecord[],
  secretKey: Uint8Array,
  auxRand?: Uint8Array,
): Uint8Array {
  const unsigned = records.filter((r) => !isSignatureType(r.type))
  const signature = signMerkleRoot(messageName, unsigned, secretKey, auxRand)
  return serializeTlvStream(sortRecords([...unsigned, { type: SIGNATURE_TYPE_MIN, value: signature }]))
}

/** The 33-byte compressed public key (hex) BOLT 12 uses for payer ids and node ids. */
export function publicKeyHex(secretKey: Uint8Array): string {
  return bytesToHex(secp256k1.getPublicKey(secretKey, true))
}
