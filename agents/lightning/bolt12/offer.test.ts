import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBolt12String, encodeBolt12String } from './bech32.js'
import { Bolt12Error } from './errors.js'
import { CHAIN_HASHES, decodeOffer, encodeOffer, isOfferExpired, MAX_MSAT, offerToTlvRecords } from './offer.js'
import { offer as offerArbitrary } from './test-arbitraries.js'
import { encodeBigSize, encodeTruncatedUint, parseTlvStream, serializeTlvStream, type TlvRecord } from './tlv.js'

const vectorFile = fileURLToPath(new URL('../../../../shared/vectors/bolt12/offers-test.json', import.meta.url))
const haveVectors = existsSync(vectorFile)

interface OfferVector {
  description: string
  valid: boolean
  bolt12: string
  fields?: Array<{ type: number; length: number; hex: string }>
}

const asVectorFields = (records: TlvRecord[]) => records.map((r) => ({ type: r.type, length: r.value.length, hex: bytesToHex(r.value) }))

describe.skipIf(!haveVectors)(haveVectors ? 'offers-test.json' : 'offers-test.json: SKIPPED, ../shared/vectors/bolt12 not found', () => {
  const vectors: OfferVector[] = haveVectors ? JSON.parse(readFileSync(vectorFile, 'utf8')) : []
  it('has the 53 upstream entries', () => expect(vectors).toHaveLength(53))
  for (const [i, v] of vectors.entries()) {
    it(`#${i} ${v.valid ? 'valid' : 'invalid'}: ${v.description}`, () => {
      if (!v.valid) {
        expect(() => decodeOffer(v.bolt12)).toThrow(Bolt12Error)
        return
      }
      const offer = decodeOffer(v.bolt12)
      expect(asVectorFields(parseTlvStream(decodeBolt12String(v.bolt12).data))).toEqual(v.fields)
      expect(asVectorFields(offerToTlvRecords(offer))).toEqual(v.fields)
      expect(encodeOffer(offer)).toBe(v.bolt12)
    })
  }

  const byDescription = (d: string) => decodeOffer(vectors.find((v) => v.description === d)!.bolt12)
  it('decodes the typed values the vectors describe', () => {
    const alice = '02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619'
    expect(byDescription('Minimal bolt12 offer')).toEqual({ offerIssuerId: alice, unknownFields: [] })
    expect(byDescription('with description (but no amount)').offerDescription).toBe('Test vectors')
    expect(byDescription('for testnet').offerChains).toEqual([CHAIN_HASHES.testnet])
    expect(byDescription('for bitcoin (redundant)').offerChains).toEqual([CHAIN_HASHES.bitcoin])
    expect(byDescription('for bitcoin or liquidv1').offerChains?.[1]).toBe(CHAIN_HASHES.bitcoin)
    expect(byDescription('with metadata').offerMetadata).toEqual(new Uint8Array(16))
    expect(byDescription('with amount').offerAmount).toBe(10000n)
    expect(byDescription('with currency')).toMatchObject({ offerAmount: 10000n, offerCurrency: 'USD' })
    // "2035-01-01" in the vector author's local time (UTC+10:30): 2034-12-31T13:30:00Z
    expect(byDescription('with expiry').offerAbsoluteExpiry).toBe(BigInt(Date.UTC(2034, 11, 31, 13, 30) / 1000))
    expect(byDescription('with issuer').offerIssuer).toBe('https://bolt12.org BOLT12 industries')
    expect(byDescription('with quantity').offerQuantityMax).toBe(5n)
    expect(byDescription('with unlimited (or unknown) quantity').offerQuantityMax).toBe(0n)
    expect(byDescription('with single quantity (weird but valid)').offerQuantityMax).toBe(1n)
    expect(byDescription('with feature').offerFeatures).toEqual(hexToBytes('08000000000000000000000000'))
    const viaBob = byDescription('with blinded path via Bob (0x424242...), path_key 020202...')
    expect(viaBob.offerPaths).toEqual([{
      introductionNode: { nodeId: '0324653eac434488002cc06bbfb7f10fe18991e35f9fe4302dbea6d2353dc0ab1c' },
      firstPathKey: '02'.repeat(33),
      hops: [
        { blindedNodeId: '02'.repeat(33), encryptedRecipientData: new Uint8Array(16) },
        { blindedNodeId: '02'.repeat(33), encryptedRecipientData: new Uint8Array(8).fill(0x11) },
      ],
    }])
    const sciddir = byDescription('same, with blinded path first_node_id using sciddir')
    expect(sciddir.offerPaths?.[0].introductionNode).toEqual({ shortChannelId: '0x0x42', direction: 0 })
    const second = byDescription('... and with second blinded path via 1x2x3 (direction 1), path_key 020202...')
    expect(second.offerPaths?.[1].introductionNode).toEqual({ shortChannelId: '1x2x3', direction: 1 })
    expect(second.offerPaths?.[1].hops[1].encryptedRecipientData).toEqual(new Uint8Array(8).fill(0x22))
    expect(byDescription('unknown odd field').unknownFields).toEqual([{ type: 33, value: new TextEncoder().encode('helloworld') }])
    expect(byDescription('unknown odd experimental field').unknownFields[0].type).toBe(1000000033)
  })
})

