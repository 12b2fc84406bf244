import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBolt12String, encodeBolt12String } from './bech32.js'
import { Bolt12Error } from './errors.js'
import {
  decodeInvoiceRequest, decodeInvoiceRequestTlv, encodeInvoiceRequest, encodeInvoiceRequestTlv, invoiceRequestToTlvRecords,
  type InvoiceRequestInput,
} from './invoice-request.js'
import { publicKeyHex, signTlvStream } from './merkle.js'
import { CHAIN_HASHES, decodeOffer, encodeOffer, type Offer } from './offer.js'
import { offer as offerArbitrary, secretKey } from './test-arbitraries.js'
import { parseTlvStream, serializeTlvStream, type TlvRecord } from './tlv.js'

const alice = new Uint8Array(32).fill(0x41)
const payer = new Uint8Array(32).fill(0x07)
const offer = decodeOffer(encodeOffer({
  offerIssuerId: publicKeyHex(alice),
  offerDescription: 'A coffee',
  offerAmount: 5000n,
  offerQuantityMax: 3n,
  unknownFields: [{ type: 41, value: hexToBytes('cafe') }],
}))
/** Edits a stream after it was signed (the signature then covers the original). */
const afterSigning = (data: Uint8Array, edit: (records: TlvRecord[]) => TlvRecord[]) =>
  serializeTlvStream(edit(parseTlvStream(data)).sort((a, b) => a.type - b.type))
const answer = (extra: Partial<InvoiceRequestInput>): InvoiceRequestInput =>
  ({ ...offer, invreqMetadata: hexToBytes('00112233'), invreqQuantity: 2n, ...extra })

/** Signs arbitrary records as the payer, bypassing the encoder's checks, to test the reader alone. */
const signed = (request: InvoiceRequestInput, edit: (records: TlvRecord[]) => TlvRecord[] = (r) => r) =>
  signTlvStream('invoice_request', edit(invoiceRequestToTlvRecords({ ...request, invreqPayerId: publicKeyHex(payer) })), payer)

describe('invoice requests answering an offer', () => {
  it('copies the offer (unknown fields included), signs, and round-trips', () => {
    const text = encodeInvoiceRequest(answer({ invreqPayerNote: 'thanks ☕', invreqBip353Name: { name: 'alice', domain: 'example.com' } }), payer)
    expect(text.startsWith('lnr1')).toBe(true)
    const request = decodeInvoiceRequest(text)
    expect(request).toMatchObject({
      offerIssuerId: offer.offerIssuerId, offerAmount: 5000n, invreqQuantity: 2n, invreqPayerId: publicKeyHex(payer),
      invreqPayerNote: 'thanks ☕', invreqBip353Name: { name: 'alice', domain: 'example.com' },
    })
    expect(request.unknownFields).toEqual(offer.unknownFields)
    expect(request.signature).toMatch(/^[0-9a-f]{128}$/)
    expect(encodeInvoiceRequest(request, payer, new Uint8Array(32))).toBe(encodeInvoiceRequest(answer({ invreqPayerNote: 'thanks ☕', invreqBip353Name: { name: 'alice', domain: 'example.com' } }), payer, new Uint8Array(32)))
    expect(decodeInvoiceRequestTlv(decodeBolt12String(text).data)).toEqual(request)
  })

  it('round-trips for random offers and payer keys', () => {
    fc.assert(fc.property(offerArbitrary, secretKey, (o: Offer, key) => {
      const quantity = o.offerQuantityMax === undefined ? {} : { invreqQuantity: o.offerQuantityMax === 0n ? 7n : o.offerQuantityMax }
      const amount = o.offerAmount === undefined ? { invreqAmount: 1234n } : {}
      const chain = o.offerChains ? { invreqChain: o.offerChains[0] } : {}
      const text = encodeInvoiceRequest({ ...o, invreqMetadata: new Uint8Array(16), ...quantity, ...amount, ...chain }, key)
      const request = decodeInvoiceRequest(text)
      expect(request.invreqPayerId).toBe(publicKeyHex(key))
      expect(encodeInvoiceRequest(request, key, new Uint8Array(32))).toBe(
        encodeInvoiceRequest({ ...o, invreqMetadata: new Uint8Array(16), ...quantity, ...amount, ...chain }, key, new Uint8Array(32)))
    }), { numRuns: 10 })
  })

  const rejects: Array<[string, () => Uint8Array, RegExp]> = [
    ['a tampered field', () => afterSigning(signed(answer({})), (rs) => rs.map((r) => (r.type === 10 ? { ...r, value: hexToBytes('41') } : r))), /signature does not verify/],
    ['a missing signature', () => serializeTlvStream(invoiceRequestToTlvRecords({ ...answer({}), invreqPayerId: publicKeyHex(payer) })), /signature is missing/],
    ['a missing invreq_metadata', () => signed(answer({}), (rs) => rs.filter((r) => r.type !== 0)), /invreq_metadata is missing/],
    ['a missing invreq_payer_id', () => serializeTlvStream(invoiceRequestToTlvRecords(answer({}))), /invreq_payer_id is missing/],
    ['a missing quantity', () => signed(answer({ invreqQuantity: undefined })), /invreq_quantity is missing/],
    ['a zero quantity', () => signed(answer({ invreqQuantity: 0n })), /greater than zero/],
    ['too large a quantity', () => signed(answer({ invreqQuantity: 4n })), /exceeds offer_quantity_max/],
    ['an amount below offer_amount x quantity', () => signed(answer({ invreqAmount: 9999n })), /below the expected 10000/],
    ['a chain the offer does not list', () => signed(answer({ invreqChain: CHAIN_HASHES.testnet })), /not one of the offer chains/],
    ['an unknown even invreq feature', () => signed(answer({ invreqFeatures: hexToBytes('0100') })), /feature bit 8/],
    ['an invalid offer inside', () => signed(answer({ offerDescription: undefined })), /offer_description is missing/],
    ['a bad bip 353 name', () => signed(answer({}), (rs) => [...rs, { type: 91, value: hexToBytes('0161' + '0120') }].sort((a, b) => a.type - b.type)), /may only contain/],
    ['an even type in the signature range', () => afterSigning(signed(answer({})), (rs) => [...rs, { type: 242, value: new Uint8Array() }]), /unknown even TLV type 242/],
    ['a type between 160 and 239', () => signed(answer({}), (rs) => [...rs, { type: 161, value: new Uint8Array() }].sort((a, b) => a.type - b.type)), /outside the ranges/],
  ]
  for (const [name, build, reason] of rejects) {
    it(`rejects ${name}`, () => expect(() => decodeInvoiceRequestTlv(build())).toThrow(reason))
  }
  it('accepts a quantity for an unlimited offer, and a tip above the expected amount', () => {
    const unlimited = { ...answer({ invreqQuantity: 1000n, invreqAmount: 10_000_000n }), offerQuantityMax: 0n }
    expect(decodeInvoiceRequestTlv(signed(unlimited)).invreqQuantity).toBe(1000n)
  })
  it('refuses to sign for a different payer id', () => {
    expect(() => encodeInvoiceRequest(answer({ invreqPayerId: publicKeyHex(alice) }), payer)).toThrow(/does not belong/)
  })
  it('rejects the wrong prefix', () => {
    expect(() => decodeInvoiceRequest(encodeBolt12String('lno', signed(answer({}))))).toThrow(/expected prefix lnr/)
  })
})

