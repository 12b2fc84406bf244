// NIP-57: Lightning zaps. Zap requests (9734: built by the payer, sent to the recipient's LNURL
// callback, checked there per Appendix D), zap receipts (9735: built by the LNURL server once the
// invoice is paid) and strict receipt validation for anyone who counts zaps (Appendix F and more:
// everything a forged or sloppy receipt could get wrong is rejected with the reason). Pure: times
// are passed in.
import bolt11 from 'bolt11'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { eventShapeError, getTagValue, isHex64, NostrProtocolError, verifyEvent, type EventTemplate, type NostrEvent } from './01.js'

export const ZAP_REQUEST_KIND = 9734
export const ZAP_RECEIPT_KIND = 9735

export interface ZapRequestParams {
  recipientPubkey: string
  /** Recommended: the receipt's invoice must then be for exactly this amount. */
  amountMsats?: number
  /** Where the recipient's server should publish the receipt. */
  relays: string[]
  /** The recipient's `lnurl1...` (bech32 LNURL-pay URL). */
  lnurl?: string
  /** The zapped event, if an event rather than a profile is zapped. */
  eventId?: string
  /** The zapped addressable event's `kind:pubkey:d`. */
  address?: string
  /** Kind of the zapped event. */
  targetKind?: number
  comment?: string
  createdAt: number
}

export function buildZapRequest(params: ZapRequestParams): EventTemplate {
  return {
    kind: ZAP_REQUEST_KIND,
    created_at: params.createdAt,
    content: params.comment ?? '',
    tags: [
      ['relays', ...params.relays],
      ...(params.amountMsats !== undefined ? [['amount', String(params.amountMsats)]] : []),
      ...(params.lnurl ? [['lnurl', params.lnurl]] : []),
      ['p', params.recipientPubkey],
      ...(params.eventId ? [['e', params.eventId]] : []),
      ...(params.address ? [['a', params.address]] : []),
      ...(params.targetKind !== undefined ? [['k', String(params.targetKind)]] : []),
    ],
  }
}

const tagValues = (event: Pick<NostrEvent, 'tags'>, name: string) => event.tags.filter((t) => t[0] === name).map((t) => t[1])
const ADDRESS = /^\d+:[0-9a-f]{64}:.*$/

export interface ZapRequestChecks {
  /** The `amount` query parameter of the callback, msat: an `amount` tag must equal it. */
  amountMsats?: number
  /** The zap must be for this pubkey. */
  recipientPubkey?: string
  /** Our own `lnurl1...`: a request naming another one is refused. */
  lnurl?: string
  /** Checks an event's id and signature; default verifyEvent. Callers checking many receipts pass a faster one. */
  verify?: (event: NostrEvent) => boolean
}

/** Appendix D: why this is not an acceptable zap request, or null. */
export function zapRequestError(event: unknown, checks: ZapRequestChecks = {}): string | null {
  const shape = eventShapeError(event)
  if (shape) return `malformed zap request: ${shape}`
  const request = event as NostrEvent
  if (request.kind !== ZAP_REQUEST_KIND) return `a zap request has kind ${ZAP_REQUEST_KIND}, not ${request.kind}`
  if (!(checks.verify ?? verifyEvent)(request)) return 'zap request id or signature is invalid'
  if (request.tags.length === 0) return 'zap request has no tags'
  const ps = tagValues(request, 'p')
  if (ps.length !== 1) return `zap request must have exactly one p tag, has ${ps.length}`
  if (!isHex64(ps[0])) return 'zap request p tag is not a hex pubkey'
  const es = tagValues(request, 'e')
  if (es.length > 1) return `zap request must have at most one e tag, has ${es.length}`
  if (es.length === 1 && !isHex64(es[0])) return 'zap request e tag is not a hex event id'
  for (const a of tagValues(request, 'a')) if (typeof a !== 'string' || !ADDRESS.test(a)) return 'zap request a tag is not an event coordinate (kind:pubkey:d)'
  const bigPs = tagValues(request, 'P')
  if (bigPs.length > 1) return `zap request must have at most one P tag, has ${bigPs.length}`
  const amount = getTagValue(request, 'amount')
  if (amount !== undefined) {
    if (!/^[1-9]\d*$/.test(amount) || !Number.isSafeInteger(Number(amount))) return 'zap request amount tag must be a positive integer (msat)'
    if (checks.amountMsats !== undefined && Number(amount) !== checks.amountMsats) {
      return `zap request amount ${amount} msat does not match the requested amount ${checks.amountMsats} msat`
    }
  }
  if (checks.recipientPubkey !== undefined && ps[0] !== checks.recipientPubkey) return 'zap request is for another recipient'
  const lnurl = getTagValue(request, 'lnurl')
  if (checks.lnurl !== undefined && lnurl !== undefined && lnurl.toLowerCase() !== checks.lnurl.toLowerCase()) return 'zap request lnurl tag names another LNURL'
  return null
}

