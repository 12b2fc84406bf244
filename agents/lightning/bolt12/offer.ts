import { Bolt12Error } from './errors.js'
import { decodeBolt12String, encodeBolt12String } from './bech32.js'
import {
  decodeFields, encodeFields, OFFER_FIELDS, unknownEvenFeature, type Fields, type MessageSchema,
} from './fields.js'
import { parseTlvStream, serializeTlvStream, type TlvRecord } from './tlv.js'

export type OfferFields = Pick<Fields, (typeof OFFER_FIELDS)[number]>

export interface Offer extends OfferFields {
  /** Unknown odd TLV records (types 1..79 or 1000000000..1999999999), kept verbatim. */
  unknownFields?: readonly TlvRecord[]
}

export type DecodedOffer = Offer & { unknownFields: TlvRecord[] }

/** Chain hashes as they appear on the wire (BOLT 0: genesis block hash, little-endian). */
export const CHAIN_HASHES = {
  bitcoin: '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000',
  testnet: '43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000',
  signet: 'f61eee3b63a380a477a063af32b2bbc97c9ff9f01f2c4225e973988108000000',
  regtest: '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f',
} as const

/** BOLT 1: milli-satoshi amounts must not exceed 21 million BTC. */
export const MAX_MSAT = 0x1d24b2dfac520000n

export const OFFER_SCHEMA: MessageSchema = {
  name: 'offer',
  ranges: [[1, 79], [1_000_000_000, 1_999_999_999]],
  fields: OFFER_FIELDS,
}

/** No offer feature bits are assigned yet (BOLT 9), so every even bit is unknown. */
const KNOWN_OFFER_FEATURES: number[] = []

/**
 * The reader requirements on offer fields. Invoice requests answering an offer reuse it: their offer fields must
 * form a valid offer.
 */
export function checkOfferFields(offer: OfferFields): void {
  const bit = offer.offerFeatures && unknownEvenFeature(offer.offerFeatures, KNOWN_OFFER_FEATURES)
  if (bit !== undefined) throw new Bolt12Error(`offer_features: unknown even feature bit ${bit}`)
  if (offer.offerAmount !== undefined) {
    if (offer.offerDescription === undefined) throw new Bolt12Error('offer_amount is set but offer_description is missing')
    if (offer.offerAmount === 0n) throw new Bolt12Error('offer_amount must be greater than zero')
    if (offer.offerCurrency === undefined && offer.offerAmount > MAX_MSAT) {
      throw new Bolt12Error('offer_amount exceeds 21 million BTC in millisatoshi')
    }
  }
  if (offer.offerCurrency !== undefined && offer.offerAmount === undefined) {
    throw new Bolt12Error('offer_currency is set but offer_amount is missing')
  }
  if (offer.offerIssuerId === undefined && offer.offerPaths === undefined) {
    throw new Bolt12Error('offer has neither offer_issuer_id nor offer_paths')
  }
}

export function decodeOffer(text: string): DecodedOffer {
  const { prefix, data } = decodeBolt12String(text)
  if (prefix !== 'lno') throw new Bolt12Error(`offer: expected prefix lno, got ${prefix}`)
  const { fields, unknownFields } = decodeFields(parseTlvStream(data, 'offer'), OFFER_SCHEMA)
  checkOfferFields(fields)
  return { ...fields, unknownFields }
}

export function offerToTlvRecords(offer: Offer): TlvRecord[] {
  return encodeFields(offer, offer.unknownFields ?? [], OFFER_SCHEMA)
}

/** Encodes an offer, refusing anything a reader would reject (and a non-ISO-4217-shaped currency). */
export function encodeOffer(offer: Offer): string {
  if (offer.offerCurrency !== undefined && !/^[A-Z]{3}$/.test(offer.offerCurrency)) {
    throw new Bolt12Error('offer_currency must be an ISO 4217 three-letter code')
  }
  const encoded = encodeBolt12String('lno', serializeTlvStream(offerToTlvRecords(offer)))
  decodeOffer(encoded)
  return encoded
}

/** True once `nowSeconds` is past `offer_absolute_expiry`; readers must not respond to expired offers. */
export function isOfferExpired(offer: OfferFields, nowSeconds: number): boolean {
  return offer.offerAbsoluteExpiry !== undefined && BigInt(Math.floor(nowSeconds)) > offer.offerAbsoluteExpiry
}
