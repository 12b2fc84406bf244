import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { Bolt12Error } from './errors.js'
import { decodeBolt12String, encodeBolt12String } from './bech32.js'
import {
  decodeFields, encodeFields, FIELDS, INVOICE_FIELDS, unknownEvenFeature, type FallbackAddress, type Fields, type MessageSchema,
} from './fields.js'
import { invoiceRequestToTlvRecords, type InvoiceRequestFields } from './invoice-request.js'
import { publicKeyHex, signTlvStream, verifyMerkleSignature } from './merkle.js'
import { MAX_MSAT } from './offer.js'
import { parseTlvStream, type TlvRecord } from './tlv.js'

export type InvoiceFields = Pick<Fields, (typeof INVOICE_FIELDS)[number]>

type WithRequired<T, K extends keyof T> = T & { [P in K]-?: NonNullable<T[P]> }

export type Invoice = WithRequired<
  InvoiceFields,
  'invoicePaths' | 'invoiceBlindedpay' | 'invoiceCreatedAt' | 'invoicePaymentHash' | 'invoiceAmount' | 'invoiceNodeId'
> & {
  /** Unknown odd TLV records, kept verbatim (and signed over). */
  unknownFields?: readonly TlvRecord[]
}

export type DecodedInvoice = Invoice & { signature: string; unknownFields: TlvRecord[] }

/** What an invoice writer fills in; the signature is computed, and `invoiceNodeId` defaults to the signing key's. */
export type InvoiceInput = Omit<Invoice, 'signature' | 'invoiceNodeId'> & { invoiceNodeId?: string }

export const INVOICE_SCHEMA: MessageSchema = {
  name: 'invoice',
  ranges: [[0, 1000], [1_000_000_000, 3_999_999_999]],
  fields: INVOICE_FIELDS,
}

export const DEFAULT_INVOICE_RELATIVE_EXPIRY = 7200

/** Invoice feature bits (BOLT 12): the payer must (16) or may (17) split the payment. */
export const MPP_COMPULSORY = 16
export const MPP_OPTIONAL = 17
const KNOWN_INVOICE_FEATURES = [MPP_COMPULSORY]

const REQUIRED = [
  'invoiceAmount', 'invoiceCreatedAt', 'invoicePaymentHash', 'invoiceNodeId', 'invoicePaths', 'invoiceBlindedpay', 'signature',
] as const

/** Stateless reader requirements; expiry (needs a clock) and matching our own request are separate checks. */
function checkInvoice(inv: InvoiceFields, records: readonly TlvRecord[]): asserts inv is Invoice & { signature: string } {
  for (const name of REQUIRED) {
    if (inv[name] === undefined) throw new Bolt12Error(`invoice: ${FIELDS[name].specName} is missing`)
  }
  const paths = inv.invoicePaths!
  const payinfos = inv.invoiceBlindedpay!
  if (payinfos.length !== paths.length) {
    throw new Bolt12Error(`invoice_blindedpay has ${payinfos.length} entries for ${paths.length} invoice_paths`)
  }
  if (payinfos.every((p) => unknownEvenFeature(p.features) !== undefined)) {
    throw new Bolt12Error('invoice: every blinded path requires unknown features, none is usable')
  }
  const bit = inv.invoiceFeatures && unknownEvenFeature(inv.invoiceFeatures, KNOWN_INVOICE_FEATURES)
  if (bit !== undefined) throw new Bolt12Error(`invoice_features: unknown even feature bit ${bit}`)
  if (inv.invoiceAmount! > MAX_MSAT) throw new Bolt12Error('invoice_amount exceeds 21 million BTC in millisatoshi')
  if (inv.invreqAmount !== undefined && inv.invoiceAmount !== inv.invreqAmount) {
    throw new Bolt12Error('invoice_amount differs from invreq_amount')
  }
  if (inv.offerIssuerId !== undefined && inv.invoiceNodeId !== inv.offerIssuerId) {
    throw new Bolt12Error('invoice_node_id differs from offer_issuer_id')
  }
  if (!verifyMerkleSignature('invoice', records, hexToBytes(inv.signature!), hexToBytes(inv.invoiceNodeId!))) {
    throw new Bolt12Error('invoice: signature does not verify against invoice_node_id')
  }
}

