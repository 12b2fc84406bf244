import { describe, expect, it } from 'vitest'
import { compareEventsNewestFirst, finalizeEvent, generateSecretKey, matchFilter, type Filter, type NostrEvent } from '../../nips/01.js'
import type { JobContext, JobInput } from '../capability.js'
import { bolt11AmountMsats, createDiscoveryCapability, parseDiscoveryParams, trendingScores, zapAmountMsats } from './discovery.js'

const NOW = 1_700_000_000
const HOUR = 3600
const people = Array.from({ length: 6 }, () => generateSecretKey())
const [alice, bob, carol, dave, erin, zapper] = people

const note = (sk: Uint8Array, content: string, ageHours: number, tags: string[][] = [], kind = 1) =>
  finalizeEvent({ kind, created_at: NOW - ageHours * HOUR, tags, content }, sk)
const react = (sk: Uint8Array, target: NostrEvent, ageHours = 1, content = '+') =>
  finalizeEvent({ kind: 7, created_at: NOW - ageHours * HOUR, tags: [['e', 'f'.repeat(64)], ['e', target.id], ['p', target.pubkey]], content }, sk)
const repost = (sk: Uint8Array, target: NostrEvent) =>
  finalizeEvent({ kind: 6, created_at: NOW - HOUR, tags: [['e', target.id], ['p', target.pubkey]], content: '' }, sk)
const zap = (target: NostrEvent, msats: number) =>
  finalizeEvent(
    {
      kind: 9735,
      created_at: NOW - HOUR,
      tags: [['e', target.id], ['p', target.pubkey], ['description', JSON.stringify({ kind: 9734, tags: [['amount', String(msats)]] })]],
      content: '',
    },
    zapper,
  )

/** A relay in a function: applies each filter and its limit, newest first, like ctx.queryEvents would. */
function fakeRelay(events: NostrEvent[]) {
  const queries: Filter[][] = []
  const queryEvents = async (filters: Filter[]) => {
    queries.push(filters)
    const found = new Map<string, NostrEvent>()
    for (const filter of filters) {
      const matching = events.filter((e) => matchFilter(filter, e)).sort(compareEventsNewestFirst)
      for (const e of matching.slice(0, filter.limit ?? matching.length)) found.set(e.id, e)
    }
    return [...found.values()].sort(compareEventsNewestFirst)
  }
  return { queryEvents, queries }
}

function ctx(relay: ReturnType<typeof fakeRelay>, inputs: JobInput[] = [], params: Record<string, string[]> = {}): JobContext {
  return { inputs, params, signal: new AbortController().signal, now: () => NOW, log: () => {}, queryEvents: relay.queryEvents, partial: async () => {} }
}

const ids = (content: string) => (JSON.parse(content) as string[][]).map((tag) => (expect(tag[0]).toBe('e'), tag[1]))

describe('trending notes', () => {
  const popular = note(alice, 'GM nostr, what a day', 3)
  const zapped = note(bob, 'Wrote a guide to running a Lightning node', 5)
  const disliked = note(carol, 'Hot take', 2)
  const quiet = note(dave, 'Nobody saw this', 1)
  const article = note(erin, 'Long form', 2, [['d', 'a']], 30023)
  const events = [
    popular,
    zapped,
    disliked,
    quiet,
    article,
    react(bob, popular),
    react(carol, popular),
    react(dave, popular),
    react(dave, popular, 2, '🤙'), // the same person twice counts once
    repost(alice, zapped),
    zap(zapped, 21_000_000),
    react(alice, disliked, 1, '-'),
    react(alice, article),
    react(bob, article),
    react(carol, article),
    react(erin, quiet, 48), // outside the default 24 h window
  ]

  it('scores people, not events, and weighs zaps by the log of their sats', () => {
    const scores = trendingScores(events)
    expect(scores.get(popular.id)).toBe(3)
    expect(scores.get(zapped.id)).toBeCloseTo(2 + 3 * Math.log10(1 + 21_000), 9)
    expect(scores.has(disliked.id)).toBe(false)
  })

  it('returns existing kind 1 notes, best first, as e tags', async () => {
    const relay = fakeRelay(events)
    const output = await createDiscoveryCapability().run(ctx(relay))
    expect(output.mimeType).toBe('application/json')
    expect(ids(output.content)).toEqual([zapped.id, popular.id])
    expect(relay.queries[0]).toEqual([{ kinds: [7, 6, 16, 9735], since: NOW - 24 * HOUR, limit: 5000 }])
  })

  it('looks further back and returns fewer when asked', async () => {
    const output = await createDiscoveryCapability().run(ctx(fakeRelay(events), [], { hours: ['72'], limit: ['3'] }))
    expect(ids(output.content)).toEqual([zapped.id, popular.id, quiet.id])
    const one = await createDiscoveryCapability().run(ctx(fakeRelay(events), [], { limit: ['1'] }))
    expect(ids(one.content)).toEqual([zapped.id])
  })

  it('returns an empty list when nothing happened', async () => {
    expect((await createDiscoveryCapability().run(ctx(fakeRelay([popular])))).content).toBe('[]')
  })
})

