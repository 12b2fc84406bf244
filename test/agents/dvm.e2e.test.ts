import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildJobRequest, decryptJobContent, encryptJobRequest, parseJobResult } from '../../nips/90.js'
import type { RunningRelay } from '../../relay/index.js'
import { ECHO_KIND, echoCapability, startTestAgent, startTestRelay, statusOf, TestRequester, type TestAgent } from './helpers.js'

describe('agent end to end on the embedded relay', () => {
  let relay: RunningRelay
  let dvm: TestAgent
  let requester: TestRequester

  beforeAll(async () => {
    relay = await startTestRelay()
    dvm = await startTestAgent(relay.url, [echoCapability()])
    requester = await TestRequester.create([relay.url])
  })

  afterAll(async () => {
    requester.close()
    await dvm.agent.stop()
    await relay.close()
  })

  it('answers a plain request with processing feedback and a result', async () => {
    const request = requester.sign(buildJobRequest({ kind: ECHO_KIND, inputs: [{ type: 'text', value: 'hello' }], createdAt: Math.floor(Date.now() / 1000) }))
    const result = requester.waitFor([{ kinds: [ECHO_KIND + 1000], '#e': [request.id] }])
    const processing = requester.waitFor([{ kinds: [7000], '#e': [request.id] }], (e) => statusOf(e) === 'processing')
    await requester.pool.publish(requester.relays, request)
    expect((await processing).pubkey).toBe(dvm.agent.pubkey)
    const answer = await result
    expect(answer.content).toBe('echo: hello')
    expect(parseJobResult(answer).requestId).toBe(request.id)
  })

  it('answers an encrypted request with an encrypted result', async () => {
    const template = buildJobRequest({ kind: ECHO_KIND, inputs: [{ type: 'text', value: 'secret words' }], createdAt: Math.floor(Date.now() / 1000) })
    const request = requester.sign(encryptJobRequest(template, requester.secretKey, dvm.agent.pubkey))
    const result = requester.waitFor([{ kinds: [ECHO_KIND + 1000], '#e': [request.id] }])
    await requester.pool.publish(requester.relays, request)
    const answer = await result
    expect(answer.content).not.toContain('secret words')
    expect(answer.tags.some((t) => t[0] === 'encrypted')).toBe(true)
    expect(decryptJobContent(answer, requester.secretKey)).toBe('echo: secret words')
  })
})