/** Parses the callback's `nostr` parameter; throws NostrProtocolError('invalid', reason). */
export function parseZapRequest(json: string, checks: ZapRequestChecks = {}): NostrEvent {
  let event: unknown
  try {
    event = JSON.parse(json)
  } catch {
    throw new NostrProtocolError('invalid', 'zap request is not JSON')
  }
  const error = zapRequestError(event, checks)
  if (error) throw new NostrProtocolError('invalid', error)
  return event as NostrEvent
}

export interface ZapReceiptParams {
  /** The zap request exactly as received: the invoice's description hash is its sha256. */
  zapRequestJson: string
  bolt11: string
  /** Not a proof of payment (the receipt's signer could invent it) but lets clients match the invoice. */
  preimage?: string
  /** Unix seconds the invoice was paid: the receipt's created_at, for idempotency. */
  paidAt: number
}

/** Appendix E. The zap request must already have passed zapRequestError. */
export function buildZapReceipt(params: ZapReceiptParams): EventTemplate {
  const request = JSON.parse(params.zapRequestJson) as NostrEvent
  const copied = (name: string) => request.tags.filter((t) => t[0] === name && t[1] !== undefined).map((t) => [name, t[1]])
  return {
    kind: ZAP_RECEIPT_KIND,
    created_at: params.paidAt,
    content: '',
    tags: [
      ...copied('p'),
      ['P', request.pubkey],
      ...copied('e'),
      ...copied('a'),
      ...copied('k'),
      ['bolt11', params.bolt11],
      ['description', params.zapRequestJson],
      ...(params.preimage ? [['preimage', params.preimage]] : []),
    ],
  }
}

export interface ZapReceiptExpectations {
  /** The recipient's LNURL server's `nostrPubkey`: the only key allowed to sign their receipts. */
  nostrPubkey: string
  recipientPubkey?: string
  eventId?: string
  address?: string
  /** The recipient's `lnurl1...`: a request naming another one is refused. */
  lnurl?: string
  /** Checks the receipt's and the request's ids and signatures; default verifyEvent. */
  verify?: (event: NostrEvent) => boolean
}

export interface ValidZap {
  receipt: NostrEvent
  request: NostrEvent
  amountMsats: number
  senderPubkey: string
  recipientPubkey: string
  eventId?: string
  address?: string
  comment: string
  paymentHash: string
  /** The receipt's created_at (the payment time, by Appendix E). */
  paidAt: number
}

export type ZapReceiptValidation = { ok: true; zap: ValidZap } | { ok: false; reason: string }

interface InvoiceFacts {
  amountMsats?: number
  paymentHash?: string
  descriptionHash?: string
  expiresAt: number
}

function decodeInvoice(invoice: string): InvoiceFacts {
  // The package knows bitcoin, testnet and regtest prefixes; signet (lntbs) needs its network spelled out.
  const signet = invoice.toLowerCase().startsWith('lntbs') ? { bech32: 'tbs', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] } : undefined
  const decoded = bolt11.decode(invoice, signet)
  const tags = decoded.tagsObject
  const timestamp = decoded.timestamp ?? 0
  return {
    ...(decoded.millisatoshis ? { amountMsats: Number(decoded.millisatoshis) } : {}),
    ...(tags.payment_hash ? { paymentHash: tags.payment_hash } : {}),
    ...(tags.purpose_commit_hash ? { descriptionHash: tags.purpose_commit_hash } : {}),
    // BOLT11: one hour when the invoice does not say.
    expiresAt: timestamp + (tags.expire_time ?? 3600),
  }
}

/**
 * Strict zap receipt validation: the receipt is signed by the LNURL server's nostrPubkey, its
 * invoice commits to sha256 of the zap request it carries, the invoice amount equals the request's
 * amount, the p/e/a/P tags agree with the request, the request is validly signed, the invoice had
 * not expired when the receipt was issued, and a preimage tag (if any) matches the payment hash.
 */
