// Protocol-level tests of the embedded relay with a bare WebSocket client.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { finalizeEvent, type EventTemplate, type NostrEvent } from '../nips/01.js'
import { buildAuthEvent } from '../nips/42.js'
import { RawClient, keypair, wasmSigner } from '../test/relay/helpers.js'
import { DEFAULT_RELAY_CONFIG, type RelayConfig } from './config.js'
import { defaultPolicies, type WritePolicy } from './policy.js'
import { replyFrames, startRelay, type RunningRelay } from './server.js'
import { EventStore } from './store.js'

const dir = mkdtempSync(join(tmpdir(), 'timmy-relay-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let sign: (t: EventTemplate, sk: Uint8Array) => NostrEvent
beforeAll(async () => {
  sign = await wasmSigner()
})

const T0 = 1_800_000_000
let dbCounter = 0
const open: Array<RunningRelay | RawClient> = []
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close()
})

interface Harness {
  relay: RunningRelay
  dbPath: string
  clock: { now: number }
  client(): Promise<RawClient>
}

async function harness(config: Partial<RelayConfig> = {}, policies?: (c: RelayConfig) => WritePolicy[]): Promise<Harness> {
  const clock = { now: T0 }
  const dbPath = join(dir, `relay-${dbCounter++}.sqlite`)
  const full = { ...DEFAULT_RELAY_CONFIG, verifierThreads: 0, ...config }
  const relay = await startRelay({ port: 0, dbPath, config: full, clock: () => clock.now, policies: policies?.(full) })
  open.push(relay)
  return {
    relay,
    dbPath,
    clock,
    async client() {
      const c = await RawClient.connect(relay.url)
      open.push(c)
      return c
    },
  }
}

const alice = keypair()
const bob = keypair()
const carol = keypair()
const note = (over: Partial<EventTemplate> = {}, who = alice) => sign({ kind: 1, tags: [], content: 'hello', created_at: T0, ...over }, who.sk)

describe('NIP-11 and HTTP', () => {
  it('serves the information document with CORS, a page for browsers, and refuses other methods', async () => {
    const { relay } = await harness({ maxLimit: 123, name: 'test <relay>' })
    const info = await fetch(relay.httpUrl, { headers: { Accept: 'application/nostr+json' } })
    expect(info.status).toBe(200)
    expect(info.headers.get('content-type')).toBe('application/nostr+json')
    expect(info.headers.get('access-control-allow-origin')).toBe('*')
    const doc = await info.json()
    expect(doc.name).toBe('test <relay>')
    expect(doc.supported_nips).toEqual(expect.arrayContaining([1, 9, 11, 40, 42, 45, 70]))
    expect(doc.limitation).toMatchObject({
      max_limit: 123,
      max_message_length: DEFAULT_RELAY_CONFIG.maxMessageBytes,
      max_subscriptions: DEFAULT_RELAY_CONFIG.maxSubscriptionsPerConnection,
      max_subid_length: DEFAULT_RELAY_CONFIG.maxSubscriptionIdLength,
      max_event_tags: DEFAULT_RELAY_CONFIG.maxEventTags,
      max_content_length: DEFAULT_RELAY_CONFIG.maxContentLength,
      created_at_upper_limit: DEFAULT_RELAY_CONFIG.maxCreatedAtFutureSeconds,
      auth_required: false,
    })

    const preflight = await fetch(relay.httpUrl, { method: 'OPTIONS' })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*')

    const page = await fetch(relay.httpUrl)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await page.text()
    expect(html).toContain('test &#60;relay&#62;')
    expect(html).toContain('Nostr relay')

    expect((await fetch(relay.httpUrl, { method: 'POST', body: 'x' })).status).toBe(405)
  })
})