describe('related notes', () => {
  const source = note(alice, 'Opening my first #Lightning channel today, routing fees are tiny', 1, [['t', 'lightning']])
  const sameTag = note(bob, 'Anyone else running a node?', 2, [['t', 'lightning']])
  const sameTerms = note(carol, 'My channel routing earned fees this week', 3)
  const unrelated = note(dave, 'Baking bread this morning', 1)
  const philosophy = note(erin, 'Reading Seneca again #philosophy', 4)
  const oldButTagged = note(bob, 'Lightning channel basics, the long version', 24 * 20, [['t', 'lightning']])
  const events = [source, sameTag, sameTerms, unrelated, philosophy, oldButTagged]

  it('finds notes sharing hashtags and terms with an input event, the event itself left out', async () => {
    const output = await createDiscoveryCapability().run(ctx(fakeRelay(events), [{ type: 'event', value: source.id }]))
    const found = ids(output.content)
    expect(found).not.toContain(source.id)
    expect(found).not.toContain(unrelated.id)
    expect(found).not.toContain(philosophy.id)
    // Shares the hashtag and three terms: first; tag-only and term-only notes follow.
    expect(found[0]).toBe(oldButTagged.id)
    expect(new Set(found)).toEqual(new Set([oldButTagged.id, sameTag.id, sameTerms.id]))
  })

  it('reads a bare word as a topic and hashtag', async () => {
    const output = await createDiscoveryCapability().run(ctx(fakeRelay(events), [{ type: 'text', value: 'philosophy' }]))
    expect(ids(output.content)).toEqual([philosophy.id])
  })

  it('uses the resolved text of an event it cannot find', async () => {
    const output = await createDiscoveryCapability().run(
      ctx(fakeRelay(events), [{ type: 'event', value: 'e'.repeat(64), resolved: 'bread and baking' }]),
    )
    expect(ids(output.content)).toEqual([unrelated.id])
    await expect(createDiscoveryCapability().run(ctx(fakeRelay(events), [{ type: 'event', value: 'e'.repeat(64) }]))).rejects.toThrow(/could not be read/)
    await expect(createDiscoveryCapability().run(ctx(fakeRelay(events), [{ type: 'text', value: 'the and of' }]))).rejects.toThrow(/no hashtags or words/)
  })
})

describe('params and amounts', () => {
  it('reads and bounds limit and hours', () => {
    expect(parseDiscoveryParams({})).toEqual({ limit: 20, hours: 24 })
    expect(parseDiscoveryParams({ limit: ['500'], hours: ['100000'] })).toEqual({ limit: 100, hours: 720 })
    expect(() => parseDiscoveryParams({ limit: ['0'] })).toThrow(/limit must be a positive whole number/)
    expect(() => parseDiscoveryParams({ hours: ['-1'] })).toThrow(/hours must be/)
  })

  it('reads zap amounts from the zap request or the invoice', () => {
    expect(bolt11AmountMsats('lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqq')).toBe(250_000_000)
    expect(bolt11AmountMsats('lnbcrt10n1pj')).toBe(1000)
    expect(bolt11AmountMsats('lnbc1pvjluez')).toBeUndefined()
    const target = note(alice, 'x', 1)
    expect(zapAmountMsats(zap(target, 5000))).toBe(5000)
    const byInvoice = finalizeEvent({ kind: 9735, created_at: NOW, tags: [['e', target.id], ['bolt11', 'lnbc10u1pj'], ['description', '{']], content: '' }, zapper)
    expect(zapAmountMsats(byInvoice)).toBe(1_000_000)
  })

  it('describes itself', async () => {
    const capability = createDiscoveryCapability({ priceMsats: 500 })
    expect(capability).toMatchObject({ kind: 5300, id: 'discovery' })
    expect(capability.price([], {})).toBe(500)
    expect(await capability.availability()).toEqual({ ok: true })
  })
})
