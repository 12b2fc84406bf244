// LND over its REST proxy (grpc-gateway). Wire conventions, per LND's REST docs: JSON field names
// are the proto names (snake_case); bytes fields are base64 in bodies and responses, base64url in
// URL paths, except /v1/invoice/{r_hash_str} which takes hex; 64-bit integers travel as strings;
// enums as their names; errors as {code, message, details} with the gRPC code mapped to an HTTP
// status (LND answers a bad or missing macaroon with code 2 and HTTP 500). Server-streaming calls
// (/v2/router/send, /v2/router/track) answer newline-separated {"result": ...} or {"error": ...}.
// Authentication: the macaroon, hex, in the Grpc-Metadata-macaroon header.
//
// LND's certificate is self-signed: start Node with NODE_EXTRA_CA_CERTS=<lnd tls.cert> (fetch honours
// it), or inject a fetch that trusts it.
//
// LND cannot receive BOLT12 payments: createOffer throws 'unsupported'.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { base64, base64urlnopad } from '@scure/base'
import { decodeBolt11 } from './bolt11.js'
import {
  checkHash,
  checkInvoiceParams,
  LND_CANNOT_RECEIVE_BOLT12,
  paymentHashOf,
  WalletError,
  type CreatedInvoice,
  type CreatedOffer,
  type CreateHoldInvoiceParams,
  type CreateInvoiceParams,
  type FetchLike,
  type InvoiceState,
  type InvoiceStatus,
  type LightningWallet,
  type PaymentResult,
  type PaymentStatus,
  type PayOptions,
} from './wallet.js'

export interface LndRestOptions {
  /** The REST endpoint, e.g. https://127.0.0.1:8080 */
  url: string
  /** A macaroon with invoice and offchain permissions (admin.macaroon works), hex. */
  macaroonHex: string
  fetch?: FetchLike
  /** Per request, except payments (which wait up to their own timeout). Default 30 s. */
  requestTimeoutMs?: number
  /** How long lookupPayment waits for an in-flight payment to finish before saying 'pending'. Default 5 s. */
  trackTimeoutMs?: number
}

const INVOICE_STATES: Record<string, InvoiceState> = { OPEN: 'open', ACCEPTED: 'accepted', SETTLED: 'settled', CANCELED: 'canceled' }

interface LndErrorBody {
  code?: number
  message?: string
}

interface LndPayment {
  payment_hash?: string
  payment_preimage?: string
  status?: string
  fee_msat?: string
  failure_reason?: string
}

const b64ToHex = (value: unknown): string => (typeof value === 'string' && value ? bytesToHex(base64.decode(value)) : '')
const hexToB64 = (hex: string): string => base64.encode(hexToBytes(hex))
const int64 = (value: unknown): number => {
  const n = Number(value ?? 0)
  if (!Number.isSafeInteger(n)) throw new WalletError('backend', `LND sent a malformed integer: ${String(value)}`)
  return n
}

export class LndRestWallet implements LightningWallet {
  readonly kind = 'lnd' as const
  readonly fake = false
  readonly supportsHoldInvoices = true
  readonly supportsBolt12 = false
  private readonly baseUrl: string
  private readonly fetch: FetchLike
  private readonly requestTimeoutMs: number
  private readonly trackTimeoutMs: number

