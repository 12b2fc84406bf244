// Payments in the job market (NIP-90 `payment-required`): what a priced job costs, when the
// requester is asked to pay, how the agent learns that it was paid, and what it books.
//
//   pay before work:  assigned --invoice effect--> payment-required --paid--> assigned --run--> completed
//   pay after work:   executing --(invoice with the result)--> completed --paid
//   escrow:           like pay before work with a hold invoice: `paid` is the payment locked in; the
//                     result starts the dispute window; payment-settled (requester accepted, or the
//                     window passed) or payment-refunded (work timeout, dispute).
//
// Every step is a fact in the job log written with its effects: the invoice (hash and bolt11) is
// recorded in the same transaction as the payment-required feedback that carries it, so a restart
// re-publishes the same invoice and never issues a second one; the wait for payment is rebuilt
// from the log (jobsWithOpenPayments); the earning is an outbox effect keyed by payment hash.
import type { NostrEvent } from '../nips/01.js'
import type { FeedbackStatus } from '../nips/90.js'
import type { Escrow } from './lightning/escrow.js'
import type { Treasury } from './lightning/treasury.js'
import { WalletError, type LightningWallet } from './lightning/wallet.js'
import type { AppendOptions, Effect, EffectSpec, JobLog } from './joblog.js'
import type { Logger } from './logger.js'
import { amountDueMsats, isFinal, type JobFact, type JobState } from './state.js'

/** An agent's payment terms (the host's `payments`, with the agent's own overrides). */
export interface PaymentTerms {
  payBeforeWork: boolean
  escrow: boolean
  invoiceExpirySeconds: number
  /** How often open invoices are checked. */
  pollMs: number
}

export interface AgentPaymentsOptions {
  wallet: LightningWallet
  treasury: Pick<Treasury, 'recordEarning'>
  /** Hold-invoice escrow; needed when terms.escrow. */
  escrow?: Escrow
  terms: PaymentTerms
  /** False: priced jobs are answered for free (payments.enabled off); the agent can still be zapped. Default true. */
  charge?: boolean
  /** `name@domain`, served by the host's LNURL handler (zaps). */
  lud16?: string
  /** The bech32 `lnurl1...` of the same endpoint, where no lightning address can be formed (a URL with a port). */
  lud06?: string
  /** A reusable BOLT12 offer (wallets that can receive over BOLT12: CLN, FAKE). */
  bolt12Offer?: string
}

/** What the payments need from the agent that owns them. */
export interface PaymentHost {
  name: string
  jobLog: JobLog
  clock: () => number
  log: Logger
  /** Appends to the job log and lets the agent react (pump, listeners). */
  append(jobId: string, facts: JobFact[], effects?: EffectSpec[], options?: AppendOptions): JobState | undefined
  feedback(state: JobState, status: FeedbackStatus, options?: { extraInfo?: string; amountMsats?: number; bolt11?: string }): NostrEvent
  publishEffect(event: NostrEvent, extraRelays: string[]): EffectSpec
  /** Stops a running job whose payment was returned. */
  abort(jobId: string): void
}

const MAX_INVOICE_ATTEMPTS = 5
const MAX_RETRY_DELAY_MS = 30_000

/**
 * The amount a job's requester is asked to pay: the capability's quote, or the auction's clearing
 * price when an auction decided it (state.amountDueMsats). Every invoice and `amount` tag takes it from here.
 */
export function amountToCharge(state: Pick<JobState, 'priceMsats' | 'auction'>): number {
  return amountDueMsats(state)
}

export class AgentPayments {
  readonly wallet: LightningWallet
  readonly terms: PaymentTerms
  readonly charge: boolean
  private readonly treasury: Pick<Treasury, 'recordEarning'>
  private readonly escrow?: Escrow
  private readonly lud16?: string
  private readonly lud06?: string
  private readonly bolt12Offer?: string
  private timer: NodeJS.Timeout | undefined
  private polling: Promise<void> | undefined
  private running = false

