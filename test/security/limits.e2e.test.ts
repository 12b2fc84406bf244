// Per-requester limits in a running agent: a requester over a limit gets an `error` feedback naming
// it, other requesters are served, and a job that runs too long is stopped and reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildJobRequest } from '../../nips/90.js'
import type { RunningRelay } from '../../relay/index.js'
import { echoCapability, gate, startTestAgent, startTestRelay, statusOf, TestRequester, type TestAgent } from '../agents/helpers.js'

const now = () => Math.floor(Date.now() / 1000)
const KIND = 5931

describe('per-requester limits in the runtime', () => {
  let relay: RunningRelay
  let dvm: TestAgent
  const gates = new Map<string, Promise<void>>()
  const requesters: TestRequester[] = []

  beforeAll(async () => {
    relay = await startTestRelay()
    dvm = await startTestAgent(relay.url, [echoCapability({ kind: KIND, gates })], { limits: { burst: 3, ratePerMinute: 1, maxConcurrentJobs: 1, maxInputBytes: 200 }, settings: { heartbeatSeconds: 30, jobTimeoutSeconds: 0.3 } })
  })
  afterAll(async () => {
    for (const r of requesters) r.close()
    await dvm?.agent.stop()
    await relay?.close()
  })

  async function requester(): Promise<TestRequester> {
    const r = await TestRequester.create([relay.url])
    requesters.push(r)
    return r
  }

  function errorOf(r: TestRequester, jobId: string): Promise<string | undefined> {
    return r.waitFor([{ kinds: [7000], '#e': [jobId] }], (e) => statusOf(e) === 'error').then((e) => e.tags.find((t) => t[0] === 'status')?.[2])
  }

  it('refuses a second concurrent job, oversized inputs and a request over the rate, each saying which limit', async () => {
    const alice = await requester()
    const held = gate()
    gates.set('limits', held.promise)
    const first = await alice.publish(buildJobRequest({ kind: KIND, inputs: [{ type: 'text', value: 'one' }], params: { gate: ['limits'] }, createdAt: now() }))
    const second = alice.sign(buildJobRequest({ kind: KIND, inputs: [{ type: 'text', value: 'two' }], createdAt: now() }))
    const concurrent = errorOf(alice, second.id)
    await alice.pool.publish(alice.relays, second)
    expect(await concurrent).toMatch(/^concurrent jobs limit: you already have 1 jobs here, at most 1/)

    const big = alice.sign(buildJobRequest({ kind: KIND, inputs: [{ type: 'text', value: 'x'.repeat(300) }], createdAt: now() }))
    const tooBig = errorOf(alice, big.id)
    await alice.pool.publish(alice.relays, big)
    expect(await tooBig).toMatch(/^input size limit: the inputs and params are 300 bytes, more than the 200 allowed/)

    const fourth = alice.sign(buildJobRequest({ kind: KIND, inputs: [{ type: 'text', value: 'four' }], createdAt: now() }))
    const rate = errorOf(alice, fourth.id)
    await alice.pool.publish(alice.relays, fourth)
    expect(await rate).toMatch(/^rate limit: at most 3 requests at once and 1 a minute per requester/)

    const bob = await requester()
    const bobs = await bob.publish(buildJobRequest({ kind: KIND, inputs: [{ type: 'text', value: 'bob' }], createdAt: now() }))
    const result = bob.waitFor([{ kinds: [KIND + 1000], '#e': [bobs.id] }])
    held.open()
    expect((await result).content).toBe('echo: bob')
    expect(dvm.jobLog.state(first.id)?.status).toMatch(/executing|completed/)
  })

  it('stops a job that runs too long and reports it as an error', async () => {
    const carol = await requester()
    gates.set('forever', new Promise(() => {}))
    const job = carol.sign(buildJobRequest({ kind: KIND, inputs: [{ type: 'text', value: 'slow' }], params: { gate: ['forever'] }, createdAt: now() }))
    const error = errorOf(carol, job.id)
    await carol.pool.publish(carol.relays, job)
    expect(await error).toBe('the job took longer than 0.3 s')
    expect(dvm.jobLog.state(job.id)?.status).toBe('failed')
  })
})
