import { PassThrough, Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from '../nips/01.js'
import { resolveRelayConfig, type RelayConfig, type RelayLog } from './config.js'
import { defaultPolicies, rateLimitPolicies, type WritePolicy } from './policy.js'
import { runStrfryPlugin } from './strfry-plugin.js'

const NOW = 1_750_000_000
const sk = generateSecretKey()
const pk = getPublicKey(sk)
const note = (over: Partial<Pick<NostrEvent, 'kind' | 'tags' | 'content' | 'created_at'>> = {}) =>
  finalizeEvent({ kind: 1, tags: [], content: 'hello', created_at: NOW, ...over }, sk)

const request = (event: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'new', event, receivedAt: NOW, sourceType: 'IP4', sourceInfo: '203.0.113.7', ...extra })

async function run(lines: string[], policies?: WritePolicy[], config: RelayConfig = resolveRelayConfig({})) {
  const output = new PassThrough()
  const chunks: string[] = []
  output.on('data', (c: Buffer) => chunks.push(c.toString()))
  const problems: object[] = []
  const log: RelayLog = { debug() {}, info() {}, warn: (o) => problems.push(o), error: (o) => problems.push(o) }
  await runStrfryPlugin(Readable.from(lines.map((l) => `${l}\n`)), output, policies ?? defaultPolicies(config), () => NOW, { config, log })
  const text = chunks.join('')
  return { replies: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>), text, problems }
}

describe('runStrfryPlugin', () => {
  it('answers one minified JSON line per request, in order, echoing the event id', async () => {
    const ok = note()
    const future = note({ created_at: NOW + 3600 })
    const { replies, text } = await run([request(ok), request(future)])
    expect(replies).toEqual([
      { id: ok.id, action: 'accept', msg: '' },
      { id: future.id, action: 'reject', msg: expect.stringMatching(/^invalid: created_at/) },
    ])
    expect(text.endsWith('\n')).toBe(true)
    expect(text.split('\n')).toHaveLength(3)
  })

  it('passes shadowReject decisions through', async () => {
    const e = note()
    const { replies } = await run([request(e)], [() => ({ action: 'shadowReject', reason: 'blocked: quietly' })])
    expect(replies).toEqual([{ id: e.id, action: 'shadowReject', msg: 'blocked: quietly' }])
  })

  it('uses strfry\'s authed pubkey for NIP-70 protected events', async () => {
    const protectedNote = note({ tags: [['-']] })
    const { replies } = await run([request(protectedNote), request(protectedNote, { authed: pk })])
    expect(replies.map((r) => r.action)).toEqual(['reject', 'accept'])
    expect(replies[0].msg).toMatch(/^auth-required: /)
  })

  it('rate-limits client sources only, not imports or sync', async () => {
    const config = resolveRelayConfig({ eventRatePerIp: { perSecond: 1, burst: 1 } })
    const policies = [...defaultPolicies(config), ...rateLimitPolicies(config)]
    const e = note()
    const { replies } = await run(
      [request(e), request(e), request(e, { sourceType: 'Import', sourceInfo: '' }), request(e, { sourceType: 'Sync', sourceInfo: 'wss://other.example' })],
      policies,
      config,
    )
    expect(replies.map((r) => r.action)).toEqual(['accept', 'reject', 'accept', 'accept'])
    expect(replies[1].msg).toMatch(/^rate-limited: /)
  })

  it('rejects malformed requests it can name, logs the rest, and keeps going', async () => {
    const good = note()
    const badSig = { ...note(), sig: 'zz' }
    const { replies, problems } = await run([
      'not json at all',
      `{"type":"new","event":{"id":"${good.id}", broken`,
      '[1,2,3]',
      request(badSig),
      JSON.stringify({ type: 'lookup', event: good }),
      request({ kind: 1 }),
      '',
      request(good),
    ])
    expect(replies).toEqual([
      { id: good.id, action: 'reject', msg: 'invalid: plugin request is not valid JSON' },
      { id: badSig.id, action: 'reject', msg: 'invalid: sig must be 128 lowercase hex characters' },
      { id: good.id, action: 'reject', msg: 'error: unexpected request type "lookup"' },
      { id: good.id, action: 'accept', msg: '' },
    ])
    expect(problems.length).toBe(4)
  })

  it('turns a throwing policy into an internal-error reject', async () => {
    const e = note()
    const { replies } = await run([request(e)], [
      () => {
        throw new Error('boom')
      },
    ])
    expect(replies).toEqual([{ id: e.id, action: 'reject', msg: 'error: internal error' }])
  })
})
