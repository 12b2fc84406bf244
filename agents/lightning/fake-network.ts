// A FAKE Lightning network, in process: for tests and for the zero-config default, so that an agent
// can quote, invoice and be paid before its operator connects a real node. Its sats are NOT real.
// Everything it shows says so: wallets have kind 'fake' and `fake: true`, node aliases and log lines
// start with FAKE, and invoices are regtest (lnbcrt...), which no mainnet wallet will pay.
//
// The invoices themselves are real: BOLT11, signed by a secp256k1 key per fake node, with payment
// hashes of real random preimages, so any BOLT11 decoder (and our zap validation) accepts them.
// Payments between nodes of the same network move balances, reveal the preimage on settlement and
// support hold invoices (the payer's funds stay locked until the receiver settles or cancels).
// Time and randomness are injected, so a network built with seededRandom and a fixed clock is
// reproducible byte for byte.
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { CHAIN_HASHES, encodeOffer, merkleRoot, offerToTlvRecords, type Offer } from './bolt12/index.js'
import { decodeBolt11, signBolt11 } from './bolt11.js'
import {
  checkHash,
  checkInvoiceParams,
  paymentHashOf,
  WalletError,
  type CreatedInvoice,
  type CreatedOffer,
  type CreateHoldInvoiceParams,
  type CreateInvoiceParams,
  type CreateOfferParams,
  type InvoiceState,
  type InvoiceStatus,
  type LightningWallet,
  type PaymentResult,
  type PaymentStatus,
  type PayOptions,
} from './wallet.js'

export interface FakeNetworkOptions {
  /** Unix milliseconds. */
  clock?: () => number
  /** Bytes for node keys, preimages and payment secrets; seededRandom(seed) makes the network reproducible. */
  random?: (length: number) => Uint8Array
  /** Receives every log line; each starts with 'FAKE lightning:'. */
  log?: (line: string) => void
  /** Charged on every payment and lost to the (imaginary) routing nodes; default nothing. */
  routingFee?: { baseMsats: number; ppm: number }
}

/** Deterministic bytes: sha256(seed:counter) blocks. For tests and reproducible demos only. */
export function seededRandom(seed: string): (length: number) => Uint8Array {
  let counter = 0
  return (length) => {
    const blocks: Uint8Array[] = []
    for (let have = 0; have < length; have += 32) blocks.push(sha256(utf8ToBytes(`${seed}:${counter++}`)))
    return concatBytes(...blocks).slice(0, length)
  }
}

const DEFAULT_EXPIRY_SECONDS = 3600

interface FakeInvoice {
  bolt11: string
  paymentHash: string
  /** Unknown for a hold invoice until the receiver settles it. */
  preimage?: string
  amountMsats: number
  hold: boolean
  state: InvoiceState
  expiresAt: number
  settledAt?: number
  /** The payment locked into an accepted hold invoice. */
  held?: { payer: FakeLightningNode; payment: FakePayment; amountMsats: number }
}

export interface FakePayment {
  paymentHash: string
  payer: string
  payee: string
  amountMsats: number
  feeMsats: number
  state: 'pending' | 'succeeded' | 'failed'
  preimage?: string
  /** Resolves when the payment leaves 'pending'. */
  readonly done: Promise<void>
}

interface PaymentControl {
  payment: FakePayment
  finish: () => void
}

export class FakeLightningNetwork {
  readonly fake = true
  readonly clock: () => number
  readonly random: (length: number) => Uint8Array
  private readonly log: (line: string) => void
  private readonly routingFee: { baseMsats: number; ppm: number }
  private readonly nodesById = new Map<string, FakeLightningNode>()
  private readonly nodesByName = new Map<string, FakeLightningNode>()
  private readonly allPayments: FakePayment[] = []

  constructor(options: FakeNetworkOptions = {}) {
    this.clock = options.clock ?? Date.now
    this.random = options.random ?? randomBytes
    this.log = options.log ?? (() => {})
    this.routingFee = options.routingFee ?? { baseMsats: 0, ppm: 0 }
  }