  constructor(
    options: AgentPaymentsOptions,
    private readonly host: PaymentHost,
  ) {
    this.wallet = options.wallet
    this.terms = options.terms
    this.charge = options.charge ?? true
    this.treasury = options.treasury
    this.escrow = options.escrow
    this.lud16 = options.lud16
    this.lud06 = options.lud06
    this.bolt12Offer = options.bolt12Offer
    if (this.charge && this.terms.escrow) {
      if (!this.terms.payBeforeWork) throw new Error(`agent ${host.name}: escrow holds the payment while the agent works, so it needs payBeforeWork`)
      if (!options.escrow) throw new Error(`agent ${host.name}: escrow is on but no escrow was given`)
      if (!this.wallet.supportsHoldInvoices) throw new WalletError('unsupported', `agent ${host.name}: escrow needs hold invoices, which the ${this.wallet.kind} wallet does not support`)
    }
  }

  // ---- what the agent shows ------------------------------------------------------------------

  /** Fields for the kind 0 profile and the NIP-89 announcement content. */
  profileFields(): { lud06?: string; lud16?: string; lno?: string } {
    return { ...(this.lud06 && { lud06: this.lud06 }), ...(this.lud16 && { lud16: this.lud16 }), ...(this.bolt12Offer && { lno: this.bolt12Offer }) }
  }

  /** Appended to the `about` of the profile and announcements: FAKE sats are labelled as such. */
  aboutSuffix(): string {
    return this.wallet.fake ? ' Payments: FAKE Lightning (test sats, not real).' : ''
  }

  // ---- when a job may start ------------------------------------------------------------------

  /** Whether a job that is about to run must be paid for first (and is not yet). */
  mustInvoiceFirst(state: Pick<JobState, 'priceMsats' | 'auction' | 'payment'>): boolean {
    return this.charge && this.terms.payBeforeWork && amountToCharge(state) > 0 && !state.payment
  }

  /** The effects that start an assigned job: an invoice first when it is priced and paid before work. */
  startEffects(state: Pick<JobState, 'priceMsats' | 'auction' | 'payment'>, processing: () => EffectSpec): EffectSpec[] {
    return this.mustInvoiceFirst(state) ? [{ type: 'invoice' }] : [processing(), { type: 'run' }]
  }

  /** Effects that go with a completed job: the escrow's dispute window starts with the result. */
  completionEffects(state: JobState): EffectSpec[] {
    return state.payment?.escrow && state.payment.state === 'paid' ? [{ type: 'escrow-delivered' }] : []
  }

  /**
   * Pay after work: the invoice that goes out with the result (its fact is appended with the
   * result). Undefined when nothing is owed or the job was paid before.
   */
  async resultInvoice(state: JobState): Promise<{ bolt11: string; fact: JobFact; feedback: EffectSpec } | undefined> {
    const amountMsats = amountToCharge(state)
    if (!this.charge || this.terms.payBeforeWork || amountMsats <= 0 || state.payment) return undefined
    const created = await this.wallet.createInvoice({ amountMsats, description: this.description(state), expirySeconds: this.terms.invoiceExpirySeconds })
    const fact: JobFact = { type: 'invoice-issued', at: this.host.clock(), paymentHash: created.paymentHash, bolt11: created.bolt11, amountMsats, expiresAt: created.expiresAt, escrow: false, beforeWork: false }
    const feedback = this.host.publishEffect(this.host.feedback(state, 'payment-required', { extraInfo: 'pay for the result', amountMsats, bolt11: created.bolt11 }), state.spec?.relays ?? [])
    return { bolt11: created.bolt11, fact, feedback }
  }

  // ---- effects -------------------------------------------------------------------------------

  async perform(effect: Effect): Promise<void> {
    const spec = effect.spec
    const now = this.host.clock()
    switch (spec.type) {
      case 'invoice':
        return this.issueInvoice(effect)
      case 'earning':
        this.treasury.recordEarning({ agent: this.host.name, paymentHash: spec.paymentHash, amountMsats: spec.amountMsats, memo: `job ${effect.jobId}` })
        this.host.jobLog.completeEffect(effect.id, now)
        return
      case 'escrow-delivered': {
        let note: string | undefined
        try {
          this.requireEscrow().delivered(this.escrowKey(effect.jobId))
        } catch (err) {
          // Refunded meanwhile (work timeout): nothing left to deliver against.
          note = (err as Error).message
        }
        this.host.jobLog.completeEffect(effect.id, now, note)
        return
      }
      default:
        throw new Error(`not a payment effect: ${spec.type}`)
    }
  }

