// Independent client libraries against our relay: nostr-tools (Relay, SimplePool, NIP-11, NIP-42)
// and NDK 3. If they publish, subscribe, count and authenticate, real Nostr apps will too.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { SimplePool } from 'nostr-tools/pool'
import { fetchRelayInformation } from 'nostr-tools/nip11'
import { finalizeEvent as ntFinalize, type Event as NtEvent, type EventTemplate as NtTemplate } from 'nostr-tools/pure'
import NDK, { NDKEvent, NDKPrivateKeySigner, type NDKFilter } from '@nostr-dev-kit/ndk'
import { bytesToHex } from '@noble/hashes/utils.js'
import { startRelay, type RunningRelay } from '../../relay/index.js'
import { keypair, nowSeconds } from './helpers.js'

useWebSocketImplementation(WebSocket)
// NDK expects a browser-style WebSocket global; Node 20 has none.
;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

const dir = mkdtempSync(join(tmpdir(), 'timmy-interop-'))
let relay: RunningRelay
const opened: Array<{ close(): unknown }> = []

beforeAll(async () => {
  relay = await startRelay({
    port: 0,
    dbPath: join(dir, 'relay.sqlite'),
    config: { verifierThreads: 1, eventRatePerPubkey: { perSecond: 0.001, burst: 200 } },
  })
})
afterEach(() => {
  for (const thing of opened.splice(0)) thing.close()
})
afterAll(async () => {
  await relay.close()
  rmSync(dir, { recursive: true, force: true })
})

const alice = keypair()
const bob = keypair()
const sign = (t: Partial<NtTemplate>, sk = alice.sk): NtEvent =>
  ntFinalize({ kind: 1, tags: [], content: 'hello', created_at: nowSeconds(), ...t }, sk)

async function connect(): Promise<Relay> {
  const r = await Relay.connect(relay.url)
  opened.push(r)
  return r
}

function collect(r: Relay, filters: Parameters<Relay['subscribe']>[0]): Promise<NtEvent[]> {
  return new Promise((resolve, reject) => {
    const events: NtEvent[] = []
    const sub = r.subscribe(filters, {
      onevent: (e) => events.push(e),
      oneose: () => {
        resolve(events)
        sub.close()
      },
      onclose: (reason) => reject(new Error(`closed: ${reason}`)),
    })
  })
}

