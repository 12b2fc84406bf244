// Escrow with hold invoices: the requester's payment is locked in (the HTLC is held, not settled)
// until the agent delivers and the requester accepts, or a deadline decides:
//
//   creating -> awaiting-payment -> held -> delivered -> settling -> settled
//                     |               |         |   \
//                     v               v         v    `-> (dispute) canceling -> canceled
//                  expired       (work timeout) canceling -> canceled
//
// - held: the payment is locked; the agent should now run the job. No result by workDeadline: refund.
// - delivered: the result is out; the requester may accept (settle at once) or dispute (refund)
//   until disputeDeadline; silence settles.
// - settling / canceling are written before the wallet is called, so a crash in between is finished
//   by the next tick(); the wallet calls are idempotent (settling a settled invoice is not an error),
//   so nothing is paid twice or lost. The preimage is stored before the invoice exists.
//
// State lives in SQLite (better-sqlite3); deadlines are data, so tick() after a restart picks up
// where the last process stopped. Times are unix seconds from the injected clock.
import Database from 'better-sqlite3'
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js'
import { paymentHashOf, WalletError, type LightningWallet } from './wallet.js'
import { openDatabase } from '../sqlite.js'

export type EscrowState = 'creating' | 'awaiting-payment' | 'held' | 'delivered' | 'settling' | 'settled' | 'canceling' | 'canceled' | 'expired'

export interface EscrowRecord {
  jobId: string
  paymentHash: string
  /** Absent only while 'creating'. */
  bolt11?: string
  amountMsats: number
  state: EscrowState
  createdAt: number
  /** When the hold invoice expires unpaid. */
  invoiceExpiresAt?: number
  heldAt?: number
  /** A held payment without a delivered result by then is returned. */
  workDeadline?: number
  deliveredAt?: number
  /** A delivered result not disputed by then releases the payment. */
  disputeDeadline?: number
  resolvedAt?: number
  /** Why it was canceled or expired. */
  reason?: string
}

export interface EscrowOptions {
  wallet: LightningWallet
  /** Unix milliseconds. */
  clock?: () => number
  random?: (length: number) => Uint8Array
  /** From payment locked in to result delivered. Default 3600. */
  workTimeoutSeconds?: number
  /** From delivery to automatic release; the requester may dispute meanwhile. Default 600. */
  disputeWindowSeconds?: number
  /** How long the hold invoice can be paid. Default 600. */
  invoiceExpirySeconds?: number
  /**
   * An accepted HTLC must be settled or canceled before its CLTV expiry (the payer's funds are stuck
   * until then and channels force-close after). workTimeout + disputeWindow must stay below this.
   * Default 12 h, well inside the usual final CLTV delta (80+ blocks).
   */
  maxHoldSeconds?: number
  log?: (msg: string, extra?: object) => void
}

export class EscrowError extends Error {
  override name = 'EscrowError'
  constructor(
    message: string,
    /** HTTP status that fits: 404 unknown job, 409 wrong state. */
    readonly status: 404 | 409,
  ) {
    super(message)
  }
}

