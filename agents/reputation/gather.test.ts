import { beforeAll, describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey, verifyEvent, type NostrEvent } from '../../nips/01.js'
import { buildDeletion } from '../../nips/09.js'
import { buildJobOutcomeLabel, LABEL_KIND } from '../../nips/32.js'
import { fakeRelayQuery } from '../../test/helpers/fake-query.js'
import { zapServer } from '../../test/helpers/zaps.js'
import { loadEventCrypto, type EventCrypto } from '../crypto.js'
import { DEFAULT_REFRESH_SECONDS, gatherReputation, ReputationCache, type QueryEvents } from './gather.js'
import { lnurlZappers, ZAPPER_TTL_SECONDS } from './zaps.js'

const NOW = 1_800_000_000

let crypto: EventCrypto
beforeAll(async () => {
  crypto = await loadEventCrypto()
})

const key = () => {
  const sk = generateSecretKey()
  return { sk, pk: getPublicKey(sk) }
}
const root = key()
const friend = key()
const agent = key()
const otherAgent = key()

let n = 0
const label = (createdAt: number, about = agent, job = (++n).toString(16).padStart(64, '0')) =>
  crypto.sign(buildJobOutcomeLabel({ agent: about.pk, job, kind: 5001, outcome: 'success', quality: 1 + (n % 5), createdAt }), friend.sk)

/** A relay whose events tests change between lookups, and a clock they move. */
function setting() {
  const events: NostrEvent[] = [crypto.sign({ kind: 3, created_at: NOW - 1000, tags: [['p', friend.pk]], content: '' }, root.sk)]
  for (let i = 0; i < 6; i++) events.push(label(NOW - 100 + i))
  const relay = fakeRelayQuery(events)
  let ms = NOW * 1000
  const clock = { now: () => ms, advance: (seconds: number) => (ms += seconds * 1000) }
  const cache = new ReputationCache({ clock: clock.now })
  const labelFilters = () => relay.filtersSeen.filter((f) => f.kinds?.includes(LABEL_KIND))
  const gather = (query: QueryEvents = relay.query, at = Math.floor(clock.now() / 1000)) => gatherReputation(query, { agent: agent.pk, trustRoot: root.pk, now: at, cache })
  /** What a lookup without a cache says: the reference every cached lookup must equal. */
  const uncached = (at = Math.floor(clock.now() / 1000)) => gatherReputation(relay.query, { agent: agent.pk, trustRoot: root.pk, now: at })
  return { events, relay, clock, cache, labelFilters, gather, uncached }
}

