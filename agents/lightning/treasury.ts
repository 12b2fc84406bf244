// The treasury: a double-entry ledger per agent in SQLite, a cold-wallet sweep, and a withdrawal
// approval queue.
//
// Accounts (per agent; debits positive, credits negative, every transaction sums to zero):
//   hot_wallet   asset    sats in the Lightning wallet that belong to the agent
//   earnings     income   what the agent was paid for its work
//   withdrawals  clearing sats reserved for a withdrawal between its request and its payment
//   cold_wallet  asset    sats moved to the operator's cold wallet
//   fees         expense  routing fees of withdrawals
//
// Flows: an earning is hot_wallet/earnings, keyed by payment hash (recording it twice is a no-op).
// A sweep above the threshold requests a withdrawal (withdrawals/hot_wallet: the amount plus the
// most the routing may cost are reserved) that waits for an operator's approval (`timmy treasury approve <id>` writes the approval to the
// database; the running host's process() pays). Paying is crash-safe: the invoice and its payment
// hash are stored (state 'paying') before the wallet is called, and process() after a restart asks
// the wallet what became of that payment before paying anything: succeeded -> book it, never
// reached the node -> pay the same invoice again (a paid invoice cannot be paid twice), failed ->
// release the reserve. Payment completion (cold_wallet/withdrawals, fees/hot_wallet) is keyed by the
// withdrawal, so booking it twice is impossible.
import Database from 'better-sqlite3'
import { join } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { loadConfig } from '../config.js'
import { decodeBolt11 } from './bolt11.js'
import { checkHash, WalletError, type LightningWallet } from './wallet.js'
import { openDatabase } from '../sqlite.js'

export const ACCOUNTS = ['hot_wallet', 'earnings', 'withdrawals', 'cold_wallet', 'fees'] as const
export type Account = (typeof ACCOUNTS)[number]

export type WithdrawalState = 'pending-approval' | 'approved' | 'paying' | 'paid' | 'failed' | 'rejected'

export interface Withdrawal {
  id: number
  agent: string
  amountMsats: number
  /** Reserved on top of the amount for routing fees; what the fee leaves of it returns to the agent. */
  feeReserveMsats: number
  state: WithdrawalState
  reason: string
  createdAt: number
  approvedBy?: string
  approvedAt?: number
  bolt11?: string
  paymentHash?: string
  feeMsats?: number
  paidAt?: number
  error?: string
}

export interface LedgerEntry {
  account: Account
  /** Debit positive, credit negative. */
  amountMsats: number
}

export interface LedgerTransaction {
  id: number
  key: string
  agent: string
  kind: 'earning' | 'withdrawal-reserve' | 'withdrawal-paid' | 'withdrawal-release'
  memo: string
  paymentHash?: string
  createdAt: number
  entries: LedgerEntry[]
}

export interface AgentBalance {
  agent: string
  /** Spendable by the agent: earned, minus withdrawn, reserved and fees. */
  hotWalletMsats: number
  earnedMsats: number
  pendingWithdrawalMsats: number
  coldWalletMsats: number
  feesMsats: number
}

export interface EarningsSummary extends AgentBalance {
  payments: number
  earnedLast24hMsats: number
  earnedLast30dMsats: number
}

export interface TreasuryOptions {
  /** The hot wallet withdrawals are paid from; needed by process() only. */
  wallet?: LightningWallet
  /** Where sweeps go: invoices are requested from it. Without it an approver must give an invoice. */
  coldWallet?: Pick<LightningWallet, 'createInvoice'>
  /** Unix milliseconds. */
  clock?: () => number
  /** Most a withdrawal may spend on routing: fixed part plus parts per million. Default 1000 msat + 0.5 %. */
  maxFee?: { baseMsats: number; ppm: number }
  log?: (msg: string, extra?: object) => void
}

