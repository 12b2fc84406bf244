// Real relay, real agents, requesters speaking NIP-90 over WebSocket: every path of a job.
import { get as httpGet } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../nips/01.js'
import { buildDeletion } from '../../nips/09.js'
import { npubEncode } from '../../nips/19.js'
import { buildJobRequest, decryptJobContent, encryptJobRequest, parseJobResult } from '../../nips/90.js'
import { buildHttpAuth, encodeAuthorizationHeader } from '../../nips/98.js'
import type { RunningRelay } from '../../relay/index.js'
import { startHttpApi, type RunningHttpApi } from '../../agents/http.js'
import { silentLogger } from '../../agents/logger.js'
import { createJobMetrics } from '../../agents/metrics.js'
import { expectValidAgainstSchema } from '../helpers/schemata.js'
import { ECHO_KIND, echoCapability, gate, startTestAgent, startTestRelay, statusOf, TestRequester, waitForJob, type TestAgent } from './helpers.js'

const now = () => Math.floor(Date.now() / 1000)
const PRICED_KIND = 5903
const TAKEOVER_KIND = 5904
const operatorKey = generateSecretKey()

/** An operator's POST: NIP-98 signed for this URL and body. */
function operatorPost(url: string, body: string, contentType = 'application/json'): RequestInit {
  const authorization = encodeAuthorizationHeader(finalizeEvent(buildHttpAuth({ url, method: 'POST', body, createdAt: now() }), operatorKey))
  return { method: 'POST', headers: { authorization, ...(contentType && { 'content-type': contentType }) }, body }
}

