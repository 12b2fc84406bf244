// Pre-signed benchmark events, generated once and cached under os.tmpdir(): signing 100k events takes about a
// minute, reading them back about a second.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { initNostrWasm } from 'nostr-wasm'
import type { NostrEvent } from '../../nips/01.js'

const FIXTURE_VERSION = 1
const STORED_EVENTS = 100_000
const LIVE_EVENTS = 400
const AUTHORS = 200
const DAY = 86_400
/** Regenerate well before the events get old enough for a relay's created_at window to reject them. */
const MAX_FIXTURE_AGE_SECONDS = 180 * DAY
export const LIVE_TAG = 'timmy-bench-live'

export interface BenchFixture {
  /** 100k events (80% kind 1, 15% kind 7, 5% kind 6) by 200 authors with #e, #p and #t tags; newest last. */
  stored: NostrEvent[]
  /** Kind-1 events tagged ['t', LIVE_TAG], for live-delivery measurements. */
  live: NostrEvent[]
  pubkeys: string[]
  generatedAt: number
}

const HASHTAGS = ['nostr', 'bitcoin', 'lightning', 'zaps', 'dvm', 'ai', 'relay', 'dev', 'music', 'art', 'photography',
  'grownostr', 'plebchain', 'coffee', 'books', 'science', 'privacy', 'freedom', 'food', 'travel', 'memes', 'gm',
  'introductions', 'asknostr', 'foodstr', 'running', 'cycling', 'linux', 'rust', 'typescript', 'weather', 'news',
  'sports', 'chess', 'gaming', 'movies', 'design', 'math', 'history', 'garden']

const WORDS = ('the a of and to in is that it for on with as was at by this be from or an have not are but had ' +
  'relay event note zap sats key sign verify job agent auction price bid market lightning invoice wallet node ' +
  'channel block chain hash time day week good morning night coffee music photo link thread reply post read ' +
  'write build ship test bench fast slow network peer client server query filter subscribe publish').split(' ')

/** Deterministic PRNG so every machine benchmarks the same shape of data. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function fixturePath(): string {
  return path.join(os.tmpdir(), `timmy-bench-events-v${FIXTURE_VERSION}.json`)
}

let loaded: Promise<BenchFixture> | undefined

export function loadFixture(log: (message: string) => void, nowSeconds = Math.floor(Date.now() / 1000)): Promise<BenchFixture> {
  loaded ??= loadOrGenerate(log, nowSeconds)
  return loaded
}

async function loadOrGenerate(log: (message: string) => void, nowSeconds: number): Promise<BenchFixture> {
  const file = fixturePath()
  if (existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8')) as BenchFixture
    if (nowSeconds - cached.generatedAt < MAX_FIXTURE_AGE_SECONDS && cached.stored.length === STORED_EVENTS) {
      log(`events: ${cached.stored.length + cached.live.length} pre-signed events from ${file}`)
      return cached
    }
  }
  log(`events: signing ${STORED_EVENTS + LIVE_EVENTS} events with nostr-wasm (once; cached in ${file})`)
  const fixture = await generateFixture(nowSeconds, log)
  const partial = `${file}.${process.pid}.tmp`
  writeFileSync(partial, JSON.stringify(fixture))
  renameSync(partial, file)
  return fixture
}

async function generateFixture(nowSeconds: number, log: (message: string) => void): Promise<BenchFixture> {
  const wasm = await initNostrWasm()
  const random = mulberry32(0x71_33_7)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]
  const secretKeys = Array.from({ length: AUTHORS }, (_, i) => sha256(utf8ToBytes(`timmy-bench-author-${i}`)))
  const pubkeys = secretKeys.map((sk) => Buffer.from(wasm.getPublicKey(sk)).toString('hex'))

  const sign = (secretKey: Uint8Array, kind: number, tags: string[][], content: string, createdAt: number): NostrEvent => {
    const event: NostrEvent = { id: '', pubkey: '', sig: '', kind, tags, content, created_at: createdAt }
    wasm.finalizeEvent(event, secretKey)
    return event
  }
  const sentence = (minWords: number, maxWords: number) => {
    const count = minWords + Math.floor(random() * (maxWords - minWords + 1))
    return Array.from({ length: count }, () => pick(WORDS)).join(' ')
  }

  // Spread over the 30 days before generation, oldest first, one second apart at most.
  const start = nowSeconds - 30 * DAY
  const step = (30 * DAY) / STORED_EVENTS
  const stored: NostrEvent[] = []
  for (let i = 0; i < STORED_EVENTS; i++) {
    const author = Math.floor(random() * AUTHORS)
    const createdAt = Math.floor(start + i * step)
    const roll = random()
    const target = stored.length > 0 ? stored[Math.floor(random() * stored.length)] : undefined
    let event: NostrEvent
    if (roll < 0.15 && target) {
      event = sign(secretKeys[author], 7, [['e', target.id], ['p', target.pubkey]], pick(['+', '🤙', '❤️', '⚡']), createdAt)
    } else if (roll < 0.2 && target) {
      event = sign(secretKeys[author], 6, [['e', target.id, ''], ['p', target.pubkey]], JSON.stringify(target), createdAt)
    } else {
      const tags: string[][] = []
      if (target && random() < 0.3) tags.push(['e', target.id, '', 'reply'], ['p', target.pubkey])
      if (random() < 0.2) tags.push(['p', pick(pubkeys)])
      if (random() < 0.4) tags.push(['t', pick(HASHTAGS)])
      event = sign(secretKeys[author], 1, tags, sentence(5, 40), createdAt)
    }
    stored.push(event)
    if ((i + 1) % 20_000 === 0) log(`events: signed ${i + 1}/${STORED_EVENTS}`)
  }
  const live = Array.from({ length: LIVE_EVENTS }, (_, i) =>
    sign(secretKeys[i % AUTHORS], 1, [['t', LIVE_TAG]], `live delivery probe ${i}: ${sentence(5, 20)}`, nowSeconds - LIVE_EVENTS + i))
  return { stored, live, pubkeys, generatedAt: nowSeconds }
}

/** The first `count` kind-1 events of the stored set, oldest first: the ingest workload. */
export function ingestEvents(fixture: BenchFixture, count: number): NostrEvent[] {
  const events: NostrEvent[] = []
  for (const event of fixture.stored) {
    if (event.kind !== 1) continue
    events.push(event)
    if (events.length === count) break
  }
  return events
}