describe('ReputationCache', () => {
  it('fetches an agent’s labels once, then only what is new, and scores as a fresh lookup does', async () => {
    const { events, relay, clock, cache, labelFilters, gather, uncached } = setting()
    const first = await gather()
    expect(first.report.overall.labels).toBe(6)
    expect(labelFilters().every((f) => f.since === undefined)).toBe(true)
    const held = await cache.eventsOf(relay.query, agent.pk)

    clock.advance(60)
    events.push(label(NOW + 30), label(NOW + 40))
    relay.filtersSeen.length = 0
    const second = await gather()
    // Only labels since the newest held, less the margin for late clocks.
    expect(labelFilters().map((f) => f.since)).toContain(NOW - 95 - 600)
    expect(labelFilters().every((f) => f.since !== undefined)).toBe(true)
    expect(second.report.overall.labels).toBe(8)
    expect(second.report).toEqual((await uncached()).report)
    // The same kept labels, grown: nothing was read twice.
    expect((await cache.eventsOf(relay.query, agent.pk)).labels).toBe(held.labels)
    expect(held.events).toHaveLength(8)
    expect(held.labels.size).toBe(8)
  })

  it('sees a later deletion of a label it already holds', async () => {
    const { events, clock, gather, uncached } = setting()
    await gather()
    clock.advance(60)
    const target = events[3]
    events.push(crypto.sign(buildDeletion({ ids: [target.id], kinds: [LABEL_KIND], createdAt: NOW + 50 }), friend.sk))
    const after = await gather()
    expect(after.report.ignored).toEqual([{ id: target.id, reason: 'deleted by its author (NIP-09)' }])
    expect(after.report).toEqual((await uncached()).report)
  })

  it('fetches everything again every refreshSeconds: a label that reached the relay late, with an old timestamp, shows then', async () => {
    const { events, clock, labelFilters, relay, gather, uncached } = setting()
    await gather()
    const late = label(NOW - 5000)
    events.push(late)
    clock.advance(10)
    expect((await gather()).report.evidence.map((e) => e.id)).not.toContain(late.id)
    clock.advance(DEFAULT_REFRESH_SECONDS)
    relay.filtersSeen.length = 0
    const refreshed = await gather()
    expect(labelFilters().some((f) => f.since === undefined)).toBe(true)
    expect(refreshed.report.evidence.map((e) => e.id)).toContain(late.id)
    expect(refreshed.report).toEqual((await uncached()).report)
  })

  it('shares one fetch between concurrent lookups of an agent', async () => {
    const { labelFilters, gather } = setting()
    const [a, b] = await Promise.all([gather(), gather()])
    expect(a.report).toEqual(b.report)
    // One paged walk: the fake relay returns 4 a page, so 6 labels take 3 REQs (the last finds nothing new).
    expect(labelFilters()).toHaveLength(3)
  })

  it('keeps what it held when a lookup fails', async () => {
    const { events, relay, clock, cache, gather } = setting()
    await gather()
    clock.advance(60)
    events.push(label(NOW + 30))
    await expect(gather(async () => Promise.reject(new Error('connection refused')))).rejects.toThrow('connection refused')
    const held = await cache.eventsOf(async () => [], agent.pk)
    expect(held.events).toHaveLength(6)
    expect(held.labels.size).toBe(6)
    expect((await gather(relay.query)).report.overall.labels).toBe(7)
  })

  it('holds at most maxAgents agents, dropping the least recently looked up', async () => {
    const { events, relay, clock, labelFilters } = setting()
    events.push(label(NOW - 50, otherAgent))
    const cache = new ReputationCache({ clock: clock.now, maxAgents: 1 })
    await cache.eventsOf(relay.query, agent.pk)
    await cache.eventsOf(relay.query, otherAgent.pk)
    relay.filtersSeen.length = 0
    expect((await cache.eventsOf(relay.query, agent.pk)).events).toHaveLength(6)
    expect(labelFilters().every((f) => f.since === undefined)).toBe(true)
    expect(() => new ReputationCache({ maxAgents: 0 })).toThrow(RangeError)
  })
})