/** Builds an `lno` string from raw records, bypassing the encoder's own checks. */
const lno = (records: TlvRecord[]) => encodeBolt12String('lno', serializeTlvStream(records))
const rec = (type: number, hex: string): TlvRecord => ({ type, value: hexToBytes(hex) })
const issuerId = rec(22, '02eec7245d6b7d2ccb30380bfbe2a3648cd7a942653f5aa340edcea1f283686619')
const point02 = '02'.repeat(33)
const description = rec(10, bytesToHex(new TextEncoder().encode('coffee')))

describe('offer reader requirements (each rule in isolation)', () => {
  const cases: Array<[string, TlvRecord[], RegExp]> = [
    ['zero num_hops', [description, rec(16, point02 + point02 + '00')], /num_hops 0/],
    ['first_node_id neither sciddir nor point', [description, rec(16, '04' + '02'.repeat(32) + point02 + '01' + point02 + '0000')], /first_node_id starts with 4/],
    ['first_path_key off the curve', [description, rec(16, point02 + '03'.repeat(33) + '01' + point02 + '0000')], /first_path_key: not a valid/],
    ['truncated hop data', [description, rec(16, point02 + point02 + '01' + point02 + '0005aa')], /truncated encrypted_recipient_data/],
    ['offer_paths present but empty', [description, rec(16, '')], /present but empty/],
    ['odd type above 1999999999', [description, issuerId, rec(2000000001, '')], /outside the ranges/],
    ['even experimental type', [description, issuerId, rec(1000000002, '')], /unknown even TLV type 1000000002/],
    ['type 0 (invreq_metadata) in an offer', [rec(0, ''), issuerId], /outside the ranges/],
    ['amount above 21M BTC', [rec(8, bytesToHex(encodeTruncatedUint(MAX_MSAT + 1n, 8, 'a'))), description, issuerId], /21 million/],
    ['non-minimal tu64 amount', [rec(8, '0064'), description, issuerId], /minimally/],
    ['tu64 longer than 8 bytes', [rec(14, '010000000000000000'), issuerId], /longer than 8/],
    ['short offer_issuer_id', [rec(22, '02eec7')], /not a compressed secp256k1 point/],
    ['unknown even feature bit 0', [rec(12, '01'), issuerId], /unknown even feature bit 0/],
  ]
  for (const [name, records, reason] of cases) {
    it(`rejects ${name}`, () => expect(() => decodeOffer(lno(records))).toThrow(reason))
  }
  it('accepts unknown odd feature bits and keeps unknown odd fields', () => {
    const offer = decodeOffer(lno([rec(12, '02'), issuerId, rec(79, 'ab')]))
    expect(offer.offerFeatures).toEqual(hexToBytes('02'))
    expect(offer.unknownFields).toEqual([rec(79, 'ab')])
  })
  it('rejects another message type', () => {
    expect(() => decodeOffer(encodeBolt12String('lnr', serializeTlvStream([issuerId])))).toThrow(/expected prefix lno/)
  })
})

