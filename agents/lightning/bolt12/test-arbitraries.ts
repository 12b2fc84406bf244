import { secp256k1 } from '@noble/curves/secp256k1.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import type { BlindedPath } from './fields.js'
import type { Offer } from './offer.js'

/** fast-check generators for BOLT 12 property tests (test support only). */

export const secretKey = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp256k1.utils.isValidSecretKey(k))
export const point = secretKey.map((k) => bytesToHex(secp256k1.getPublicKey(k, true)))
const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex)
const text = fc.string({ unit: 'grapheme', maxLength: 40 })
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })

export const blindedPath: fc.Arbitrary<BlindedPath> = fc.record({
  introductionNode: fc.oneof(
    point.map((nodeId) => ({ nodeId })),
    fc.record({
      shortChannelId: fc.tuple(fc.nat(0xffffff), fc.nat(0xffffff), fc.nat(0xffff)).map(([b, t, o]) => `${b}x${t}x${o}`),
      direction: fc.constantFrom(0 as const, 1 as const),
    }),
  ),
  firstPathKey: point,
  hops: fc.array(
    fc.record({ blindedNodeId: point, encryptedRecipientData: fc.uint8Array({ maxLength: 40 }) }),
    { minLength: 1, maxLength: 3 },
  ),
})

/** Feature bitmaps with only odd (optional) bits, which every reader must accept. */
const oddFeatures = fc.uint8Array({ maxLength: 8 }).map((b) => b.map((x) => x & 0xaa))

const unknownOddFields = fc
  .uniqueArray(
    fc.oneof(fc.integer({ min: 0, max: 39 }).map((n) => 2 * n + 1), fc.integer({ min: 500_000_000, max: 999_999_999 }).map((n) => 2 * n + 1)),
    { maxLength: 3 },
  )
  .chain((types) => fc.tuple(...types.map((type) => fc.uint8Array({ maxLength: 20 }).map((value) => ({ type, value })))))
  .map((records) => [...records].sort((a, b) => a.type - b.type))

const amountFields = fc.oneof(
  fc.record({ offerDescription: fc.option(text, { nil: undefined }) }),
  fc.record({
    offerDescription: text,
    offerAmount: fc.bigInt({ min: 1n, max: 0x1d24b2dfac520000n }),
  }),
  fc.record({
    offerDescription: text,
    offerAmount: fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }),
    offerCurrency: fc.constantFrom('USD', 'EUR', 'JPY'),
  }),
)

const destination = fc.oneof(
  fc.record({ offerIssuerId: point }),
  fc.record({ offerPaths: fc.array(blindedPath, { minLength: 1, maxLength: 2 }) }),
  fc.record({ offerIssuerId: point, offerPaths: fc.array(blindedPath, { minLength: 1, maxLength: 2 }) }),
)

export const offer: fc.Arbitrary<Offer> = fc
  .tuple(
    fc.record(
      {
        offerChains: fc.array(hex32, { minLength: 1, maxLength: 3 }),
        offerMetadata: fc.uint8Array({ maxLength: 32 }),
        offerFeatures: oddFeatures,
        offerAbsoluteExpiry: u64,
        offerIssuer: text,
        offerQuantityMax: u64,
        unknownFields: unknownOddFields,
      },
      { requiredKeys: [] },
    ),
    amountFields,
    destination,
  )
  .map(([base, amount, dest]) => ({ ...base, ...amount, ...dest }))