/** Decodes the raw TLV stream (as carried in an onion message's `invoice` field). */
export function decodeInvoiceTlv(data: Uint8Array): DecodedInvoice {
  const records = parseTlvStream(data, 'invoice')
  const { fields, unknownFields } = decodeFields(records, INVOICE_SCHEMA)
  checkInvoice(fields, records)
  return { ...fields, unknownFields }
}

export function decodeInvoice(text: string): DecodedInvoice {
  const { prefix, data } = decodeBolt12String(text)
  if (prefix !== 'lni') throw new Bolt12Error(`invoice: expected prefix lni, got ${prefix}`)
  return decodeInvoiceTlv(data)
}

/**
 * Builds and signs an invoice with `nodeSecretKey` (its public key becomes `invoice_node_id`). Answering an
 * invoice request: spread the decoded request into `invoice`; its signature is not copied.
 */
export function encodeInvoiceTlv(invoice: InvoiceInput, nodeSecretKey: Uint8Array, auxRand?: Uint8Array): Uint8Array {
  const nodeId = publicKeyHex(nodeSecretKey)
  if (invoice.invoiceNodeId !== undefined && invoice.invoiceNodeId !== nodeId) {
    throw new Bolt12Error('invoice_node_id does not belong to the signing key')
  }
  const records = encodeFields({ ...invoice, invoiceNodeId: nodeId, signature: undefined }, invoice.unknownFields ?? [], INVOICE_SCHEMA)
  const data = signTlvStream('invoice', records, nodeSecretKey, auxRand)
  decodeInvoiceTlv(data)
  return data
}

export function encodeInvoice(invoice: InvoiceInput, nodeSecretKey: Uint8Array, auxRand?: Uint8Array): string {
  return encodeBolt12String('lni', encodeInvoiceTlv(invoice, nodeSecretKey, auxRand))
}

/** Seconds since 1970 after which the invoice must not be paid. */
export function invoiceExpiresAt(invoice: Pick<Invoice, 'invoiceCreatedAt' | 'invoiceRelativeExpiry'>): bigint {
  return invoice.invoiceCreatedAt + BigInt(invoice.invoiceRelativeExpiry ?? DEFAULT_INVOICE_RELATIVE_EXPIRY)
}

export function isInvoiceExpired(invoice: Pick<Invoice, 'invoiceCreatedAt' | 'invoiceRelativeExpiry'>, nowSeconds: number): boolean {
  return BigInt(Math.floor(nowSeconds)) > invoiceExpiresAt(invoice)
}

/**
 * Checks an invoice against the invoice request we sent: every field in 0..159 and 1000000000..2999999999 must be
 * identical. (`invoice_node_id` against `offer_issuer_id` is already checked on decode; for offers without an
 * issuer id the caller compares it with the blinded path's final node.)
 */
export function checkInvoiceMatchesRequest(invoice: DecodedInvoice, request: InvoiceRequestFields & { unknownFields?: readonly TlvRecord[] }): void {
  const mirrored = (r: TlvRecord) => r.type <= 159 || (r.type >= 1_000_000_000 && r.type <= 2_999_999_999)
  const hexByType = (records: TlvRecord[]) => new Map(records.filter(mirrored).map((r) => [r.type, bytesToHex(r.value)]))
  const ours = hexByType(invoiceRequestToTlvRecords(request))
  const theirs = hexByType(encodeFields(invoice, invoice.unknownFields, INVOICE_SCHEMA))
  const differing = [...new Set([...ours.keys(), ...theirs.keys()])].filter((t) => ours.get(t) !== theirs.get(t))
  if (differing.length > 0) {
    throw new Bolt12Error(`invoice does not match the invoice request in TLV types ${differing.sort((a, b) => a - b).join(', ')}`)
  }
}

/** `invoice_fallbacks` a bitcoin payer may use: the spec says to ignore versions over 16 and odd program sizes. */
export function usableFallbacks(invoice: Pick<InvoiceFields, 'invoiceFallbacks'>): FallbackAddress[] {
  return (invoice.invoiceFallbacks ?? []).filter((f) => f.version <= 16 && f.address.length >= 2 && f.address.length <= 40)
}
