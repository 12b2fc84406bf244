// The relay's event store: SQLite through better-sqlite3.
//
// Durability: WAL with synchronous=NORMAL. A committed transaction is in the WAL file once saveMany returns,
// so killing the process (even kill -9) loses nothing: the OS still has the written pages and the next open
// replays the WAL. Only a power loss or OS crash can drop the last transactions (never corrupt the file),
// which is the usual trade for not fsyncing every batch.
//
// Schema (user_version 1):
//   events     one row per stored event: integer rowid, id, pubkey, created_at, kind, address (kind:pubkey:d,
//              only for replaceable/addressable kinds, unique: one version is kept), expiration (NIP-40) and the
//              event as JSON (returned as stored).
//   tags       one row per distinct (event, single-letter tag name, value), with the event's kind and
//              created_at copied in so tag queries are answered in time order from the index alone.
//   deletion_requests / deletion_targets
//              every NIP-09 deletion request seen, kept even after its own event expires, and the ids and
//              addresses it names, so a deleted event sent again is refused.
//
// No ANALYZE, deliberately: without statistics SQLite assumes large tables and picks the indexes above for
// every filter shape (relay/store.test.ts checks the plans). Statistics taken while the store was small would
// go stale as it grows and can make the planner scan the whole time index for an id lookup.
import Database from 'better-sqlite3'
import { eventAddress, isEphemeralKind, isNewerVersion, type Filter, type NostrEvent } from '../nips/01.js'
import { DELETION_KIND, deletionApplies, deletionTargets } from '../nips/09.js'
import { getExpiration, isExpired } from '../nips/40.js'
import { rowidQuery, selectQuery } from './sql-filter.js'

export type SaveResult =
  | { ok: true; message: string /* '' or 'duplicate: ...' */; stored: boolean }
  | { ok: false; message: string /* 'blocked: ...' | 'invalid: ...' */ }

const SCHEMA_VERSION = 1

const SCHEMA = `
CREATE TABLE events (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  pubkey TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  address TEXT,
  expiration INTEGER,
  raw TEXT NOT NULL
);
CREATE UNIQUE INDEX events_id ON events (id);
CREATE INDEX events_time ON events (created_at DESC, id);
CREATE INDEX events_pubkey_time ON events (pubkey, created_at DESC, id);
CREATE INDEX events_kind_time ON events (kind, created_at DESC, id);
CREATE INDEX events_pubkey_kind_time ON events (pubkey, kind, created_at DESC, id);
CREATE UNIQUE INDEX events_address ON events (address) WHERE address IS NOT NULL;
CREATE INDEX events_expiration ON events (expiration) WHERE expiration IS NOT NULL;

CREATE TABLE tags (
  event INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  kind INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX tags_value_time ON tags (name, value, created_at DESC, kind, event);
CREATE UNIQUE INDEX tags_event ON tags (event, name, value);
CREATE TRIGGER events_delete_tags AFTER DELETE ON events BEGIN
  DELETE FROM tags WHERE event = old.rowid;
END;

CREATE TABLE deletion_requests (
  rowid INTEGER PRIMARY KEY,
  raw TEXT NOT NULL
);
CREATE TABLE deletion_targets (
  target TEXT NOT NULL,
  request INTEGER NOT NULL,
  PRIMARY KEY (target, request)
) WITHOUT ROWID;
`

const DUPLICATE: SaveResult = { ok: true, message: 'duplicate: already have this event', stored: false }
const HAVE_NEWER: SaveResult = { ok: true, message: 'duplicate: have a newer version of this event', stored: false }
const NOT_STORED: SaveResult = { ok: true, message: '', stored: false }
const STORED: SaveResult = { ok: true, message: '', stored: true }
const DELETED: SaveResult = { ok: false, message: 'blocked: event was deleted' }
const EXPIRED: SaveResult = { ok: false, message: 'invalid: event has expired' }

const INDEXED_TAG_NAME = /^[a-zA-Z]$/
// Distinct SQL shapes are few (see sql-filter.ts); the bound only guards against pathological filter mixes.
const MAX_CACHED_STATEMENTS = 256

type Statement = Database.Statement<unknown[], unknown>

/** A stored event's JSON text, and its kind so that a relay can screen it without parsing it. */
export interface StoredEventRow {
  raw: string
  kind: number
}

export class EventStore {
  private readonly statements = new Map<string, Statement>()
  private readonly saveTransaction: (events: NostrEvent[], now: number) => SaveResult[]

