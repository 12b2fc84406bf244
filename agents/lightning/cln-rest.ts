// Core Lightning over its built-in clnrest plugin: every RPC method is POST /v1/<method> with the
// parameters as a JSON object and a `Rune` header; success is HTTP 201 with the RPC result, failure
// an RPC error object {code, message, data?} (401/403 for rune problems, 500 for RPC errors).
// Amounts are msat integers (older releases wrote "1000msat" strings; both are read).
//
// Core Lightning receives BOLT12 (createOffer). It has no hold invoices without a plugin, so the
// hold methods throw 'unsupported'; pick LND, NWC or the fake network for escrow.
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js'
import { decodeBolt11 } from './bolt11.js'
import {
  checkHash,
  checkInvoiceParams,
  paymentHashOf,
  unsupported,
  WalletError,
  type CreatedInvoice,
  type CreatedOffer,
  type CreateInvoiceParams,
  type CreateOfferParams,
  type FetchLike,
  type InvoiceStatus,
  type LightningWallet,
  type PaymentResult,
  type PaymentStatus,
  type PayOptions,
} from './wallet.js'

export interface ClnRestOptions {
  /** The clnrest endpoint, e.g. https://127.0.0.1:3010 */
  url: string
  /** A rune allowing invoice, listinvoices, pay, listpays, offer and listfunds. */
  rune: string
  fetch?: FetchLike
  /** Per request, except pay (which waits up to its retry_for). Default 30 s. */
  requestTimeoutMs?: number
  /** Bytes for invoice labels (default crypto random). */
  random?: (length: number) => Uint8Array
}

interface ClnRpcError {
  code?: number
  message?: string
}

// pay error codes (lightning-pay(7)).
const PAY_EXPIRED = 207

function msat(value: unknown, field: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(msat)?$/.test(value) ? Number(value.replace('msat', '')) : NaN
  if (!Number.isSafeInteger(n) || n < 0) throw new WalletError('backend', `Core Lightning sent a malformed ${field}: ${String(value)}`)
  return n
}

export class ClnRestWallet implements LightningWallet {
  readonly kind = 'cln' as const
  readonly fake = false
  readonly supportsHoldInvoices = false
  readonly supportsBolt12 = true
  private readonly baseUrl: string
  private readonly fetch: FetchLike
  private readonly requestTimeoutMs: number
  private readonly random: (length: number) => Uint8Array

  constructor(private readonly options: ClnRestOptions) {
    if (!options.rune) throw new WalletError('invalid', 'Core Lightning needs a rune')
    this.baseUrl = options.url.replace(/\/+$/, '')
    this.fetch = options.fetch ?? ((url, init) => fetch(url, init))
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000
    this.random = options.random ?? randomBytes
  }