interface Row {
  job_id: string
  payment_hash: string
  preimage: string
  bolt11: string | null
  amount_msats: number
  description: string | null
  state: EscrowState
  created_at: number
  invoice_expires_at: number | null
  held_at: number | null
  work_deadline: number | null
  delivered_at: number | null
  dispute_deadline: number | null
  resolved_at: number | null
  reason: string | null
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS escrows (
  job_id TEXT PRIMARY KEY,
  payment_hash TEXT NOT NULL UNIQUE,
  preimage TEXT NOT NULL,
  bolt11 TEXT,
  amount_msats INTEGER NOT NULL CHECK (amount_msats > 0),
  description TEXT,
  state TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  invoice_expires_at INTEGER,
  held_at INTEGER,
  work_deadline INTEGER,
  delivered_at INTEGER,
  dispute_deadline INTEGER,
  resolved_at INTEGER,
  reason TEXT
);
CREATE INDEX IF NOT EXISTS escrows_open ON escrows (state) WHERE state NOT IN ('settled', 'canceled', 'expired');
`

function toRecord(row: Row): EscrowRecord {
  const optional = <K extends keyof EscrowRecord>(key: K, value: EscrowRecord[K] | null) => (value === null ? {} : { [key]: value })
  return {
    jobId: row.job_id,
    paymentHash: row.payment_hash,
    ...optional('bolt11', row.bolt11),
    amountMsats: row.amount_msats,
    state: row.state,
    createdAt: row.created_at,
    ...optional('invoiceExpiresAt', row.invoice_expires_at),
    ...optional('heldAt', row.held_at),
    ...optional('workDeadline', row.work_deadline),
    ...optional('deliveredAt', row.delivered_at),
    ...optional('disputeDeadline', row.dispute_deadline),
    ...optional('resolvedAt', row.resolved_at),
    ...optional('reason', row.reason),
  }
}

export class Escrow {
  private readonly wallet: LightningWallet
  private readonly clock: () => number
  private readonly random: (length: number) => Uint8Array
  private readonly workTimeoutSeconds: number
  private readonly disputeWindowSeconds: number
  private readonly invoiceExpirySeconds: number
  private readonly log: (msg: string, extra?: object) => void
  private readonly locking = new Map<string, Promise<EscrowRecord>>()

  private constructor(
    private readonly db: Database.Database,
    options: EscrowOptions,
  ) {
    this.wallet = options.wallet
    this.clock = options.clock ?? Date.now
    this.random = options.random ?? randomBytes
    this.workTimeoutSeconds = options.workTimeoutSeconds ?? 3600
    this.disputeWindowSeconds = options.disputeWindowSeconds ?? 600
    this.invoiceExpirySeconds = options.invoiceExpirySeconds ?? 600
    this.log = options.log ?? (() => {})
    const maxHold = options.maxHoldSeconds ?? 12 * 3600
    if (this.workTimeoutSeconds + this.disputeWindowSeconds > maxHold) {
      throw new Error(`escrow: workTimeoutSeconds + disputeWindowSeconds (${this.workTimeoutSeconds + this.disputeWindowSeconds}) exceeds maxHoldSeconds (${maxHold}); the held HTLC would outlive its CLTV expiry`)
    }
    if (!this.wallet.supportsHoldInvoices) throw new WalletError('unsupported', `escrow needs hold invoices, which the ${this.wallet.kind} wallet does not support`)
  }

  /** Opens (creating if needed) the escrow database; ':memory:' for tests. */
  static open(path: string, options: EscrowOptions): Escrow {
    return new Escrow(openDatabase(path, SCHEMA, 'FULL'), options)
  }

  close(): void {
    this.db.close()
  }

  private now(): number {
    return Math.floor(this.clock() / 1000)
  }

  private row(jobId: string): Row | undefined {
    return this.db.prepare('SELECT * FROM escrows WHERE job_id = ?').get(jobId) as Row | undefined
  }

  private mustGet(jobId: string): Row {
    const row = this.row(jobId)
    if (!row) throw new EscrowError(`no escrow for job ${jobId}`, 404)
    return row
  }

  private update(jobId: string, fields: Partial<Omit<Row, 'job_id'>>): void {
    const keys = Object.keys(fields)
    this.db.prepare(`UPDATE escrows SET ${keys.map((k) => `${k} = @${k}`).join(', ')} WHERE job_id = @job_id`).run({ ...fields, job_id: jobId })
  }

  get(jobId: string): EscrowRecord | undefined {
    const row = this.row(jobId)
    return row && toRecord(row)
  }

  /** Escrows not yet settled, canceled or expired. */
  open(): EscrowRecord[] {
    return (this.db.prepare(`SELECT * FROM escrows WHERE state NOT IN ('settled', 'canceled', 'expired') ORDER BY created_at`).all() as Row[]).map(toRecord)
  }

  /**
   * Issues the hold invoice the requester pays (idempotent per job: the same record comes back).
   * The preimage is stored first, so a crash never leaves a payable invoice nobody can settle.
   */
  lock(params: { jobId: string; amountMsats: number; description?: string }): Promise<EscrowRecord> {
    // A second call while the first is creating the invoice must wait for it, not start over.
    const inFlight = this.locking.get(params.jobId)
    if (inFlight) return inFlight
    const locking = this.createLock(params).finally(() => this.locking.delete(params.jobId))
    this.locking.set(params.jobId, locking)
    return locking
  }

  private async createLock({ jobId, amountMsats, description }: { jobId: string; amountMsats: number; description?: string }): Promise<EscrowRecord> {
    const existing = this.row(jobId)
    if (existing && existing.state !== 'creating') return toRecord(existing)
    if (existing) {
      // A previous process died between storing the preimage and storing the invoice. That invoice (if it was
      // made) was never handed out: drop it and start over with a fresh preimage.
      await this.wallet.cancelHoldInvoice(existing.payment_hash).catch(() => undefined)
      this.db.prepare('DELETE FROM escrows WHERE job_id = ?').run(jobId)
    }
    const preimage = bytesToHex(this.random(32))
    const paymentHash = paymentHashOf(preimage)
    this.db
      .prepare('INSERT INTO escrows (job_id, payment_hash, preimage, amount_msats, description, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(jobId, paymentHash, preimage, amountMsats, description ?? null, 'creating', this.now())
    const created = await this.wallet.createHoldInvoice({ amountMsats, paymentHash, expirySeconds: this.invoiceExpirySeconds, ...(description !== undefined && { description }) })
    this.update(jobId, { bolt11: created.bolt11, invoice_expires_at: created.expiresAt, state: 'awaiting-payment' })
    this.log('escrow: hold invoice issued', { jobId, paymentHash, amountMsats })
    return toRecord(this.mustGet(jobId))
  }

  /** Asks the wallet whether an awaited payment has been locked in (or the invoice died). */
  async refresh(jobId: string): Promise<EscrowRecord> {
    const row = this.mustGet(jobId)
    if (row.state !== 'awaiting-payment') return toRecord(row)
    const status = await this.wallet.lookupInvoice(row.payment_hash)
    const now = this.now()
    if (status.state === 'accepted' && status.amountMsats >= row.amount_msats) {
      this.update(jobId, { state: 'held', held_at: now, work_deadline: now + this.workTimeoutSeconds })
      this.log('escrow: payment held', { jobId })
    } else if (status.state === 'canceled' || (status.state === 'open' && row.invoice_expires_at !== null && row.invoice_expires_at <= now)) {
      this.update(jobId, { state: 'expired', resolved_at: now, reason: 'the hold invoice expired unpaid' })
    } else if (status.state === 'settled') {
      // Only this escrow knows the preimage, so a settled invoice means a settle it started finished.
      this.update(jobId, { state: 'settled', resolved_at: now })
    }
    return toRecord(this.mustGet(jobId))
  }

  /** The agent delivered its result: the dispute window starts. */
  delivered(jobId: string): EscrowRecord {
    const row = this.mustGet(jobId)
    if (row.state === 'delivered') return toRecord(row)
    if (row.state !== 'held') throw new EscrowError(`escrow for job ${jobId} is ${row.state}; a result can only be delivered against a held payment`, 409)
    const now = this.now()
    this.update(jobId, { state: 'delivered', delivered_at: now, dispute_deadline: now + this.disputeWindowSeconds })
    return toRecord(this.mustGet(jobId))
  }

  /** The requester accepted the result: the payment is released to the agent now. */
  async accept(jobId: string): Promise<EscrowRecord> {
    const row = this.mustGet(jobId)
    if (row.state === 'settled' || row.state === 'settling') return this.settle(jobId)
    if (row.state !== 'delivered' && row.state !== 'held') throw new EscrowError(`escrow for job ${jobId} is ${row.state}; nothing to release`, 409)
    return this.settle(jobId)
  }

  /** The requester disputed within the window (or the agent gives up): the payment is returned. */
  async refund(jobId: string, reason: string): Promise<EscrowRecord> {
    const row = this.mustGet(jobId)
    if (row.state === 'canceled' || row.state === 'canceling' || row.state === 'expired') return this.cancel(jobId, reason)
    if (row.state === 'delivered' && row.dispute_deadline !== null && this.now() > row.dispute_deadline) {
      throw new EscrowError(`the dispute window of job ${jobId} closed at ${row.dispute_deadline}`, 409)
    }
    if (row.state !== 'delivered' && row.state !== 'held' && row.state !== 'awaiting-payment') {
      throw new EscrowError(`escrow for job ${jobId} is ${row.state}; it can no longer be refunded`, 409)
    }
    return this.cancel(jobId, reason)
  }

  private async settle(jobId: string): Promise<EscrowRecord> {
    const row = this.mustGet(jobId)
    if (row.state === 'settled') return toRecord(row)
    if (row.state !== 'settling') this.update(jobId, { state: 'settling' })
    await this.wallet.settleHoldInvoice(row.preimage)
    this.update(jobId, { state: 'settled', resolved_at: this.now() })
    this.log('escrow: payment released', { jobId })
    return toRecord(this.mustGet(jobId))
  }

  private async cancel(jobId: string, reason: string): Promise<EscrowRecord> {
    const row = this.mustGet(jobId)
    if (row.state === 'canceled' || row.state === 'expired') return toRecord(row)
    if (row.state !== 'canceling') this.update(jobId, { state: 'canceling', reason })
    await this.wallet.cancelHoldInvoice(row.payment_hash)
    this.update(jobId, { state: 'canceled', resolved_at: this.now() })
    this.log('escrow: payment returned', { jobId, reason: row.reason ?? reason })
    return toRecord(this.mustGet(jobId))
  }

  /**
   * Moves every open escrow along: payments locked in, deadlines passed, and settles or cancels a
   * crash interrupted. Call it periodically and once after start. Returns the escrows it changed.
   */
  async tick(): Promise<EscrowRecord[]> {
    const changed: EscrowRecord[] = []
    for (const before of this.open()) {
      let after: EscrowRecord
      try {
        after = await this.advance(before)
      } catch (err) {
        this.log('escrow: step failed, retrying on the next tick', { jobId: before.jobId, err: (err as Error).message })
        continue
      }
      if (after.state !== before.state) changed.push(after)
    }
    return changed
  }

  private async advance(record: EscrowRecord): Promise<EscrowRecord> {
    const now = this.now()
    switch (record.state) {
      case 'creating':
        // The caller's lock() died midway; it will retry lock() for the job, or the row stays inert.
        return record
      case 'awaiting-payment':
        return this.refresh(record.jobId)
      case 'held':
        return record.workDeadline !== undefined && now >= record.workDeadline ? this.cancel(record.jobId, 'no result before the work deadline') : record
      case 'delivered':
        return record.disputeDeadline !== undefined && now >= record.disputeDeadline ? this.settle(record.jobId) : record
      case 'settling':
        return this.settle(record.jobId)
      case 'canceling':
        return this.cancel(record.jobId, record.reason ?? 'canceled')
      default:
        return record
    }
  }
}