  constructor(private readonly options: LndRestOptions) {
    if (!/^[0-9a-fA-F]+$/.test(options.macaroonHex)) throw new WalletError('invalid', 'LND macaroon must be hex')
    this.baseUrl = options.url.replace(/\/+$/, '')
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init))
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000
    this.trackTimeoutMs = options.trackTimeoutMs ?? 5000
  }

  private async send(method: 'GET' | 'POST', path: string, body: unknown, timeoutMs: number): Promise<Response> {
    try {
      return await this.fetch(this.baseUrl + path, {
        method,
        headers: { 'Grpc-Metadata-macaroon': this.options.macaroonHex, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new WalletError('timeout', `LND ${path}: no answer within ${timeoutMs} ms`)
      throw new WalletError('backend', `LND ${path}: ${(err as Error).message}`)
    }
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await this.send(method, path, body, this.requestTimeoutMs)
    const text = await res.text()
    let json: unknown
    try {
      json = text ? JSON.parse(text) : {}
    } catch {
      throw new WalletError('backend', `LND ${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`)
    }
    if (!res.ok) throw lndError(path, res.status, json as LndErrorBody)
    return json as T
  }

  async createInvoice(params: CreateInvoiceParams): Promise<CreatedInvoice> {
    const descriptionHash = checkInvoiceParams(params)
    const res = await this.call<{ r_hash?: string; payment_request?: string }>('POST', '/v1/invoices', invoiceBody(params, descriptionHash))
    return this.created(res.payment_request, b64ToHex(res.r_hash))
  }

  async createHoldInvoice(params: CreateHoldInvoiceParams): Promise<CreatedInvoice> {
    const descriptionHash = checkInvoiceParams(params)
    checkHash(params.paymentHash, 'paymentHash')
    const res = await this.call<{ payment_request?: string }>('POST', '/v2/invoices/hodl', {
      ...invoiceBody(params, descriptionHash),
      hash: hexToB64(params.paymentHash),
    })
    return this.created(res.payment_request, params.paymentHash)
  }

  private created(bolt11: string | undefined, paymentHash: string): CreatedInvoice {
    if (!bolt11) throw new WalletError('backend', 'LND returned no payment_request')
    const decoded = decodeBolt11(bolt11)
    if (decoded.paymentHash !== paymentHash) throw new WalletError('backend', 'LND returned an invoice for another payment hash')
    return { bolt11, paymentHash, expiresAt: decoded.expiresAt }
  }

  async lookupInvoice(paymentHash: string): Promise<InvoiceStatus> {
    checkHash(paymentHash, 'paymentHash')
    const inv = await this.call<Record<string, unknown>>('GET', `/v1/invoice/${paymentHash}`)
    const state = INVOICE_STATES[String(inv.state)]
    if (!state) throw new WalletError('backend', `LND sent an unknown invoice state ${String(inv.state)}`)
    const preimage = b64ToHex(inv.r_preimage)
    const expiry = int64(inv.expiry)
    return {
      paymentHash,
      state,
      amountMsats: state === 'settled' ? int64(inv.amt_paid_msat) : int64(inv.value_msat),
      ...(state === 'settled' && { settledAt: int64(inv.settle_date) }),
      // A hold invoice's r_preimage stays empty until it is settled.
      ...(state === 'settled' && preimage && { preimage }),
      ...(expiry > 0 && { expiresAt: int64(inv.creation_date) + expiry }),
    }
  }

  async settleHoldInvoice(preimage: string): Promise<void> {
    checkHash(preimage, 'preimage')
    try {
      await this.call('POST', '/v2/invoices/settle', { preimage: hexToB64(preimage) })
    } catch (err) {
      // Settling twice must be harmless: a restart may repeat it.
      if (err instanceof WalletError && /already settled/.test(err.message)) return
      throw err
    }
  }

  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    checkHash(paymentHash, 'paymentHash')
    try {
      await this.call('POST', '/v2/invoices/cancel', { payment_hash: hexToB64(paymentHash) })
    } catch (err) {
      if (err instanceof WalletError && /already canceled/.test(err.message)) return
      throw err
    }
  }

  async payInvoice(bolt11: string, options: PayOptions): Promise<PaymentResult> {
    const decoded = decodeBolt11(bolt11)
    if (!Number.isSafeInteger(options.maxFeeMsats) || options.maxFeeMsats < 0) throw new WalletError('invalid', 'maxFeeMsats must be a non-negative integer')
    const timeoutSeconds = options.timeoutSeconds ?? 60
    // LND's timeout_seconds bounds the route search; a held payment stays in flight until the receiver decides.
    const res = await this.send(
      'POST',
      '/v2/router/send',
      { payment_request: bolt11, timeout_seconds: timeoutSeconds, fee_limit_msat: String(options.maxFeeMsats), no_inflight_updates: true },
      Math.max(this.requestTimeoutMs, (timeoutSeconds + 30) * 1000),
    )
    const payment = await finalPayment('/v2/router/send', res)
    if (payment.status !== 'SUCCEEDED') throw paymentFailure(payment)
    const preimage = payment.payment_preimage ?? ''
    if (paymentHashOf(preimage) !== decoded.paymentHash) throw new WalletError('backend', 'LND reported a preimage that does not match the payment hash')
    return { paymentHash: decoded.paymentHash, preimage, feeMsats: int64(payment.fee_msat) }
  }

  async lookupPayment(paymentHash: string): Promise<PaymentStatus> {
    checkHash(paymentHash, 'paymentHash')
    const path = `/v2/router/track/${base64urlnopad.encode(hexToBytes(paymentHash))}?no_inflight_updates=true`
    let payment: LndPayment
    try {
      const res = await this.send('GET', path, undefined, this.trackTimeoutMs)
      payment = await finalPayment('/v2/router/track', res)
    } catch (err) {
      if (err instanceof WalletError && err.code === 'not-found') return { paymentHash, state: 'unknown' }
      // An in-flight payment keeps the stream open: it is still pending.
      if (err instanceof WalletError && err.code === 'timeout') return { paymentHash, state: 'pending' }
      throw err
    }
    if (payment.status === 'SUCCEEDED') return { paymentHash, state: 'succeeded', preimage: payment.payment_preimage ?? '', feeMsats: int64(payment.fee_msat) }
    if (payment.status === 'FAILED') return { paymentHash, state: 'failed' }
    return { paymentHash, state: 'pending' }
  }

  async balance(): Promise<{ balanceMsats: number }> {
    const res = await this.call<{ local_balance?: { msat?: string; sat?: string }; balance?: string }>('GET', '/v1/balance/channels')
    if (res.local_balance) return { balanceMsats: int64(res.local_balance.msat ?? int64(res.local_balance.sat) * 1000) }
    return { balanceMsats: int64(res.balance) * 1000 }
  }

  async createOffer(): Promise<CreatedOffer> {
    throw new WalletError('unsupported', LND_CANNOT_RECEIVE_BOLT12)
  }
}

export function createLndRestWallet(options: LndRestOptions): LndRestWallet {
  return new LndRestWallet(options)
}

function invoiceBody(params: CreateInvoiceParams, descriptionHash: string | undefined): Record<string, unknown> {
  return {
    value_msat: String(params.amountMsats),
    // LND caps memos at 1024 bytes and does not put a memo into an invoice that has a description hash.
    ...(descriptionHash !== undefined ? { description_hash: hexToB64(descriptionHash) } : { memo: params.description ?? '' }),
    ...(params.expirySeconds !== undefined && { expiry: String(params.expirySeconds) }),
  }
}

function lndError(path: string, status: number, body: LndErrorBody | undefined): WalletError {
  const message = body?.message ?? `HTTP ${status}`
  const text = `LND ${path}: ${message}`
  if (status === 401 || status === 403 || /macaroon|verification failed|permission denied/i.test(message)) return new WalletError('unauthorized', text)
  if (status === 404 || body?.code === 5) return new WalletError('not-found', text)
  if (/invoice expired|invoice is expired/i.test(message)) return new WalletError('expired', text)
  if (path.startsWith('/v2/router/')) return new WalletError('payment-failed', text)
  if (status === 400 || status === 409 || body?.code === 3 || body?.code === 6) return new WalletError('invalid', text)
  return new WalletError('backend', text)
}

/** Reads a payment stream to its end and returns the last update. */
async function finalPayment(path: string, res: Response): Promise<LndPayment> {
  let text: string
  try {
    text = await res.text()
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') throw new WalletError('timeout', `LND ${path}: stream still open`)
    throw new WalletError('backend', `LND ${path}: ${(err as Error).message}`)
  }
  let last: LndPayment | undefined
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    let message: { result?: LndPayment; error?: LndErrorBody; code?: number; message?: string }
    try {
      message = JSON.parse(line)
    } catch {
      throw new WalletError('backend', `LND ${path}: malformed stream line: ${line.slice(0, 200)}`)
    }
    if (message.error) throw lndError(path, res.ok ? 500 : res.status, message.error)
    if (!res.ok) throw lndError(path, res.status, message)
    if (message.result) last = message.result
  }
  if (!res.ok) throw lndError(path, res.status, undefined)
  if (!last) throw new WalletError('backend', `LND ${path}: the stream ended without a payment update`)
  return last
}

function paymentFailure(payment: LndPayment): WalletError {
  const reason = payment.failure_reason ?? 'FAILURE_REASON_UNKNOWN'
  const text = `LND payment ${payment.payment_hash ?? ''} ${payment.status === 'FAILED' ? 'failed' : `ended ${payment.status}`}: ${reason}`
  if (reason === 'FAILURE_REASON_INSUFFICIENT_BALANCE') return new WalletError('insufficient-balance', text)
  return new WalletError('payment-failed', text)
}