  private constructor(private readonly db: Database.Database) {
    this.saveTransaction = db.transaction((events: NostrEvent[], now: number) => events.map((e) => this.saveOne(e, now))).immediate
  }

  /** Opens (creating if needed) the store at `path`; ':memory:' gives a throwaway one. */
  static open(path: string): EventStore {
    const db = new Database(path)
    try {
      db.pragma('journal_mode = WAL')
      db.pragma('synchronous = NORMAL')
      db.pragma('busy_timeout = 5000')
      db.pragma('temp_store = MEMORY')
      // Writes land in random places of the id, pubkey and tag indexes; a page cache larger than SQLite's
      // 16 MiB default keeps more of them in memory (about 20% faster ingest at 100k events here).
      db.pragma('cache_size = -65536')
      // Reads map the file's pages (already in the OS page cache) instead of copying them into SQLite's own
      // cache and looking them up there: id and tag queries, whose rows lie scattered over the file, took 20-55%
      // less time on a 100k-event store. SQLite caps the size at its build's maximum (2 GiB by default); the
      // rest of a larger file is read as before. The known trade: an I/O error on the mapped file ends the
      // process instead of failing one query.
      db.pragma(`mmap_size = ${2 ** 31}`)
      const version = db.pragma('user_version', { simple: true }) as number
      if (version === 0) {
        db.transaction(() => {
          db.exec(SCHEMA)
          db.pragma(`user_version = ${SCHEMA_VERSION}`)
        }).immediate()
      } else if (version !== SCHEMA_VERSION) {
        throw new Error(`event database ${path} has schema version ${version}; this relay understands version ${SCHEMA_VERSION}`)
      }
      return new EventStore(db)
    } catch (err) {
      db.close()
      throw err
    }
  }

  /**
   * Stores already verified events in one transaction, answering each with its NIP-01 OK outcome:
   * ephemeral kinds are never stored, duplicates and older versions of replaceable/addressable events are
   * acknowledged but not stored, events expired at `now` and events deleted by a NIP-09 request are refused.
   */
  saveMany(events: NostrEvent[], now: number): SaveResult[] {
    if (events.length === 0) return []
    return this.saveTransaction(events, now)
  }

  /**
   * Events matching any of the filters and not expired at `now`: each filter's `limit` applied to that filter
   * (newest first), deduplicated, newest first (created_at DESC, id ASC). A filter without `limit` returns all
   * its matches: capping is the caller's decision.
   */
  query(filters: Filter[], now: number): NostrEvent[] {
    return this.queryRaw(filters, now).map((row) => JSON.parse(row.raw) as NostrEvent)
  }