export function validateZapReceipt(receipt: unknown, expected: ZapReceiptExpectations): ZapReceiptValidation {
  const fail = (reason: string): ZapReceiptValidation => ({ ok: false, reason })
  const shape = eventShapeError(receipt)
  if (shape) return fail(`malformed zap receipt: ${shape}`)
  const r = receipt as NostrEvent
  if (r.kind !== ZAP_RECEIPT_KIND) return fail(`a zap receipt has kind ${ZAP_RECEIPT_KIND}, not ${r.kind}`)
  const verify = expected.verify ?? verifyEvent
  if (!verify(r)) return fail('zap receipt id or signature is invalid')
  if (r.pubkey !== expected.nostrPubkey) return fail("zap receipt is not signed by the recipient's LNURL server (nostrPubkey)")

  const invoice = getTagValue(r, 'bolt11')
  if (!invoice) return fail('zap receipt has no bolt11 tag')
  let facts: InvoiceFacts
  try {
    facts = decodeInvoice(invoice)
  } catch (err) {
    return fail(`zap receipt bolt11 is malformed: ${(err as Error).message}`)
  }
  if (!facts.paymentHash || !isHex64(facts.paymentHash)) return fail('zap receipt bolt11 has no valid payment hash')

  const description = getTagValue(r, 'description')
  if (description === undefined) return fail('zap receipt has no description tag (the zap request)')
  let request: NostrEvent
  try {
    request = JSON.parse(description)
  } catch {
    return fail('zap receipt description is not JSON')
  }
  const requestError = zapRequestError(request, { verify })
  if (requestError) return fail(requestError)

  if (!facts.descriptionHash) return fail('zap receipt invoice does not commit to a description hash')
  if (bytesToHex(sha256(utf8ToBytes(description))) !== facts.descriptionHash) return fail('zap receipt invoice description hash is not the sha256 of the zap request')

  if (facts.amountMsats === undefined || !Number.isSafeInteger(facts.amountMsats)) return fail('zap receipt invoice has no amount')
  const requested = getTagValue(request, 'amount')
  if (requested !== undefined && Number(requested) !== facts.amountMsats) {
    return fail(`amount mismatch: the zap request asks ${requested} msat, the invoice is for ${facts.amountMsats} msat`)
  }

  const recipient = tagValues(request, 'p')[0]
  const receiptPs = tagValues(r, 'p')
  if (receiptPs.length !== 1 || receiptPs[0] !== recipient) return fail('zap receipt p tag does not match the zap request')
  const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i])
  if (!sameList(tagValues(r, 'e'), tagValues(request, 'e'))) return fail('zap receipt e tag does not match the zap request')
  if (!sameList(tagValues(r, 'a'), tagValues(request, 'a'))) return fail('zap receipt a tag does not match the zap request')
  const sender = tagValues(r, 'P')
  if (sender.length > 1 || (sender.length === 1 && sender[0] !== request.pubkey)) return fail('zap receipt P tag is not the zap request author')

  if (r.created_at > facts.expiresAt) return fail('zap receipt invoice had expired before the receipt was issued')
  const preimage = getTagValue(r, 'preimage')
  if (preimage !== undefined && (!isHex64(preimage) || bytesToHex(sha256(hexToBytes(preimage))) !== facts.paymentHash)) {
    return fail('zap receipt preimage does not match the invoice payment hash')
  }

  if (expected.recipientPubkey !== undefined && recipient !== expected.recipientPubkey) return fail('zap is for another recipient')
  const eventId = getTagValue(request, 'e')
  if (expected.eventId !== undefined && eventId !== expected.eventId) return fail('zap is for another event')
  const address = getTagValue(request, 'a')
  if (expected.address !== undefined && address !== expected.address) return fail('zap is for another addressable event')
  const lnurl = getTagValue(request, 'lnurl')
  if (expected.lnurl !== undefined && lnurl !== undefined && lnurl.toLowerCase() !== expected.lnurl.toLowerCase()) return fail('zap request names another LNURL')

  return {
    ok: true,
    zap: {
      receipt: r,
      request,
      amountMsats: facts.amountMsats,
      senderPubkey: request.pubkey,
      recipientPubkey: recipient,
      ...(eventId !== undefined && { eventId }),
      ...(address !== undefined && { address }),
      comment: request.content,
      paymentHash: facts.paymentHash,
      paidAt: r.created_at,
    },
  }
}