async function authWhenChallenged(r: Relay, sk: Uint8Array): Promise<void> {
  const deadline = Date.now() + 2000
  for (;;) {
    try {
      await r.auth(async (template) => ntFinalize(template, sk))
      return
    } catch (err) {
      // The challenge arrives just after the connection opens.
      if (!/no challenge/.test(String(err)) || Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}

describe('nostr-tools', () => {
  it('publishes, fetches to EOSE and receives live events (Relay)', async () => {
    const writer = await connect()
    const reader = await connect()
    const tag = `interop-${Math.random()}`
    const first = sign({ tags: [['t', tag]] })
    await writer.publish(first)
    const stored = await collect(reader, [{ '#t': [tag] }])
    expect(stored.map((e) => e.id)).toEqual([first.id])

    const live = new Promise<NtEvent>((resolve) => {
      reader.subscribe([{ '#t': [tag], since: first.created_at + 1 }, { '#t': [tag], ids: ['0'.repeat(64)] }], { onevent: resolve })
    })
    const second = sign({ tags: [['t', tag]], created_at: first.created_at + 1 })
    await writer.publish(second)
    expect((await live).id).toBe(second.id)
  })

  it('works through SimplePool (publish, querySync, get)', async () => {
    const pool = new SimplePool()
    opened.push({ close: () => pool.close([relay.url]) })
    const e = sign({ content: `pool-${Math.random()}` })
    await Promise.all(pool.publish([relay.url], e))
    const found = await pool.querySync([relay.url], { ids: [e.id] })
    expect(found.map((x) => x.id)).toEqual([e.id])
    expect((await pool.get([relay.url], { ids: [e.id] }))?.content).toBe(e.content)
  })

  it('reports rejections as publish errors with the relay reason', async () => {
    const r = await connect()
    await expect(r.publish(sign({ created_at: nowSeconds() + 7200 }))).rejects.toThrow(/invalid: created_at/)
    const tampered = { ...sign({}), content: 'changed' }
    await expect(r.publish(tampered)).rejects.toThrow(/invalid: bad event id or signature/)
  })

  it('sees rate limiting as a rate-limited: rejection', async () => {
    const strict = await startRelay({
      port: 0,
      dbPath: join(dir, 'strict.sqlite'),
      config: { verifierThreads: 0, eventRatePerIp: { perSecond: 0.001, burst: 2 } },
    })
    try {
      const r = await Relay.connect(strict.url)
      opened.push(r)
      await r.publish(sign({ content: 'one' }))
      await r.publish(sign({ content: 'two' }))
      await expect(r.publish(sign({ content: 'three' }))).rejects.toThrow(/rate-limited: /)
    } finally {
      await strict.close()
    }
  })

  it('counts (NIP-45)', async () => {
    const r = await connect()
    const author = keypair()
    for (let i = 0; i < 3; i++) await r.publish(sign({ content: `count ${i}` }, author.sk))
    expect(await r.count([{ authors: [author.pk] }], {})).toBe(3)
  })

  it('fetches the NIP-11 document', async () => {
    const info = await fetchRelayInformation(relay.url)
    expect(info.supported_nips).toEqual(expect.arrayContaining([1, 11, 42, 45]))
    expect(info.limitation?.max_limit).toBeGreaterThan(0)
  })

  it('authenticates with relay.auth() and then reads private messages (NIP-42)', async () => {
    const r = await connect()
    const dm = sign({ kind: 4, tags: [['p', bob.pk]], content: 'aGk=?iv=aXY=' })
    await r.publish(dm)
    const denied = await collect(r, [{ kinds: [4], '#p': [bob.pk] }]).catch((err: Error) => err.message)
    expect(denied).toMatch(/auth-required: /)

    const asBob = await connect()
    // nostr-tools answers the challenge the relay sent on connect, signed for the URL it connected to.
    await authWhenChallenged(asBob, bob.sk)
    const inbox = await collect(asBob, [{ kinds: [4], '#p': [bob.pk] }])
    expect(inbox.map((e) => e.id)).toEqual([dm.id])
  })

  it('deletes (NIP-09), replaces (kind 0) and passes ephemeral events on', async () => {
    const r = await connect()
    const author = keypair()
    const target = sign({ content: 'to delete' }, author.sk)
    await r.publish(target)
    await r.publish(sign({ kind: 5, tags: [['e', target.id]] }, author.sk))
    expect(await collect(r, [{ ids: [target.id] }])).toEqual([])

    const t = nowSeconds()
    await r.publish(sign({ kind: 0, content: '{"name":"old"}', created_at: t - 10 }, author.sk))
    await r.publish(sign({ kind: 0, content: '{"name":"new"}', created_at: t }, author.sk))
    expect((await collect(r, [{ kinds: [0], authors: [author.pk] }])).map((e) => e.content)).toEqual(['{"name":"new"}'])

    const listener = await connect()
    const heard = new Promise<NtEvent>((resolve) => listener.subscribe([{ kinds: [20002], authors: [author.pk] }], { onevent: resolve }))
    await collect(listener, [{ kinds: [20002], limit: 0 }])
    const ping = sign({ kind: 20002, content: 'typing…' }, author.sk)
    await r.publish(ping)
    expect((await heard).id).toBe(ping.id)
    expect(await collect(r, [{ ids: [ping.id] }])).toEqual([])
  })
})

describe('NDK 3', () => {
  it('publishes, fetches and subscribes', async () => {
    const signer = new NDKPrivateKeySigner(bytesToHex(alice.sk))
    const ndk = new NDK({ explicitRelayUrls: [relay.url], signer, enableOutboxModel: false, autoConnectUserRelays: false })
    await ndk.connect(2000)
    opened.push({ close: () => ndk.pool.relays.forEach((r) => r.disconnect()) })

    const tag = `ndk-${Math.random()}`
    const event = new NDKEvent(ndk, { kind: 1, content: 'hello from NDK', tags: [['t', tag]], created_at: nowSeconds() } as Partial<NDKEvent>)
    const relays = await event.publish()
    expect(relays.size).toBe(1)

    const filter: NDKFilter = { kinds: [1], '#t': [tag] }
    const fetched = await ndk.fetchEvents(filter)
    expect([...fetched].map((e) => e.id)).toEqual([event.id])

    const live = new Promise<string>((resolve) => {
      const sub = ndk.subscribe(filter, { closeOnEose: false })
      sub.on('event', (e: NDKEvent) => {
        if (e.id !== event.id) resolve(e.id)
      })
    })
    const second = new NDKEvent(ndk, { kind: 1, content: 'second', tags: [['t', tag]], created_at: nowSeconds() } as Partial<NDKEvent>)
    await second.publish()
    expect(await live).toBe(second.id)
  })
})