  /** A new node with a fresh key; its balance is minted from nothing (FAKE sats). */
  createNode(name: string, { balanceMsats = 0 }: { balanceMsats?: number } = {}): FakeLightningNode {
    if (this.nodesByName.has(name)) throw new Error(`FAKE lightning: a node named ${name} already exists`)
    let secretKey = this.random(32)
    while (!secp256k1.utils.isValidSecretKey(secretKey)) secretKey = this.random(32)
    const node = new FakeLightningNode(this, name, secretKey, balanceMsats)
    this.nodesById.set(node.nodeId, node)
    this.nodesByName.set(name, node)
    this.emit(`node ${name} (${node.nodeId}) created with ${balanceMsats} msat`)
    return node
  }

  node(name: string): FakeLightningNode | undefined {
    return this.nodesByName.get(name)
  }

  /** Every payment attempted on this network, oldest first. */
  payments(): readonly FakePayment[] {
    return this.allPayments
  }

  /** @internal */
  emit(line: string): void {
    this.log(`FAKE lightning: ${line}`)
  }

  /** @internal */
  nowSeconds(): number {
    return Math.floor(this.clock() / 1000)
  }

  /** @internal */
  nodeById(nodeId: string): FakeLightningNode | undefined {
    return this.nodesById.get(nodeId)
  }

  /** @internal */
  feeFor(amountMsats: number): number {
    return this.routingFee.baseMsats + Math.floor((amountMsats * this.routingFee.ppm) / 1_000_000)
  }

  /** @internal */
  newPayment(fields: Omit<FakePayment, 'done' | 'state'>): PaymentControl {
    let finish!: () => void
    const done = new Promise<void>((resolve) => (finish = resolve))
    const payment: FakePayment = { ...fields, state: 'pending', done }
    this.allPayments.push(payment)
    return { payment, finish }
  }
}

export class FakeLightningNode implements LightningWallet {
  readonly kind = 'fake' as const
  readonly fake = true
  readonly supportsHoldInvoices = true
  readonly supportsBolt12 = true
  /** Compressed secp256k1 public key (66 hex), the invoices' payee. */
  readonly nodeId: string
  readonly alias: string
  private balanceMsats: number
  private readonly invoices = new Map<string, FakeInvoice>()
  private readonly outgoing = new Map<string, PaymentControl>()
  private readonly waiters = new Map<string, { resolve: (r: PaymentResult) => void; reject: (e: Error) => void }>()

  constructor(
    private readonly network: FakeLightningNetwork,
    readonly name: string,
    private readonly secretKey: Uint8Array,
    balanceMsats: number,
  ) {
    this.nodeId = bytesToHex(secp256k1.getPublicKey(secretKey, true))
    this.alias = `FAKE ${name}`
    this.balanceMsats = balanceMsats
  }

  /** Mints FAKE sats into this node. */
  deposit(amountMsats: number): void {
    this.balanceMsats += amountMsats
    this.network.emit(`${this.name} minted ${amountMsats} msat`)
  }

  async balance(): Promise<{ balanceMsats: number }> {
    return { balanceMsats: this.balanceMsats }
  }

  async createInvoice(params: CreateInvoiceParams): Promise<CreatedInvoice> {
    const preimage = bytesToHex(this.network.random(32))
    return this.issue(params, paymentHashOf(preimage), preimage)
  }

  async createHoldInvoice(params: CreateHoldInvoiceParams): Promise<CreatedInvoice> {
    checkHash(params.paymentHash, 'paymentHash')
    return this.issue(params, params.paymentHash, undefined)
  }

  private issue(params: CreateInvoiceParams, paymentHash: string, preimage: string | undefined): CreatedInvoice {
    const descriptionHash = checkInvoiceParams(params)
    if (this.invoices.has(paymentHash)) throw new WalletError('invalid', `FAKE ${this.name}: an invoice with payment hash ${paymentHash} already exists`)
    const timestamp = this.network.nowSeconds()
    const expirySeconds = params.expirySeconds ?? DEFAULT_EXPIRY_SECONDS
    const bolt11 = signBolt11(
      {
        network: 'regtest',
        amountMsats: params.amountMsats,
        paymentHash,
        paymentSecret: bytesToHex(this.network.random(32)),
        ...(descriptionHash !== undefined ? { descriptionHash } : { description: params.description ?? '' }),
        timestamp,
        expirySeconds,
      },
      this.secretKey,
    )
    const expiresAt = timestamp + expirySeconds
    this.invoices.set(paymentHash, { bolt11, paymentHash, preimage, amountMsats: params.amountMsats, hold: preimage === undefined, state: 'open', expiresAt })
    this.network.emit(`${this.name} issued ${preimage ? '' : 'hold '}invoice ${paymentHash} for ${params.amountMsats} msat`)
    return { bolt11, paymentHash, expiresAt }
  }

