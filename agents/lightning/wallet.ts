// One shape for every Lightning backend an agent can be paid through: the in-process FAKE network
// (tests and the zero-config default), LND and Core Lightning over REST, and any wallet behind Nostr
// Wallet Connect. Amounts are millisatoshis (numbers: 2^53 msat is ~90,000 BTC), hashes and
// preimages 64-character lowercase hex, times unix seconds.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'

/** The subset of fetch the REST clients use; inject one that trusts a node's self-signed certificate. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>

export type WalletKind = 'fake' | 'lnd' | 'cln' | 'nwc'

/**
 * - open: waiting for payment.
 * - accepted: a hold invoice whose payment is locked in, waiting for settle or cancel.
 * - settled: paid (the preimage is known to the payer).
 * - canceled: canceled, or expired unpaid (LND reports expired invoices as canceled too).
 */
export type InvoiceState = 'open' | 'accepted' | 'settled' | 'canceled'

export interface CreateInvoiceParams {
  amountMsats: number
  /** Shown in the invoice, or, together with descriptionHash, the text whose hash the invoice commits to. */
  description?: string
  /**
   * The invoice commits to this hash instead of a description (BOLT11 `h`; NIP-57 and LNURL need it).
   * Core Lightning only hashes a description itself: give both, and description must hash to this.
   */
  descriptionHash?: string
  /** Seconds until the invoice expires; the backend's default (usually 3600 or 86400) when absent. */
  expirySeconds?: number
}

export interface CreateHoldInvoiceParams extends CreateInvoiceParams {
  /** sha256 of a preimage only the caller knows: the payment stays locked until settleHoldInvoice(preimage). */
  paymentHash: string
}

export interface CreatedInvoice {
  bolt11: string
  paymentHash: string
  /** Unix seconds. */
  expiresAt: number
}

export interface InvoiceStatus {
  paymentHash: string
  state: InvoiceState
  /** The invoice amount (what was received, once settled). */
  amountMsats: number
  /** Unix seconds, once settled. */
  settledAt?: number
  /** Known once settled (for hold invoices, the caller's own). */
  preimage?: string
  /** Unix seconds; absent where the backend does not say. */
  expiresAt?: number
}

export interface PayOptions {
  /** Most the routing may cost; the payment fails rather than pay more. */
  maxFeeMsats: number
  /**
   * Route search time (default 60 s). A hold invoice keeps the payment in flight until its receiver
   * decides; past the client's patience payInvoice throws 'timeout', meaning the outcome is unknown:
   * ask lookupPayment before paying again.
   */
  timeoutSeconds?: number
}

export interface PaymentResult {
  paymentHash: string
  preimage: string
  feeMsats: number
}

export type PaymentState = 'pending' | 'succeeded' | 'failed' | 'unknown'

export interface PaymentStatus {
  paymentHash: string
  /** 'unknown': the backend never saw a payment with this hash. */
  state: PaymentState
  preimage?: string
  feeMsats?: number
}

export interface CreatedOffer {
  /** `lno1...` */
  bolt12: string
  offerId: string
}

export interface CreateOfferParams {
  /** Absent: the payer picks the amount. */
  amountMsats?: number
  description: string
}

export interface LightningWallet {
  readonly kind: WalletKind
  /** True only for the in-process fake network: its sats are not real. */
  readonly fake: boolean
  /** Hold invoices (createHoldInvoice, settle, cancel): FAKE, LND, NWC wallets that list make_hold_invoice. */
  readonly supportsHoldInvoices: boolean
  /** Receiving over BOLT12 offers (createOffer): FAKE and Core Lightning. LND cannot receive BOLT12. */
  readonly supportsBolt12: boolean

  createInvoice(params: CreateInvoiceParams): Promise<CreatedInvoice>
  /** Throws WalletError('not-found') for a hash the backend does not know. */
  lookupInvoice(paymentHash: string): Promise<InvoiceStatus>
  createHoldInvoice(params: CreateHoldInvoiceParams): Promise<CreatedInvoice>
  /** Releases a held payment; settling an already settled invoice is not an error. */
  settleHoldInvoice(preimage: string): Promise<void>
  /** Returns a held payment to the payer; canceling an already canceled invoice is not an error. */
  cancelHoldInvoice(paymentHash: string): Promise<void>
  /** Resolves once the payment succeeded; throws WalletError('payment-failed' | 'insufficient-balance' | ...) otherwise. */
  payInvoice(bolt11: string, options: PayOptions): Promise<PaymentResult>
  /** What became of an outgoing payment: asked after a restart before paying anything again. */
  lookupPayment(paymentHash: string): Promise<PaymentStatus>
  /** Spendable balance. */
  balance(): Promise<{ balanceMsats: number }>
  /** A reusable BOLT12 offer (supportsBolt12 only). */
  createOffer(params: CreateOfferParams): Promise<CreatedOffer>
}