describe('zap receipts as payments', () => {
  it('counts a labeller’s zap for the job at its amount, once per receipt, checked once per zap server key', async () => {
    const server = zapServer(agent.pk)
    const job = 'ab'.repeat(32)
    const paidLabel = label(NOW - 10, agent, job)
    const receipt = await server.zap(friend.sk, 3_000_000, job)
    const tip = await server.zap(friend.sk, 5_000) // names no job: proves no job payment
    const stranger = zapServer(agent.pk, 'impostor')
    const forged = await stranger.zap(friend.sk, 50_000_000, job) // signed by another key than the agent's zap server
    const events = [crypto.sign({ kind: 3, created_at: NOW - 1000, tags: [['p', friend.pk]], content: '' }, root.sk), paidLabel, receipt, { ...receipt }, tip, forged]
    const relay = fakeRelayQuery(events)
    let verified = 0
    const verify = (event: NostrEvent) => (verified++, verifyEvent(event))
    const cache = new ReputationCache()
    const lookup = () => gatherReputation(relay.query, { agent: agent.pk, trustRoot: root.pk, now: NOW, cache, verify, zappers: async () => server.zapper })
    const first = await lookup()
    expect(first.zaps).toEqual({ zapper: server.zapper, receipts: 3, payments: 1, rejected: { "zap receipt is not signed by the recipient's LNURL server (nostrPubkey)": 1 } })
    const evidence = first.report.evidence.find((e) => e.job === job)
    expect(evidence).toMatchObject({ paidMsats: 3_000_000, standing: 1, weight: evidence!.decay * (1 + 0.75) })
    const checks = verified
    expect(checks).toBeGreaterThan(0)
    expect((await lookup()).report).toEqual(first.report)
    expect(verified).toBe(checks)
    // As of a moment before the zap was paid, it does not count yet.
    const before = await gatherReputation(relay.query, { agent: agent.pk, trustRoot: root.pk, now: receipt.created_at - 1, cache, verify, zappers: async () => server.zapper })
    expect(before.zaps.payments).toBe(0)
    // Without a zapper key no receipt counts.
    const unpaid = await gatherReputation(relay.query, { agent: agent.pk, trustRoot: root.pk, now: NOW })
    expect(unpaid.zaps).toEqual({ zapper: null, receipts: 3, payments: 0, rejected: {} })
    expect(unpaid.report.evidence.find((e) => e.job === job)?.paidMsats).toBe(0)
  })

  it('finds an agent’s zap server key from the lightning address in its profile, as wallets do', async () => {
    const server = zapServer(agent.pk)
    const profile = crypto.sign({ kind: 0, created_at: NOW, tags: [], content: JSON.stringify({ name: 'agent', lud16: server.address }) }, agent.sk)
    const lud06Agent = key()
    const lud06Server = zapServer(lud06Agent.pk, 'other')
    const lud06Profile = crypto.sign({ kind: 0, created_at: NOW, tags: [], content: JSON.stringify({ lud06: lud06Server.handler.lnurl('other') }) }, lud06Agent.sk)
    const silent = key()
    const relay = fakeRelayQuery([profile, lud06Profile, crypto.sign({ kind: 0, created_at: NOW, tags: [], content: '{"name":"no zaps"}' }, silent.sk)])
    const fetched: string[] = []
    const servers = new Map([[server.address.split('@')[0], server], ['other', lud06Server]])
    let ms = NOW * 1000
    const zappers = lnurlZappers({
      query: relay.query,
      fetchText: async (url) => {
        fetched.push(url)
        const name = new URL(url).pathname.split('/').pop() as string
        return (await servers.get(name)!.handler.handle('GET', url)).body
      },
      known: (pubkey) => (pubkey === otherAgent.pk ? 'ee'.repeat(32) : undefined),
      clock: () => ms,
    })
    expect(await zappers(agent.pk)).toBe(server.zapper)
    expect(fetched).toEqual(['http://127.0.0.1:8080/.well-known/lnurlp/agent'])
    expect(await zappers(lud06Agent.pk)).toBe(lud06Server.zapper)
    expect(await zappers(silent.pk)).toBeUndefined()
    expect(await zappers(otherAgent.pk)).toBe('ee'.repeat(32))
    // Answers are kept for an hour, then asked again.
    await zappers(agent.pk)
    expect(fetched).toHaveLength(2)
    ms += ZAPPER_TTL_SECONDS * 1000
    await zappers(agent.pk)
    expect(fetched).toHaveLength(3)
  })

  it('gives no key when the pay endpoint cannot be read or takes no zaps', async () => {
    const profile = crypto.sign({ kind: 0, created_at: NOW, tags: [], content: JSON.stringify({ lud16: 'agent@pay.example.com' }) }, agent.sk)
    const relay = fakeRelayQuery([profile])
    const answers = [Promise.reject(new Error('example.com is a private address')), Promise.resolve('{"tag":"payRequest","allowsNostr":false}'), Promise.resolve('not json')]
    for (const answer of answers) {
      answer.catch(() => {})
      const zappers = lnurlZappers({ query: relay.query, fetchText: () => answer })
      expect(await zappers(agent.pk)).toBeUndefined()
    }
  })
})
