// The agent's durable memory: an append-only log of job facts and an outbox of the effects they
// imply, in one SQLite database (WAL). A fact and its effects are written in ONE transaction; the
// runtime performs effects after the commit and marks them done. A crash between the two repeats
// an effect at most once more, and every effect is idempotent: a publish carries the signed event,
// so a resend has the same id; a run whose job already finished is a no-op.
//
// `jobs` is a projection (the fold of each job's facts, kept in the same transaction) so that
// listing jobs does not refold the log; the facts remain the truth.
import Database from 'better-sqlite3'
import type { NostrEvent } from '../nips/01.js'
import { applyFact, FINAL_STATUSES, foldJob, type JobFact, type JobState, type JobStatus } from './state.js'
import { openDatabase } from './sqlite.js'

export type EffectSpec =
  /** Send this signed event to these relays. */
  | { type: 'publish'; event: NostrEvent; relays: string[] }
  /** Execute the job's capability. */
  | { type: 'run' }
  /** Ask the wallet for the job's invoice, then record it and publish payment-required (agents/payments.ts). */
  | { type: 'invoice' }
  /** Book a received payment in the treasury (idempotent by payment hash). */
  | { type: 'earning'; paymentHash: string; amountMsats: number }
  /** Tell the escrow the result is out: its dispute window starts. */
  | { type: 'escrow-delivered' }

export interface Effect {
  id: number
  jobId: string
  spec: EffectSpec
  attempts: number
  /** Unix milliseconds before which it is not retried. */
  notBefore: number
}

export interface DueEffect {
  id: number
  jobId: string
  type: EffectSpec['type']
  attempts: number
}

