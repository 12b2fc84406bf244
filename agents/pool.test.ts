import { afterEach, describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey, type Filter, type NostrEvent } from '../nips/01.js'
import { startRelay, type RunningRelay } from '../relay/index.js'
import { loadEventCrypto } from './crypto.js'
import { RelayPool } from './pool.js'

const crypto = await loadEventCrypto()
const now = () => Math.floor(Date.now() / 1000)
const open: { close(): unknown }[] = []
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close()
})

async function relayOn(port = 0): Promise<RunningRelay> {
  const relay = await startRelay({ port, dbPath: ':memory:', config: { verifierThreads: 0 } })
  open.push(relay)
  return relay
}

function pool(secretKey?: Uint8Array): RelayPool {
  const p = new RelayPool({ verify: (e) => crypto.verify(e), ...(secretKey && { signAuth: (t) => crypto.sign(t, secretKey) }), reconnectDelaysMs: [50], publishTimeoutMs: 3000 })
  open.push(p)
  return p
}

function nextEvent(p: RelayPool, relays: string[], filter: Filter): Promise<NostrEvent> {
  return new Promise((resolve) => {
    const sub = p.subscribe(relays, [filter], { onevent: (e) => (sub.close(), resolve(e)) })
  })
}

describe('RelayPool', () => {
  it('publishes, waits for OK and queries stored events until EOSE, once per event across relays', async () => {
    const [a, b] = [await relayOn(), await relayOn()]
    const sk = generateSecretKey()
    const p = pool()
    const note = crypto.sign({ kind: 1, created_at: now(), tags: [], content: 'hi' }, sk)
    const outcomes = await p.publish([a.url, b.url], note)
    expect(outcomes.map((o) => o.ok)).toEqual([true, true])
    expect(await p.query([a.url, b.url], [{ ids: [note.id] }])).toEqual([note])
  })

  it('reports relays it cannot reach instead of hanging', async () => {
    const relay = await relayOn()
    await relay.close()
    const p = pool()
    const note = crypto.sign({ kind: 1, created_at: now(), tags: [], content: 'x' }, generateSecretKey())
    const [outcome] = await p.publish([relay.url], note, { timeoutMs: 2000 })
    expect(outcome.ok).toBe(false)
    expect(outcome.message).toMatch(/^error: /)
    expect(await p.query([relay.url], [{ kinds: [1] }], { timeoutMs: 2000 })).toEqual([])
  })

  it('drops events whose signature does not verify', async () => {
    const relay = await relayOn()
    const sk = generateSecretKey()
    const p = pool()
    const good = crypto.sign({ kind: 1, created_at: now(), tags: [], content: 'good' }, sk)
    await p.publish([relay.url], good)
    const verifyingNothing = new RelayPool({ verify: () => false })
    open.push(verifyingNothing)
    expect(await verifyingNothing.query([relay.url], [{ ids: [good.id] }])).toEqual([])
  })

  it('answers NIP-42 AUTH so that it may read encrypted job requests addressed to it', async () => {
    const relay = await relayOn()
    const dvm = generateSecretKey()
    const requester = generateSecretKey()
    const encrypted = crypto.sign({ kind: 5001, created_at: now(), tags: [['p', getPublicKey(dvm)], ['encrypted']], content: 'ciphertext' }, requester)
    expect((await pool(requester).publish([relay.url], encrypted))[0].ok).toBe(true)
    expect(await pool(dvm).query([relay.url], [{ kinds: [5001] }])).toEqual([encrypted])
    expect(await pool().query([relay.url], [{ kinds: [5001] }])).toEqual([])
    expect(await pool(generateSecretKey()).query([relay.url], [{ kinds: [5001] }])).toEqual([])
  })

  it('restores subscriptions after the relay restarts', async () => {
    const first = await relayOn()
    const port = first.port
    const sk = generateSecretKey()
    const p = pool(sk)
    const received: NostrEvent[] = []
    p.subscribe([first.url], [{ kinds: [1], since: now() - 10 }], { onevent: (e) => received.push(e) })
    await p.publish([first.url], crypto.sign({ kind: 1, created_at: now(), tags: [], content: 'before' }, sk))
    await first.close()
    const second = await relayOn(port)
    const writer = pool()
    const after = crypto.sign({ kind: 1, created_at: now(), tags: [], content: 'after' }, sk)
    await new Promise((r) => setTimeout(r, 300))
    await writer.publish([second.url], after)
    await expect.poll(() => received.map((e) => e.content), { timeout: 5000 }).toContain('after')
    expect(received.map((e) => e.content)).toContain('before')
  })

  it('replaces a subscription’s filters', async () => {
    const relay = await relayOn()
    const sk = generateSecretKey()
    const p = pool()
    const seen: number[] = []
    const sub = p.subscribe([relay.url], [{ kinds: [1] }], { onevent: (e) => seen.push(e.kind) })
    sub.update([{ kinds: [7] }])
    const reaction = crypto.sign({ kind: 7, created_at: now(), tags: [], content: '+' }, sk)
    const waiting = nextEvent(p, [relay.url], { ids: [reaction.id] })
    await p.publish([relay.url], crypto.sign({ kind: 1, created_at: now(), tags: [], content: 'x' }, sk))
    await p.publish([relay.url], reaction)
    await waiting
    await expect.poll(() => seen).toEqual([7])
  })
})
