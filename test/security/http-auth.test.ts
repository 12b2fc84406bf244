// The operator HTTP API: NIP-98 per request, an operator allowlist, replay refusal, CORS only on
// public GETs, and the loopback Host check. A fake agent stands in for the runtime: only the HTTP
// layer is under test here (test/agents/dvm.e2e.test.ts approves real jobs).
import { request as httpRequest } from 'node:http'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpApi, type RunningHttpApi } from '../../agents/http.js'
import { silentLogger } from '../../agents/logger.js'
import type { Agent } from '../../agents/runtime.js'
import type { JobState } from '../../agents/state.js'
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../nips/01.js'
import { buildHttpAuth, encodeAuthorizationHeader } from '../../nips/98.js'

const operatorKey = generateSecretKey()
const SECRET_JOB = 'e'.repeat(64)
const PLAIN_JOB = 'f'.repeat(64)

function fakeAgent(): Agent {
  const job = (id: string, encrypted: boolean) =>
    ({
      id,
      status: 'awaiting-approval',
      request: { id, kind: 5001, pubkey: 'c'.repeat(64), created_at: 0, tags: [], content: '', sig: '' },
      spec: { inputs: [{ type: 'text', value: encrypted ? 'the decrypted secret input' : 'public' }], params: {}, relays: [], ...(encrypted && { encryption: 'nip44' }) },
      attempts: 0,
      postedAt: 0,
      updatedAt: 0,
      partials: [],
    }) as unknown as JobState
  const jobs = new Map([
    [SECRET_JOB, job(SECRET_JOB, true)],
    [PLAIN_JOB, job(PLAIN_JOB, false)],
  ])
  return {
    name: 'fake',
    pubkey: 'd'.repeat(64),
    status: () => ({ running: true }),
    jobLog: { state: (id: string) => jobs.get(id), jobs: () => [...jobs.values()], facts: () => [], effectsOf: () => [] },
    approve: (id: string) => ({ ...jobs.get(id)!, status: 'assigned' }),
  } as unknown as Agent
}

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Record<string, unknown>
}

function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        resolve({ status: res.statusCode!, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} })
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

function signedPost(url: string, body: string, sk = operatorKey, createdAt = Math.floor(Date.now() / 1000)) {
  const auth = encodeAuthorizationHeader(finalizeEvent(buildHttpAuth({ url, method: 'POST', body, createdAt }), sk))
  return { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body }
}

describe('operator HTTP API', () => {
  let locked: RunningHttpApi
  let api: RunningHttpApi
  beforeAll(async () => {
    const common = { host: '127.0.0.1', port: 0, agents: [fakeAgent()], registry: new Registry(), log: silentLogger }
    locked = await startHttpApi(common)
    api = await startHttpApi({ ...common, operators: () => new Set([getPublicKey(operatorKey)]) })
  })
  afterAll(async () => {
    await locked?.close()
    await api?.close()
  })

  const approveUrl = (base: string) => `${base}/api/approvals/${PLAIN_JOB}/approve`

  it('with no operator configured, operator routes answer 403 explaining how to add one', async () => {
    const answer = await send(approveUrl(locked.url), signedPost(approveUrl(locked.url), '{}'))
    expect(answer.status).toBe(403)
    expect(answer.body.error).toMatch(/timmy operators add <npub>/)
  })

  it('401 with WWW-Authenticate: Nostr and a reason for missing, invalid, stale and replayed auth', async () => {
    const url = approveUrl(api.url)
    const missing = await send(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(missing.status).toBe(401)
    expect(missing.headers['www-authenticate']).toBe('Nostr')
    expect(missing.body.error).toMatch(/missing Authorization header/)

    const garbage = await send(url, { method: 'POST', headers: { authorization: 'Nostr !!!' }, body: '{}' })
    expect([garbage.status, garbage.body.error]).toEqual([401, expect.stringMatching(/must be "Nostr/)])

    const stale = await send(url, signedPost(url, '{}', operatorKey, Math.floor(Date.now() / 1000) - 600))
    expect([stale.status, stale.body.error]).toEqual([401, expect.stringMatching(/stale/)])

    const tampered = signedPost(url, '{}')
    const otherBody = await send(url, { ...tampered, body: '{"by":"mallory"}' })
    expect([otherBody.status, otherBody.body.error]).toEqual([401, expect.stringMatching(/payload tag does not match/)])

    const once = signedPost(url, '{"by":"ops"}')
    const first = await send(url, once)
    expect(first.status).toBe(200)
    const replay = await send(url, once)
    expect(replay.status).toBe(401)
    expect(replay.headers['www-authenticate']).toBe('Nostr')
    expect(replay.body.error).toMatch(/already used/)
  })

  it('403 for a valid signature by someone who is not an operator', async () => {
    const url = approveUrl(api.url)
    const answer = await send(url, signedPost(url, '{}', generateSecretKey()))
    expect(answer.status).toBe(403)
    expect(answer.body.error).toMatch(/is not an operator of this host/)
  })

  it('public GETs stay open with CORS for any origin; operator routes grant no CORS', async () => {
    for (const path of ['/healthz', '/api/agents', '/api/jobs', `/api/jobs/${PLAIN_JOB}`, '/api/approvals']) {
      const answer = await send(`${api.url}${path}`, { headers: { origin: 'https://some.site' } })
      expect(answer.status, path).toBe(200)
      expect(answer.headers['access-control-allow-origin'], path).toBe('*')
    }
    const preflightPublic = await send(`${api.url}/api/jobs`, { method: 'OPTIONS', headers: { origin: 'https://some.site', 'access-control-request-method': 'GET' } })
    expect(preflightPublic.headers['access-control-allow-origin']).toBe('*')
    const preflightOperator = await send(approveUrl(api.url), { method: 'OPTIONS', headers: { origin: 'https://some.site', 'access-control-request-method': 'POST' } })
    expect(preflightOperator.headers['access-control-allow-origin']).toBeUndefined()
    const url = approveUrl(api.url)
    const post = await send(url, signedPost(url, '{}'))
    expect(post.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('the details of an encrypted job (its decrypted inputs) need an operator', async () => {
    const url = `${api.url}/api/jobs/${SECRET_JOB}`
    const anonymous = await send(url)
    expect(anonymous.status).toBe(401)
    expect(JSON.stringify(anonymous.body)).not.toContain('decrypted secret')
    expect(anonymous.headers['access-control-allow-origin']).toBeUndefined()
    const auth = encodeAuthorizationHeader(finalizeEvent(buildHttpAuth({ url, method: 'GET', createdAt: Math.floor(Date.now() / 1000) }), operatorKey))
    const operator = await send(url, { headers: { authorization: auth } })
    expect(operator.status).toBe(200)
    expect(JSON.stringify(operator.body)).toContain('decrypted secret')
  })

  it('keeps the DNS-rebinding guard: a foreign Host header is refused before auth', async () => {
    const url = approveUrl(api.url)
    const answer = await send(url, { ...signedPost(url, '{}'), headers: { ...signedPost(url, '{}').headers, host: 'evil.example' } })
    expect(answer.status).toBe(421)
  })
})
