import { beforeAll, describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey, type NostrEvent } from '../../nips/01.js'
import { fakeRelayQuery } from '../../test/helpers/fake-query.js'
import { zapServer } from '../../test/helpers/zaps.js'
import { buildDeletion } from '../../nips/09.js'
import { npubEncode } from '../../nips/19.js'
import { buildJobOutcomeLabel, LABEL_KIND } from '../../nips/32.js'
import { DEFAULT_REPUTATION_PARAMS } from '../../nips/reputation.js'
import { loadEventCrypto, type EventCrypto } from '../crypto.js'
import { reputationLookup } from './gather.js'
import { reputationApi } from './http.js'

const NOW = 1_800_000_000
/** Like a relay that caps every REQ: gatherReputation has to page back with `until`. */
const RELAY_PAGE_CAP = 4

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
const stranger = key()
const agent = key()

const fakeRelay = (events: NostrEvent[]) => fakeRelayQuery(events, RELAY_PAGE_CAP)

let n = 0
const label = (by: { sk: Uint8Array }, over: Partial<Parameters<typeof buildJobOutcomeLabel>[0]> = {}) =>
  crypto.sign(buildJobOutcomeLabel({ agent: agent.pk, job: (++n).toString(16).padStart(64, '0'), kind: 5001, outcome: 'success', quality: 5, createdAt: NOW - n, ...over }), by.sk)

