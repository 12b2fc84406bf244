import { afterEach, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { finalizeEvent, generateSecretKey, getPublicKey, type EventTemplate, type NostrEvent } from '../nips/01.js'
import { buildDeletion } from '../nips/09.js'
import { selectQuery } from './sql-filter.js'
import { EventStore } from './store.js'

const NOW = 1_700_000_000
const alice = generateSecretKey()
const bob = generateSecretKey()
const alicePub = getPublicKey(alice)
const bobPub = getPublicKey(bob)

function sign(sk: Uint8Array, template: Partial<EventTemplate> & { created_at?: number }): NostrEvent {
  return finalizeEvent({ kind: 1, created_at: NOW - 100, tags: [], content: '', ...template }, sk)
}

const stores: EventStore[] = []
const tempDirs: string[] = []
function memoryStore(): EventStore {
  const store = EventStore.open(':memory:')
  stores.push(store)
  return store
}
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-store-'))
  tempDirs.push(dir)
  return join(dir, 'events.db')
}
afterEach(() => {
  for (const store of stores.splice(0)) store.close()
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const ids = (events: NostrEvent[]) => events.map((e) => e.id)
const STORED = { ok: true, message: '', stored: true }

describe('EventStore.open', () => {
  it('creates a WAL database that keeps events across reopening', () => {
    const path = tempPath()
    const note = sign(alice, { content: 'persisted' })
    const first = EventStore.open(path)
    expect(first.saveMany([note], NOW)).toEqual([STORED])
    first.close()
    first.close() // closing twice is harmless

    const second = EventStore.open(path)
    stores.push(second)
    expect(second.query([{ ids: [note.id] }], NOW)).toEqual([note])
    const db = new Database(path, { readonly: true })
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    db.close()
  })

  it('keeps saved events when the process is then killed with SIGKILL', () => {
    const path = tempPath()
    const notes = [sign(alice, { content: 'one' }), sign(bob, { content: 'two' })]
    const storeModule = new URL('./store.ts', import.meta.url).href
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { EventStore } from ${JSON.stringify(storeModule)}
         const store = EventStore.open(process.argv[1])
         store.saveMany(JSON.parse(process.argv[2]), ${NOW})
         process.kill(process.pid, 'SIGKILL')`,
        path,
        JSON.stringify(notes),
      ],
      { encoding: 'utf8' },
    )
    expect(child.signal, child.stderr).toBe('SIGKILL')
    const reopened = EventStore.open(path)
    stores.push(reopened)
    expect(new Set(ids(reopened.query([{}], NOW)))).toEqual(new Set(ids(notes)))
  })

  it('refuses a database with a schema version it does not know', () => {
    const path = tempPath()
    const db = new Database(path)
    db.pragma('user_version = 99')
    db.close()
    expect(() => EventStore.open(path)).toThrow(/schema version 99/)
  })

  it('is unusable after close', () => {
    const store = EventStore.open(':memory:')
    store.close()
    expect(() => store.query([{}], NOW)).toThrow()
  })
})

describe('saveMany', () => {
  it('stores regular events and returns them exactly as sent', () => {
    const store = memoryStore()
    const note = sign(alice, { content: 'hello "world" \u2603 \n', tags: [['t', 'greeting'], ['client', 'x', 'y']] })
    expect(store.saveMany([note], NOW)).toEqual([STORED])
    expect(store.query([{}], NOW)).toEqual([note])
  })

  it('stores an event that repeats a tag, and finds it once', () => {
    const store = memoryStore()
    const note = sign(alice, { tags: [['t', 'same'], ['t', 'same'], ['t', 'same', 'extra']] })
    expect(store.saveMany([note], NOW)).toEqual([STORED])
    expect(store.query([{ '#t': ['same'] }], NOW)).toEqual([note])
  })

  it('stores only the NIP-01 fields', () => {
    const store = memoryStore()
    const note = sign(alice, { content: 'extra' })
    store.saveMany([{ ...note, relay: 'wss://x' } as NostrEvent], NOW)
    expect(store.query([{}], NOW)).toEqual([note])
  })

  it('acknowledges duplicates without storing them again, within and across batches', () => {
    const store = memoryStore()
    const note = sign(alice, { content: 'twice' })
    const duplicate = { ok: true, message: 'duplicate: already have this event', stored: false }
    expect(store.saveMany([note, note], NOW)).toEqual([STORED, duplicate])
    expect(store.saveMany([note], NOW)).toEqual([duplicate])
    expect(store.count([{}], NOW)).toBe(1)
  })

  it('never stores ephemeral events', () => {
    const store = memoryStore()
    const ephemeral = [20000, 25000, 29999].map((kind) => sign(alice, { kind }))
    expect(store.saveMany(ephemeral, NOW)).toEqual(ephemeral.map(() => ({ ok: true, message: '', stored: false })))
    expect(store.query([{}], NOW)).toEqual([])
  })

  it('writes a batch all or nothing', () => {
    const store = memoryStore()
    const good = sign(alice, { content: 'good' })
    const broken = { ...sign(alice, { content: 'broken' }), tags: null } as unknown as NostrEvent
    expect(() => store.saveMany([good, broken], NOW)).toThrow()
    expect(store.query([{}], NOW)).toEqual([])
    expect(store.saveMany([good], NOW)).toEqual([STORED])
  })

  it('answers an empty batch', () => {
    expect(memoryStore().saveMany([], NOW)).toEqual([])
  })
})

describe('replaceable and addressable events', () => {
  const haveNewer = { ok: true, message: 'duplicate: have a newer version of this event', stored: false }

  it.each([0, 3, 10000, 10002, 19999])('keeps only the newest kind %i event per author', (kind) => {
    const store = memoryStore()
    const old = sign(alice, { kind, created_at: NOW - 10, content: 'old', tags: [['t', 'old']] })
    const newer = sign(alice, { kind, created_at: NOW - 5, content: 'new' })
    const bobs = sign(bob, { kind, created_at: NOW - 20, content: 'bob' })
    expect(store.saveMany([old, newer, bobs], NOW)).toEqual([STORED, STORED, STORED])
    expect(ids(store.query([{ kinds: [kind] }], NOW))).toEqual([newer.id, bobs.id])
    expect(store.saveMany([old], NOW)).toEqual([haveNewer])
    // The replaced version's tags went with it.
    expect(store.query([{ '#t': ['old'] }], NOW)).toEqual([])
  })

  it('breaks a created_at tie by keeping the lowest id', () => {
    const [low, high] = [sign(alice, { kind: 0, content: 'a' }), sign(alice, { kind: 0, content: 'b' })].sort((a, b) => (a.id < b.id ? -1 : 1))
    const store = memoryStore()
    expect(store.saveMany([high, low], NOW)).toEqual([STORED, STORED])
    expect(store.saveMany([high], NOW)).toEqual([haveNewer])
    expect(ids(store.query([{ kinds: [0] }], NOW))).toEqual([low.id])

    const other = memoryStore()
    expect(other.saveMany([low, high], NOW)).toEqual([STORED, haveNewer])
    expect(ids(other.query([{ kinds: [0] }], NOW))).toEqual([low.id])
  })

  it('keeps one addressable event per kind, author and d tag', () => {
    const store = memoryStore()
    const a1 = sign(alice, { kind: 30023, created_at: NOW - 10, tags: [['d', 'post']] })
    const a2 = sign(alice, { kind: 30023, created_at: NOW - 5, tags: [['d', 'post']] })
    const other = sign(alice, { kind: 30023, created_at: NOW - 10, tags: [['d', 'other']] })
    const noD = sign(alice, { kind: 30023, created_at: NOW - 10 })
    const emptyD = sign(alice, { kind: 30023, created_at: NOW - 4, tags: [['d', '']] })
    const bobs = sign(bob, { kind: 30023, created_at: NOW - 10, tags: [['d', 'post']] })
    expect(store.saveMany([a1, a2, other, noD, emptyD, bobs], NOW)).toEqual([STORED, STORED, STORED, STORED, STORED, STORED])
    // A missing d tag and an empty one name the same address.
    expect(new Set(ids(store.query([{ kinds: [30023] }], NOW)))).toEqual(new Set([a2.id, other.id, emptyD.id, bobs.id]))
    expect(store.saveMany([a1], NOW)).toEqual([haveNewer])
  })
})

describe('NIP-09 deletions', () => {
  const blocked = { ok: false, message: 'blocked: event was deleted' }
  const deletion = (sk: Uint8Array, request: Partial<Parameters<typeof buildDeletion>[0]>, createdAt = NOW - 1) =>
    finalizeEvent(buildDeletion({ createdAt, ...request }), sk)

  it("deletes the author's events by id and refuses them afterwards", () => {
    const store = memoryStore()
    const note = sign(alice, { content: 'oops', tags: [['t', 'x']] })
    const kept = sign(alice, { content: 'fine' })
    const request = deletion(alice, { ids: [note.id] })
    expect(store.saveMany([note, kept, request], NOW)).toEqual([STORED, STORED, STORED])
    expect(ids(store.query([{}], NOW))).toEqual([request.id, kept.id])
    expect(store.query([{ '#t': ['x'] }], NOW)).toEqual([])
    expect(store.saveMany([note], NOW)).toEqual([blocked])
  })

  it('refuses an event whose deletion arrived first', () => {
    const store = memoryStore()
    const note = sign(alice, { content: 'late' })
    store.saveMany([deletion(alice, { ids: [note.id] })], NOW)
    expect(store.saveMany([note], NOW)).toEqual([blocked])
  })

  it("does not let one author delete another's events", () => {
    const store = memoryStore()
    const note = sign(alice, { content: 'mine' })
    store.saveMany([note, deletion(bob, { ids: [note.id] })], NOW)
    expect(store.query([{ ids: [note.id] }], NOW)).toEqual([note])
    const later = memoryStore()
    later.saveMany([deletion(bob, { ids: [note.id] })], NOW)
    expect(later.saveMany([note], NOW)).toEqual([STORED])
  })

  it('deletes versions of an address up to the request, and accepts later ones', () => {
    const store = memoryStore()
    const address = `30023:${alicePub}:post`
    const v1 = sign(alice, { kind: 30023, created_at: NOW - 20, tags: [['d', 'post']] })
    const v2 = sign(alice, { kind: 30023, created_at: NOW - 10, tags: [['d', 'post']] })
    store.saveMany([v2, deletion(alice, { addresses: [address] }, NOW - 10)], NOW)
    expect(store.query([{ kinds: [30023] }], NOW)).toEqual([])
    expect(store.saveMany([v1, v2], NOW)).toEqual([blocked, blocked])
    const v3 = sign(alice, { kind: 30023, created_at: NOW - 5, tags: [['d', 'post']] })
    expect(store.saveMany([v3], NOW)).toEqual([STORED])
    expect(store.query([{ kinds: [30023] }], NOW)).toEqual([v3])
  })

  it('deletes replaceable events by address', () => {
    const store = memoryStore()
    const profile = sign(alice, { kind: 0, created_at: NOW - 10, content: '{}' })
    store.saveMany([profile, deletion(alice, { addresses: [`0:${alicePub}:`] })], NOW)
    expect(store.query([{ kinds: [0] }], NOW)).toEqual([])
  })

  it('cannot delete a deletion request', () => {
    const store = memoryStore()
    const first = deletion(alice, { ids: ['a'.repeat(64)] }, NOW - 3)
    const second = deletion(alice, { ids: [first.id] }, NOW - 2)
    expect(store.saveMany([first, second], NOW)).toEqual([STORED, STORED])
    expect(ids(store.query([{ kinds: [5] }], NOW))).toEqual([second.id, first.id])
    expect(store.saveMany([first], NOW)).toEqual([{ ok: true, message: 'duplicate: already have this event', stored: false }])
  })

  it('lets the recipient of a gift wrap delete it', () => {
    const store = memoryStore()
    const wrap = sign(generateSecretKey(), { kind: 1059, tags: [['p', bobPub]], content: 'sealed' })
    store.saveMany([wrap, deletion(bob, { ids: [wrap.id], kinds: [1059] })], NOW)
    expect(store.query([{ kinds: [1059] }], NOW)).toEqual([])
    expect(store.saveMany([wrap], NOW)).toEqual([blocked])
  })

  it('still refuses deleted events after the deletion request itself expired', () => {
    const store = memoryStore()
    const note = sign(alice, { content: 'gone' })
    const request = finalizeEvent({ ...buildDeletion({ ids: [note.id], createdAt: NOW - 1 }), tags: [['e', note.id], ['expiration', String(NOW + 10)]] }, alice)
    store.saveMany([note, request], NOW)
    expect(store.deleteExpired(NOW + 10)).toBe(1)
    expect(store.saveMany([note], NOW + 10)).toEqual([blocked])
  })
})

describe('NIP-40 expiration', () => {
  const expiring = (at: number, content = '') => sign(alice, { content, tags: [['expiration', String(at)], ['t', 'exp']] })

  it('refuses events already expired', () => {
    const store = memoryStore()
    const expired = { ok: false, message: 'invalid: event has expired' }
    expect(store.saveMany([expiring(NOW - 1), expiring(NOW)], NOW)).toEqual([expired, expired])
  })

  it('hides events once expired and deletes them with deleteExpired', () => {
    const store = memoryStore()
    const soon = expiring(NOW + 10, 'soon')
    const later = expiring(NOW + 20, 'later')
    const forever = sign(alice, { content: 'forever', tags: [['t', 'exp']] })
    expect(store.saveMany([soon, later, forever], NOW)).toEqual([STORED, STORED, STORED])
    expect(store.count([{ '#t': ['exp'] }], NOW + 9)).toBe(3)
    expect(ids(store.query([{ '#t': ['exp'] }], NOW + 10))).toEqual(ids(store.query([{ ids: [later.id, forever.id] }], NOW + 10)))
    expect(store.count([{ '#t': ['exp'] }], NOW + 10)).toBe(2)
    expect(store.deleteExpired(NOW + 10)).toBe(1)
    expect(store.deleteExpired(NOW + 10)).toBe(0)
    // Once deleted it is gone for good, and sending it again while expired is refused.
    expect(store.query([{ ids: [soon.id] }], NOW)).toEqual([])
    expect(store.saveMany([soon], NOW + 10)).toEqual([{ ok: false, message: 'invalid: event has expired' }])
    expect(store.deleteExpired(NOW + 1000)).toBe(1)
    expect(ids(store.query([{}], NOW + 1000))).toEqual([forever.id])
  })

  it('ignores a malformed expiration tag', () => {
    const store = memoryStore()
    const odd = sign(alice, { tags: [['expiration', 'soon']] })
    expect(store.saveMany([odd], NOW)).toEqual([STORED])
    expect(store.deleteExpired(NOW + 1e9)).toBe(0)
  })
})

describe('query and count', () => {
  const p1 = 'a'.repeat(64)
  const p2 = 'b'.repeat(64)
  const events = [
    sign(alice, { kind: 1, created_at: 100, tags: [['t', 'nostr'], ['p', p1]] }),
    sign(alice, { kind: 7, created_at: 200, tags: [['p', p2], ['e', 'c'.repeat(64)]] }),
    sign(bob, { kind: 1, created_at: 200, tags: [['t', 'nostr'], ['t', 'dvm'], ['p', p1], ['p', p2]] }),
    sign(bob, { kind: 5001, created_at: 300, tags: [['p', p1], ['i', 'text', 'text'], ['T', 'upper']] }),
    sign(alice, { kind: 1, created_at: 300, tags: [['t', 'dvm'], ['x']] }),
  ]
  const byTime = [...events].sort((a, b) => b.created_at - a.created_at || (a.id < b.id ? -1 : 1))
  const store = () => {
    const s = memoryStore()
    s.saveMany(events, NOW)
    return s
  }
  const pick = (...indexes: number[]) => byTime.filter((e) => indexes.some((i) => events[i] === e)).map((e) => e.id)

  it('returns everything newest first, ties by lowest id', () => {
    expect(ids(store().query([{}], NOW))).toEqual(ids(byTime))
  })

  it('matches each field, AND between fields and OR within one', () => {
    const s = store()
    expect(ids(s.query([{ ids: [events[0].id, events[3].id] }], NOW))).toEqual(pick(0, 3))
    expect(ids(s.query([{ authors: [bobPub] }], NOW))).toEqual(pick(2, 3))
    expect(ids(s.query([{ kinds: [1, 7] }], NOW))).toEqual(pick(0, 1, 2, 4))
    expect(ids(s.query([{ kinds: [1], authors: [alicePub] }], NOW))).toEqual(pick(0, 4))
    expect(ids(s.query([{ '#t': ['nostr'] }], NOW))).toEqual(pick(0, 2))
    expect(ids(s.query([{ '#t': ['nostr', 'dvm'] }], NOW))).toEqual(pick(0, 2, 4))
    expect(ids(s.query([{ '#t': ['dvm'], '#p': [p1] }], NOW))).toEqual(pick(2))
    expect(ids(s.query([{ '#p': [p1, p2], kinds: [1] }], NOW))).toEqual(pick(0, 2))
    expect(ids(s.query([{ '#p': [p1], authors: [bobPub], kinds: [5001] }], NOW))).toEqual(pick(3))
    expect(ids(s.query([{ '#e': ['c'.repeat(64)], '#p': [p2] }], NOW))).toEqual(pick(1))
    expect(ids(s.query([{ '#T': ['upper'] }], NOW))).toEqual(pick(3))
    expect(ids(s.query([{ '#i': ['text'] }], NOW))).toEqual(pick(3)) // the first value is what is indexed
    expect(ids(s.query([{ '#x': [''] }], NOW))).toEqual([]) // a tag without a value is not indexed
    expect(ids(s.query([{ '#t': ['NOSTR'] }], NOW))).toEqual([])
  })

  it('treats since and until as inclusive', () => {
    const s = store()
    expect(ids(s.query([{ since: 200 }], NOW))).toEqual(pick(1, 2, 3, 4))
    expect(ids(s.query([{ until: 200 }], NOW))).toEqual(pick(0, 1, 2))
    expect(ids(s.query([{ since: 200, until: 200 }], NOW))).toEqual(pick(1, 2))
    expect(ids(s.query([{ since: 200, until: 200, '#p': [p2] }], NOW))).toEqual(pick(1, 2))
    expect(s.query([{ since: 301 }], NOW)).toEqual([])
  })

  it('applies limit per filter, newest first, and deduplicates across filters', () => {
    const s = store()
    expect(ids(s.query([{ limit: 2 }], NOW))).toEqual(ids(byTime.slice(0, 2)))
    expect(ids(s.query([{ '#p': [p1], limit: 1 }], NOW))).toEqual(pick(3))
    // Event 2 has both hashtags: it must count once against the limit.
    expect(ids(s.query([{ '#t': ['nostr', 'dvm'], limit: 3 }], NOW))).toEqual(pick(0, 2, 4))
    expect(ids(s.query([{ kinds: [1], limit: 1 }, { authors: [bobPub], limit: 1 }], NOW))).toEqual(pick(3, 4))
    expect(ids(s.query([{ kinds: [1] }, { '#t': ['nostr'] }, { ids: [events[0].id] }], NOW))).toEqual(pick(0, 2, 4))
    expect(s.query([{ limit: 0 }], NOW)).toEqual([])
  })

  it('matches nothing for empty lists, and nothing for no filters', () => {
    const s = store()
    for (const filter of [{ ids: [] }, { authors: [] }, { kinds: [] }, { '#t': [] }, { kinds: [1], '#p': [] }]) {
      expect(s.query([filter], NOW)).toEqual([])
      expect(s.count([filter], NOW)).toBe(0)
    }
    expect(s.query([], NOW)).toEqual([])
    expect(s.count([], NOW)).toBe(0)
    expect(ids(s.query([{ ids: [] }, { kinds: [7] }], NOW))).toEqual(pick(1))
  })

  it('refuses filter fields it cannot answer', () => {
    const s = store()
    expect(() => s.query([{ '#tt': ['x'] } as never], NOW)).toThrow(/^invalid: unsupported filter field "#tt"/)
    expect(() => s.count([{ '#1': ['x'] } as never], NOW)).toThrow(/^invalid: /)
  })

  it('takes values only as parameters', () => {
    const s = store()
    const injection = "x') OR 1=1 --"
    expect(s.query([{ '#t': [injection] }, { ids: [injection, "'"] }, { authors: ['"'] }], NOW)).toEqual([])
  })

  it('counts distinct matches across filters, ignoring limit', () => {
    const s = store()
    expect(s.count([{}], NOW)).toBe(5)
    expect(s.count([{ kinds: [1], limit: 1 }], NOW)).toBe(3)
    expect(s.count([{ kinds: [1] }, { '#t': ['nostr', 'dvm'] }, { authors: [bobPub] }], NOW)).toBe(4)
  })
})

describe('query plans', () => {
  // The shapes clients send most. Each must be answered from an index, and the time-ordered ones without
  // sorting everything they match, or a LIMIT could not stop early on a large store.
  const note = 'c'.repeat(64)
  const shapes: [name: string, filter: Record<string, unknown>, index: string, sortsAll: boolean][] = [
    ['kinds + limit', { kinds: [1], limit: 100 }, 'events_kind_time', false],
    ['authors + limit', { authors: [alicePub], limit: 50 }, 'events_pubkey_time', false],
    ['one #e', { '#e': [note] }, 'tags_value_time', false],
    ['several #e', { '#e': [note, 'd'.repeat(64), 'e'.repeat(64)] }, 'tags_value_time', true],
    ['#p + kinds', { '#p': [bobPub], kinds: [5001, 5002] }, 'tags_value_time', false],
    ['ids', { ids: [note, 'd'.repeat(64)] }, 'events_id', true],
    ['authors + kinds', { authors: [alicePub, bobPub], kinds: [0, 3] }, 'events_pubkey_kind_time', true],
    ['addressable by author and d', { kinds: [30023], authors: [alicePub], '#d': ['post'] }, 'events_pubkey_kind_time', false],
    ['since + until', { since: 100, until: 200, limit: 10 }, 'events_time', false],
    ['newest', { limit: 20 }, 'events_time', false],
  ]

  it.each(shapes)('%s uses %s', (_name, filter, index, sortsAll) => {
    const path = tempPath()
    const store = EventStore.open(path)
    store.saveMany([sign(alice, { tags: [['e', note], ['p', bobPub]] }), sign(bob, { kind: 30023, tags: [['d', 'post']] })], NOW)
    store.close()
    const db = new Database(path, { readonly: true })
    const query = selectQuery(filter as never, NOW, 'e.raw, e.kind')!
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...query.params) as { detail: string }[]).map((row) => row.detail)
    db.close()
    expect(plan.join('\n')).toMatch(new RegExp(`\\b${index}\\b`))
    for (const step of plan) expect(step).not.toMatch(/^SCAN [et]$/)
    expect(plan.includes('USE TEMP B-TREE FOR ORDER BY')).toBe(sortsAll)
  })

  it('binds the limit inside an expression, so a cached statement is not re-prepared at every use', () => {
    // SQLite compiles the value bound to a bare `LIMIT ?` into the statement and re-prepares it whenever the
    // parameter is bound again. Nothing better-sqlite3 exposes shows a re-prepare, so the SQL text is checked.
    const query = selectQuery({ kinds: [1], limit: 10 }, NOW, 'e.raw')!
    expect(query.sql).toMatch(/ LIMIT CAST\(\? AS INTEGER\)$/)
    expect(query.params.at(-1)).toBe(10)
  })
})