  private description(state: JobState): string {
    // Public (wallets show it, routing nodes may see it): the job id only, never the job's data.
    return `${this.wallet.fake ? 'FAKE ' : ''}Timmy agent ${this.host.name}: NIP-90 job ${state.id}`
  }

  private escrowKey(jobId: string): string {
    return `${this.host.name}/${jobId}`
  }

  private requireEscrow(): Escrow {
    if (!this.escrow) throw new Error(`agent ${this.host.name}: no escrow configured`)
    return this.escrow
  }

  /** Creates the invoice, then records it together with the payment-required feedback that carries it. */
  private async issueInvoice(effect: Effect): Promise<void> {
    const state = this.host.jobLog.state(effect.jobId)
    if (!state || isFinal(state) || state.payment) {
      this.host.jobLog.completeEffect(effect.id, this.host.clock(), 'no invoice needed')
      return
    }
    const amountMsats = amountToCharge(state)
    let invoice: { paymentHash: string; bolt11: string; expiresAt: number }
    try {
      if (this.terms.escrow) {
        // Idempotent per job: after a crash the same hold invoice comes back.
        const record = await this.requireEscrow().lock({ jobId: this.escrowKey(state.id), amountMsats, description: this.description(state) })
        invoice = { paymentHash: record.paymentHash, bolt11: record.bolt11!, expiresAt: record.invoiceExpiresAt! }
      } else {
        invoice = await this.wallet.createInvoice({ amountMsats, description: this.description(state), expirySeconds: this.terms.invoiceExpirySeconds })
      }
    } catch (err) {
      const reason = `cannot create an invoice: ${(err as Error).message}`
      if (effect.attempts + 1 >= MAX_INVOICE_ATTEMPTS) {
        this.host.log.error({ job: state.id, reason }, 'giving up on the invoice: job failed')
        this.host.append(state.id, [{ type: 'failed', at: this.host.clock(), reason }], [this.host.publishEffect(this.host.feedback(state, 'error', { extraInfo: reason }), state.spec?.relays ?? [])], { completesEffect: effect.id })
      } else {
        this.host.log.warn({ job: state.id, reason }, 'invoice not created yet: will retry')
        this.host.jobLog.retryEffect(effect.id, this.host.clock() + Math.min(MAX_RETRY_DELAY_MS, 500 * 2 ** effect.attempts), reason)
      }
      return
    }
    const fact: JobFact = { type: 'invoice-issued', at: this.host.clock(), ...invoice, amountMsats, escrow: this.terms.escrow, beforeWork: true }
    const feedback = this.host.feedback(state, 'payment-required', {
      extraInfo: this.terms.escrow ? 'pay the hold invoice: released when you accept the result or the dispute window passes' : 'pay to start the job',
      amountMsats,
      bolt11: invoice.bolt11,
    })
    this.host.append(state.id, [fact], [this.host.publishEffect(feedback, state.spec?.relays ?? [])], { completesEffect: effect.id })
    this.host.log.info({ job: state.id, amountMsats, paymentHash: invoice.paymentHash, escrow: this.terms.escrow }, 'payment required')
  }

  // ---- watching for payments -----------------------------------------------------------------

  start(): void {
    this.running = true
    this.schedule(0)
  }

  async stop(): Promise<void> {
    this.running = false
    clearTimeout(this.timer)
    await this.polling
  }

  private schedule(ms: number): void {
    if (!this.running) return
    this.timer = setTimeout(() => void this.poll().finally(() => this.schedule(this.terms.pollMs)), ms)
    this.timer.unref()
  }

  /** One round over the jobs whose payment is still open (one round at a time: two would append the same fact twice). */
  poll(): Promise<void> {
    this.polling ??= this.round().finally(() => (this.polling = undefined))
    return this.polling
  }

  private async round(): Promise<void> {
    for (const state of this.host.jobLog.jobsWithOpenPayments()) {
      if (!this.running) return
      try {
        await this.check(state)
      } catch (err) {
        this.host.log.warn({ job: state.id, err: (err as Error).message }, 'payment check failed: will retry')
      }
    }
  }

