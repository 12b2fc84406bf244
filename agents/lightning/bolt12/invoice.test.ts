import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeBolt12String } from './bech32.js'
import { Bolt12Error } from './errors.js'
import { encodeFields, hasFeature, unknownEvenFeature, type BlindedPath, type BlindedPayinfo } from './fields.js'
import {
  checkInvoiceMatchesRequest, decodeInvoice, decodeInvoiceTlv, encodeInvoice, encodeInvoiceTlv, INVOICE_SCHEMA,
  invoiceExpiresAt, isInvoiceExpired, MPP_COMPULSORY, MPP_OPTIONAL, usableFallbacks, type InvoiceInput,
} from './invoice.js'
import { decodeInvoiceRequest, encodeInvoiceRequest } from './invoice-request.js'
import { publicKeyHex, signTlvStream } from './merkle.js'
import { decodeOffer, encodeOffer } from './offer.js'
import { blindedPath, secretKey } from './test-arbitraries.js'
import type { TlvRecord } from './tlv.js'

const merchant = new Uint8Array(32).fill(0x41)
const payer = new Uint8Array(32).fill(0x42)
const path: BlindedPath = {
  introductionNode: { shortChannelId: '800000x1x0', direction: 1 },
  firstPathKey: publicKeyHex(new Uint8Array(32).fill(3)),
  hops: [{ blindedNodeId: publicKeyHex(new Uint8Array(32).fill(4)), encryptedRecipientData: hexToBytes('0102') }],
}
const payinfo: BlindedPayinfo = {
  feeBaseMsat: 1000, feeProportionalMillionths: 100, cltvExpiryDelta: 144,
  htlcMinimumMsat: 1n, htlcMaximumMsat: 10n ** 10n, features: new Uint8Array(),
}
const offer = decodeOffer(encodeOffer({ offerIssuerId: publicKeyHex(merchant), offerDescription: 'tea', offerAmount: 2000n }))
const request = decodeInvoiceRequest(encodeInvoiceRequest({ ...offer, invreqMetadata: hexToBytes('99'.repeat(16)) }, payer))
const paymentHash = bytesToHex(sha256(new Uint8Array(32)))
const reply = (extra: Partial<InvoiceInput> = {}): InvoiceInput => ({
  ...request,
  invoicePaths: [path],
  invoiceBlindedpay: [payinfo],
  invoiceCreatedAt: 1_700_000_000n,
  invoicePaymentHash: paymentHash,
  invoiceAmount: 2000n,
  ...extra,
})
/** Signs records as the merchant without the encoder's checks, to test the reader alone. */
const signed = (inv: InvoiceInput, edit: (rs: TlvRecord[]) => TlvRecord[] = (r) => r) =>
  signTlvStream('invoice', edit(encodeFields({ ...inv, invoiceNodeId: inv.invoiceNodeId ?? publicKeyHex(merchant) }, inv.unknownFields ?? [], INVOICE_SCHEMA)), merchant)

