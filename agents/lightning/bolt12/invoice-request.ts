import { hexToBytes } from '@noble/hashes/utils.js'
import { Bolt12Error } from './errors.js'
import { decodeBolt12String, encodeBolt12String } from './bech32.js'
import {
  decodeFields, encodeFields, FIELDS, INVREQ_FIELDS, unknownEvenFeature, type FieldName, type Fields, type MessageSchema,
} from './fields.js'
import { isSignatureType, publicKeyHex, signTlvStream, verifyMerkleSignature } from './merkle.js'
import { CHAIN_HASHES, checkOfferFields, MAX_MSAT } from './offer.js'
import { parseTlvStream, serializeTlvStream, type TlvRecord } from './tlv.js'

export type InvoiceRequestFields = Pick<Fields, (typeof INVREQ_FIELDS)[number]>

export interface InvoiceRequest extends InvoiceRequestFields {
  invreqMetadata: Uint8Array
  invreqPayerId: string
  /** Unknown odd TLV records, kept verbatim (and signed over). */
  unknownFields?: readonly TlvRecord[]
}

export type DecodedInvoiceRequest = InvoiceRequest & { unknownFields: TlvRecord[] }

/** What a payer fills in; the signature is computed, and `invreqPayerId` defaults to the signing key's. */
export type InvoiceRequestInput = Omit<InvoiceRequest, 'signature' | 'invreqPayerId'> & { invreqPayerId?: string }

export const INVREQ_SCHEMA: MessageSchema = {
  name: 'invoice_request',
  ranges: [[0, 159], [240, 1000], [1_000_000_000, 2_999_999_999]],
  fields: INVREQ_FIELDS,
}

/** No invoice_request feature bits are assigned yet (BOLT 9). */
const KNOWN_INVREQ_FEATURES: number[] = []

export const isOfferResponse = (r: InvoiceRequestFields): boolean =>
  r.offerIssuerId !== undefined || r.offerPaths !== undefined

/** Stateless reader requirements; whether the offer is ours, unexpired and the chain supported is the caller's. */
function checkInvoiceRequest(r: InvoiceRequestFields, records: readonly TlvRecord[]): asserts r is InvoiceRequest {
  if (r.invreqMetadata === undefined) throw new Bolt12Error('invoice_request: invreq_metadata is missing')
  if (r.invreqPayerId === undefined) throw new Bolt12Error('invoice_request: invreq_payer_id is missing')
  const bit = r.invreqFeatures && unknownEvenFeature(r.invreqFeatures, KNOWN_INVREQ_FEATURES)
  if (bit !== undefined) throw new Bolt12Error(`invreq_features: unknown even feature bit ${bit}`)
  if (r.invreqAmount !== undefined && r.invreqAmount > MAX_MSAT) {
    throw new Bolt12Error('invreq_amount exceeds 21 million BTC in millisatoshi')
  }
  if (isOfferResponse(r)) {
    checkOfferFields(r)
    if (r.signature === undefined) throw new Bolt12Error('invoice_request: signature is missing')
    const chains = r.offerChains ?? [CHAIN_HASHES.bitcoin]
    if (r.invreqChain !== undefined && !chains.includes(r.invreqChain)) {
      throw new Bolt12Error('invreq_chain is not one of the offer chains')
    }
    if (r.offerQuantityMax !== undefined) {
      if (r.invreqQuantity === undefined) throw new Bolt12Error('invreq_quantity is missing but the offer has offer_quantity_max')
      if (r.invreqQuantity === 0n) throw new Bolt12Error('invreq_quantity must be greater than zero')
      if (r.offerQuantityMax !== 0n && r.invreqQuantity > r.offerQuantityMax) {
        throw new Bolt12Error('invreq_quantity exceeds offer_quantity_max')
      }
    } else if (r.invreqQuantity !== undefined) {
      throw new Bolt12Error('invreq_quantity is set but the offer has no offer_quantity_max')
    }
    if (r.offerAmount === undefined) {
      if (r.invreqAmount === undefined) throw new Bolt12Error('invreq_amount is missing and the offer has no offer_amount')
    } else if (r.offerCurrency === undefined && r.invreqAmount !== undefined) {
      const expected = r.offerAmount * (r.invreqQuantity ?? 1n)
      if (r.invreqAmount < expected) throw new Bolt12Error(`invreq_amount is below the expected ${expected} msat`)
    }
  } else {
    if (r.offerChains !== undefined || r.offerFeatures !== undefined || r.offerQuantityMax !== undefined) {
      throw new Bolt12Error('invoice_request without an offer must not have offer_chains, offer_features or offer_quantity_max')
    }
    if (r.invreqAmount === undefined) throw new Bolt12Error('invoice_request without an offer must set invreq_amount')
  }
  if (r.signature !== undefined && !verifyMerkleSignature('invoice_request', records, hexToBytes(r.signature), hexToBytes(r.invreqPayerId))) {
    throw new Bolt12Error('invoice_request: signature does not verify against invreq_payer_id')
  }
}