  private async rpc<T>(method: string, params: Record<string, unknown>, timeoutMs = this.requestTimeoutMs): Promise<T> {
    let res: Response
    try {
      res = await this.fetch(`${this.baseUrl}/v1/${method}`, {
        method: 'POST',
        headers: { Rune: this.options.rune, 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(params),
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw new WalletError('timeout', `Core Lightning ${method}: no answer within ${timeoutMs} ms`)
      throw new WalletError('backend', `Core Lightning ${method}: ${(err as Error).message}`)
    }
    const text = await res.text()
    let json: unknown
    try {
      json = text ? JSON.parse(text) : {}
    } catch {
      throw new WalletError('backend', `Core Lightning ${method}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`)
    }
    if (!res.ok) throw clnError(method, res.status, json as ClnRpcError)
    return json as T
  }

  async createInvoice(params: CreateInvoiceParams): Promise<CreatedInvoice> {
    const descriptionHash = checkInvoiceParams(params)
    if (descriptionHash !== undefined && params.description === undefined) {
      throw new WalletError('unsupported', 'Core Lightning only commits to the hash of a description it is given (deschashonly): pass the description too')
    }
    const res = await this.rpc<{ bolt11?: string; payment_hash?: string; expires_at?: number }>('invoice', {
      amount_msat: params.amountMsats,
      label: `timmy-${bytesToHex(this.random(16))}`,
      description: params.description ?? '',
      ...(descriptionHash !== undefined && { deschashonly: true }),
      ...(params.expirySeconds !== undefined && { expiry: params.expirySeconds }),
    })
    if (!res.bolt11 || !res.payment_hash) throw new WalletError('backend', 'Core Lightning returned no bolt11')
    const decoded = decodeBolt11(res.bolt11)
    if (decoded.paymentHash !== res.payment_hash) throw new WalletError('backend', 'Core Lightning returned an invoice for another payment hash')
    if (descriptionHash !== undefined && decoded.descriptionHash !== descriptionHash) throw new WalletError('backend', 'Core Lightning returned an invoice without the requested description hash')
    return { bolt11: res.bolt11, paymentHash: res.payment_hash, expiresAt: res.expires_at ?? decoded.expiresAt }
  }

  async lookupInvoice(paymentHash: string): Promise<InvoiceStatus> {
    checkHash(paymentHash, 'paymentHash')
    const res = await this.rpc<{ invoices?: Record<string, unknown>[] }>('listinvoices', { payment_hash: paymentHash })
    const inv = res.invoices?.[0]
    if (!inv) throw new WalletError('not-found', `Core Lightning has no invoice with payment hash ${paymentHash}`)
    const expiresAt = Number(inv.expires_at)
    if (inv.status === 'paid') {
      return {
        paymentHash,
        state: 'settled',
        amountMsats: msat(inv.amount_received_msat, 'amount_received_msat'),
        settledAt: Number(inv.paid_at),
        preimage: String(inv.payment_preimage ?? ''),
        expiresAt,
      }
    }
    if (inv.status !== 'unpaid' && inv.status !== 'expired') throw new WalletError('backend', `Core Lightning sent an unknown invoice status ${String(inv.status)}`)
    return {
      paymentHash,
      state: inv.status === 'unpaid' ? 'open' : 'canceled',
      amountMsats: inv.amount_msat === undefined ? 0 : msat(inv.amount_msat, 'amount_msat'),
      expiresAt,
    }
  }

  async createHoldInvoice(): Promise<CreatedInvoice> {
    throw unsupported('cln', 'Core Lightning has no hold invoices without a plugin; use LND, NWC or the fake network for escrow')
  }

  async settleHoldInvoice(): Promise<void> {
    throw unsupported('cln', 'Core Lightning has no hold invoices without a plugin')
  }

  async cancelHoldInvoice(): Promise<void> {
    throw unsupported('cln', 'Core Lightning has no hold invoices without a plugin')
  }

  async payInvoice(bolt11: string, options: PayOptions): Promise<PaymentResult> {
    const decoded = decodeBolt11(bolt11)
    if (!Number.isSafeInteger(options.maxFeeMsats) || options.maxFeeMsats < 0) throw new WalletError('invalid', 'maxFeeMsats must be a non-negative integer')
    const retryFor = options.timeoutSeconds ?? 60
    const res = await this.rpc<Record<string, unknown>>(
      'pay',
      { bolt11, maxfee: options.maxFeeMsats, retry_for: retryFor },
      Math.max(this.requestTimeoutMs, (retryFor + 30) * 1000),
    )
    if (res.status !== 'complete') throw new WalletError('payment-failed', `Core Lightning pay ended ${String(res.status)}`)
    const preimage = String(res.payment_preimage ?? '')
    if (paymentHashOf(preimage) !== decoded.paymentHash) throw new WalletError('backend', 'Core Lightning reported a preimage that does not match the payment hash')
    return { paymentHash: decoded.paymentHash, preimage, feeMsats: msat(res.amount_sent_msat, 'amount_sent_msat') - msat(res.amount_msat, 'amount_msat') }
  }

  async lookupPayment(paymentHash: string): Promise<PaymentStatus> {
    checkHash(paymentHash, 'paymentHash')
    const res = await this.rpc<{ pays?: Record<string, unknown>[] }>('listpays', { payment_hash: paymentHash })
    const pays = res.pays ?? []
    const complete = pays.find((p) => p.status === 'complete')
    if (complete) {
      return {
        paymentHash,
        state: 'succeeded',
        preimage: String(complete.preimage ?? ''),
        feeMsats: msat(complete.amount_sent_msat, 'amount_sent_msat') - msat(complete.amount_msat ?? complete.amount_sent_msat, 'amount_msat'),
      }
    }
    if (pays.some((p) => p.status === 'pending')) return { paymentHash, state: 'pending' }
    return { paymentHash, state: pays.length > 0 ? 'failed' : 'unknown' }
  }

  async balance(): Promise<{ balanceMsats: number }> {
    const res = await this.rpc<{ channels?: Record<string, unknown>[] }>('listfunds', {})
    let balanceMsats = 0
    for (const channel of res.channels ?? []) {
      if (channel.state === 'CHANNELD_NORMAL') balanceMsats += msat(channel.our_amount_msat, 'our_amount_msat')
    }
    return { balanceMsats }
  }

  async createOffer(params: CreateOfferParams): Promise<CreatedOffer> {
    if (params.amountMsats !== undefined && (!Number.isSafeInteger(params.amountMsats) || params.amountMsats <= 0)) {
      throw new WalletError('invalid', 'amountMsats must be a positive integer')
    }
    const res = await this.rpc<{ bolt12?: string; offer_id?: string }>('offer', {
      amount: params.amountMsats === undefined ? 'any' : `${params.amountMsats}msat`,
      description: params.description,
    })
    if (!res.bolt12 || !res.offer_id) throw new WalletError('backend', 'Core Lightning returned no offer')
    return { bolt12: res.bolt12, offerId: res.offer_id }
  }
}

export function createClnRestWallet(options: ClnRestOptions): ClnRestWallet {
  return new ClnRestWallet(options)
}

function clnError(method: string, status: number, body: ClnRpcError | undefined): WalletError {
  const text = `Core Lightning ${method}: ${body?.message ?? `HTTP ${status}`}${body?.code !== undefined ? ` (code ${body.code})` : ''}`
  if (status === 401 || status === 403) return new WalletError('unauthorized', text)
  if (status === 404) return new WalletError('unsupported', text)
  if (method === 'pay') return new WalletError(body?.code === PAY_EXPIRED ? 'expired' : 'payment-failed', text)
  if (method === 'invoice' && (body?.code === 900 || body?.code === 901)) return new WalletError('invalid', text)
  return new WalletError('backend', text)
}