describe('invoices', () => {
  it('answer an invoice request: copy its fields, sign with the offer key, round-trip', () => {
    const text = encodeInvoice(reply({ invoiceFeatures: Uint8Array.of(0x02, 0x00, 0x00) }), merchant)
    expect(text.startsWith('lni1')).toBe(true)
    const invoice = decodeInvoice(text)
    expect(invoice).toMatchObject({
      invoiceNodeId: offer.offerIssuerId, invoiceAmount: 2000n, invoicePaymentHash: paymentHash, invoicePaths: [path],
      invoiceBlindedpay: [payinfo], invreqPayerId: request.invreqPayerId, offerDescription: 'tea',
    })
    expect(hasFeature(invoice.invoiceFeatures, MPP_OPTIONAL)).toBe(true)
    expect(hasFeature(invoice.invoiceFeatures, MPP_COMPULSORY)).toBe(false)
    expect(invoice.signature).not.toBe(request.signature)
    expect(() => checkInvoiceMatchesRequest(invoice, request)).not.toThrow()
    expect(encodeInvoice(invoice, merchant, new Uint8Array(32))).toBe(encodeInvoice(reply({ invoiceFeatures: Uint8Array.of(0x02, 0x00, 0x00) }), merchant, new Uint8Array(32)))
  })

  it('detect a mismatch with the request we sent', () => {
    const other = decodeInvoiceRequest(encodeInvoiceRequest({ ...offer, invreqMetadata: hexToBytes('98') }, payer))
    const invoice = decodeInvoiceTlv(encodeInvoiceTlv(reply(), merchant))
    expect(() => checkInvoiceMatchesRequest(invoice, other)).toThrow(/in TLV types 0$/)
  })

  it('round-trip random blinded paths and node keys (invoice without an offer)', () => {
    fc.assert(fc.property(fc.array(blindedPath, { minLength: 1, maxLength: 3 }), secretKey, (paths, key) => {
      const input: InvoiceInput = {
        invreqMetadata: new Uint8Array(8), invreqPayerId: publicKeyHex(payer), offerDescription: 'refund', invreqAmount: 5n,
        invoicePaths: paths, invoiceBlindedpay: paths.map(() => payinfo), invoiceCreatedAt: 1n, invoicePaymentHash: paymentHash,
        invoiceAmount: 5n,
      }
      const invoice = decodeInvoice(encodeInvoice(input, key))
      expect(invoice.invoicePaths).toEqual(paths)
      expect(invoice.invoiceNodeId).toBe(publicKeyHex(key))
    }), { numRuns: 10 })
  })

  const rejects: Array<[string, () => Uint8Array, RegExp]> = [
    ['a missing invoice_amount', () => signed(reply({ invoiceAmount: undefined as unknown as bigint })), /invoice_amount is missing/],
    ['a missing invoice_created_at', () => signed(reply({ invoiceCreatedAt: undefined as unknown as bigint })), /invoice_created_at is missing/],
    ['a missing invoice_payment_hash', () => signed(reply({ invoicePaymentHash: undefined as unknown as string })), /invoice_payment_hash is missing/],
    ['a missing invoice_paths', () => signed(reply({ invoicePaths: undefined as unknown as BlindedPath[] })), /invoice_paths is missing/],
    ['empty invoice_paths', () => signed(reply(), (rs) => rs.map((r) => (r.type === 160 ? { ...r, value: new Uint8Array() } : r))), /present but empty/],
    ['a missing invoice_blindedpay', () => signed(reply({ invoiceBlindedpay: undefined as unknown as BlindedPayinfo[] })), /invoice_blindedpay is missing/],
    ['a payinfo count differing from the paths', () => signed(reply({ invoiceBlindedpay: [payinfo, payinfo] })), /2 entries for 1/],
    ['no usable path', () => signed(reply({ invoiceBlindedpay: [{ ...payinfo, features: Uint8Array.of(0x04) }] })), /none is usable/],
    ['an unknown even invoice feature', () => signed(reply({ invoiceFeatures: Uint8Array.of(0x01, 0x00, 0x00, 0x00) })), /feature bit 24/],
    ['an amount differing from invreq_amount', () => signed(reply({ invreqAmount: 3000n, invoiceAmount: 2000n })), /differs from invreq_amount/],
    ['a node id other than the offer issuer', () => signed(reply({ invoiceNodeId: publicKeyHex(payer) })), /differs from offer_issuer_id/],
    ['a signature from another key', () => signTlvStream('invoice', encodeFields({ ...reply(), invoiceNodeId: publicKeyHex(merchant) }, [], INVOICE_SCHEMA), payer), /does not verify/],
    ['an invoice_request signature tag', () => signTlvStream('invoice_request', encodeFields({ ...reply(), invoiceNodeId: publicKeyHex(merchant) }, [], INVOICE_SCHEMA), merchant), /does not verify/],
    ['a type above 3999999999', () => signed(reply(), (rs) => [...rs, { type: 4_000_000_001, value: new Uint8Array() }]), /outside the ranges/],
    // the signature record (type 240, length 64) is the last 66 bytes
    ['a missing signature', () => signed(reply()).slice(0, -66), /signature is missing/],
  ]
  for (const [name, build, reason] of rejects) {
    it(`rejects ${name}`, () => expect(() => decodeInvoiceTlv(build())).toThrow(reason))
  }

  it('rejects another message prefix', () => {
    expect(() => decodeInvoice(encodeBolt12String('lnr', signed(reply())))).toThrow(/expected prefix lni/)
  })

  it('accepts the compulsory MPP bit and keeps unusable-feature paths when another is usable', () => {
    const inv = decodeInvoiceTlv(signed(reply({
      invoiceFeatures: Uint8Array.of(0x01, 0x00, 0x00),
      invoicePaths: [path, path],
      invoiceBlindedpay: [{ ...payinfo, features: Uint8Array.of(0x04) }, payinfo],
    })))
    expect(hasFeature(inv.invoiceFeatures, MPP_COMPULSORY)).toBe(true)
    expect(unknownEvenFeature(inv.invoiceBlindedpay[0].features)).toBe(2)
  })

  it('expires 7200 s after creation unless invoice_relative_expiry says otherwise', () => {
    const invoice = { invoiceCreatedAt: 1000n }
    expect(invoiceExpiresAt(invoice)).toBe(8200n)
    expect(isInvoiceExpired(invoice, 8200)).toBe(false)
    expect(isInvoiceExpired(invoice, 8201)).toBe(true)
    expect(isInvoiceExpired({ ...invoice, invoiceRelativeExpiry: 60 }, 1061)).toBe(true)
  })

  it('keeps fallbacks on the wire but lists only the usable ones', () => {
    const fallbacks = [
      { version: 0, address: new Uint8Array(20) }, { version: 17, address: new Uint8Array(20) },
      { version: 1, address: new Uint8Array(1) }, { version: 1, address: new Uint8Array(41) },
    ]
    const invoice = decodeInvoiceTlv(signed(reply({ invoiceFallbacks: fallbacks })))
    expect(invoice.invoiceFallbacks).toEqual(fallbacks)
    expect(usableFallbacks(invoice)).toEqual([fallbacks[0]])
  })

  it('random bytes either decode or throw a Bolt12Error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (data) => {
      try {
        decodeInvoiceTlv(data)
      } catch (e) {
        expect(e).toBeInstanceOf(Bolt12Error)
      }
    }), { numRuns: 500 })
  })
})
