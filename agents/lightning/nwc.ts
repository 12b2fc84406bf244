// A LightningWallet behind Nostr Wallet Connect (NIP-47): requests (23194) and responses (23195)
// travel through the connection's relays, encrypted with NIP-44 or, for wallet services that only
// offer it, NIP-04 (chosen from the service's info event, 13194). Works with any NWC wallet
// (Alby Hub, Mutiny-style services, LNbits, our own tests' service).
//
// Limits of the protocol: pay_invoice has no fee limit (the wallet service's own budget rules
// apply; maxFeeMsats is not enforced), and NWC has no BOLT12 offers. Hold invoices work where the
// service lists make_hold_invoice, settle_hold_invoice and cancel_hold_invoice.
import { finalizeEvent, getPublicKey, type EventTemplate, type Filter, type NostrEvent } from '../../nips/01.js'
import {
  buildNwcRequest,
  chooseEncryption,
  NWC_INFO_KIND,
  NWC_RESPONSE_KIND,
  parseNwcInfo,
  parseNwcResponse,
  parseNwcTransaction,
  parseNwcUri,
  responseRequestId,
  type NwcConnection,
  type NwcEncryption,
  type NwcInfo,
  type NwcTransaction,
} from '../../nips/47.js'
import { decodeBolt11 } from './bolt11.js'
import {
  checkHash,
  checkInvoiceParams,
  paymentHashOf,
  unsupported,
  WalletError,
  type CreatedInvoice,
  type CreatedOffer,
  type CreateHoldInvoiceParams,
  type CreateInvoiceParams,
  type InvoiceState,
  type InvoiceStatus,
  type LightningWallet,
  type PaymentResult,
  type PaymentStatus,
  type PayOptions,
  type WalletErrorCode,
} from './wallet.js'

/** What NWC needs from a relay pool; agents/pool.ts RelayPool fits as it is. */
export interface NwcRelayClient {
  subscribe(relays: string[], filters: Filter[], handlers: { onevent: (event: NostrEvent, relay: string) => void; oneose?: (relay: string) => void }): { close(): void }
  publish(relays: string[], event: NostrEvent): Promise<{ relay: string; ok: boolean; message: string }[]>
  query(relays: string[], filters: Filter[], options?: { timeoutMs?: number }): Promise<NostrEvent[]>
}

export interface NwcWalletOptions {
  /** nostr+walletconnect://<wallet pubkey>?relay=...&secret=... */
  uri: string
  relays: NwcRelayClient
  /** Unix milliseconds. */
  clock?: () => number
  /** How long a request waits for its response (payments: their timeout plus this). Default 30 s. */
  requestTimeoutMs?: number
  sign?: (template: EventTemplate, secretKey: Uint8Array) => NostrEvent
}

const HOLD_METHODS = ['make_hold_invoice', 'settle_hold_invoice', 'cancel_hold_invoice']

const ERROR_CODES: Record<string, WalletErrorCode> = {
  INSUFFICIENT_BALANCE: 'insufficient-balance',
  PAYMENT_FAILED: 'payment-failed',
  QUOTA_EXCEEDED: 'payment-failed',
  NOT_FOUND: 'not-found',
  UNAUTHORIZED: 'unauthorized',
  RESTRICTED: 'unauthorized',
  NOT_IMPLEMENTED: 'unsupported',
}

interface Pending {
  method: string
  encryption: NwcEncryption
  resolve: (result: Record<string, unknown>) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

export class NwcWallet implements LightningWallet {
  readonly kind = 'nwc' as const
  readonly fake = false
  readonly supportsBolt12 = false
  readonly supportsHoldInvoices: boolean
  readonly clientPubkey: string
  readonly walletPubkey: string
  private readonly pending = new Map<string, Pending>()
  private subscription: { close(): void } = { close() {} }
  private readonly clock: () => number
  private readonly requestTimeoutMs: number
  private readonly sign: (template: EventTemplate, secretKey: Uint8Array) => NostrEvent

  private constructor(
    private readonly connection: NwcConnection,
    private readonly relays: NwcRelayClient,
    readonly info: NwcInfo,
    readonly encryption: NwcEncryption,
    options: NwcWalletOptions,
  ) {
    this.clientPubkey = getPublicKey(connection.secret)
    this.walletPubkey = connection.walletPubkey
    this.clock = options.clock ?? Date.now
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000
    this.sign = options.sign ?? finalizeEvent
    this.supportsHoldInvoices = HOLD_METHODS.every((m) => info.methods.includes(m))
  }