describe('invoice requests without an offer', () => {
  const refund: InvoiceRequestInput = { invreqMetadata: hexToBytes('aa'), offerDescription: 'refund', invreqAmount: 21000n }
  it('are unsigned, as the spec requires, and round-trip', () => {
    const request = decodeInvoiceRequest(encodeInvoiceRequest(refund, payer))
    expect(request.signature).toBeUndefined()
    expect(request.invreqPayerId).toBe(publicKeyHex(payer))
  })
  it('must carry invreq_amount and no offer_chains', () => {
    const unsigned = (r: InvoiceRequestInput) => serializeTlvStream(invoiceRequestToTlvRecords({ ...r, invreqPayerId: publicKeyHex(payer) }))
    expect(() => decodeInvoiceRequestTlv(unsigned({ ...refund, invreqAmount: undefined }))).toThrow(/must set invreq_amount/)
    expect(() => decodeInvoiceRequestTlv(unsigned({ ...refund, offerChains: [CHAIN_HASHES.bitcoin] }))).toThrow(/must not have offer_chains/)
    expect(() => encodeInvoiceRequest({ ...refund, offerAmount: 5n }, payer)).toThrow(/must not set offer_amount/)
    expect(() => encodeInvoiceRequest({ ...refund, offerDescription: undefined }, payer)).toThrow(/must set offer_description/)
  })
})

describe('invoice request decoder robustness', () => {
  it('random bytes either decode or throw a Bolt12Error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
      try {
        decodeInvoiceRequestTlv(data)
      } catch (e) {
        expect(e).toBeInstanceOf(Bolt12Error)
      }
    }), { numRuns: 500 })
  })
  it('mutated valid requests either decode or throw a Bolt12Error', () => {
    const valid = encodeInvoiceRequestTlv(answer({}), payer)
    fc.assert(fc.property(fc.nat(), fc.nat(255), (at, byte) => {
      const data = valid.slice()
      data[at % data.length] = byte
      try {
        decodeInvoiceRequestTlv(data)
      } catch (e) {
        expect(e).toBeInstanceOf(Bolt12Error)
      }
    }), { numRuns: 100 })
    expect(bytesToHex(valid)).toMatch(/^00/)
  })
})