describe('publishing and subscribing', () => {
  it('stores, answers OK after commit, serves REQ with EOSE and delivers live events', async () => {
    const h = await harness()
    const reader = await h.client()
    const writer = await h.client()
    expect((await reader.next((m) => m[0] === 'AUTH'))[1]).toMatch(/^[0-9a-f]{32}$/)

    const first = note({ content: 'first' })
    expect(await writer.publish(first)).toEqual([true, ''])
    expect(await writer.publish(first)).toEqual([true, 'duplicate: already have this event'])

    const { events } = await reader.req('s1', { kinds: [1] })
    expect(events).toEqual([first])

    const second = note({ content: 'second', created_at: T0 + 1 })
    expect(await writer.publish(second)).toEqual([true, ''])
    const live = await reader.next((m) => m[0] === 'EVENT' && m[1] === 's1')
    expect(live[2]).toEqual(second)

    reader.send(['CLOSE', 's1'])
    const third = note({ content: 'third', created_at: T0 + 2 })
    await writer.publish(third)
    // A subscription on the writer's own connection proves the broadcast happened before we look.
    await writer.req('check', { ids: [third.id] })
    expect(reader.unread().filter((m) => m[0] === 'EVENT')).toEqual([])
  })

  it('verifies and stores an id once when it arrives twice at the same time', async () => {
    const h = await harness()
    const a = await h.client()
    const b = await h.client()
    const e = note()
    a.send(['EVENT', e])
    b.send(['EVENT', e])
    a.send(['EVENT', e])
    const answers = [await a.ok(e.id), await b.ok(e.id), await a.ok(e.id)].map((m) => m[3])
    expect(answers.filter((m) => m === '')).toHaveLength(1)
    expect(answers.filter((m) => m === 'duplicate: already have this event')).toHaveLength(2)
    expect((await a.req('q', { ids: [e.id] })).events).toHaveLength(1)
  })

  it('drops unknown event fields and rejects bad signatures', async () => {
    const h = await harness()
    const c = await h.client()
    const e = note()
    c.send(['EVENT', { ...e, extra: 'field' }])
    expect((await c.ok(e.id))[2]).toBe(true)
    expect((await c.req('q', { ids: [e.id] })).events).toEqual([e])

    const forged = { ...note({ content: 'x' }), content: 'tampered' }
    expect(await c.publish(forged)).toEqual([false, 'invalid: bad event id or signature'])
    const badSig = { ...note({ content: 'y' }), sig: 'ab'.repeat(64) }
    expect(await c.publish(badSig)).toEqual([false, 'invalid: bad event id or signature'])
  })

  it('caps limit silently and applies it to the newest events', async () => {
    const h = await harness({ maxLimit: 3 })
    const c = await h.client()
    const events = Array.from({ length: 5 }, (_, i) => note({ created_at: T0 - i, content: `n${i}` }))
    for (const e of events) await c.publish(e)
    expect((await c.req('a', { kinds: [1], limit: 100 })).events).toEqual(events.slice(0, 3))
    expect((await c.req('b', { kinds: [1] })).events).toEqual(events.slice(0, 3))
    expect((await c.req('c', { kinds: [1], limit: 2 })).events).toEqual(events.slice(0, 2))
    expect((await c.req('d', { kinds: [1], limit: 0 })).events).toEqual([])
  })

  it('serves stored events of any size and script intact, after several filters merged', async () => {
    const h = await harness()
    const c = await h.client()
    // 90 kB of UTF-8 takes a frame with a 64-bit length, the other events 16 bits, an EOSE 7 bits (16 with the long id).
    const large = note({ content: '€'.repeat(30_000) })
    const small = note({ content: 'héllo 🤙', created_at: T0 + 1 })
    const reaction = note({ kind: 7, content: '⚡', created_at: T0 + 2 }, bob)
    for (const e of [large, small, reaction]) expect(await c.publish(e)).toEqual([true, ''])
    expect((await c.req('s', { kinds: [1] })).events).toEqual([small, large])
    const longId = `sub-ü-${'x'.repeat(120)}`
    expect((await c.req(longId, { kinds: [7] }, { authors: [alice.pk], limit: 1 })).events).toEqual([reaction, small])
  })

  it('answers COUNT (NIP-45)', async () => {
    const h = await harness()
    const c = await h.client()
    for (let i = 0; i < 4; i++) await c.publish(note({ content: `c${i}`, kind: i < 3 ? 1 : 7 }))
    c.send(['COUNT', 'n', { kinds: [1] }, { kinds: [7] }])
    expect(await c.next((m) => m[0] === 'COUNT')).toEqual(['COUNT', 'n', { count: 4 }])
    c.send(['COUNT', 'm', { kinds: [1], authors: [bob.pk] }])
    expect(await c.next((m) => m[0] === 'COUNT')).toEqual(['COUNT', 'm', { count: 0 }])
  })

  it('passes ephemeral events to live subscribers without storing them', async () => {
    const h = await harness()
    const reader = await h.client()
    const writer = await h.client()
    await reader.req('eph', { kinds: [20001] })
    const ping = note({ kind: 20001, content: 'now or never' })
    expect(await writer.publish(ping)).toEqual([true, ''])
    expect((await reader.next((m) => m[0] === 'EVENT' && m[1] === 'eph'))[2]).toEqual(ping)
    expect((await writer.req('later', { kinds: [20001] })).events).toEqual([])
  })

  it('keeps only the newest replaceable and addressable versions', async () => {
    const h = await harness()
    const c = await h.client()
    const live = await h.client()
    const v1 = note({ kind: 0, content: '{"name":"v1"}' })
    const v2 = note({ kind: 0, content: '{"name":"v2"}', created_at: T0 + 5 })
    await c.publish(v1)
    await c.publish(v2)
    await live.req('profiles', { kinds: [0] })
    const [accepted] = await c.publish(note({ kind: 0, content: '{"name":"old"}', created_at: T0 - 5 }))
    expect(accepted).toBe(true)
    expect((await c.req('p', { kinds: [0], authors: [alice.pk] })).events).toEqual([v2])

    const a1 = note({ kind: 30078, tags: [['d', 'x']], content: '1' })
    const a2 = note({ kind: 30078, tags: [['d', 'x']], content: '2', created_at: T0 + 1 })
    const other = note({ kind: 30078, tags: [['d', 'y']], content: 'y' })
    for (const e of [a1, a2, other]) await c.publish(e)
    expect((await c.req('a', { kinds: [30078] })).events).toEqual([a2, other])
    // The stale version was never broadcast.
    await live.req('sync', { ids: [v2.id] })
    expect(live.unread().filter((m) => m[0] === 'EVENT' && m[1] === 'profiles')).toEqual([])
  })

  it('applies NIP-09 deletions and refuses the deleted event afterwards', async () => {
    const h = await harness()
    const c = await h.client()
    const target = note({ content: 'regret' })
    await c.publish(target)
    const deletion = note({ kind: 5, tags: [['e', target.id]], content: 'oops', created_at: T0 + 1 })
    expect(await c.publish(deletion)).toEqual([true, ''])
    expect((await c.req('q', { kinds: [1] })).events).toEqual([])
    expect((await c.publish(target))[0]).toBe(false)
    // Someone else cannot delete alice's events.
    const keep = note({ content: 'keep' })
    await c.publish(keep)
    await c.publish(note({ kind: 5, tags: [['e', keep.id]] }, bob))
    expect((await c.req('r', { ids: [keep.id] })).events).toEqual([keep])
  })

  it('purges expired events on its sweep and never serves them (NIP-40)', async () => {
    const h = await harness({ expirationSweepSeconds: 1 })
    const c = await h.client()
    const shortLived = note({ tags: [['expiration', String(T0 + 10)]] })
    await c.publish(shortLived)
    expect((await c.req('a', { ids: [shortLived.id] })).events).toHaveLength(1)
    expect(await c.publish(note({ content: 'dead on arrival', tags: [['expiration', String(T0)]] }))).toEqual([false, 'invalid: event has already expired'])
    h.clock.now = T0 + 10
    expect((await c.req('b', { ids: [shortLived.id] })).events).toEqual([])
    const peek = EventStore.open(h.dbPath)
    try {
      const deadline = Date.now() + 3000
      while (peek.query([{ ids: [shortLived.id] }], 0).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      expect(peek.query([{ ids: [shortLived.id] }], 0)).toEqual([])
    } finally {
      peek.close()
    }
  })

  it('answers OK true to shadow-rejected events but neither stores nor broadcasts them', async () => {
    const spamWord: WritePolicy = (e) => (e.content.includes('buy now') ? { action: 'shadowReject', reason: 'blocked: spam' } : undefined)
    const h = await harness({}, (config) => [spamWord, ...defaultPolicies(config)])
    const reader = await h.client()
    const c = await h.client()
    await reader.req('all', { kinds: [1] })
    const spam = note({ content: 'buy now!!!' })
    expect(await c.publish(spam)).toEqual([true, ''])
    const fine = note({ content: 'fine' })
    await c.publish(fine)
    expect((await reader.next((m) => m[0] === 'EVENT'))[2]).toEqual(fine)
    expect((await c.req('q', { kinds: [1] })).events).toEqual([fine])
  })
})

describe('limits and malformed input', () => {
  it('answers every malformed frame and keeps the connection and the data', async () => {
    const h = await harness({ maxFiltersPerReq: 2, maxSubscriptionIdLength: 10 })
    const c = await h.client()
    await c.next((m) => m[0] === 'AUTH')
    const kept = note({ content: 'kept' })
    await c.publish(kept)

    const expectNotice = async (frame: unknown, pattern: RegExp) => {
      c.send(frame)
      expect(await c.notice()).toMatch(pattern)
    }
    await expectNotice('{not json', /^invalid: .*JSON/)
    await expectNotice({ EVENT: 1 }, /^invalid: .*array/)
    await expectNotice([], /^invalid: .*array/)
    await expectNotice([42, {}], /^invalid: .*array/)
    await expectNotice(['HELLO', {}], /^invalid: unknown message type "HELLO"/)
    await expectNotice(['EVENT'], /^invalid: /)
    await expectNotice(['EVENT', 'not an event'], /^invalid: event must be an object/)
    await expectNotice(['EVENT', { ...kept, id: 'XYZ' }], /^invalid: id must be/)
    await expectNotice(['REQ'], /^invalid: REQ needs a subscription id/)
    await expectNotice(['REQ', 7, {}], /^invalid: REQ needs a subscription id/)
    await expectNotice(['CLOSE', {}], /^invalid: CLOSE needs a subscription id/)
    await expectNotice(['AUTH', 'nope'], /^invalid: AUTH needs/)

    const withId = (over: Record<string, unknown>) => ({ ...note({ content: String(Math.random()) }), ...over })
    const expectOkFalse = async (event: Record<string, unknown>, pattern: RegExp) => {
      c.send(['EVENT', event])
      const [, , accepted, message] = await c.ok(event.id as string)
      expect(accepted).toBe(false)
      expect(message).toMatch(pattern)
    }
    await expectOkFalse(withId({ pubkey: 'abc' }), /^invalid: pubkey/)
    await expectOkFalse(withId({ sig: 'g'.repeat(128) }), /^invalid: sig/)
    await expectOkFalse(withId({ kind: -1 }), /^invalid: kind/)
    await expectOkFalse(withId({ kind: 1.5 }), /^invalid: kind/)
    await expectOkFalse(withId({ tags: [['p', 5]] }), /^invalid: tag items/)
    await expectOkFalse(withId({ tags: 'none' }), /^invalid: tags/)
    await expectOkFalse(withId({ content: null }), /^invalid: content/)
    // 1e400 parses as Infinity, 2^64 as an unsafe integer.
    const huge = withId({})
    c.send(`["EVENT",${JSON.stringify(huge).replace(`"created_at":${T0}`, '"created_at":1e400')}]`)
    expect((await c.ok(huge.id as string)).slice(2)).toEqual([false, 'invalid: created_at must be a non-negative integer'])
    await expectOkFalse(withId({ created_at: 18446744073709551616 }), /^invalid: created_at/)
    await expectOkFalse(withId({ created_at: T0 + 3600 }), /^invalid: created_at is more than 900 seconds in the future/)
    await expectOkFalse(withId({ created_at: 1000 }), /^invalid: created_at is more than .* in the past/)

    const expectClosed = async (subId: string, filters: unknown[], pattern: RegExp) => {
      const { closed } = await c.req(subId, ...filters)
      expect(closed).toMatch(pattern)
    }
    await expectClosed('f1', ['not a filter'], /^invalid: filter must be an object/)
    await expectClosed('f2', [[1]], /^invalid: filter must be an object/)
    await expectClosed('f3', [{ ids: ['zz'] }], /^invalid: ids/)
    await expectClosed('f4', [{ authors: 'me' }], /^invalid: authors/)
    await expectClosed('f5', [{ kinds: [1e400] }], /^invalid: kinds/)
    await expectClosed('f6', [{ since: -5 }], /^invalid: since/)
    await expectClosed('f7', [{ foo: 1 }], /^invalid: unknown filter field/)
    await expectClosed('f8', [{}, {}, {}], /^invalid: more than 2 filters/)
    await expectClosed('f9', [], /^invalid: REQ needs at least one filter/)
    await expectClosed('f10', [{ search: 'x' }], /^invalid: search/)
    await expectClosed('much-too-long-id', [{}], /^invalid: subscription id is longer than 10/)

    // Still connected, nothing lost, no stray messages.
    expect((await c.req('ok', { kinds: [1] })).events).toEqual([kept])
    expect(c.unread()).toEqual([])
  })

  it('answers oversized messages with OK false or NOTICE, and closes only on absurd ones', async () => {
    const h = await harness({ maxMessageBytes: 2048 })
    const c = await h.client()
    const big = note({ content: 'x'.repeat(3000) })
    expect(await c.publish(big)).toEqual([false, 'invalid: message is larger than 2048 bytes'])
    c.send(['REQ', 'big', { '#t': ['y'.repeat(3000)] }])
    expect(await c.notice()).toBe('invalid: message is larger than 2048 bytes')
    expect((await c.req('after', { kinds: [1] })).closed).toBeUndefined()

    c.send(['EVENT', note({ content: 'z'.repeat(10_000) })])
    await expect(c.next(() => false, 2000)).rejects.toThrow(/closed \(1009\)/)
    const again = await h.client()
    expect((await again.req('still-up', { kinds: [1] })).closed).toBeUndefined()
  })

  it('limits tags, content, subscriptions per connection and subscription ids', async () => {
    const h = await harness({ maxEventTags: 2, maxContentLength: 10, maxSubscriptionsPerConnection: 2 })
    const c = await h.client()
    expect(await c.publish(note({ tags: [['t', '1'], ['t', '2'], ['t', '3']] }))).toEqual([false, 'invalid: more than 2 tags'])
    expect(await c.publish(note({ content: '12345678901' }))).toEqual([false, 'invalid: content is longer than 10 characters'])
    expect((await c.req('one', {})).closed).toBeUndefined()
    expect((await c.req('two', {})).closed).toBeUndefined()
    expect((await c.req('three', {})).closed).toMatch(/^error: too many open subscriptions/)
    // Replacing an open subscription is not a new one.
    expect((await c.req('two', { kinds: [1] })).closed).toBeUndefined()
    c.send(['CLOSE', 'one'])
    expect((await c.req('three', {})).closed).toBeUndefined()
  })

  it('rate-limits EVENT per IP and per pubkey, and REQ per connection', async () => {
    const h = await harness({
      eventRatePerIp: { perSecond: 1, burst: 4 },
      eventRatePerPubkey: { perSecond: 1, burst: 2 },
      reqRatePerConnection: { perSecond: 1, burst: 2 },
    })
    const c = await h.client()
    const results = []
    for (const [i, who] of [alice, alice, alice, bob, carol].entries()) results.push(await c.publish(note({ content: `r${i}` }, who)))
    expect(results.map((r) => r[1])).toEqual(['', '', 'rate-limited: too many events from this pubkey, slow down', '', 'rate-limited: too many events from your IP, slow down'])
    h.clock.now += 1
    expect(await c.publish(note({ content: 'later' }, carol))).toEqual([true, ''])

    expect((await c.req('a', {})).closed).toBeUndefined()
    expect((await c.req('b', {})).closed).toBeUndefined()
    expect((await c.req('c', {})).closed).toMatch(/^rate-limited: /)
    const fresh = await h.client()
    expect((await fresh.req('d', {})).closed).toBeUndefined()
  })
})

describe('NIP-42 AUTH and protected kinds', () => {
  async function authed(h: Harness, who: { sk: Uint8Array }) {
    const c = await h.client()
    const challenge = (await c.next((m) => m[0] === 'AUTH'))[1] as string
    const auth = finalizeEvent(buildAuthEvent({ relayUrl: h.relay.url, challenge, createdAt: h.clock.now }), who.sk)
    c.send(['AUTH', auth])
    expect((await c.ok(auth.id)).slice(2)).toEqual([true, ''])
    return c
  }

  it('rejects AUTH events with the wrong challenge, relay or kind', async () => {
    const h = await harness()
    const c = await h.client()
    const challenge = (await c.next((m) => m[0] === 'AUTH'))[1] as string
    const attempts = [
      buildAuthEvent({ relayUrl: h.relay.url, challenge: 'not-it', createdAt: T0 }),
      buildAuthEvent({ relayUrl: 'wss://elsewhere.example', challenge, createdAt: T0 }),
      buildAuthEvent({ relayUrl: h.relay.url, challenge, createdAt: T0 - 3600 }),
      { ...buildAuthEvent({ relayUrl: h.relay.url, challenge, createdAt: T0 }), kind: 1 },
    ]
    for (const template of attempts) {
      const ev = finalizeEvent(template, alice.sk)
      c.send(['AUTH', ev])
      const [, , accepted, message] = await c.ok(ev.id)
      expect(accepted).toBe(false)
      expect(message).toMatch(/^invalid: /)
    }
    expect((await c.req('dm', { kinds: [4] })).closed).toMatch(/^auth-required: /)
  })

  it('shows private messages only to an authenticated author or recipient, stored and live', async () => {
    const h = await harness()
    const stranger = await h.client()
    expect((await stranger.req('dm', { kinds: [4] })).closed).toMatch(/^auth-required: /)
    stranger.send(['COUNT', 'n', { kinds: [4] }])
    expect((await stranger.next((m) => m[0] === 'CLOSED'))[2]).toMatch(/^auth-required: /)
    await stranger.req('everything', {})

    const bobConn = await authed(h, bob)
    const carolConn = await authed(h, carol)
    await bobConn.req('inbox', { kinds: [4] })
    await carolConn.req('inbox', { kinds: [4] })

    const aliceConn = await authed(h, alice)
    const dm = note({ kind: 4, tags: [['p', bob.pk]], content: 'c2VjcmV0?iv=aXY=' })
    expect(await aliceConn.publish(dm)).toEqual([true, ''])
    expect((await bobConn.next((m) => m[0] === 'EVENT' && m[1] === 'inbox'))[2]).toEqual(dm)

    expect((await aliceConn.req('sent', { kinds: [4] })).events).toEqual([dm])
    expect((await bobConn.req('got', { kinds: [4], authors: [alice.pk] })).events).toEqual([dm])
    expect((await carolConn.req('peek', { kinds: [4] })).events).toEqual([])
    expect((await carolConn.req('byid', { ids: [dm.id] })).events).toEqual([])
    carolConn.send(['COUNT', 'c', { kinds: [4] }])
    expect(await carolConn.next((m) => m[0] === 'COUNT')).toEqual(['COUNT', 'c', { count: 0 }])
    bobConn.send(['COUNT', 'c', { kinds: [4] }])
    expect(await bobConn.next((m) => m[0] === 'COUNT')).toEqual(['COUNT', 'c', { count: 1 }])

    // Neither the stranger's catch-all subscription nor carol's inbox saw it.
    await stranger.req('sync', { ids: [dm.id] })
    await carolConn.req('sync', { ids: [dm.id] })
    expect(stranger.unread().filter((m) => m[0] === 'EVENT')).toEqual([])
    expect(carolConn.unread().filter((m) => m[0] === 'EVENT')).toEqual([])
  })

  it('hides encrypted NIP-90 job requests from everyone but the parties, and shows plain ones', async () => {
    const h = await harness()
    const c = await authed(h, alice)
    const plainJob = note({ kind: 5001, tags: [['i', 'hello', 'text']] })
    const secretJob = note({ kind: 5001, tags: [['p', bob.pk], ['encrypted']], content: 'ciphertext' })
    await c.publish(plainJob)
    await c.publish(secretJob)
    const stranger = await h.client()
    expect((await stranger.req('jobs', { kinds: [5001] })).events).toEqual([plainJob])
    const dvm = await authed(h, bob)
    expect((await dvm.req('jobs', { kinds: [5001] })).events.map((e) => e.id).sort()).toEqual([plainJob.id, secretJob.id].sort())
  })

  it('lets only the authenticated author publish a NIP-70 protected event', async () => {
    const h = await harness()
    const anonymous = await h.client()
    const mine = note({ tags: [['-']], content: 'only me' })
    const [accepted, message] = await anonymous.publish(mine)
    expect(accepted).toBe(false)
    expect(message).toMatch(/^auth-required: /)
    const asBob = await authed(h, bob)
    expect((await asBob.publish(mine))[1]).toMatch(/^restricted: /)
    const asAlice = await authed(h, alice)
    expect(await asAlice.publish(mine)).toEqual([true, ''])
  })
})

describe('lifecycle', () => {
  it('closes clients with 1001, keeps what it stored, and reopens on the same database', async () => {
    const h = await harness({ verifierThreads: 1 })
    const c = await RawClient.connect(h.relay.url)
    const e = note({ content: 'persisted' })
    expect(await c.publish(e)).toEqual([true, ''])
    open.splice(open.indexOf(h.relay), 1)
    await h.relay.close()
    await expect(c.next(() => false, 2000)).rejects.toThrow(/closed \(1001\)/)

    const reopened = await startRelay({ port: 0, dbPath: h.dbPath, config: { verifierThreads: 0 }, clock: () => T0 })
    open.push(reopened)
    const c2 = await RawClient.connect(reopened.url)
    open.push(c2)
    expect((await c2.req('q', { ids: [e.id] })).events).toEqual([e])
  })
})

describe('replyFrames', () => {
  /** The messages in a buffer of unmasked server frames, each checked to use the shortest length form. */
  function readFrames(buffer: Buffer): string[] {
    const messages: string[] = []
    let at = 0
    while (at < buffer.length) {
      expect(buffer[at]).toBe(0x81)
      let length = buffer[at + 1]
      let start = at + 2
      if (length === 126) {
        length = buffer.readUInt16BE(at + 2)
        start = at + 4
        expect(length).toBeGreaterThanOrEqual(126)
      } else if (length === 127) {
        length = Number(buffer.readBigUInt64BE(at + 2))
        start = at + 10
        expect(length).toBeGreaterThanOrEqual(65_536)
      }
      messages.push(buffer.subarray(start, start + length).toString('utf8'))
      at = start + length
    }
    return messages
  }

  it('frames each event and the last message at every length boundary, counting bytes, not characters', () => {
    const prefix = '["EVENT","s",' // 13 bytes, plus the closing ] = 14 around each raw
    const raws = [111, 112, 65_521, 65_522].map((bytes) => '€'.repeat(Math.floor(bytes / 3)) + 'x'.repeat(bytes % 3))
    const last = JSON.stringify(['EOSE', 'ü'.repeat(70)])
    const frames = replyFrames(prefix, raws, last)
    expect(readFrames(frames)).toEqual([...raws.map((raw) => `${prefix}${raw}]`), last])
    expect(frames.length).toBe(125 + 2 + 126 + 4 + 65_535 + 4 + 65_536 + 10 + 151 + 4) // the EOSE is 151 bytes
  })

  it('is just the last message when nothing was found', () => {
    expect(readFrames(replyFrames('["EVENT","s",', [], '["EOSE","s"]'))).toEqual(['["EOSE","s"]'])
  })
})
