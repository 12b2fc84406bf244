// Job paths beyond the basic round trip: partial results, NIP-04 requests, timeouts, chains under
// a concurrency limit, one request seen on two relays.
import { encrypt as nip04Encrypt, decrypt as nip04Decrypt } from 'nostr-tools/nip04'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildJobRequest, decryptJobContent, encryptJobRequest } from '../../nips/90.js'
import type { RunningRelay } from '../../relay/index.js'
import { expectValidAgainstSchema } from '../helpers/schemata.js'
import { echoCapability, gate, startTestAgent, startTestRelay, statusOf, TestRequester, type TestAgent } from './helpers.js'

const now = () => Math.floor(Date.now() / 1000)
const KIND = 5907

describe('job paths', () => {
  let relays: RunningRelay[]
  let requester: TestRequester
  const agents: TestAgent[] = []
  const gates = new Map<string, Promise<void>>()

  beforeAll(async () => {
    relays = [await startTestRelay(), await startTestRelay()]
    requester = await TestRequester.create(relays.map((r) => r.url))
  })

  afterAll(async () => {
    requester?.close()
    for (const a of agents) await a.agent.stop()
    for (const r of relays ?? []) await r.close()
  })

  async function agentWith(kind: number, settings: Parameters<typeof startTestAgent>[2] = {}): Promise<TestAgent> {
    const agent = await startTestAgent(relays[0].url, [echoCapability({ kind, gates })], { relays: relays.map((r) => r.url), ...settings })
    agents.push(agent)
    return agent
  }

  it('sends partial results as encrypted partial feedback when the request was encrypted', async () => {
    const dvm = await agentWith(KIND)
    const template = buildJobRequest({ kind: KIND, inputs: [{ type: 'text', value: 'x' }], params: { partial: ['half way'] }, createdAt: now() })
    const job = requester.sign(encryptJobRequest(template, requester.secretKey, dvm.agent.pubkey))
    const partial = requester.waitFor([{ kinds: [7000], '#e': [job.id] }], (e) => statusOf(e) === 'partial')
    await requester.pool.publish(requester.relays, job)
    const feedback = await partial
    expect(feedback.content).not.toContain('half way')
    expect(decryptJobContent(feedback, requester.secretKey)).toBe('half way')
    expect(dvm.jobLog.foldFromLog(job.id)?.partials).toEqual(['half way'])
  })

  it('answers a NIP-04 encrypted request (older clients) in NIP-04', async () => {
    const dvm = await agentWith(KIND + 1)
    const privateTags = [['i', 'old school', 'text']]
    const job = requester.sign({
      kind: KIND + 1,
      created_at: now(),
      tags: [['p', dvm.agent.pubkey], ['encrypted']],
      content: nip04Encrypt(requester.secretKey, dvm.agent.pubkey, JSON.stringify(privateTags)),
    })
    const result = requester.waitFor([{ kinds: [KIND + 1001], '#e': [job.id] }])
    await requester.pool.publish(requester.relays, job)
    const answer = await result
    expect(answer.content).toContain('?iv=')
    expect(nip04Decrypt(requester.secretKey, dvm.agent.pubkey, answer.content)).toBe('echo: old school')
  })

  it('fails a job that runs past the timeout, with the reason', async () => {
    const dvm = await agentWith(KIND + 2, { settings: { heartbeatSeconds: 30, jobTimeoutSeconds: 0.2 } })
    gates.set('forever', new Promise(() => {}))
    const job = requester.sign(buildJobRequest({ kind: KIND + 2, inputs: [{ type: 'text', value: 'slow' }], params: { gate: ['forever'] }, createdAt: now() }))
    const error = requester.waitFor([{ kinds: [7000], '#e': [job.id] }], (e) => statusOf(e) === 'error')
    await requester.pool.publish(requester.relays, job)
    expect((await error).tags.find((t) => t[0] === 'status')?.[2]).toBe('the job took longer than 0.2 s')
    expect(dvm.jobLog.state(job.id)).toMatchObject({ status: 'failed' })
  })

  it('runs a chain whose downstream link arrives first, even with one job at a time', async () => {
    await agentWith(KIND + 3, { settings: { heartbeatSeconds: 30, maxConcurrentJobs: 1 } })
    const upstream = requester.sign(buildJobRequest({ kind: KIND + 3, inputs: [{ type: 'text', value: 'first link' }], createdAt: now() }))
    const downstream = requester.sign(buildJobRequest({ kind: KIND + 3, inputs: [{ type: 'job', value: upstream.id }], createdAt: now() }))
    const result = requester.waitFor([{ kinds: [KIND + 1003], '#e': [downstream.id] }])
    await requester.pool.publish(requester.relays, downstream)
    await new Promise((r) => setTimeout(r, 100))
    await requester.pool.publish(requester.relays, upstream)
    expect((await result).content).toBe('echo: echo: first link')
  })

  it('takes a request seen on two relays once, and publishes its answers to both', async () => {
    const dvm = await agentWith(KIND + 4)
    const held = gate()
    gates.set('both', held.promise)
    const job = requester.sign(buildJobRequest({ kind: KIND + 4, inputs: [{ type: 'text', value: 'twice' }], params: { gate: ['both'] }, createdAt: now() }))
    const outcomes = await requester.pool.publish(requester.relays, job)
    expect(outcomes.map((o) => o.ok)).toEqual([true, true])
    held.open()
    await requester.waitFor([{ kinds: [KIND + 1004], '#e': [job.id] }])
    expect(dvm.jobLog.facts(job.id).filter((f) => f.type === 'posted')).toHaveLength(1)
    for (const relay of relays) {
      const perRelay = await requester.pool.query([relay.url], [{ kinds: [KIND + 1004], '#e': [job.id] }])
      expect(perRelay).toHaveLength(1)
    }
  })

  it('emits only events that validate against the published schemas (partial, NIP-04, errors included)', async () => {
    const events = await requester.query([{ authors: agents.map((a) => a.agent.pubkey), kinds: [7000, ...[0, 1, 2, 3, 4].map((i) => KIND + 1000 + i)] }])
    expect(new Set(events.map((e) => e.tags.find((t) => t[0] === 'status')?.[1]).filter(Boolean))).toEqual(new Set(['processing', 'partial', 'error', 'success']))
    for (const event of events) expectValidAgainstSchema(event)
  })
})
