// The requester's side of NIP-90 payments: check what a DVM asks for before paying it, and pay it
// with a wallet (NWC, LND, CLN) or, for a host on the FAKE network, through its FAKE-only pay
// endpoint (agents/payments/fake-pay.ts).
import { decodeBolt11 } from '../lightning/bolt11.js'
import { WalletError, type LightningWallet } from '../lightning/wallet.js'
import { FAKE_PAY_PATH } from './fake-pay.js'

export interface PaymentRequest {
  /** The `amount` tag of the feedback or result, msats. */
  amountMsats?: number
  bolt11?: string
}

/**
 * Why this payment request must not be paid, or undefined when it may: the invoice must decode,
 * be for exactly the amount the DVM states, not exceed what the requester offered, and not be expired.
 */
export function paymentRequestProblem(request: PaymentRequest, limits: { maxMsats?: number; nowSeconds: number }): string | undefined {
  if (request.amountMsats === undefined) return 'the payment request has no amount'
  if (!request.bolt11) return `the DVM asks for ${request.amountMsats} msats but sent no bolt11 invoice`
  let decoded
  try {
    decoded = decodeBolt11(request.bolt11)
  } catch (err) {
    return `the invoice is unusable: ${(err as Error).message}`
  }
  if (decoded.amountMsats === undefined) return 'the invoice has no amount: refusing to choose one'
  if (decoded.amountMsats !== request.amountMsats) return `wrong amount: the DVM asks for ${request.amountMsats} msats but its invoice is for ${decoded.amountMsats} msats`
  if (limits.maxMsats !== undefined && decoded.amountMsats > limits.maxMsats) return `the invoice is for ${decoded.amountMsats} msats, more than the ${limits.maxMsats} msats offered`
  if (decoded.expiresAt <= limits.nowSeconds) return `the invoice expired at ${new Date(decoded.expiresAt * 1000).toISOString()}`
  return undefined
}

export interface InvoicePayer {
  /** What it pays with, for messages. */
  readonly description: string
  pay(bolt11: string): Promise<{ paymentHash: string; state: 'succeeded' | 'held' }>
}

/** Pays from a wallet. A hold invoice (escrow) keeps the payment in flight: 'held' once it is locked in. */
export function walletPayer(wallet: LightningWallet, options: { maxFeeMsats: number; heldAfterMs?: number }): InvoicePayer {
  return {
    description: `${wallet.fake ? 'FAKE ' : ''}${wallet.kind} wallet`,
    async pay(bolt11) {
      const { paymentHash } = decodeBolt11(bolt11)
      const payment = wallet.payInvoice(bolt11, { maxFeeMsats: options.maxFeeMsats })
      payment.catch(() => {})
      const settledSoon = await Promise.race([payment.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), options.heldAfterMs ?? 2000).unref())])
      if (settledSoon) return { paymentHash, state: 'succeeded' }
      const status = await wallet.lookupPayment(paymentHash)
      if (status.state === 'failed') await payment
      return { paymentHash, state: status.state === 'succeeded' ? 'succeeded' : 'held' }
    },
  }
}

/** FAKE ONLY: pays through a host's /api/fake-lightning/pay, which answers on loopback for FAKE wallets. */
export function fakeHostPayer(httpUrl: string, fetchImpl: typeof fetch = fetch): InvoicePayer {
  return {
    description: `FAKE lightning via ${httpUrl}${FAKE_PAY_PATH} (test sats, not real)`,
    async pay(bolt11) {
      const res = await fetchImpl(`${httpUrl}${FAKE_PAY_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ bolt11 }) })
      const body = (await res.json().catch(() => ({}))) as { error?: string; paymentHash?: string; state?: 'succeeded' | 'held' }
      if (!res.ok || !body.paymentHash || !body.state) throw new WalletError(res.status >= 500 ? 'backend' : 'payment-failed', body.error ?? `the host answered ${res.status}`)
      return { paymentHash: body.paymentHash, state: body.state }
    },
  }
}

export interface PaymentResponderOptions {
  /** Absent: the invoice is printed for the user to pay by hand, and the wait goes on. */
  payer?: InvoicePayer
  /** The most this requester pays (its bid). */
  maxMsats?: number
  say: (line: string) => void
  /** Unix seconds. */
  now?: () => number
}

/**
 * Answers payment requests (payment-required feedback, or a result carrying an invoice) once per
 * invoice: checks it, then pays it or prints it. Resolves with the msats this call paid (0 when it
 * paid nothing), for the requester's label.
 */
export function createPaymentResponder(options: PaymentResponderOptions): (request: PaymentRequest & { from: string }) => Promise<number> {
  const seen = new Set<string>()
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  return async (request) => {
    if (!request.bolt11 || seen.has(request.bolt11)) return 0
    seen.add(request.bolt11)
    const problem = paymentRequestProblem(request, { ...(options.maxMsats !== undefined && { maxMsats: options.maxMsats }), nowSeconds: now() })
    if (problem) {
      options.say(`not paying ${request.from.slice(0, 16)}…: ${problem}`)
      return 0
    }
    if (!options.payer) {
      options.say(`payment required: ${request.amountMsats} msats; pay this invoice to continue:\n${request.bolt11}`)
      return 0
    }
    try {
      const paid = await options.payer.pay(request.bolt11)
      options.say(`paid ${request.amountMsats} msats with ${options.payer.description}: ${paid.state === 'held' ? 'held in escrow' : 'settled'} (payment hash ${paid.paymentHash})`)
      return request.amountMsats ?? 0
    } catch (err) {
      options.say(`payment failed: ${(err as Error).message}`)
      return 0
    }
  }
}
