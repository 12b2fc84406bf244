/**
 * # BOLT 12 codec (offers, invoice requests, invoices)
 *
 * Our own, pure and self-contained: no npm package decodes the official BOLT 12 vectors correctly. No I/O and no
 * clock; expiry helpers take the current time as an argument. Spec: lightning/bolts `12-offer-encoding.md`, with
 * BigSize/tu64 from `01-messaging.md` and blinded paths from `04-onion-routing.md`.
 *
 * Supported:
 * - String format: `lno` / `lnr` / `lni` + `1` + bech32 data without checksum; all-lower or all-upper case; `+`
 *   continuations (optionally followed by whitespace) between two bech32 characters; strict 5→8-bit padding.
 * - TLV streams: minimal BigSize types and lengths, strictly increasing types, no truncation or trailing bytes,
 *   minimal tu64/tu32, per-message type ranges, unknown even types rejected, unknown odd types kept
 *   (`unknownFields`) and re-encoded byte for byte.
 * - Offers (`decodeOffer`, `encodeOffer`): every field (chains, metadata, currency, amount, description, features,
 *   absolute expiry, blinded paths including a `sciddir` introduction node, issuer, quantity max, issuer id) and the
 *   reader requirements: amount needs a description and must be > 0 and ≤ 21M BTC, currency needs an amount, an
 *   issuer id or paths are required, no empty chains or paths, no zero-hop paths, valid points, valid UTF-8, no
 *   unknown even feature bits. `isOfferExpired(offer, now)`.
 * - Invoice requests (`decodeInvoiceRequest[Tlv]`, `encodeInvoiceRequest[Tlv]`): fields 0..159, signature
 *   240..1000, experimental 1000000000..2999999999; BIP-340 signature over the Merkle root with
 *   `invreq_payer_id`; the stateless reader checks (quantity, amount, chain, offer validity for offer responses;
 *   invreq_amount and no offer_chains/features/quantity_max without an offer).
 * - Invoices (`decodeInvoice[Tlv]`, `encodeInvoice[Tlv]`): fields 160..239 on top, required fields, blinded pay
 *   info per path, features (MPP 16/17), signature with `invoice_node_id`; `isInvoiceExpired`,
 *   `checkInvoiceMatchesRequest`, `usableFallbacks`.
 * - Merkle tree and signatures (`merkleRoot`, `taggedHash`, `signatureHash`): leaves H("LnLeaf", tlv) paired with
 *   H("LnNonce"||first-tlv, type), branches H("LnBranch", lesser||greater), tag "lightning"||message||"signature".
 *
 * Not covered: `invoice_error`, payer proofs, currency conversion, onion message transport, whether an offer is
 * ours or a chain supported (callers decide).
 *
 * Wallet support: LND cannot receive BOLT 12 payments (no offers support); Core Lightning (CLN), LDK-based nodes
 * and phoenixd can create offers and receive over them.
 */
export { Bolt12Error } from './errors.js'
export { decodeBolt12String, encodeBolt12String, type Bolt12Prefix, type Bolt12String } from './bech32.js'
export {
  decodeTruncatedUint, encodeBigSize, encodeTlvRecord, encodeTruncatedUint, parseTlvStream, serializeTlvStream,
  type TlvRecord,
} from './tlv.js'
export {
  hasFeature, unknownEvenFeature, type Bip353Name, type BlindedPath, type BlindedPathHop, type BlindedPayinfo,
  type FallbackAddress, type IntroductionNode,
} from './fields.js'
export {
  merkleRoot, publicKeyHex, signatureHash, taggedHash, verifyMerkleSignature, type SignedMessageName,
} from './merkle.js'
export {
  CHAIN_HASHES, decodeOffer, encodeOffer, isOfferExpired, MAX_MSAT, offerToTlvRecords, type DecodedOffer, type Offer,
  type OfferFields,
} from './offer.js'
export {
  decodeInvoiceRequest, decodeInvoiceRequestTlv, encodeInvoiceRequest, encodeInvoiceRequestTlv, invoiceRequestToTlvRecords,
  isOfferResponse, type DecodedInvoiceRequest, type InvoiceRequest, type InvoiceRequestFields, type InvoiceRequestInput,
} from './invoice-request.js'
export {
  checkInvoiceMatchesRequest, decodeInvoice, decodeInvoiceTlv, DEFAULT_INVOICE_RELATIVE_EXPIRY, encodeInvoice,
  encodeInvoiceTlv, invoiceExpiresAt, isInvoiceExpired, MPP_COMPULSORY, MPP_OPTIONAL, usableFallbacks,
  type DecodedInvoice, type Invoice, type InvoiceFields, type InvoiceInput,
} from './invoice.js'