/** Decodes the raw TLV stream (as carried in an onion message's `invoice_request` field). */
export function decodeInvoiceRequestTlv(data: Uint8Array): DecodedInvoiceRequest {
  const records = parseTlvStream(data, 'invoice_request')
  const { fields, unknownFields } = decodeFields(records, INVREQ_SCHEMA)
  checkInvoiceRequest(fields, records)
  return { ...fields, unknownFields }
}

export function decodeInvoiceRequest(text: string): DecodedInvoiceRequest {
  const { prefix, data } = decodeBolt12String(text)
  if (prefix !== 'lnr') throw new Bolt12Error(`invoice_request: expected prefix lnr, got ${prefix}`)
  return decodeInvoiceRequestTlv(data)
}

export function invoiceRequestToTlvRecords(r: InvoiceRequestFields & { unknownFields?: readonly TlvRecord[] }): TlvRecord[] {
  return encodeFields(r, r.unknownFields ?? [], INVREQ_SCHEMA)
}

/**
 * Builds an invoice request for the payer key `payerSecretKey` (its public key becomes `invreq_payer_id`).
 * Answering an offer: spread the decoded offer into `request` (that copies its unknown fields too); the result
 * is signed. Without an offer (a payer offering to send money) the spec forbids a signature and most offer fields.
 */
export function encodeInvoiceRequestTlv(request: InvoiceRequestInput, payerSecretKey: Uint8Array, auxRand?: Uint8Array): Uint8Array {
  const payerId = publicKeyHex(payerSecretKey)
  if (request.invreqPayerId !== undefined && request.invreqPayerId !== payerId) {
    throw new Bolt12Error('invreq_payer_id does not belong to the signing key')
  }
  const records = invoiceRequestToTlvRecords({ ...request, invreqPayerId: payerId, signature: undefined })
  let data: Uint8Array
  if (isOfferResponse(request)) {
    data = signTlvStream('invoice_request', records, payerSecretKey, auxRand)
  } else {
    const forbidden = NO_OFFER_FORBIDDEN.find((name) => request[name] !== undefined)
    if (forbidden) throw new Bolt12Error(`invoice_request without an offer must not set ${FIELDS[forbidden].specName}`)
    if (request.offerDescription === undefined) throw new Bolt12Error('invoice_request without an offer must set offer_description')
    data = serializeTlvStream(records.filter((r) => !isSignatureType(r.type)))
  }
  decodeInvoiceRequestTlv(data)
  return data
}

const NO_OFFER_FORBIDDEN = [
  'offerMetadata', 'offerChains', 'offerAmount', 'offerCurrency', 'offerFeatures', 'offerQuantityMax',
] as const satisfies readonly FieldName[]

export function encodeInvoiceRequest(request: InvoiceRequestInput, payerSecretKey: Uint8Array, auxRand?: Uint8Array): string {
  return encodeBolt12String('lnr', encodeInvoiceRequestTlv(request, payerSecretKey, auxRand))
}