describe('GET /api/reputation/:pubkey', () => {
  it('scores from relay events, paging through more labels than one REQ returns', async () => {
    const friendLabels = Array.from({ length: 10 }, () => label(friend))
    const retracted = label(friend, { outcome: 'failed', quality: undefined })
    const events = [
      crypto.sign({ kind: 3, created_at: NOW - 100, tags: [['p', friend.pk]], content: '' }, root.sk),
      ...friendLabels,
      retracted,
      crypto.sign(buildDeletion({ ids: [retracted.id], createdAt: NOW }), friend.sk),
      label(stranger, { quality: 1 }),
      label(friend, { kind: 5100, outcome: 'failed', quality: undefined }),
    ]
    const { query, filtersSeen } = fakeRelay(events)
    const response = await reputationApi(query, { pubkey: npubEncode(agent.pk), query: new URLSearchParams({ trust_root: root.pk, kind: '5001', evidence: '3' }), now: NOW })
    expect(response.status).toBe(200)
    if (response.status !== 200) return
    const body = response.body
    expect(body).toMatchObject({ agent: agent.pk, trustRoot: root.pk, trustGraphSize: 1, now: NOW, evidenceCount: 11, truncated: false })
    expect(body.overall.labels).toBe(11)
    expect(body.byKind['5001'].labels).toBe(10)
    expect(body.kind).toMatchObject({ kind: 5001, scope: 'kind', labels: 10, sybilBound: body.byKind['5001'].sybilBound })
    expect(body.evidence).toHaveLength(3)
    expect(body.ignored).toEqual({ 'deleted by its author (NIP-09)': 1, 'no trust path and no verified payment': 1 })
    expect(filtersSeen.some((f) => f.until !== undefined)).toBe(true)
    expect(filtersSeen[0]).toMatchObject({ kinds: [LABEL_KIND], '#p': [agent.pk], '#L': ['timmy.dvm', 'ai.wot'] })
    expect(JSON.parse(JSON.stringify(body))).toEqual(body)
  })

  it('falls back to the overall score for a kind with no labels, and to the host’s trust root', async () => {
    const events = [crypto.sign({ kind: 3, created_at: NOW - 100, tags: [['p', friend.pk]], content: '' }, root.sk), label(friend)]
    const response = await reputationApi(fakeRelay(events).query, { pubkey: agent.pk, query: new URLSearchParams({ kind: '5300' }), now: NOW, defaultTrustRoot: npubEncode(root.pk) })
    expect(response.status).toBe(200)
    if (response.status !== 200) return
    expect(response.body.trustRoot).toBe(root.pk)
    expect(response.body.kind).toMatchObject({ kind: 5300, scope: 'overall', value: response.body.overall.value })
  })

  it('counts a paying stranger by its zap receipt for the job, signed by the agent’s zap server', async () => {
    const job = 'f'.repeat(64)
    const server = zapServer(agent.pk)
    const receipt = await server.zap(stranger.sk, 1_000_000, job)
    const events = [label(stranger, { job, createdAt: NOW }), receipt]
    const response = await reputationApi(fakeRelay(events).query, { pubkey: agent.pk, query: new URLSearchParams(), now: NOW, zappers: async () => server.zapper })
    expect(response.status === 200 && response.body.overall.untrustedWeight).toBe(0.5)
    expect(response.status === 200 && response.body.zaps).toEqual({ zapper: server.zapper, receipts: 1, payments: 1, rejected: {} })
    expect(response.status === 200 && response.body.evidence[0].paidMsats).toBe(1_000_000)
  })

  it('applies a half-life from the query', async () => {
    const events = [crypto.sign({ kind: 3, created_at: NOW - 100, tags: [['p', friend.pk]], content: '' }, root.sk), label(friend, { createdAt: NOW - 86_400 })]
    const response = await reputationApi(fakeRelay(events).query, { pubkey: agent.pk, query: new URLSearchParams({ trust_root: root.pk, half_life_days: '1' }), now: NOW })
    expect(response.status === 200 && response.body.params.halfLifeSeconds).toBe(86_400)
    expect(response.status === 200 && response.body.evidence[0].decay).toBe(0.5)
    expect(response.status === 200 && response.body.params.priorWeight).toBe(DEFAULT_REPUTATION_PARAMS.priorWeight)
    // The host's configured half-life when the query names none.
    const configured = await reputationApi(fakeRelay(events).query, { pubkey: agent.pk, query: new URLSearchParams({ trust_root: root.pk }), now: NOW, defaultHalfLifeDays: 1 })
    expect(configured.status === 200 && configured.body.evidence[0].decay).toBe(0.5)
  })

  it.each([
    [{ pubkey: 'nobody' }, 'invalid: pubkey:'],
    [{ pubkey: agent.pk, trust_root: 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5' }, 'invalid: trust_root: expected a public key but got a secret key'],
    [{ pubkey: agent.pk, kind: '1' }, 'invalid: kind must be a job request kind (5000-5999)'],
    [{ pubkey: agent.pk, kind: '5001.5' }, 'invalid: kind must be a job request kind (5000-5999)'],
    [{ pubkey: agent.pk, evidence: '100000' }, 'invalid: evidence must be a whole number up to 500'],
    [{ pubkey: agent.pk, half_life_days: '0' }, 'invalid: half_life_days must be a whole number of days, 1..36500'],
  ])('answers 400 with the reason for %o', async ({ pubkey, ...rest }, reason) => {
    const response = await reputationApi(fakeRelay([]).query, { pubkey, query: new URLSearchParams(rest), now: NOW })
    expect(response.status).toBe(400)
    expect(response.status === 400 && response.body.error).toContain(reason)
  })

  it('answers 502 when the relays cannot be read', async () => {
    const response = await reputationApi(async () => Promise.reject(new Error('connection refused')), { pubkey: agent.pk, query: new URLSearchParams(), now: NOW })
    expect(response).toEqual({ status: 502, body: { error: 'error: could not read reputation events: connection refused' } })
  })

  it('gives the auctioneer bidder → score for the job kind', async () => {
    const other = key()
    const events = [crypto.sign({ kind: 3, created_at: NOW - 100, tags: [['p', friend.pk]], content: '' }, root.sk), label(friend, { kind: 5100, createdAt: NOW })]
    const lookup = reputationLookup(fakeRelay(events).query)
    const scores = await lookup([agent.pk, other.pk], 5100, { at: NOW, trustRoot: root.pk })
    expect(scores.get(agent.pk)).toBe((1 + DEFAULT_REPUTATION_PARAMS.priorWeight * DEFAULT_REPUTATION_PARAMS.priorValue) / (1 + DEFAULT_REPUTATION_PARAMS.priorWeight))
    expect(scores.get(other.pk)).toBe(DEFAULT_REPUTATION_PARAMS.priorValue)
    // As of the bid deadline: a label published after it does not count yet.
    expect((await lookup([agent.pk], 5100, { at: NOW - 1, trustRoot: root.pk })).get(agent.pk)).toBe(DEFAULT_REPUTATION_PARAMS.priorValue)
    // Another trust root that follows nobody: the friend's label carries no weight.
    expect((await lookup([agent.pk], 5100, { at: NOW, trustRoot: other.pk })).get(agent.pk)).toBe(DEFAULT_REPUTATION_PARAMS.priorValue)
  })
})
