import { bech32 } from '@scure/base'
import { describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from '../nips/01.js'
import { buildDeletion } from '../nips/09.js'
import { buildJobOutcomeLabel } from '../nips/32.js'
import { buildHandlerInformation } from '../nips/89.js'
import { buildJobFeedback, buildJobRequest, buildJobResult, parseJobRequest } from '../nips/90.js'
import { decayFactor, DEFAULT_REPUTATION_PARAMS, paymentFactor } from '../nips/reputation.js'
import { zapServer } from '../test/helpers/zaps.js'
import { jobPhase, liveness, SwarmModel } from './model.js'
import { payEndpointUrl, zapperFromPayEndpoint } from './zap.js'

const NOW = 1_767_225_600
const agentKey = generateSecretKey()
const agent = getPublicKey(agentKey)
const userKey = generateSecretKey()

const announcement = (createdAt: number, name = 'Summarize') =>
  finalizeEvent(buildHandlerInformation({ d: 'summarize', kinds: [5001], content: { name, about: 'x', nip90Params: { length: { required: false, values: [] } } }, createdAt }), agentKey)

describe('SwarmModel', () => {
  it('keeps the newest announcement per address and forgets deleted ones', () => {
    const model = new SwarmModel()
    expect(model.apply(announcement(NOW, 'new'))).toBe(true)
    expect(model.apply(announcement(NOW - 10, 'old'))).toBe(false)
    expect(model.directory().map((a) => [...a.handlers.values()][0].content.name)).toEqual(['new'])
    expect(model.announcedKinds()).toEqual([5001])
    const deletion = finalizeEvent(buildDeletion({ addresses: [`31990:${agent}:summarize`], kinds: [31990], createdAt: NOW + 1 }), agentKey)
    expect(model.apply(deletion)).toBe(true)
    expect(model.directory()).toEqual([])
    expect(model.apply(announcement(NOW - 5))).toBe(false)
  })

  it('ignores a deletion by someone else', () => {
    const model = new SwarmModel()
    model.apply(announcement(NOW))
    const forged = finalizeEvent(buildDeletion({ addresses: [`31990:${agent}:summarize`], createdAt: NOW + 1 }), userKey)
    expect(model.apply(forged)).toBe(false)
    expect(model.directory()).toHaveLength(1)
  })

  it('folds profiles that arrive before or after the announcement', () => {
    const model = new SwarmModel()
    model.apply(finalizeEvent({ kind: 0, created_at: NOW, tags: [], content: JSON.stringify({ display_name: 'Scribe' }) }, agentKey))
    model.apply(announcement(NOW))
    expect(model.agents.get(agent)?.profile?.displayName).toBe('Scribe')
    model.apply(finalizeEvent({ kind: 0, created_at: NOW + 1, tags: [], content: JSON.stringify({ name: 'scribe2' }) }, agentKey))
    expect(model.agents.get(agent)?.profile?.name).toBe('scribe2')
  })

  it('follows a job from request to result, even when answers arrive first, and records the price', () => {
    const model = new SwarmModel()
    const request = finalizeEvent(buildJobRequest({ kind: 5001, inputs: [{ type: 'text', value: 'hi' }], targets: [agent], createdAt: NOW }), userKey)
    const parsed = parseJobRequest(request)
    const processing = finalizeEvent(buildJobFeedback({ request: parsed, status: 'processing', createdAt: NOW + 1 }), agentKey)
    const result = finalizeEvent(buildJobResult({ request: parsed, content: 'done', amountMsats: 2000, createdAt: NOW + 2 }), agentKey)
    expect(model.apply(processing)).toBe(false)
    expect(model.apply(request)).toBe(true)
    const job = model.jobs.get(request.id)!
    expect(jobPhase(job)).toBe('processing')
    model.apply(result)
    expect(jobPhase(job)).toBe('success')
    expect(model.apply(result)).toBe(false)
    expect(model.agents.get(agent)?.pricesMsats.get(5001)).toBe(2000)
  })

  it('scores agents from job-outcome labels, counting trusted labellers', () => {
    const model = new SwarmModel()
    model.apply(announcement(NOW))
    const job = 'ab'.repeat(32)
    model.apply(finalizeEvent(buildJobOutcomeLabel({ agent, job, kind: 5001, outcome: 'success', quality: 5, createdAt: NOW }), userKey))
    model.refreshReputation(undefined, NOW)
    const untrusted = model.agents.get(agent)!.reputation!
    model.refreshReputation(getPublicKey(userKey), NOW)
    const trusted = model.agents.get(agent)!.reputation!
    expect(trusted.labels).toBe(1)
    expect(trusted.value).toBeGreaterThan(untrusted.value)
  })
})

describe('SwarmModel reputation from zap receipts', () => {
  const job = 'cd'.repeat(32)
  const strangerKey = generateSecretKey()
  const msats = 500_000
  const paidWeight = paymentFactor(msats, DEFAULT_REPUTATION_PARAMS.paymentHalfMsats)
  // The zap server dates its receipts by the clock, so these labels and scores are dated by it too.
  const clock = () => Math.floor(Date.now() / 1000)
  const labelledAt = clock() - 3600

  /** A model that knows the agent and holds a top label for `job` from a stranger (no trust path). */
  function labelledModel(): SwarmModel {
    const model = new SwarmModel()
    model.apply(announcement(labelledAt))
    model.apply(finalizeEvent(buildJobOutcomeLabel({ agent, job, kind: 5001, outcome: 'success', quality: 5, createdAt: labelledAt }), strangerKey))
    return model
  }

  const scoreOf = (model: SwarmModel, now = clock()) => {
    model.refreshReputation(undefined, now)
    return model.agents.get(agent)!.reputation!
  }

  it('counts a stranger’s label by what the agent’s zap server says was paid for the job', async () => {
    const server = zapServer(agent, 'scribe')
    const model = labelledModel()
    const unpaid = scoreOf(model)
    expect(unpaid).toMatchObject({ untrustedWeight: 0, labels: 0, value: DEFAULT_REPUTATION_PARAMS.priorValue })

    const receipt = await server.zap(strangerKey, msats, job)
    expect(model.apply(receipt)).toBe(true)
    // Until the agent's zap server key is known, no receipt proves anything.
    expect(scoreOf(model)).toEqual(unpaid)

    expect(model.setZapper(agent, server.zapper)).toBe(true)
    expect(model.setZapper(agent, server.zapper)).toBe(false)
    const paidAt = receipt.created_at
    const paid = scoreOf(model, paidAt)
    expect(paid.labels).toBe(1)
    expect(paid.untrustedWeight).toBeCloseTo(paidWeight * decayFactor(paidAt - labelledAt, DEFAULT_REPUTATION_PARAMS.halfLifeSeconds), 12)
    expect(paid.value).toBeGreaterThan(unpaid.value)
    // A score as of before the payment does not count it.
    expect(scoreOf(model, paidAt - 1)).toEqual(unpaid)

    // The same receipt again, from another relay, pays nothing more.
    expect(model.apply(receipt)).toBe(false)
    expect(scoreOf(model, paidAt)).toEqual(paid)

    // A zap server key that stops being known takes its receipts' weight with it.
    model.setZapper(agent, undefined)
    expect(scoreOf(model, paidAt)).toEqual(unpaid)
  })

  it('counts nothing from receipts signed by another key than the agent’s zap server', async () => {
    const server = zapServer(agent, 'scribe')
    const impostor = zapServer(agent, 'impostor')
    const model = labelledModel()
    const unpaid = scoreOf(model)
    model.setZapper(agent, server.zapper)
    expect(model.apply(await impostor.zap(strangerKey, msats, job))).toBe(true)
    expect(scoreOf(model)).toEqual(unpaid)
  })

  it('counts nothing from receipts for another agent, even from a zap server both agents share', async () => {
    const otherKey = generateSecretKey()
    const other = getPublicKey(otherKey)
    const shared = zapServer(other, 'other')
    const model = labelledModel()
    model.apply(finalizeEvent(buildHandlerInformation({ d: 'echo', kinds: [5900], content: { name: 'Echo', about: 'x', nip90Params: {} }, createdAt: NOW }), otherKey))
    const unpaid = scoreOf(model)
    model.setZapper(agent, shared.zapper)
    model.setZapper(other, shared.zapper)
    const forOther = await shared.zap(strangerKey, msats, job)
    expect(model.apply(forOther)).toBe(true)
    expect(scoreOf(model)).toEqual(unpaid)
    // The server re-addressing the other agent's receipt to this one: the zap request inside still names the other.
    const readdressed = finalizeEvent({ kind: forOther.kind, created_at: forOther.created_at, content: forOther.content, tags: forOther.tags.map((t) => (t[0] === 'p' ? ['p', agent] : t)) }, shared.zapperKey)
    expect(model.apply(readdressed)).toBe(true)
    expect(scoreOf(model)).toEqual(unpaid)
  })

  it('counts nothing from a zap that names no job', async () => {
    const server = zapServer(agent, 'scribe')
    const model = labelledModel()
    const unpaid = scoreOf(model)
    model.setZapper(agent, server.zapper)
    expect(model.apply(await server.zap(strangerKey, msats))).toBe(true)
    expect(scoreOf(model)).toEqual(unpaid)
  })

  it('keeps receipts only for agents it knows', async () => {
    const server = zapServer(agent, 'scribe')
    const receipt: NostrEvent = await server.zap(strangerKey, msats, job)
    const model = new SwarmModel()
    expect(model.apply(receipt)).toBe(false)
    model.apply(announcement(labelledAt))
    expect(model.apply(receipt)).toBe(true)
  })

  it('finds the zap server key at the pay endpoint the profile names', async () => {
    const server = zapServer(agent, 'scribe')
    const model = new SwarmModel()
    model.apply(finalizeEvent({ kind: 0, created_at: NOW, tags: [], content: JSON.stringify({ name: 'scribe', lud16: server.address }) }, agentKey))
    const url = payEndpointUrl(model.profileOf(agent)!)!
    expect(url).toBe('http://127.0.0.1:8080/.well-known/lnurlp/scribe')
    const response = await server.fetchFn(url)
    expect(zapperFromPayEndpoint(await response.json())).toBe(server.zapper)
  })
})

describe('payEndpointUrl', () => {
  const lnurl = (url: string) => bech32.encode('lnurl', bech32.toWords(new TextEncoder().encode(url)), false)

  it('reads the lightning address first, then the lnurl', () => {
    expect(payEndpointUrl({ lud16: 'Scribe@example.com', lud06: lnurl('https://other.example/pay') })).toBe('https://example.com/.well-known/lnurlp/scribe')
    expect(payEndpointUrl({ lud06: lnurl('https://other.example/pay?id=1') })).toBe('https://other.example/pay?id=1')
    expect(payEndpointUrl({ lud06: `lightning:${lnurl('https://other.example/pay').toUpperCase()}` })).toBe('https://other.example/pay')
    expect(payEndpointUrl({})).toBeUndefined()
  })

  it('takes plain http only from onion, loopback and the page’s own http host', () => {
    expect(() => payEndpointUrl({ lud06: lnurl('http://other.example/pay') })).toThrow(/not an https endpoint/)
    expect(payEndpointUrl({ lud06: lnurl('http://127.0.0.1:8080/pay') })).toBe('http://127.0.0.1:8080/pay')
    expect(payEndpointUrl({ lud06: lnurl('http://abc.onion/pay') })).toBe('http://abc.onion/pay')
    expect(payEndpointUrl({ lud06: lnurl('http://node.lan:8080/pay') }, { protocol: 'http:', host: 'node.lan:8080' })).toBe('http://node.lan:8080/pay')
    expect(() => payEndpointUrl({ lud06: lnurl('ftp://example.com/pay') })).toThrow()
    expect(() => payEndpointUrl({ lud06: 'not-an-lnurl' })).toThrow()
    expect(() => payEndpointUrl({ lud16: 'no address' })).toThrow()
  })
})

describe('zapperFromPayEndpoint', () => {
  it('names the key only of an endpoint that allows Nostr', () => {
    const key = 'ef'.repeat(32)
    expect(zapperFromPayEndpoint({ tag: 'payRequest', allowsNostr: true, nostrPubkey: key })).toBe(key)
    expect(zapperFromPayEndpoint({ tag: 'payRequest', allowsNostr: false, nostrPubkey: key })).toBeUndefined()
    expect(zapperFromPayEndpoint({ tag: 'payRequest', nostrPubkey: key })).toBeUndefined()
    expect(zapperFromPayEndpoint({ tag: 'withdrawRequest', allowsNostr: true, nostrPubkey: key })).toBeUndefined()
    expect(zapperFromPayEndpoint({ tag: 'payRequest', allowsNostr: true, nostrPubkey: key.toUpperCase() })).toBeUndefined()
    expect(zapperFromPayEndpoint(null)).toBeUndefined()
  })
})

describe('liveness', () => {
  const beat = (createdAt: number, status: 'online' | 'offline' = 'online') => ({ status, intervalSeconds: 60, activeJobs: 0, createdAt })
  it('reads the heartbeat age against the agent’s own interval', () => {
    expect(liveness(undefined, NOW)).toBe('unknown')
    expect(liveness(beat(NOW - 30), NOW)).toBe('online')
    expect(liveness(beat(NOW - 120), NOW)).toBe('late')
    expect(liveness(beat(NOW - 200), NOW)).toBe('offline')
    expect(liveness(beat(NOW, 'offline'), NOW)).toBe('offline')
  })
})
