// The agents' own SQLite files (job logs, auction logs, treasury, escrow, pending zaps).
import Database from 'better-sqlite3'

/**
 * Opens (creating when needed) a database in WAL mode and applies its schema; ':memory:' for tests.
 * `synchronous`: NORMAL survives a crash of the process (kill -9: the OS keeps the WAL); FULL also
 * survives a power loss, for files that hold money. A running host and the CLI share these files,
 * so a writer waits up to 5 s for another instead of failing.
 */
export function openDatabase(path: string, schema: string, synchronous: 'NORMAL' | 'FULL'): Database.Database {
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma(`synchronous = ${synchronous}`)
  db.pragma('busy_timeout = 5000')
  db.exec(schema)
  return db
}