export type WalletErrorCode =
  | 'unsupported' // the backend cannot do this (hold invoices on CLN, offers on LND)
  | 'not-found'
  | 'invalid' // bad input: malformed invoice, wrong preimage, amount out of range
  | 'expired'
  | 'payment-failed'
  | 'insufficient-balance'
  | 'unauthorized' // bad macaroon, rune or NWC key
  | 'timeout'
  | 'backend' // the backend failed or answered something unexpected

export class WalletError extends Error {
  override name = 'WalletError'
  constructor(
    readonly code: WalletErrorCode,
    message: string,
  ) {
    super(message)
  }
}

const HEX64 = /^[0-9a-f]{64}$/

export function checkHash(value: string, what: string): void {
  if (typeof value !== 'string' || !HEX64.test(value)) throw new WalletError('invalid', `${what} must be 64 lowercase hex characters`)
}

export function checkAmountMsats(amountMsats: number): void {
  if (!Number.isSafeInteger(amountMsats) || amountMsats <= 0) throw new WalletError('invalid', `amountMsats must be a positive integer, got ${amountMsats}`)
}

export function paymentHashOf(preimage: string): string {
  checkHash(preimage, 'preimage')
  return bytesToHex(sha256(hexToBytes(preimage)))
}

export function sha256Hex(text: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(text)))
}

/** Checks the invoice params every backend shares; returns the description hash, if any. */
export function checkInvoiceParams(params: CreateInvoiceParams): string | undefined {
  checkAmountMsats(params.amountMsats)
  if (params.expirySeconds !== undefined && (!Number.isSafeInteger(params.expirySeconds) || params.expirySeconds <= 0)) {
    throw new WalletError('invalid', 'expirySeconds must be a positive integer')
  }
  if (params.descriptionHash === undefined) return undefined
  checkHash(params.descriptionHash, 'descriptionHash')
  if (params.description !== undefined && sha256Hex(params.description) !== params.descriptionHash) {
    throw new WalletError('invalid', 'descriptionHash is not the sha256 of description')
  }
  return params.descriptionHash
}

export function unsupported(kind: WalletKind, what: string): WalletError {
  return new WalletError('unsupported', `${kind} wallet: ${what}`)
}

export const LND_CANNOT_RECEIVE_BOLT12 = 'LND cannot receive BOLT12 payments (it has no offers support); use Core Lightning, or BOLT11 invoices'

export interface WaitOptions {
  /** Resolve on 'accepted' too (a hold invoice whose payment is locked in). Default: only on 'settled'. */
  untilAccepted?: boolean
  /** Give up (WalletError 'timeout') after this many milliseconds. */
  timeoutMs: number
  pollMs?: number
  /** Unix milliseconds. */
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  signal?: AbortSignal
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Polls until the invoice is paid. Throws WalletError('expired') when it is canceled or expires
 * unpaid, 'timeout' when timeoutMs passes first, and the signal's reason when aborted.
 */
export async function waitForPayment(wallet: LightningWallet, paymentHash: string, options: WaitOptions): Promise<InvoiceStatus> {
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? defaultSleep
  const pollMs = options.pollMs ?? 1000
  const deadline = now() + options.timeoutMs
  for (;;) {
    options.signal?.throwIfAborted()
    const status = await wallet.lookupInvoice(paymentHash)
    if (status.state === 'settled' || (options.untilAccepted && status.state === 'accepted')) return status
    if (status.state === 'canceled') throw new WalletError('expired', `invoice ${paymentHash} was canceled or expired unpaid`)
    if (status.state === 'open' && status.expiresAt !== undefined && status.expiresAt * 1000 <= now()) {
      throw new WalletError('expired', `invoice ${paymentHash} expired unpaid`)
    }
    if (now() >= deadline) throw new WalletError('timeout', `invoice ${paymentHash} not paid within ${options.timeoutMs} ms`)
    await sleep(Math.min(pollMs, Math.max(0, deadline - now())))
  }
}