  /** Reads the service's info event (which must exist), picks the encryption and listens for responses. */
  static async connect(options: NwcWalletOptions): Promise<NwcWallet> {
    let connection: NwcConnection
    try {
      connection = parseNwcUri(options.uri)
    } catch (err) {
      throw new WalletError('invalid', (err as Error).message)
    }
    const infos = await options.relays.query(connection.relays, [{ kinds: [NWC_INFO_KIND], authors: [connection.walletPubkey] }], { timeoutMs: 5000 })
    const newest = infos.sort((a, b) => b.created_at - a.created_at)[0]
    if (!newest) throw new WalletError('backend', `NWC: no info event (kind ${NWC_INFO_KIND}) from wallet service ${connection.walletPubkey} on ${connection.relays.join(', ')}`)
    const info = parseNwcInfo(newest)
    let encryption: NwcEncryption
    try {
      encryption = chooseEncryption(info)
    } catch (err) {
      throw new WalletError('unsupported', `NWC: ${(err as Error).message}`)
    }
    let ready!: () => void
    const eose = new Promise<void>((resolve) => (ready = resolve))
    const wallet = new NwcWallet(connection, options.relays, info, encryption, options)
    wallet.subscription = options.relays.subscribe(
      connection.relays,
      [{ kinds: [NWC_RESPONSE_KIND], authors: [connection.walletPubkey], '#p': [wallet.clientPubkey], since: Math.floor(wallet.clock() / 1000) - 60 }],
      { onevent: (event) => wallet.onResponse(event), oneose: () => ready() },
    )
    // Responses are ephemeral: the subscription must be live before the first request goes out.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([eose, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))])
    clearTimeout(timer)
    return wallet
  }

  close(): void {
    this.subscription.close()
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      p.reject(new WalletError('backend', 'NWC wallet closed'))
      this.pending.delete(id)
    }
  }

  private onResponse(event: NostrEvent): void {
    const requestId = responseRequestId(event)
    const pending = requestId && this.pending.get(requestId)
    if (!pending) return
    this.pending.delete(requestId)
    clearTimeout(pending.timer)
    try {
      const response = parseNwcResponse(event, this.connection.secret, this.connection.walletPubkey, pending.encryption)
      if (response.error) {
        pending.reject(new WalletError(ERROR_CODES[response.error.code] ?? 'backend', `NWC ${pending.method}: ${response.error.code}: ${response.error.message}`))
      } else {
        pending.resolve(response.result!)
      }
    } catch (err) {
      pending.reject(new WalletError('backend', `NWC ${pending.method}: unreadable response: ${(err as Error).message}`))
    }
  }