  private async check(state: JobState): Promise<void> {
    const payment = state.payment!
    const relays = state.spec?.relays ?? []
    const at = this.host.clock()
    const nowSeconds = Math.floor(at / 1000)
    const expire = (reason: string) => {
      const facts: JobFact[] = [{ type: 'invoice-expired', at, paymentHash: payment.paymentHash, reason }]
      const effects: EffectSpec[] = []
      if (payment.beforeWork && !isFinal(state)) {
        facts.push({ type: 'failed', at, reason })
        effects.push(this.host.publishEffect(this.host.feedback(state, 'error', { extraInfo: reason }), relays))
      }
      this.host.append(state.id, facts, effects, { dropPending: payment.beforeWork && !isFinal(state) })
      this.host.log.info({ job: state.id, paymentHash: payment.paymentHash }, reason)
    }
    const paid = (earning: boolean) => {
      const effects: EffectSpec[] = []
      if (earning) effects.push({ type: 'earning', paymentHash: payment.paymentHash, amountMsats: payment.amountMsats })
      if (payment.beforeWork && !isFinal(state)) effects.push(this.host.publishEffect(this.host.feedback(state, 'processing', { extraInfo: payment.escrow ? 'payment held in escrow: working' : 'paid: working' }), relays), { type: 'run' })
      this.host.append(state.id, [{ type: 'paid', at, paymentHash: payment.paymentHash, amountMsats: payment.amountMsats }], effects)
      this.host.log.info({ job: state.id, paymentHash: payment.paymentHash, amountMsats: payment.amountMsats, escrow: payment.escrow }, payment.escrow ? 'payment held' : 'paid')
    }

    if (!payment.escrow) {
      const status = await this.wallet.lookupInvoice(payment.paymentHash)
      if (status.state === 'settled') {
        if (status.amountMsats < payment.amountMsats) {
          this.host.log.warn({ job: state.id, received: status.amountMsats, asked: payment.amountMsats }, 'invoice settled for less than asked: not counted as paid')
          return
        }
        paid(true)
      } else if (status.state === 'canceled' || payment.expiresAt <= nowSeconds) {
        expire('the invoice expired unpaid')
      }
      return
    }

    const escrow = this.requireEscrow()
    const key = this.escrowKey(state.id)
    if (payment.state === 'awaiting') {
      const record = await escrow.refresh(key)
      if (record.state === 'held') paid(false)
      else if (record.state === 'expired' || record.state === 'canceled') expire('the hold invoice expired unpaid')
      return
    }
    const record = escrow.get(key)
    if (record?.state === 'settled') {
      this.host.append(state.id, [{ type: 'payment-settled', at, paymentHash: payment.paymentHash }], [{ type: 'earning', paymentHash: payment.paymentHash, amountMsats: payment.amountMsats }])
      this.host.log.info({ job: state.id, paymentHash: payment.paymentHash }, 'escrow released: earned')
    } else if (record?.state === 'canceled' || record?.state === 'expired') {
      const reason = `payment returned: ${record.reason ?? 'escrow canceled'}`
      const facts: JobFact[] = [{ type: 'payment-refunded', at, paymentHash: payment.paymentHash, reason }]
      const effects: EffectSpec[] = []
      if (!isFinal(state)) {
        facts.push({ type: 'failed', at, reason })
        effects.push(this.host.publishEffect(this.host.feedback(state, 'error', { extraInfo: reason }), relays))
      }
      this.host.append(state.id, facts, effects, { dropPending: !isFinal(state) })
      this.host.abort(state.id)
      this.host.log.info({ job: state.id, reason }, 'escrow refunded')
    }
  }

  // ---- the requester's side of escrow ----------------------------------------------------------

  /** The requester accepts the result: the held payment is released now. */
  async accept(jobId: string): Promise<void> {
    await this.requireEscrow().accept(this.escrowKey(jobId))
    await this.poll()
  }

  /** The requester disputes within the window: the held payment is returned. */
  async dispute(jobId: string, reason: string): Promise<void> {
    await this.requireEscrow().refund(this.escrowKey(jobId), reason)
    await this.poll()
  }
}