export interface AppendOptions {
  /** Only when the job is not in the log yet: an intake that saw the request before does nothing. */
  ifNew?: boolean
  /** Marks this effect done in the same transaction (the run that produced these facts). */
  completesEffect?: number
  /** Drops the job's pending effects first: nothing of a cancelled job may still be sent. */
  dropPending?: boolean
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS facts (
  seq INTEGER PRIMARY KEY,
  job_id TEXT NOT NULL,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS facts_by_job ON facts (job_id, seq);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  kind INTEGER NOT NULL,
  requester TEXT NOT NULL,
  posted_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  state TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, updated_at);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY,
  job_id TEXT NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dropped')),
  attempts INTEGER NOT NULL DEFAULT 0,
  not_before INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  note TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (status, not_before) WHERE status = 'pending';
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS jobs_open_payment ON jobs (json_extract(state, '$.payment.state'))
  WHERE json_extract(state, '$.payment.state') IN ('awaiting', 'paid');
`

interface OutboxRow {
  id: number
  job_id: string
  body: string
  attempts: number
  not_before: number
}

export class JobLog {
  private readonly db: Database.Database
  private readonly statements

  private constructor(db: Database.Database) {
    this.db = db
    this.statements = {
      insertFact: db.prepare('INSERT INTO facts (job_id, type, at, body) VALUES (?, ?, ?, ?)'),
      factsOf: db.prepare<[string], { body: string }>('SELECT body FROM facts WHERE job_id = ? ORDER BY seq'),
      stateOf: db.prepare<[string], { state: string }>('SELECT state FROM jobs WHERE id = ?'),
      upsertJob: db.prepare(
        `INSERT INTO jobs (id, status, kind, requester, posted_at, updated_at, state) VALUES (@id, @status, @kind, @requester, @postedAt, @updatedAt, @state)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, state = excluded.state`,
      ),
      insertEffect: db.prepare('INSERT INTO outbox (job_id, type, body, created_at) VALUES (?, ?, ?, ?)'),
      finishEffect: db.prepare("UPDATE outbox SET status = ?, finished_at = ?, note = ? WHERE id = ? AND status = 'pending'"),
      dropPendingOf: db.prepare("UPDATE outbox SET status = 'dropped', finished_at = ?, note = ? WHERE job_id = ? AND status = 'pending'"),
      retryEffect: db.prepare("UPDATE outbox SET attempts = attempts + 1, not_before = ?, note = ? WHERE id = ? AND status = 'pending'"),
      pending: db.prepare<[number, number], { id: number; job_id: string; type: string; attempts: number }>(
        "SELECT id, job_id, type, attempts FROM outbox WHERE status = 'pending' AND not_before <= ? ORDER BY id LIMIT ?",
      ),
      effectById: db.prepare<[number], OutboxRow>("SELECT id, job_id, body, attempts, not_before FROM outbox WHERE id = ? AND status = 'pending'"),
      activeIds: db.prepare<[number], { id: string }>(
        "SELECT id FROM jobs WHERE status NOT IN ('completed', 'failed', 'cancelled') ORDER BY updated_at DESC LIMIT ?",
      ),
      nextDue: db.prepare<[], { due: number | null }>("SELECT MIN(not_before) AS due FROM outbox WHERE status = 'pending'"),
      pendingCount: db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'"),
      effectsOf: db.prepare<[string], { id: number; type: string; body: string; status: string; attempts: number; note: string | null }>(
        'SELECT id, type, body, status, attempts, note FROM outbox WHERE job_id = ? ORDER BY id',
      ),
      kvGet: db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?'),
      kvSet: db.prepare('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    }
  }

  /** Opens (creating when needed) the log at this path; ':memory:' for tests. */
  static open(path: string): JobLog {
    // The CLI (`timmy approvals approve`) writes to the log of a running agent.
    return new JobLog(openDatabase(path, SCHEMA, 'NORMAL'))
  }

  close(): void {
    this.db.close()
  }

  /**
   * Appends facts and the effects they imply in one transaction. Throws IllegalTransitionError (and
   * writes nothing) when a fact cannot follow the job's state; returns undefined only for an
   * `ifNew` append of a job already in the log.
   */
  append(jobId: string, facts: JobFact[], effects: EffectSpec[] = [], options: AppendOptions = {}): JobState | undefined {
    const run = this.db.transaction((): JobState | undefined => {
      let state = this.state(jobId)
      if (options.ifNew && state) return undefined
      const now = facts.length ? facts[facts.length - 1].at : Date.now()
      if (options.dropPending) this.statements.dropPendingOf.run(now, 'job cancelled', jobId)
      for (const fact of facts) {
        state = applyFact(state, fact, jobId)
        this.statements.insertFact.run(jobId, fact.type, fact.at, JSON.stringify(fact))
      }
      if (!state) throw new Error(`job ${jobId} is not in the log`)
      if (facts.length) {
        this.statements.upsertJob.run({
          id: jobId,
          status: state.status,
          kind: state.request.kind,
          requester: state.request.pubkey,
          postedAt: state.postedAt,
          updatedAt: state.updatedAt,
          state: JSON.stringify(state),
        })
      }
      for (const effect of effects) this.statements.insertEffect.run(jobId, effect.type, JSON.stringify(effect), now)
      if (options.completesEffect !== undefined) this.statements.finishEffect.run('done', now, null, options.completesEffect)
      return state
    })
    // IMMEDIATE: take the write lock before reading the state the new facts are checked against.
    return run.immediate()
  }

  has(jobId: string): boolean {
    return this.statements.stateOf.get(jobId) !== undefined
  }

  state(jobId: string): JobState | undefined {
    const row = this.statements.stateOf.get(jobId)
    return row ? (JSON.parse(row.state) as JobState) : undefined
  }

  facts(jobId: string): JobFact[] {
    return this.statements.factsOf.all(jobId).map((row) => JSON.parse(row.body) as JobFact)
  }

  /** The fold of the log itself, ignoring the projection. */
  foldFromLog(jobId: string): JobState | undefined {
    return foldJob(jobId, this.facts(jobId))
  }

  jobs(query: { status?: JobStatus[]; active?: boolean; limit?: number } = {}): JobState[] {
    const where: string[] = []
    const args: unknown[] = []
    if (query.status?.length) {
      where.push(`status IN (${query.status.map(() => '?').join(',')})`)
      args.push(...query.status)
    }
    if (query.active) {
      where.push(`status NOT IN (${[...FINAL_STATUSES].map(() => '?').join(',')})`)
      args.push(...FINAL_STATUSES)
    }
    const sql = `SELECT state FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY updated_at DESC, id LIMIT ?`
    args.push(query.limit ?? 1000)
    return this.db
      .prepare<unknown[], { state: string }>(sql)
      .all(...args)
      .map((row) => JSON.parse(row.state) as JobState)
  }

  /** Jobs whose payment is still to come in (awaiting) or, in escrow, still to be released (paid). */
  jobsWithOpenPayments(limit = 1000): JobState[] {
    return this.db
      .prepare<[number], { state: string }>(
        `SELECT state FROM jobs WHERE json_extract(state, '$.payment.state') IN ('awaiting', 'paid')
         AND (json_extract(state, '$.payment.state') = 'awaiting' OR json_extract(state, '$.payment.escrow') = 1) ORDER BY updated_at LIMIT ?`,
      )
      .all(limit)
      .map((row) => JSON.parse(row.state) as JobState)
  }

  countByStatus(): Record<string, number> {
    const rows = this.db.prepare<[], { status: string; n: number }>('SELECT status, COUNT(*) AS n FROM jobs GROUP BY status').all()
    return Object.fromEntries(rows.map((r) => [r.status, r.n]))
  }

  /** Pending effects that are due, oldest first, without their bodies (see effect()). */
  dueEffects(now: number, limit = 100): DueEffect[] {
    return this.statements.pending.all(now, limit).map((row) => ({ id: row.id, jobId: row.job_id, type: row.type as EffectSpec['type'], attempts: row.attempts }))
  }

  /** A pending effect with its body, or undefined once it is done or dropped. */
  effect(id: number): Effect | undefined {
    const row = this.statements.effectById.get(id)
    if (!row) return undefined
    return { id: row.id, jobId: row.job_id, spec: JSON.parse(row.body) as EffectSpec, attempts: row.attempts, notBefore: row.not_before }
  }

  activeJobIds(limit: number): string[] {
    return this.statements.activeIds.all(limit).map((row) => row.id)
  }

  /** When the next pending effect falls due (unix ms), or undefined when none is pending. */
  nextEffectDue(): number | undefined {
    return this.statements.nextDue.get()?.due ?? undefined
  }

  pendingEffectCount(): number {
    return this.statements.pendingCount.get()!.n
  }

  effectsOf(jobId: string): { id: number; type: string; spec: EffectSpec; status: string; attempts: number; note: string | null }[] {
    return this.statements.effectsOf.all(jobId).map((r) => ({ id: r.id, type: r.type, spec: JSON.parse(r.body) as EffectSpec, status: r.status, attempts: r.attempts, note: r.note }))
  }

  completeEffect(id: number, now: number, note?: string): void {
    this.statements.finishEffect.run('done', now, note ?? null, id)
  }

  /** Gives up on an effect that can never succeed (a relay rejected the event as invalid). */
  dropEffect(id: number, now: number, note: string): void {
    this.statements.finishEffect.run('dropped', now, note, id)
  }

  retryEffect(id: number, notBefore: number, note: string): void {
    this.statements.retryEffect.run(notBefore, note, id)
  }

  getValue(key: string): string | undefined {
    return this.statements.kvGet.get(key)?.value
  }

  setValue(key: string, value: string): void {
    this.statements.kvSet.run(key, value)
  }
}