describe('agents end to end on the embedded relay', () => {
  let relay: RunningRelay
  let dvm: TestAgent
  let approver: TestAgent
  let http: RunningHttpApi
  let requester: TestRequester
  const gates = new Map<string, Promise<void>>()
  const fetched: string[] = []
  const agents: TestAgent[] = []

  beforeAll(async () => {
    relay = await startTestRelay()
    dvm = await startTestAgent(relay.url, [echoCapability({ gates })], {
      fetchUrl: async (url) => (fetched.push(url), `page at ${url}`),
    })
    approver = await startTestAgent(relay.url, [echoCapability({ kind: PRICED_KIND, price: 5000 })], {
      name: 'approver',
      settings: { heartbeatSeconds: 30, approval: { aboveMsats: 1000, kinds: [] } },
    })
    agents.push(dvm, approver)
    const metrics = createJobMetrics()
    http = await startHttpApi({ host: '127.0.0.1', port: 0, agents: [dvm.agent, approver.agent], registry: metrics.registry, log: silentLogger, operators: () => new Set([getPublicKey(operatorKey)]) })
    requester = await TestRequester.create([relay.url])
  })

  afterAll(async () => {
    requester?.close()
    await http?.close()
    for (const a of agents) await a.agent.stop()
    await relay?.close()
  })

  function request(kind: number, inputs: { type: 'text' | 'url' | 'event' | 'job'; value: string }[], extra: Partial<Parameters<typeof buildJobRequest>[0]> = {}) {
    return requester.sign(buildJobRequest({ kind, inputs, createdAt: now(), ...extra }))
  }

  async function send(event: ReturnType<typeof request>) {
    const outcomes = await requester.pool.publish(requester.relays, event)
    expect(outcomes.every((o) => o.ok)).toBe(true)
  }

  const resultOf = (id: string, kind = ECHO_KIND) => requester.waitFor([{ kinds: [kind + 1000], '#e': [id] }])
  const feedbackOf = (id: string, status: string) => requester.waitFor([{ kinds: [7000], '#e': [id] }], (e) => statusOf(e) === status)

  it('answers a plain request: processing, then a result that embeds the request', async () => {
    const job = request(ECHO_KIND, [{ type: 'text', value: 'hello' }])
    const result = resultOf(job.id)
    const processing = feedbackOf(job.id, 'processing')
    await send(job)
    expect((await processing).pubkey).toBe(dvm.agent.pubkey)
    const answer = await result
    expect(answer.content).toBe('echo: hello')
    const parsed = parseJobResult(answer)
    expect(parsed.requestId).toBe(job.id)
    expect(parsed.request?.id).toBe(job.id)
  })

  it('answers an encrypted request with encrypted feedback and result', async () => {
    const job = requester.sign(encryptJobRequest(buildJobRequest({ kind: ECHO_KIND, inputs: [{ type: 'text', value: 'secret words' }], createdAt: now() }), requester.secretKey, dvm.agent.pubkey))
    const result = resultOf(job.id)
    await send(job)
    const answer = await result
    expect(answer.content).not.toContain('secret words')
    expect(answer.tags.some((t) => t[0] === 'encrypted')).toBe(true)
    expect(answer.tags.some((t) => t[0] === 'i')).toBe(false)
    expect(decryptJobContent(answer, requester.secretKey)).toBe('echo: secret words')
  })

  it('resolves url inputs through the injected fetcher and event inputs through the relays', async () => {
    const note = await requester.publish({ kind: 1, created_at: now(), tags: [], content: 'a note to echo' })
    const job = request(ECHO_KIND, [
      { type: 'url', value: 'https://example.com/article' },
      { type: 'event', value: note.id },
    ])
    const result = resultOf(job.id)
    await send(job)
    expect((await result).content).toBe('echo: page at https://example.com/article | a note to echo')
    expect(fetched).toContain('https://example.com/article')
  })

  it('fails a job whose event input does not exist, with a human reason', async () => {
    const job = request(ECHO_KIND, [{ type: 'event', value: 'f'.repeat(64) }])
    const error = feedbackOf(job.id, 'error')
    await send(job)
    expect((await error).tags.find((t) => t[0] === 'status')?.[2]).toMatch(/input event f+ was not found/)
  })

  it('chains jobs: a job input waits for that job’s result and runs on its content', async () => {
    const first = gate()
    gates.set('chain', first.promise)
    const upstream = request(ECHO_KIND, [{ type: 'text', value: 'upstream' }], { params: { gate: ['chain'] } })
    const downstream = request(ECHO_KIND, [{ type: 'job', value: upstream.id }])
    const downstreamResult = resultOf(downstream.id)
    await send(upstream)
    await send(downstream)
    await waitForJob(dvm.agent, dvm.jobLog, downstream.id, (state) => state.waitingFor !== undefined)
    expect(dvm.jobLog.state(downstream.id)).toMatchObject({ status: 'assigned', waitingFor: { jobIds: [upstream.id] } })
    first.open()
    expect((await downstreamResult).content).toBe('echo: echo: upstream')
  })

  it('cancels a running job on a NIP-09 deletion and never publishes its result', async () => {
    const held = gate()
    gates.set('cancel', held.promise)
    const job = request(ECHO_KIND, [{ type: 'text', value: 'doomed' }], { params: { gate: ['cancel'] } })
    await send(job)
    await waitForJob(dvm.agent, dvm.jobLog, job.id, 'executing')
    await requester.publish(buildDeletion({ ids: [job.id], kinds: [ECHO_KIND], reason: 'changed my mind', createdAt: now() }))
    await waitForJob(dvm.agent, dvm.jobLog, job.id, 'cancelled')
    held.open()
    await new Promise((r) => setTimeout(r, 200))
    expect(await requester.query([{ kinds: [ECHO_KIND + 1000], '#e': [job.id] }])).toEqual([])
    expect(dvm.jobLog.state(job.id)).toMatchObject({ status: 'cancelled', cancelReason: 'deleted by the requester: changed my mind' })
  })

  it('ignores requests addressed to another DVM and deletions by someone else', async () => {
    const other = request(ECHO_KIND, [{ type: 'text', value: 'not for you' }], { targets: ['e'.repeat(64)] })
    await send(other)
    const open = request(ECHO_KIND, [{ type: 'text', value: 'for anyone' }])
    const result = resultOf(open.id)
    await send(open)
    await result
    expect(dvm.jobLog.has(other.id)).toBe(false)
  })

  it('refuses a bid below the price with the price in the error feedback', async () => {
    const job = request(PRICED_KIND, [{ type: 'text', value: 'cheap' }], { bidMsats: 10 })
    const error = feedbackOf(job.id, 'error')
    await send(job)
    const feedback = await error
    expect(feedback.tags.find((t) => t[0] === 'status')?.[2]).toBe('the bid of 10 msats is below the price of 5000 msats')
    expect(feedback.tags.find((t) => t[0] === 'amount')?.[1]).toBe('5000')
  })

  it('holds expensive jobs for approval; approving over HTTP runs them, rejecting tells the requester', async () => {
    const approved = request(PRICED_KIND, [{ type: 'text', value: 'worth it' }])
    const rejected = request(PRICED_KIND, [{ type: 'text', value: 'not worth it' }])
    const waiting = feedbackOf(approved.id, 'processing')
    await send(approved)
    await send(rejected)
    expect((await waiting).tags.find((t) => t[0] === 'status')?.[2]).toBe('waiting for operator approval')
    await waitForJob(approver.agent, approver.jobLog, rejected.id, 'awaiting-approval')

    const list = (await (await fetch(`${http.url}/api/approvals`)).json()) as { approvals: { id: string }[] }
    expect(list.approvals.map((a) => a.id).sort()).toEqual([approved.id, rejected.id].sort())

    const unsigned = await fetch(`${http.url}/api/approvals/${approved.id}/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(unsigned.status).toBe(401)
    const notJson = await fetch(`${http.url}/api/approvals/${approved.id}/approve`, operatorPost(`${http.url}/api/approvals/${approved.id}/approve`, '', ''))
    expect(notJson.status).toBe(415)

    const result = resultOf(approved.id, PRICED_KIND)
    const ok = await fetch(`${http.url}/api/approvals/${approved.id}/approve`, operatorPost(`${http.url}/api/approvals/${approved.id}/approve`, '{"by":"alice"}'))
    expect(ok.status).toBe(200)
    expect((await result).content).toBe('echo: worth it')
    expect(approver.jobLog.state(approved.id)?.approval).toMatchObject({ decision: 'approved', by: `http:${npubEncode(getPublicKey(operatorKey))}:alice` })

    const again = await fetch(`${http.url}/api/approvals/${approved.id}/approve`, operatorPost(`${http.url}/api/approvals/${approved.id}/approve`, '{}'))
    expect(again.status).toBe(409)

    const error = feedbackOf(rejected.id, 'error')
    const no = await fetch(`${http.url}/api/approvals/${rejected.id}/reject`, operatorPost(`${http.url}/api/approvals/${rejected.id}/reject`, '{"reason":"too pricey"}'))
    expect(no.status).toBe(200)
    expect((await error).tags.find((t) => t[0] === 'status')?.[2]).toBe('rejected by the operator: too pricey')
  })

  it('serves agents, jobs, one job with its log, health and metrics over HTTP', async () => {
    const agentsBody = (await (await fetch(`${http.url}/api/agents`)).json()) as { agents: { pubkey: string; capabilities: { available: boolean }[] }[] }
    expect(agentsBody.agents.map((a) => a.pubkey)).toEqual([dvm.agent.pubkey, approver.agent.pubkey])
    const jobs = (await (await fetch(`${http.url}/api/jobs?status=completed&limit=5`)).json()) as { jobs: { id: string; status: string }[] }
    expect(jobs.jobs.length).toBeGreaterThan(0)
    expect(jobs.jobs.every((j) => j.status === 'completed')).toBe(true)
    const one = (await (await fetch(`${http.url}/api/jobs/${jobs.jobs[0].id}`)).json()) as { facts: { type: string }[] }
    expect(one.facts.map((f) => f.type)).toEqual(expect.arrayContaining(['posted', 'completed']))
    expect((await fetch(`${http.url}/api/jobs?status=bogus`)).status).toBe(400)
    expect((await fetch(`${http.url}/api/jobs/${'0'.repeat(64)}`)).status).toBe(404)
    expect((await fetch(`${http.url}/healthz`)).status).toBe(200)
    expect(await (await fetch(`${http.url}/metrics`)).text()).toContain('timmy_jobs_running')
    const rebinding = await new Promise<number>((resolve, reject) =>
      httpGet(`${http.url}/api/agents`, { headers: { host: 'evil.example' } }, (res) => (res.resume(), resolve(res.statusCode!))).on('error', reject),
    )
    expect(rebinding).toBe(421)
  })

  it('takes over a job claimed by an agent whose heartbeat is too old', async () => {
    const stuck = gate()
    const stuckGates = new Map([['stuck', stuck.promise]])
    const dying = await startTestAgent(relay.url, [echoCapability({ kind: TAKEOVER_KIND, gates: stuckGates })], { name: 'dying' })
    agents.push(dying)
    const job = request(TAKEOVER_KIND, [{ type: 'text', value: 'orphan' }], { params: { gate: ['stuck'] }, targets: [dying.agent.pubkey] })
    await send(job)
    await waitForJob(dying.agent, dying.jobLog, job.id, 'executing')

    // The rescuer's clock runs 200 s ahead: the dying agent's heartbeat (every 30 s) looks 200 s
    // old. Its first heartbeat round, at start, finds the orphan.
    const result = requester.waitFor([{ kinds: [TAKEOVER_KIND + 1000], '#e': [job.id] }])
    const rescuer = await startTestAgent(relay.url, [echoCapability({ kind: TAKEOVER_KIND })], { name: 'rescuer', clock: () => Date.now() + 200_000 })
    agents.push(rescuer)
    const answer = await result
    expect(answer.pubkey).toBe(rescuer.agent.pubkey)
    expect(answer.content).toBe('echo: orphan')
    expect(rescuer.jobLog.state(job.id)).toMatchObject({ status: 'completed', takeoverFrom: dying.agent.pubkey })
    expect(await rescuer.agent.takeOverOrphans()).toBe(0)
    stuck.open()
  })

  it('emits only events that validate against the published schemas', async () => {
    const authors = agents.map((a) => a.agent.pubkey)
    const events = await requester.query([{ authors }])
    const kinds = new Set(events.map((e) => e.kind))
    for (const kind of [0, 7000, 10002, 11998, 31990, ECHO_KIND + 1000]) expect(kinds).toContain(kind)
    for (const event of events) expectValidAgainstSchema(event)
    const profile = events.find((e) => e.kind === 0 && e.pubkey === dvm.agent.pubkey)!
    expect(JSON.parse(profile.content)).toMatchObject({ name: 'test', bot: true })
  })
})