  private async request(method: string, params: Record<string, unknown>, timeoutMs = this.requestTimeoutMs): Promise<Record<string, unknown>> {
    if (!this.info.methods.includes(method)) throw unsupported('nwc', `the wallet service does not offer ${method}`)
    const nowSeconds = Math.floor(this.clock() / 1000)
    const event = this.sign(
      buildNwcRequest(
        { request: { method, params }, walletPubkey: this.connection.walletPubkey, encryption: this.encryption, createdAt: nowSeconds, expiration: nowSeconds + Math.ceil(timeoutMs / 1000) },
        this.connection.secret,
      ),
      this.connection.secret,
    )
    const result = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(event.id)
        reject(new WalletError('timeout', `NWC ${method}: no response within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(event.id, { method, encryption: this.encryption, resolve, reject, timer })
    })
    const outcomes = await this.relays.publish(this.connection.relays, event)
    if (!outcomes.some((o) => o.ok)) {
      const pending = this.pending.get(event.id)
      if (pending) {
        clearTimeout(pending.timer)
        this.pending.delete(event.id)
      }
      throw new WalletError('backend', `NWC ${method}: no relay accepted the request (${outcomes.map((o) => `${o.relay}: ${o.message}`).join('; ')})`)
    }
    return result
  }

  private transaction(method: string, result: Record<string, unknown>): NwcTransaction {
    try {
      return parseNwcTransaction(result)
    } catch (err) {
      throw new WalletError('backend', `NWC ${method}: ${(err as Error).message}`)
    }
  }

  private invoiceParams(params: CreateInvoiceParams): Record<string, unknown> {
    const descriptionHash = checkInvoiceParams(params)
    return {
      amount: params.amountMsats,
      ...(params.description !== undefined && { description: params.description }),
      ...(descriptionHash !== undefined && { description_hash: descriptionHash }),
      ...(params.expirySeconds !== undefined && { expiry: params.expirySeconds }),
    }
  }

  private created(method: string, tx: NwcTransaction, paymentHash?: string): CreatedInvoice {
    if (!tx.invoice) throw new WalletError('backend', `NWC ${method}: the result has no invoice`)
    const decoded = decodeBolt11(tx.invoice)
    if (decoded.paymentHash !== tx.paymentHash || (paymentHash && decoded.paymentHash !== paymentHash)) {
      throw new WalletError('backend', `NWC ${method}: the invoice does not match the payment hash`)
    }
    return { bolt11: tx.invoice, paymentHash: decoded.paymentHash, expiresAt: tx.expiresAt ?? decoded.expiresAt }
  }

  async createInvoice(params: CreateInvoiceParams): Promise<CreatedInvoice> {
    const body = this.invoiceParams(params)
    return this.created('make_invoice', this.transaction('make_invoice', await this.request('make_invoice', body)))
  }

  async createHoldInvoice(params: CreateHoldInvoiceParams): Promise<CreatedInvoice> {
    checkHash(params.paymentHash, 'paymentHash')
    const body = { ...this.invoiceParams(params), payment_hash: params.paymentHash }
    return this.created('make_hold_invoice', this.transaction('make_hold_invoice', await this.request('make_hold_invoice', body)), params.paymentHash)
  }

  async lookupInvoice(paymentHash: string): Promise<InvoiceStatus> {
    checkHash(paymentHash, 'paymentHash')
    const tx = this.transaction('lookup_invoice', await this.request('lookup_invoice', { payment_hash: paymentHash }))
    // Services that predate the `state` field only say settled_at.
    const state: InvoiceState =
      tx.state === 'settled' || (tx.state === undefined && tx.settledAt !== undefined) ? 'settled'
      : tx.state === 'accepted' ? 'accepted'
      : tx.state === 'expired' || tx.state === 'failed' ? 'canceled'
      : 'open'
    return {
      paymentHash,
      state,
      amountMsats: tx.amountMsats,
      ...(state === 'settled' && tx.settledAt !== undefined && { settledAt: tx.settledAt }),
      ...(state === 'settled' && tx.preimage && { preimage: tx.preimage }),
      ...(tx.expiresAt !== undefined && { expiresAt: tx.expiresAt }),
    }
  }

  async settleHoldInvoice(preimage: string): Promise<void> {
    const paymentHash = paymentHashOf(preimage)
    try {
      await this.request('settle_hold_invoice', { preimage })
    } catch (err) {
      // Settling twice must be harmless; services differ in how they answer the second time.
      if (err instanceof WalletError && err.code !== 'timeout' && (await this.lookupInvoice(paymentHash).catch(() => undefined))?.state === 'settled') return
      throw err
    }
  }

  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    checkHash(paymentHash, 'paymentHash')
    try {
      await this.request('cancel_hold_invoice', { payment_hash: paymentHash })
    } catch (err) {
      if (err instanceof WalletError && err.code !== 'timeout' && (await this.lookupInvoice(paymentHash).catch(() => undefined))?.state === 'canceled') return
      throw err
    }
  }

  async payInvoice(bolt11: string, options: PayOptions): Promise<PaymentResult> {
    const decoded = decodeBolt11(bolt11)
    const timeoutMs = (options.timeoutSeconds ?? 60) * 1000 + this.requestTimeoutMs
    const result = await this.request('pay_invoice', { invoice: bolt11 }, timeoutMs)
    const preimage = typeof result.preimage === 'string' ? result.preimage.toLowerCase() : ''
    if (!/^[0-9a-f]{64}$/.test(preimage) || paymentHashOf(preimage) !== decoded.paymentHash) throw new WalletError('backend', 'NWC pay_invoice: the preimage does not match the payment hash')
    const fees = result.fees_paid
    return { paymentHash: decoded.paymentHash, preimage, feeMsats: typeof fees === 'number' && Number.isSafeInteger(fees) && fees >= 0 ? fees : 0 }
  }

  async lookupPayment(paymentHash: string): Promise<PaymentStatus> {
    checkHash(paymentHash, 'paymentHash')
    let tx: NwcTransaction
    try {
      tx = this.transaction('lookup_invoice', await this.request('lookup_invoice', { payment_hash: paymentHash }))
    } catch (err) {
      if (err instanceof WalletError && err.code === 'not-found') return { paymentHash, state: 'unknown' }
      throw err
    }
    if (tx.type !== 'outgoing') return { paymentHash, state: 'unknown' }
    if (tx.state === 'settled' || (tx.state === undefined && tx.preimage)) return { paymentHash, state: 'succeeded', ...(tx.preimage && { preimage: tx.preimage }), feeMsats: tx.feesPaidMsats }
    if (tx.state === 'failed' || tx.state === 'expired') return { paymentHash, state: 'failed' }
    return { paymentHash, state: 'pending' }
  }

  async balance(): Promise<{ balanceMsats: number }> {
    const result = await this.request('get_balance', {})
    if (typeof result.balance !== 'number' || !Number.isSafeInteger(result.balance)) throw new WalletError('backend', 'NWC get_balance: balance must be an integer (msat)')
    return { balanceMsats: result.balance }
  }

  async createOffer(): Promise<CreatedOffer> {
    throw unsupported('nwc', 'Nostr Wallet Connect has no BOLT12 offers')
  }
}

export function connectNwcWallet(options: NwcWalletOptions): Promise<NwcWallet> {
  return NwcWallet.connect(options)
}