  async lookupInvoice(paymentHash: string): Promise<InvoiceStatus> {
    checkHash(paymentHash, 'paymentHash')
    const invoice = this.invoices.get(paymentHash)
    if (!invoice) throw new WalletError('not-found', `FAKE ${this.name}: no invoice with payment hash ${paymentHash}`)
    this.expireIfDue(invoice)
    return {
      paymentHash,
      state: invoice.state,
      amountMsats: invoice.amountMsats,
      expiresAt: invoice.expiresAt,
      ...(invoice.settledAt !== undefined && { settledAt: invoice.settledAt }),
      ...(invoice.state === 'settled' && invoice.preimage && { preimage: invoice.preimage }),
    }
  }

  /** An open invoice past its expiry reads as canceled, as LND reports it. */
  private expireIfDue(invoice: FakeInvoice): void {
    if (invoice.state === 'open' && invoice.expiresAt <= this.network.nowSeconds()) invoice.state = 'canceled'
  }

  async settleHoldInvoice(preimage: string): Promise<void> {
    const paymentHash = paymentHashOf(preimage)
    const invoice = this.invoices.get(paymentHash)
    if (!invoice) throw new WalletError('not-found', `FAKE ${this.name}: no invoice for this preimage`)
    if (invoice.state === 'settled') return
    if (invoice.state !== 'accepted' || !invoice.held) throw new WalletError('invalid', `FAKE ${this.name}: invoice ${paymentHash} is ${invoice.state}, not accepted; only a held payment can be settled`)
    const { payer, payment, amountMsats } = invoice.held
    invoice.preimage = preimage
    invoice.state = 'settled'
    invoice.settledAt = this.network.nowSeconds()
    invoice.held = undefined
    this.balanceMsats += amountMsats
    payer.completeOutgoing(payment.paymentHash, preimage)
    this.network.emit(`${this.name} settled hold invoice ${paymentHash} (${amountMsats} msat)`)
  }

  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    checkHash(paymentHash, 'paymentHash')
    const invoice = this.invoices.get(paymentHash)
    if (!invoice) throw new WalletError('not-found', `FAKE ${this.name}: no invoice with payment hash ${paymentHash}`)
    if (invoice.state === 'canceled') return
    if (invoice.state === 'settled') throw new WalletError('invalid', `FAKE ${this.name}: invoice ${paymentHash} is already settled`)
    const held = invoice.held
    invoice.state = 'canceled'
    invoice.held = undefined
    if (held) held.payer.failOutgoing(paymentHash, 'the receiver canceled the hold invoice')
    this.network.emit(`${this.name} canceled invoice ${paymentHash}${held ? ', held payment returned' : ''}`)
  }

  async payInvoice(bolt11: string, options: PayOptions): Promise<PaymentResult> {
    const decoded = decodeBolt11(bolt11)
    const fail = (code: 'payment-failed' | 'expired' | 'invalid' | 'insufficient-balance', reason: string): never => {
      throw new WalletError(code, `FAKE ${this.name}: ${reason}`)
    }
    if (decoded.network !== 'regtest') fail('invalid', `the fake network only pays regtest invoices (lnbcrt), not ${decoded.network}`)
    if (decoded.amountMsats === undefined) fail('invalid', 'invoices without an amount are not supported')
    if (decoded.expiresAt <= this.network.nowSeconds()) fail('expired', `invoice ${decoded.paymentHash} has expired`)
    const previous = this.outgoing.get(decoded.paymentHash)?.payment
    if (previous?.state === 'succeeded') fail('payment-failed', `invoice ${decoded.paymentHash} is already paid`)
    if (previous?.state === 'pending') fail('payment-failed', `a payment of ${decoded.paymentHash} is already in flight`)
    const payee = this.network.nodeById(decoded.payeeNodeKey)
    if (!payee) fail('payment-failed', `no route to ${decoded.payeeNodeKey} (not a node of this fake network)`)
    if (payee === this) fail('payment-failed', 'self-payments are not supported')
    const amountMsats = decoded.amountMsats!
    const feeMsats = this.network.feeFor(amountMsats)
    if (feeMsats > options.maxFeeMsats) fail('payment-failed', `route too expensive: fee ${feeMsats} msat exceeds the limit of ${options.maxFeeMsats} msat`)
    if (amountMsats + feeMsats > this.balanceMsats) fail('insufficient-balance', `balance ${this.balanceMsats} msat cannot cover ${amountMsats} msat plus ${feeMsats} msat fee`)
    const invoice = payee!.invoiceFor(decoded.paymentHash)
    if (!invoice || invoice.bolt11 !== bolt11.toLowerCase()) fail('payment-failed', 'incorrect or unknown payment details at the destination')
    if (invoice!.state !== 'open') fail('payment-failed', `the destination's invoice is ${invoice!.state}`)

    this.balanceMsats -= amountMsats + feeMsats
    const control = this.network.newPayment({ paymentHash: decoded.paymentHash, payer: this.name, payee: payee!.name, amountMsats, feeMsats })
    this.outgoing.set(decoded.paymentHash, control)
    const result = new Promise<PaymentResult>((resolve, reject) => this.waiters.set(decoded.paymentHash, { resolve, reject }))
    if (invoice!.hold) {
      invoice!.state = 'accepted'
      invoice!.held = { payer: this, payment: control.payment, amountMsats }
      this.network.emit(`${this.name} -> ${payee!.name}: ${amountMsats} msat held by hold invoice ${decoded.paymentHash}`)
    } else {
      payee!.receive(invoice!)
      this.completeOutgoing(decoded.paymentHash, invoice!.preimage!)
      this.network.emit(`${this.name} -> ${payee!.name}: paid ${amountMsats} msat (fee ${feeMsats}) for ${decoded.paymentHash}`)
    }
    return result
  }

  async lookupPayment(paymentHash: string): Promise<PaymentStatus> {
    checkHash(paymentHash, 'paymentHash')
    const payment = this.outgoing.get(paymentHash)?.payment
    if (!payment) return { paymentHash, state: 'unknown' }
    return {
      paymentHash,
      state: payment.state,
      ...(payment.preimage && { preimage: payment.preimage }),
      ...(payment.state === 'succeeded' && { feeMsats: payment.feeMsats }),
    }
  }

  async createOffer(params: CreateOfferParams): Promise<CreatedOffer> {
    if (params.amountMsats !== undefined && (!Number.isSafeInteger(params.amountMsats) || params.amountMsats <= 0)) {
      throw new WalletError('invalid', 'amountMsats must be a positive integer')
    }
    const offer: Offer = {
      offerChains: [CHAIN_HASHES.regtest],
      offerDescription: params.description,
      ...(params.amountMsats !== undefined && { offerAmount: BigInt(params.amountMsats) }),
      offerIssuer: this.alias,
      offerIssuerId: this.nodeId,
    }
    const bolt12 = encodeOffer(offer)
    return { bolt12, offerId: bytesToHex(merkleRoot(offerToTlvRecords(offer))) }
  }

  /** @internal */
  invoiceFor(paymentHash: string): FakeInvoice | undefined {
    const invoice = this.invoices.get(paymentHash)
    if (invoice) this.expireIfDue(invoice)
    return invoice
  }

  /** @internal */
  receive(invoice: FakeInvoice): void {
    invoice.state = 'settled'
    invoice.settledAt = this.network.nowSeconds()
    this.balanceMsats += invoice.amountMsats
  }

  /** @internal */
  completeOutgoing(paymentHash: string, preimage: string): void {
    const control = this.outgoing.get(paymentHash)
    if (!control) return
    control.payment.state = 'succeeded'
    control.payment.preimage = preimage
    control.finish()
    this.waiters.get(paymentHash)?.resolve({ paymentHash, preimage, feeMsats: control.payment.feeMsats })
    this.waiters.delete(paymentHash)
  }

  /** @internal */
  failOutgoing(paymentHash: string, reason: string): void {
    const control = this.outgoing.get(paymentHash)
    if (!control) return
    control.payment.state = 'failed'
    this.balanceMsats += control.payment.amountMsats + control.payment.feeMsats
    control.finish()
    this.waiters.get(paymentHash)?.reject(new WalletError('payment-failed', `FAKE ${this.name}: ${reason}`))
    this.waiters.delete(paymentHash)
  }
}
