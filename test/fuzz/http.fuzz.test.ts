// The agent host's HTTP API under hostile requests, sent as raw bytes so that malformed request
// lines reach the server: it always answers below 500, and an operator route never succeeds
// without a valid NIP-98 signature.
import { connect } from 'node:net'
import fc from 'fast-check'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpApi, type RunningHttpApi } from '../../agents/http.js'
import { silentLogger } from '../../agents/logger.js'
import type { Agent } from '../../agents/runtime.js'
import type { JobState } from '../../agents/state.js'
import { generateSecretKey, getPublicKey } from '../../nips/01.js'
import { loadCorpus } from './corpus.js'
import { fuzzRuns } from './runs.js'

const JOB = '0'.repeat(64)

function fakeAgent(): Agent {
  const state = { id: JOB, status: 'awaiting-approval', request: { id: JOB, kind: 5001, pubkey: 'c'.repeat(64) }, spec: { inputs: [], params: {}, relays: [] }, attempts: 0, postedAt: 0, updatedAt: 0 } as unknown as JobState
  return {
    name: 'fake',
    pubkey: 'd'.repeat(64),
    status: () => ({ running: true }),
    jobLog: { state: (id: string) => (id === JOB ? state : undefined), jobs: () => [state], facts: () => [], effectsOf: () => [] },
    approve: () => {
      throw new Error('an unauthenticated request reached approve()')
    },
    reject: () => {
      throw new Error('an unauthenticated request reached reject()')
    },
  } as unknown as Agent
}

/** Sends raw bytes and returns the status code of the answer (0 when the server closed without one). */
function raw(port: number, bytes: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (c) => chunks.push(c))
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? resolve(0) : reject(err)))
    socket.on('close', () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'))
      resolve(match ? Number(match[1]) : 0)
    })
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer in 5 s')))
    socket.end(bytes)
  })
}

describe('fuzz: HTTP API', () => {
  let api: RunningHttpApi
  beforeAll(async () => {
    api = await startHttpApi({ host: '127.0.0.1', port: 0, agents: [fakeAgent()], registry: new Registry(), log: silentLogger, operators: () => new Set([getPublicKey(generateSecretKey())]) })
  })
  afterAll(async () => {
    await api?.close()
  })

  const corpus = loadCorpus('http').map((line) => {
    const space = line.indexOf(' ')
    return { method: line.slice(0, space), path: line.slice(space + 1) }
  })
  const token = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ-'), minLength: 1, maxLength: 8 })
  const target = fc.oneof(
    fc.constantFrom(...corpus),
    fc.record({ method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'), token), path: fc.oneof(fc.webPath().map((p) => `/${p.replace(/^\//, '')}`), fc.constantFrom(`/api/approvals/${JOB}/approve`, `/api/approvals/${JOB}/reject`, `/api/jobs/${JOB}`, '/api/jobs', '/metrics'), fc.string({ maxLength: 60 }).map((s) => `/${s}`)) }),
  )
  const header = fc.oneof(
    fc.constantFrom('content-type: application/json', 'authorization: Nostr e30=', 'authorization: Nostr', 'transfer-encoding: chunked', 'content-length: -1', 'content-length: 99999999', 'expect: 100-continue', 'origin: https://evil.example', 'x-forwarded-host: evil.example'),
    fc.tuple(token, fc.string({ maxLength: 40 })).map(([name, value]) => `${name}: ${value}`),
  )
  const host = fc.oneof(fc.constantFrom('127.0.0.1', 'localhost', '[::1]', 'evil.example', '127.0.0.1.evil.example', ''), fc.string({ maxLength: 20 }))

  it('answers every hostile request below 500, and never runs an operator action unsigned', async () => {
    const seen = new Map<number, number>()
    await fc.assert(
      fc.asyncProperty(target, host, fc.array(header, { maxLength: 4 }), fc.oneof(fc.constant(''), fc.json(), fc.string({ maxLength: 200 })), async ({ method, path }, hostName, headers, body) => {
        const hostLine = hostName === '' ? '' : `host: ${hostName}:${api.port}\r\n`
        const request = `${method} ${path} HTTP/1.1\r\n${hostLine}${headers.map((h) => `${h}\r\n`).join('')}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`
        const status = await raw(api.port, Buffer.from(request, 'utf8'))
        seen.set(status, (seen.get(status) ?? 0) + 1)
        expect(status, request.slice(0, 300)).toBeLessThan(500)
        if (method === 'POST' && /^\/api\/approvals\/[0-9a-f]{64}\/(approve|reject)$/.test(path)) expect(status, request.slice(0, 300)).not.toBe(200)
      }),
      { numRuns: fuzzRuns(300) },
    )
    // Not vacuous: some requests were served, some refused.
    expect(seen.get(200) ?? 0).toBeGreaterThan(0)
    expect([...seen.keys()].some((s) => s >= 400)).toBe(true)
  })
})