describe('offer encoding', () => {
  const base = { offerIssuerId: issuerId.value.length === 33 ? bytesToHex(issuerId.value) : '' }
  it('refuses what a reader would reject', () => {
    expect(() => encodeOffer({ ...base, offerAmount: 5n })).toThrow(/offer_description is missing/)
    expect(() => encodeOffer({ ...base, offerDescription: 'x', offerAmount: 5n, offerCurrency: 'usd' })).toThrow(/ISO 4217/)
    expect(() => encodeOffer({ offerDescription: 'x' })).toThrow(/neither offer_issuer_id nor offer_paths/)
    expect(() => encodeOffer({ ...base, offerChains: [] })).toThrow(/zero chains/)
    expect(() => encodeOffer({ ...base, offerIssuer: 'bad \ud800 surrogate' })).toThrow(/not valid Unicode/)
    expect(() => encodeOffer({ ...base, unknownFields: [rec(30, '')] })).toThrow(/must be odd/)
    expect(() => encodeOffer({
      ...base,
      offerPaths: [{ introductionNode: { shortChannelId: '1x2', direction: 0 }, firstPathKey: point02, hops: [] }],
    })).toThrow(/BLOCKxTXxOUTPUT|1 to 255 hops/)
  })
  it('expires after offer_absolute_expiry', () => {
    expect(isOfferExpired({ offerAbsoluteExpiry: 100n }, 100)).toBe(false)
    expect(isOfferExpired({ offerAbsoluteExpiry: 100n }, 101)).toBe(true)
    expect(isOfferExpired({}, 1e12)).toBe(false)
  })
  it('round-trips random offers (encode -> decode -> encode)', () => {
    fc.assert(
      fc.property(offerArbitrary, (offer) => {
        const text = encodeOffer(offer)
        const decoded = decodeOffer(text)
        expect(decoded).toEqual({ ...offer, unknownFields: offer.unknownFields ?? [] })
        expect(encodeOffer(decoded)).toBe(text)
        expect(decodeOffer(text.toUpperCase())).toEqual(decoded)
      }),
      { numRuns: 150 },
    )
  })
})

describe('decoder robustness', () => {
  const decodesOrRejectsCleanly = (run: () => unknown) => {
    try {
      run()
    } catch (e) {
      expect(e).toBeInstanceOf(Bolt12Error)
    }
  }
  it('random bytes either decode or throw a Bolt12Error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      decodesOrRejectsCleanly(() => decodeOffer(encodeBolt12String('lno', data)))
    }), { numRuns: 500 })
  })
  it('random strings either decode or throw a Bolt12Error', () => {
    fc.assert(fc.property(fc.string({ maxLength: 120 }), (s) => {
      decodesOrRejectsCleanly(() => decodeOffer(`lno1${s}`))
      decodesOrRejectsCleanly(() => decodeOffer(s))
    }), { numRuns: 300 })
  })
  it('mutated valid offers either decode or throw a Bolt12Error', () => {
    fc.assert(fc.property(offerArbitrary, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), (offer, edits) => {
      const data = decodeBolt12String(encodeOffer(offer)).data.slice()
      for (const [at, byte] of edits) data[at % data.length] = byte
      decodesOrRejectsCleanly(() => decodeOffer(encodeBolt12String('lno', data)))
      decodesOrRejectsCleanly(() => decodeOffer(encodeBolt12String('lno', data.subarray(0, edits[0][0] % data.length))))
    }), { numRuns: 100 })
  })
  it('huge BigSize lengths are a clean error', () => {
    const data = new Uint8Array([0x0a, ...encodeBigSize(2n ** 63n)])
    expect(() => decodeOffer(encodeBolt12String('lno', data))).toThrow(/truncated value of type 10/)
  })
})