  /** As query, but each event as the JSON text it was stored as: a relay can send it without parsing it. */
  queryRaw(filters: Filter[], now: number): StoredEventRow[] {
    if (filters.length === 1) {
      // Rows arrive in order and cannot repeat: only what the reply needs is read.
      const query = selectQuery(filters[0], now, 'e.raw, e.kind')
      if (!query) return []
      const found = this.statement(query.sql).raw(true).all(...query.params) as [string, number][]
      return found.map(([raw, kind]) => ({ raw, kind }))
    }
    const seen = new Set<string>()
    const rows: [id: string, raw: string, createdAt: number, kind: number][] = []
    for (const filter of filters) {
      const query = selectQuery(filter, now, 'e.id, e.raw, e.created_at, e.kind')
      if (!query) continue
      const found = this.statement(query.sql).raw(true).all(...query.params) as typeof rows
      for (const row of found) {
        if (seen.has(row[0])) continue
        seen.add(row[0])
        rows.push(row)
      }
    }
    rows.sort((a, b) => b[2] - a[2] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    return rows.map(([, raw, , kind]) => ({ raw, kind }))
  }

  /** Which of these ids belong to stored events not expired at `now`. */
  storedIds(ids: string[], now: number): Set<string> {
    const query = selectQuery({ ids }, now, 'e.id')
    if (!query) return new Set()
    return new Set(this.statement(query.sql).pluck().all(...query.params) as string[])
  }

  /** NIP-45: how many distinct unexpired events match any of the filters (limits do not apply). */
  count(filters: Filter[], now: number): number {
    const parts = filters.map((f) => rowidQuery(f, now)).filter((q) => q !== null)
    if (parts.length === 0) return 0
    const sql = `SELECT COUNT(*) FROM (${parts.map((p) => p.sql).join(' UNION ')})`
    return this.statement(sql).pluck().get(...parts.flatMap((p) => p.params)) as number
  }

  /** Removes events whose NIP-40 expiration is at or before `now`; returns how many. */
  deleteExpired(now: number): number {
    return this.statement('DELETE FROM events WHERE expiration <= ?').run(now).changes
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  private saveOne(event: NostrEvent, now: number): SaveResult {
    // Ephemeral events are only relayed to live subscribers, never kept.
    if (isEphemeralKind(event.kind)) return NOT_STORED
    if (isExpired(event, now)) return EXPIRED
    if (this.statement('SELECT 1 FROM events WHERE id = ?').get(event.id) !== undefined) return DUPLICATE
    const address = eventAddress(event)
    if (this.isDeleted(event, address)) return DELETED
    if (address !== undefined) {
      const current = this.statement('SELECT rowid, id, created_at FROM events WHERE address = ?').get(address) as
        | { rowid: number; id: string; created_at: number }
        | undefined
      if (current) {
        if (!isNewerVersion(event, current)) return HAVE_NEWER
        this.statement('DELETE FROM events WHERE rowid = ?').run(current.rowid)
      }
    }
    this.insert(event, address)
    if (event.kind === DELETION_KIND) this.applyDeletion(event)
    return STORED
  }

  private insert(event: NostrEvent, address: string | undefined): void {
    const raw = JSON.stringify({
      id: event.id,
      pubkey: event.pubkey,
      created_at: event.created_at,
      kind: event.kind,
      tags: event.tags,
      content: event.content,
      sig: event.sig,
    })
    const { lastInsertRowid } = this.statement(
      'INSERT INTO events (id, pubkey, created_at, kind, address, expiration, raw) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(event.id, event.pubkey, event.created_at, event.kind, address ?? null, getExpiration(event) ?? null, raw)
    const insertTag = this.statement('INSERT OR IGNORE INTO tags (event, name, value, kind, created_at) VALUES (?, ?, ?, ?, ?)')
    for (const tag of event.tags) {
      if (tag.length < 2 || !INDEXED_TAG_NAME.test(tag[0]) || typeof tag[1] !== 'string') continue
      insertTag.run(lastInsertRowid, tag[0], tag[1], event.kind, event.created_at)
    }
  }

  /** Has a deletion request seen earlier (stored or since expired) deleted this event? */
  private isDeleted(event: NostrEvent, address: string | undefined): boolean {
    const requests = this.statement(
      'SELECT r.raw FROM deletion_targets t JOIN deletion_requests r ON r.rowid = t.request WHERE t.target IN (?, ?)',
    )
      .pluck()
      .all(event.id, address ?? event.id) as string[]
    return requests.some((raw) => deletionApplies(JSON.parse(raw) as NostrEvent, event))
  }

  /** Deletes what a newly stored NIP-09 request targets, and remembers the request for events still to come. */
  private applyDeletion(deletion: NostrEvent): void {
    const { ids, addresses } = deletionTargets(deletion)
    if (ids.length === 0 && addresses.length === 0) return
    const { lastInsertRowid: request } = this.statement('INSERT INTO deletion_requests (raw) VALUES (?)').run(JSON.stringify(deletion))
    const addTarget = this.statement('INSERT OR IGNORE INTO deletion_targets (target, request) VALUES (?, ?)')
    for (const target of [...ids, ...addresses]) addTarget.run(target, request)
    const candidates = this.statement(
      `SELECT rowid, raw FROM events WHERE id IN (SELECT value FROM json_each(?))
       UNION SELECT rowid, raw FROM events WHERE address IN (SELECT value FROM json_each(?))`,
    )
      .raw(true)
      .all(JSON.stringify(ids), JSON.stringify(addresses)) as [number, string][]
    const remove = this.statement('DELETE FROM events WHERE rowid = ?')
    for (const [rowid, raw] of candidates) {
      if (deletionApplies(deletion, JSON.parse(raw) as NostrEvent)) remove.run(rowid)
    }
  }

  /** Prepared statements are cached by SQL text, least recently used dropped first. */
  private statement(sql: string): Statement {
    let statement = this.statements.get(sql)
    if (statement) {
      this.statements.delete(sql)
    } else {
      statement = this.db.prepare(sql)
      if (this.statements.size >= MAX_CACHED_STATEMENTS) this.statements.delete(this.statements.keys().next().value!)
    }
    this.statements.set(sql, statement)
    return statement
  }
}
