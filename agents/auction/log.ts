// The auctioneer's durable memory: an append-only log of what it did and saw in each auction it
// runs, in SQLite, folded (purely) into the auction's state. Deadlines live in the signed request
// in the log, so a restarted auctioneer rebuilds its timers from here; reveals are stored with the
// opening decrypted on arrival, so closing costs no ECDH; every event is signed before it is
// logged and marked published after, so a crash in between re-sends the same event.
import Database from 'better-sqlite3'
import type { NostrEvent } from '../../nips/01.js'
import { parseAuctionRequest, type AuctionRequest, type BidOpening } from '../../nips/auction.js'
import { openDatabase } from '../sqlite.js'

export type AuctionStatus = 'open' | 'closed'

type At = { at: number }

export type AuctionFact = At &
  (
    | { type: 'opened'; request: NostrEvent }
    | { type: 'request-published' }
    | { type: 'commit-seen'; event: NostrEvent }
    /** `opening` is the decrypted opening of an encrypted reveal; `openError` why it could not be read. */
    | { type: 'reveal-seen'; event: NostrEvent; opening?: BidOpening; openError?: string }
    /** The signed outcome and the no-reveal labels that go with it. */
    | { type: 'closed'; outcome: NostrEvent; labels: NostrEvent[] }
    | { type: 'outcome-published' }
  )

export interface SeenReveal {
  event: NostrEvent
  opening?: BidOpening
  openError?: string
}

export interface AuctionState {
  id: string
  status: AuctionStatus
  request: NostrEvent
  requestPublished: boolean
  commits: NostrEvent[]
  reveals: SeenReveal[]
  outcome?: NostrEvent
  labels: NostrEvent[]
  outcomePublished: boolean
  openedAt: number
  updatedAt: number
}

export class IllegalAuctionFactError extends Error {}

/** The state after one more fact. Pure; throws IllegalAuctionFactError for a fact that cannot follow. */
export function applyAuctionFact(state: AuctionState | undefined, fact: AuctionFact, id: string): AuctionState {
  const refuse = (): never => {
    throw new IllegalAuctionFactError(`auction ${id}: '${fact.type}' cannot follow ${state ? `state '${state.status}'` : 'nothing'}`)
  }
  if (fact.type === 'opened') {
    if (state) refuse()
    return { id, status: 'open', request: fact.request, requestPublished: false, commits: [], reveals: [], labels: [], outcomePublished: false, openedAt: fact.at, updatedAt: fact.at }
  }
  if (!state) return refuse()
  const s = { ...state, updatedAt: fact.at }
  switch (fact.type) {
    case 'request-published':
      return { ...s, requestPublished: true }
    case 'commit-seen':
      if (s.status !== 'open') refuse()
      return { ...s, commits: [...s.commits, fact.event] }
    case 'reveal-seen':
      if (s.status !== 'open') refuse()
      return { ...s, reveals: [...s.reveals, { event: fact.event, ...(fact.opening && { opening: fact.opening }), ...(fact.openError && { openError: fact.openError }) }] }
    case 'closed':
      if (s.status !== 'open') refuse()
      return { ...s, status: 'closed', outcome: fact.outcome, labels: fact.labels }
    case 'outcome-published':
      if (s.status !== 'closed') refuse()
      return { ...s, outcomePublished: true }
  }
}

export function foldAuction(id: string, facts: readonly AuctionFact[]): AuctionState | undefined {
  let state: AuctionState | undefined
  for (const fact of facts) state = applyAuctionFact(state, fact, id)
  return state
}

/** The auction's terms (deadlines, reserve) from the request in its state. */
export function auctionTerms(state: Pick<AuctionState, 'request'>): AuctionRequest {
  return parseAuctionRequest(state.request)
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS auction_facts (
  seq INTEGER PRIMARY KEY,
  auction_id TEXT NOT NULL,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS auction_facts_by_id ON auction_facts (auction_id, seq);
CREATE TABLE IF NOT EXISTS auctions (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  state TEXT NOT NULL
);
`

export class AuctionLog {
  private readonly statements

  private constructor(private readonly db: Database.Database) {
    this.statements = {
      insertFact: db.prepare('INSERT INTO auction_facts (auction_id, type, at, body) VALUES (?, ?, ?, ?)'),
      factsOf: db.prepare<[string], { body: string }>('SELECT body FROM auction_facts WHERE auction_id = ? ORDER BY seq'),
      stateOf: db.prepare<[string], { state: string }>('SELECT state FROM auctions WHERE id = ?'),
      upsert: db.prepare(
        `INSERT INTO auctions (id, status, updated_at, state) VALUES (@id, @status, @updatedAt, @state)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at, state = excluded.state`,
      ),
      unfinished: db.prepare<[], { state: string }>("SELECT state FROM auctions WHERE status = 'open' OR json_extract(state, '$.outcomePublished') = 0 OR json_extract(state, '$.requestPublished') = 0 ORDER BY updated_at"),
    }
  }

  /** Opens (creating when needed) the log at this path; ':memory:' for tests. */
  static open(path: string): AuctionLog {
    return new AuctionLog(openDatabase(path, SCHEMA, 'NORMAL'))
  }

  close(): void {
    this.db.close()
  }

  /** Appends facts in one transaction; throws (writing nothing) when one cannot follow. */
  append(id: string, facts: AuctionFact[]): AuctionState {
    const run = this.db.transaction((): AuctionState => {
      let state = this.state(id)
      for (const fact of facts) {
        state = applyAuctionFact(state, fact, id)
        this.statements.insertFact.run(id, fact.type, fact.at, JSON.stringify(fact))
      }
      if (!state) throw new IllegalAuctionFactError(`auction ${id} is not in the log`)
      this.statements.upsert.run({ id, status: state.status, updatedAt: state.updatedAt, state: JSON.stringify(state) })
      return state
    })
    return run.immediate()
  }

  state(id: string): AuctionState | undefined {
    const row = this.statements.stateOf.get(id)
    return row ? (JSON.parse(row.state) as AuctionState) : undefined
  }

  facts(id: string): AuctionFact[] {
    return this.statements.factsOf.all(id).map((row) => JSON.parse(row.body) as AuctionFact)
  }

  /** Auctions with something left to do: open, or with an event not yet published. */
  unfinished(): AuctionState[] {
    return this.statements.unfinished.all().map((row) => JSON.parse(row.state) as AuctionState)
  }
}