export class TreasuryError extends Error {
  override name = 'TreasuryError'
  constructor(
    message: string,
    /** HTTP status that fits: 400 bad input, 404 unknown withdrawal, 409 wrong state. */
    readonly status: 400 | 404 | 409,
  ) {
    super(message)
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ledger_transactions (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  agent TEXT NOT NULL,
  kind TEXT NOT NULL,
  memo TEXT NOT NULL,
  payment_hash TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_entries (
  transaction_id INTEGER NOT NULL REFERENCES ledger_transactions(id),
  account TEXT NOT NULL CHECK (account IN ('hot_wallet', 'earnings', 'withdrawals', 'cold_wallet', 'fees')),
  amount_msats INTEGER NOT NULL CHECK (amount_msats != 0)
);
CREATE INDEX IF NOT EXISTS ledger_entries_tx ON ledger_entries (transaction_id);
CREATE INDEX IF NOT EXISTS ledger_transactions_agent ON ledger_transactions (agent, created_at);
CREATE TABLE IF NOT EXISTS withdrawals (
  id INTEGER PRIMARY KEY,
  agent TEXT NOT NULL,
  amount_msats INTEGER NOT NULL CHECK (amount_msats > 0),
  fee_reserve_msats INTEGER NOT NULL CHECK (fee_reserve_msats >= 0),
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  approved_by TEXT,
  approved_at INTEGER,
  bolt11 TEXT,
  payment_hash TEXT UNIQUE,
  fee_msats INTEGER,
  paid_at INTEGER,
  error TEXT
);
`

interface WithdrawalRow {
  id: number
  agent: string
  amount_msats: number
  fee_reserve_msats: number
  state: WithdrawalState
  reason: string
  created_at: number
  approved_by: string | null
  approved_at: number | null
  bolt11: string | null
  payment_hash: string | null
  fee_msats: number | null
  paid_at: number | null
  error: string | null
}

function toWithdrawal(row: WithdrawalRow): Withdrawal {
  return {
    id: row.id,
    agent: row.agent,
    amountMsats: row.amount_msats,
    feeReserveMsats: row.fee_reserve_msats,
    state: row.state,
    reason: row.reason,
    createdAt: row.created_at,
    ...(row.approved_by !== null && { approvedBy: row.approved_by }),
    ...(row.approved_at !== null && { approvedAt: row.approved_at }),
    ...(row.bolt11 !== null && { bolt11: row.bolt11 }),
    ...(row.payment_hash !== null && { paymentHash: row.payment_hash }),
    ...(row.fee_msats !== null && { feeMsats: row.fee_msats }),
    ...(row.paid_at !== null && { paidAt: row.paid_at }),
    ...(row.error !== null && { error: row.error }),
  }
}

/** $TIMMY_HOME/treasury.sqlite */
export function treasuryPath(home: string): string {
  return join(home, 'treasury.sqlite')
}

export class Treasury {
  private readonly clock: () => number
  private readonly maxFee: { baseMsats: number; ppm: number }
  private readonly log: (msg: string, extra?: object) => void
  private processing: Promise<Withdrawal[]> | undefined

  private constructor(
    private readonly db: Database.Database,
    private readonly options: TreasuryOptions,
  ) {
    this.clock = options.clock ?? Date.now
    this.maxFee = options.maxFee ?? { baseMsats: 1000, ppm: 5000 }
    this.log = options.log ?? (() => {})
  }

  /** Opens (creating if needed) the treasury database; the CLI and a running host may share it. */
  static open(path: string, options: TreasuryOptions = {}): Treasury {
    return new Treasury(openDatabase(path, SCHEMA, 'FULL'), options)
  }

  close(): void {
    this.db.close()
  }

  private now(): number {
    return Math.floor(this.clock() / 1000)
  }

  /** Posts a balanced transaction once per key; false when the key was already posted. */
  private post(tx: { key: string; agent: string; kind: LedgerTransaction['kind']; memo: string; paymentHash?: string }, entries: LedgerEntry[]): boolean {
    const sum = entries.reduce((total, e) => total + e.amountMsats, 0)
    if (sum !== 0) throw new Error(`ledger: transaction ${tx.key} is unbalanced by ${sum} msat`)
    const inserted = this.db
      .prepare('INSERT OR IGNORE INTO ledger_transactions (key, agent, kind, memo, payment_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(tx.key, tx.agent, tx.kind, tx.memo, tx.paymentHash ?? null, this.now())
    if (inserted.changes === 0) return false
    const insertEntry = this.db.prepare('INSERT INTO ledger_entries (transaction_id, account, amount_msats) VALUES (?, ?, ?)')
    for (const e of entries) if (e.amountMsats !== 0) insertEntry.run(inserted.lastInsertRowid, e.account, e.amountMsats)
    return true
  }

  /** Books a payment the agent received; once per payment hash, however often it is reported. */
  recordEarning({ agent, paymentHash, amountMsats, memo }: { agent: string; paymentHash: string; amountMsats: number; memo?: string }): boolean {
    checkHash(paymentHash, 'paymentHash')
    if (!Number.isSafeInteger(amountMsats) || amountMsats <= 0) throw new TreasuryError('an earning must be a positive number of msat', 400)
    const posted = this.db.transaction(() =>
      this.post({ key: `earning:${paymentHash}`, agent, kind: 'earning', memo: memo ?? 'payment received', paymentHash }, [
        { account: 'hot_wallet', amountMsats },
        { account: 'earnings', amountMsats: -amountMsats },
      ]),
    )()
    if (posted) this.log('treasury: earning booked', { agent, paymentHash, amountMsats })
    return posted
  }

  /** Balance of one account of one agent (debit positive). */
  private accountBalance(agent: string, account: Account): number {
    const row = this.db
      .prepare('SELECT COALESCE(SUM(e.amount_msats), 0) AS total FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id WHERE t.agent = ? AND e.account = ?')
      .get(agent, account) as { total: number }
    return row.total
  }

  agents(): string[] {
    return (this.db.prepare('SELECT DISTINCT agent FROM ledger_transactions UNION SELECT DISTINCT agent FROM withdrawals ORDER BY 1').all() as { agent: string }[]).map((r) => r.agent)
  }

  balance(agent: string): AgentBalance {
    return {
      agent,
      hotWalletMsats: this.accountBalance(agent, 'hot_wallet'),
      // Income is a credit balance; 0 - x rather than -x, which would give -0 for nothing earned.
      earnedMsats: 0 - this.accountBalance(agent, 'earnings'),
      pendingWithdrawalMsats: this.accountBalance(agent, 'withdrawals'),
      coldWalletMsats: this.accountBalance(agent, 'cold_wallet'),
      feesMsats: this.accountBalance(agent, 'fees'),
    }
  }

  summary(agent: string): EarningsSummary {
    const since = (seconds: number) =>
      (this.db
        .prepare(`SELECT COALESCE(SUM(-e.amount_msats), 0) AS total FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id
                  WHERE t.agent = ? AND e.account = 'earnings' AND t.created_at > ?`)
        .get(agent, this.now() - seconds) as { total: number }).total
    const payments = (this.db.prepare("SELECT COUNT(*) AS n FROM ledger_transactions WHERE agent = ? AND kind = 'earning'").get(agent) as { n: number }).n
    return { ...this.balance(agent), payments, earnedLast24hMsats: since(86_400), earnedLast30dMsats: since(30 * 86_400) }
  }

  /** Newest first. */
  ledger({ agent, limit = 100 }: { agent?: string; limit?: number } = {}): LedgerTransaction[] {
    const rows = this.db
      .prepare(`SELECT * FROM ledger_transactions ${agent ? 'WHERE agent = @agent' : ''} ORDER BY id DESC LIMIT @limit`)
      .all({ ...(agent && { agent }), limit }) as { id: number; key: string; agent: string; kind: LedgerTransaction['kind']; memo: string; payment_hash: string | null; created_at: number }[]
    const entries = this.db.prepare('SELECT account, amount_msats FROM ledger_entries WHERE transaction_id = ? ORDER BY rowid')
    return rows.map((r) => ({
      id: r.id,
      key: r.key,
      agent: r.agent,
      kind: r.kind,
      memo: r.memo,
      ...(r.payment_hash !== null && { paymentHash: r.payment_hash }),
      createdAt: r.created_at,
      entries: (entries.all(r.id) as { account: Account; amount_msats: number }[]).map((e) => ({ account: e.account, amountMsats: e.amount_msats })),
    }))
  }

  /** Transactions whose entries do not sum to zero: always empty unless the file was edited by hand. */
  unbalancedTransactions(): number[] {
    return (this.db.prepare('SELECT transaction_id AS id FROM ledger_entries GROUP BY transaction_id HAVING SUM(amount_msats) != 0').all() as { id: number }[]).map((r) => r.id)
  }

  withdrawals({ agent, states }: { agent?: string; states?: WithdrawalState[] } = {}): Withdrawal[] {
    const rows = this.db.prepare('SELECT * FROM withdrawals ORDER BY id').all() as WithdrawalRow[]
    return rows.filter((r) => (!agent || r.agent === agent) && (!states || states.includes(r.state))).map(toWithdrawal)
  }

  withdrawal(id: number): Withdrawal {
    const row = this.db.prepare('SELECT * FROM withdrawals WHERE id = ?').get(id) as WithdrawalRow | undefined
    if (!row) throw new TreasuryError(`no withdrawal #${id}`, 404)
    return toWithdrawal(row)
  }

  /** The most a payment of this amount may spend on routing. */
  maxFeeFor(amountMsats: number): number {
    return this.maxFee.baseMsats + Math.floor((amountMsats * this.maxFee.ppm) / 1_000_000)
  }

  /** Requests a withdrawal to the cold wallet, reserving the amount and its fee budget; it waits for approval. */
  requestWithdrawal({ agent, amountMsats, reason }: { agent: string; amountMsats: number; reason: string }): Withdrawal {
    if (!Number.isSafeInteger(amountMsats) || amountMsats <= 0) throw new TreasuryError('a withdrawal must be a positive number of msat', 400)
    const feeReserve = this.maxFeeFor(amountMsats)
    return this.db.transaction(() => {
      const available = this.accountBalance(agent, 'hot_wallet')
      if (amountMsats + feeReserve > available) {
        throw new TreasuryError(`agent ${agent} has ${available} msat, cannot withdraw ${amountMsats} msat plus up to ${feeReserve} msat of fees`, 409)
      }
      const id = Number(
        this.db
          .prepare("INSERT INTO withdrawals (agent, amount_msats, fee_reserve_msats, state, reason, created_at) VALUES (?, ?, ?, 'pending-approval', ?, ?)")
          .run(agent, amountMsats, feeReserve, reason, this.now()).lastInsertRowid,
      )
      this.post({ key: `withdrawal-reserve:${id}`, agent, kind: 'withdrawal-reserve', memo: `withdrawal #${id} reserved: ${reason}` }, [
        { account: 'withdrawals', amountMsats: amountMsats + feeReserve },
        { account: 'hot_wallet', amountMsats: -(amountMsats + feeReserve) },
      ])
      return this.withdrawal(id)
    })()
  }

  /**
   * Above thresholdMsats of spendable balance, requests a withdrawal of everything above keepMsats
   * (unless one is already underway for the agent). Returns it, or undefined.
   */
  sweep({ agent, thresholdMsats, keepMsats = 0 }: { agent: string; thresholdMsats: number; keepMsats?: number }): Withdrawal | undefined {
    if (keepMsats > thresholdMsats) throw new TreasuryError('keepMsats must not exceed thresholdMsats', 400)
    const underway = this.withdrawals({ agent, states: ['pending-approval', 'approved', 'paying'] })
    if (underway.length > 0) return undefined
    const available = this.accountBalance(agent, 'hot_wallet')
    if (available <= thresholdMsats) return undefined
    // The largest amount whose fee budget still fits above keepMsats.
    const budget = available - keepMsats
    let amountMsats = Math.floor(((budget - this.maxFee.baseMsats) * 1_000_000) / (1_000_000 + this.maxFee.ppm))
    while (amountMsats > 0 && amountMsats + this.maxFeeFor(amountMsats) > budget) amountMsats--
    if (amountMsats <= 0) return undefined
    const withdrawal = this.requestWithdrawal({ agent, amountMsats, reason: `cold-wallet sweep above ${thresholdMsats} msat` })
    this.log('treasury: sweep requested, waiting for approval', { agent, id: withdrawal.id, amountMsats: withdrawal.amountMsats })
    return withdrawal
  }

  /**
   * An operator approves a withdrawal. With an invoice (for exactly the amount) the withdrawal pays
   * it; without, process() asks the configured cold wallet for one.
   */
  approve(id: number, { by, bolt11 }: { by: string; bolt11?: string }): Withdrawal {
    const withdrawal = this.withdrawal(id)
    if (withdrawal.state !== 'pending-approval') throw new TreasuryError(`withdrawal #${id} is ${withdrawal.state}, not waiting for approval`, 409)
    let paymentHash: string | null = null
    if (bolt11 !== undefined) {
      let decoded
      try {
        decoded = decodeBolt11(bolt11)
      } catch (err) {
        throw new TreasuryError((err as Error).message, 400)
      }
      if (decoded.amountMsats !== withdrawal.amountMsats) throw new TreasuryError(`the invoice is for ${decoded.amountMsats ?? 'any amount'} msat; withdrawal #${id} is ${withdrawal.amountMsats} msat`, 400)
      if (decoded.expiresAt <= this.now()) throw new TreasuryError('the invoice has expired', 400)
      paymentHash = decoded.paymentHash
    }
    this.db
      .prepare("UPDATE withdrawals SET state = 'approved', approved_by = ?, approved_at = ?, bolt11 = ?, payment_hash = ? WHERE id = ? AND state = 'pending-approval'")
      .run(by, this.now(), bolt11 ?? null, paymentHash, id)
    return this.withdrawal(id)
  }

  reject(id: number, { by, reason }: { by: string; reason: string }): Withdrawal {
    const withdrawal = this.withdrawal(id)
    if (withdrawal.state !== 'pending-approval' && withdrawal.state !== 'approved') throw new TreasuryError(`withdrawal #${id} is ${withdrawal.state}; it can no longer be rejected`, 409)
    this.db.transaction(() => {
      this.db.prepare("UPDATE withdrawals SET state = 'rejected', approved_by = ?, error = ? WHERE id = ?").run(by, reason, id)
      this.release(withdrawal, `rejected by ${by}: ${reason}`)
    })()
    return this.withdrawal(id)
  }

  private release(withdrawal: Withdrawal, memo: string): void {
    const reserved = withdrawal.amountMsats + withdrawal.feeReserveMsats
    this.post({ key: `withdrawal-release:${withdrawal.id}`, agent: withdrawal.agent, kind: 'withdrawal-release', memo: `withdrawal #${withdrawal.id} released: ${memo}` }, [
      { account: 'hot_wallet', amountMsats: reserved },
      { account: 'withdrawals', amountMsats: -reserved },
    ])
  }

  private complete(withdrawal: Withdrawal, feeMsats: number): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE withdrawals SET state = 'paid', fee_msats = ?, paid_at = ? WHERE id = ?").run(feeMsats, this.now(), withdrawal.id)
      this.post(
        { key: `withdrawal-paid:${withdrawal.id}`, agent: withdrawal.agent, kind: 'withdrawal-paid', memo: `withdrawal #${withdrawal.id} paid to the cold wallet`, ...(withdrawal.paymentHash && { paymentHash: withdrawal.paymentHash }) },
        [
          { account: 'cold_wallet', amountMsats: withdrawal.amountMsats },
          { account: 'fees', amountMsats: feeMsats },
          // What the fee left of its reserve goes back to the agent (a fee above the reserve is taken from it).
          { account: 'hot_wallet', amountMsats: withdrawal.feeReserveMsats - feeMsats },
          { account: 'withdrawals', amountMsats: -(withdrawal.amountMsats + withdrawal.feeReserveMsats) },
        ],
      )
    })()
    this.log('treasury: withdrawal paid', { id: withdrawal.id, agent: withdrawal.agent, amountMsats: withdrawal.amountMsats, feeMsats })
  }

  private fail(withdrawal: Withdrawal, error: string): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE withdrawals SET state = 'failed', error = ? WHERE id = ?").run(error, withdrawal.id)
      this.release(withdrawal, `payment failed: ${error}`)
    })()
    this.log('treasury: withdrawal failed, sats released', { id: withdrawal.id, error })
  }

  /**
   * The host's part: finishes payments a crash interrupted (asking the wallet first), then pays
   * approved withdrawals. Returns the withdrawals it moved to paid or failed.
   */
  process(): Promise<Withdrawal[]> {
    // One round at a time: two rounds would both see an approved withdrawal and pay it twice.
    this.processing ??= this.processRound().finally(() => (this.processing = undefined))
    return this.processing
  }

  private async processRound(): Promise<Withdrawal[]> {
    const wallet = this.options.wallet
    if (!wallet) throw new Error('treasury: process() needs a wallet to pay from')
    const done: Withdrawal[] = []
    for (const withdrawal of this.withdrawals({ states: ['paying'] })) {
      const status = await wallet.lookupPayment(withdrawal.paymentHash!)
      if (status.state === 'succeeded') {
        this.complete(withdrawal, status.feeMsats ?? 0)
        done.push(this.withdrawal(withdrawal.id))
      } else if (status.state === 'failed') {
        this.fail(withdrawal, 'the payment failed')
        done.push(this.withdrawal(withdrawal.id))
      } else if (status.state === 'unknown') {
        // The wallet never saw it: the crash came before the payment left. Pay the same invoice.
        const finished = await this.pay(wallet, withdrawal)
        if (finished) done.push(finished)
      }
    }
    for (const approved of this.withdrawals({ states: ['approved'] })) {
      const withdrawal = await this.prepare(approved)
      if (!withdrawal) continue
      const finished = await this.pay(wallet, withdrawal)
      if (finished) done.push(finished)
    }
    return done
  }

  /** Gets the invoice (from the cold wallet when the approver gave none) and records 'paying' before any payment. */
  private async prepare(withdrawal: Withdrawal): Promise<Withdrawal | undefined> {
    let bolt11 = withdrawal.bolt11
    let paymentHash = withdrawal.paymentHash
    if (!bolt11) {
      if (!this.options.coldWallet) throw new Error(`treasury: withdrawal #${withdrawal.id} has no invoice and no cold wallet is configured`)
      const created = await this.options.coldWallet.createInvoice({ amountMsats: withdrawal.amountMsats, description: `timmy treasury: withdrawal #${withdrawal.id} of ${withdrawal.agent}` })
      bolt11 = created.bolt11
      paymentHash = created.paymentHash
    }
    const claimed = this.db.prepare("UPDATE withdrawals SET state = 'paying', bolt11 = ?, payment_hash = ? WHERE id = ? AND state = 'approved'").run(bolt11, paymentHash, withdrawal.id)
    // Rejected meanwhile (the CLI shares the database), or taken by another process: not ours to pay.
    return claimed.changes === 1 ? this.withdrawal(withdrawal.id) : undefined
  }

  private async pay(wallet: LightningWallet, withdrawal: Withdrawal): Promise<Withdrawal | undefined> {
    try {
      const paid = await wallet.payInvoice(withdrawal.bolt11!, { maxFeeMsats: withdrawal.feeReserveMsats })
      this.complete(withdrawal, paid.feeMsats)
    } catch (err) {
      if (!(err instanceof WalletError) || err.code === 'timeout' || err.code === 'backend') {
        // The outcome is unknown: leave it 'paying'; the next process() asks the wallet.
        this.log('treasury: payment outcome unknown, will check again', { id: withdrawal.id, err: (err as Error).message })
        return undefined
      }
      this.fail(withdrawal, err.message)
    }
    return this.withdrawal(withdrawal.id)
  }
}

// ------------------------------------------------------------------ CLI

const positiveInteger = (what: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive integer`)
  return n
}

function formatMsats(msats: number): string {
  const sats = msats / 1000
  return `${sats.toLocaleString('en-US', { maximumFractionDigits: 3 })} sat`
}

/** `timmy treasury balance|ledger|withdrawals|approve <id>|reject <id>`, reading $TIMMY_HOME/treasury.sqlite. */
export function registerTreasuryCommands(program: Command): void {
  const withTreasury = <T>(options: { home?: string }, action: (treasury: Treasury) => T): T => {
    const config = loadConfig({ overrides: options.home ? { home: options.home } : {} })
    const treasury = Treasury.open(treasuryPath(config.home))
    try {
      return action(treasury)
    } catch (err) {
      // A wrong id or state is the operator's input: a reason, not a stack trace.
      if (err instanceof TreasuryError) program.error(`error: ${err.message}`, { exitCode: 1 })
      throw err
    } finally {
      treasury.close()
    }
  }
  const print = (json: boolean | undefined, value: unknown, text: () => string) => console.log(json ? JSON.stringify(value, null, 2) : text())
  const operator = () => `cli:${process.env.USER ?? process.env.USERNAME ?? 'unknown'}`
  const withdrawalLine = (w: Withdrawal) =>
    `#${w.id}  ${w.agent}  ${formatMsats(w.amountMsats)}  ${w.state}  ${w.reason}${w.error ? `  (${w.error})` : ''}`

  const treasury = program.command('treasury').description('earnings ledger, cold-wallet sweeps and withdrawal approvals')
  treasury
    .command('balance')
    .description('earnings and balances per agent')
    .option('--agent <name>', 'only this agent')
    .option('--home <dir>', 'data directory (default $TIMMY_HOME or ./.timmy)')
    .option('--json', 'print JSON')
    .action((options: { agent?: string; home?: string; json?: boolean }) =>
      withTreasury(options, (t) => {
        const summaries = (options.agent ? [options.agent] : t.agents()).map((a) => t.summary(a))
        print(options.json, summaries, () =>
          summaries.length === 0
            ? 'no earnings yet'
            : summaries
                .map((s) => `${s.agent}: earned ${formatMsats(s.earnedMsats)} in ${s.payments} payments (24h ${formatMsats(s.earnedLast24hMsats)}, 30d ${formatMsats(s.earnedLast30dMsats)}); hot wallet ${formatMsats(s.hotWalletMsats)}, withdrawing ${formatMsats(s.pendingWithdrawalMsats)}, cold wallet ${formatMsats(s.coldWalletMsats)}, fees ${formatMsats(s.feesMsats)}`)
                .join('\n'),
        )
      }),
    )
  treasury
    .command('ledger')
    .description('ledger transactions, newest first')
    .option('--agent <name>', 'only this agent')
    .option('--limit <n>', 'at most this many', positiveInteger('--limit'), 50)
    .option('--home <dir>', 'data directory (default $TIMMY_HOME or ./.timmy)')
    .option('--json', 'print JSON')
    .action((options: { agent?: string; limit: number; home?: string; json?: boolean }) =>
      withTreasury(options, (t) => {
        const txs = t.ledger({ ...(options.agent && { agent: options.agent }), limit: options.limit })
        print(options.json, txs, () =>
          txs
            .map((tx) => `${new Date(tx.createdAt * 1000).toISOString()}  ${tx.agent}  ${tx.kind}  ${tx.memo}\n${tx.entries.map((e) => `    ${e.account.padEnd(12)} ${e.amountMsats > 0 ? 'debit ' : 'credit'} ${formatMsats(Math.abs(e.amountMsats))}`).join('\n')}`)
            .join('\n') || 'the ledger is empty',
        )
      }),
    )
  treasury
    .command('withdrawals')
    .description('withdrawals and their approval state')
    .option('--agent <name>', 'only this agent')
    .option('--pending', 'only those waiting for approval')
    .option('--home <dir>', 'data directory (default $TIMMY_HOME or ./.timmy)')
    .option('--json', 'print JSON')
    .action((options: { agent?: string; pending?: boolean; home?: string; json?: boolean }) =>
      withTreasury(options, (t) => {
        const list = t.withdrawals({ ...(options.agent && { agent: options.agent }), ...(options.pending && { states: ['pending-approval' as const] }) })
        print(options.json, list, () => list.map(withdrawalLine).join('\n') || 'no withdrawals')
      }),
    )
  treasury
    .command('approve')
    .description('approve a withdrawal; the running host pays it')
    .argument('<id>', 'withdrawal id', positiveInteger('id'))
    .option('--invoice <bolt11>', 'pay this invoice (for exactly the amount) instead of asking the cold wallet for one')
    .option('--home <dir>', 'data directory (default $TIMMY_HOME or ./.timmy)')
    .option('--json', 'print JSON')
    .action((id: number, options: { invoice?: string; home?: string; json?: boolean }) =>
      withTreasury(options, (t) => {
        const w = t.approve(id, { by: operator(), ...(options.invoice && { bolt11: options.invoice }) })
        print(options.json, w, () => `approved: ${withdrawalLine(w)}`)
      }),
    )
  treasury
    .command('reject')
    .description('reject a withdrawal; its sats return to the hot wallet balance')
    .argument('<id>', 'withdrawal id', positiveInteger('id'))
    .requiredOption('--reason <text>', 'why')
    .option('--home <dir>', 'data directory (default $TIMMY_HOME or ./.timmy)')
    .option('--json', 'print JSON')
    .action((id: number, options: { reason: string; home?: string; json?: boolean }) =>
      withTreasury(options, (t) => {
        const w = t.reject(id, { by: operator(), reason: options.reason })
        print(options.json, w, () => `rejected: ${withdrawalLine(w)}`)
      }),
    )
}
