// `timmy reputation` against the embedded relay on an ephemeral loopback port.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Command } from 'commander'
import WebSocket from 'ws'
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool'
import { generateSecretKey, getPublicKey, type NostrEvent } from '../../nips/01.js'
import { npubEncode } from '../../nips/19.js'
import { buildJobOutcomeLabel } from '../../nips/32.js'
import { startRelay, type RunningRelay } from '../../relay/index.js'
import { loadEventCrypto } from '../crypto.js'
import { registerReputationCommands } from './cli.js'

let relay: RunningRelay
const key = () => {
  const sk = generateSecretKey()
  return { sk, pk: getPublicKey(sk) }
}
const root = key()
const friend = key()
const stranger = key()
const agent = key()

beforeAll(async () => {
  relay = await startRelay({ port: 0, dbPath: ':memory:', config: { verifierThreads: 0 } })
  const crypto = await loadEventCrypto()
  const now = Math.floor(Date.now() / 1000)
  const label = (by: { sk: Uint8Array }, job: string, kind: number, quality: number) =>
    crypto.sign(buildJobOutcomeLabel({ agent: agent.pk, job: job.repeat(64), kind, outcome: 'success', quality, createdAt: now - 60 }), by.sk)
  const events: NostrEvent[] = [
    crypto.sign({ kind: 3, created_at: now - 120, tags: [['p', friend.pk]], content: '' }, root.sk),
    label(friend, 'a', 5001, 5),
    label(friend, 'b', 5100, 4),
    label(stranger, 'c', 5001, 1),
  ]
  useWebSocketImplementation(WebSocket)
  const pool = new SimplePool()
  try {
    for (const event of events) await Promise.all(pool.publish([relay.url], event))
  } finally {
    pool.destroy()
  }
})

afterAll(async () => {
  await relay?.close()
})

async function run(args: string[]): Promise<string> {
  // Commander would print the parse error too; the test reads it from the rejection.
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} })
  registerReputationCommands(program)
  let out = ''
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  try {
    await program.parseAsync(['node', 'timmy', 'reputation', ...args])
  } finally {
    write.mockRestore()
  }
  return out
}

describe('timmy reputation', () => {
  it('prints the score per capability with its evidence', async () => {
    const out = await run([npubEncode(agent.pk), '--relay', relay.url, '--trust-root', npubEncode(root.pk), '--kind', '5001'])
    expect(out).toContain(`agent      ${npubEncode(agent.pk)}`)
    expect(out).toContain('(1 follows and follows of follows)')
    expect(out).toMatch(/^overall\s+0\.\d{3} {2}\(2 labels; trusted weight 2\.000/m)
    expect(out).toMatch(/^kind 5001\s+0\.\d{3} {2}\(1 labels/m)
    expect(out).toMatch(/^kind 5100\s+0\.\d{3} {2}\(1 labels/m)
    expect(out).toContain(npubEncode(friend.pk))
    expect(out).toMatch(/1 {2}no trust path and no verified payment/)
    expect(out).toContain("zaps       no key for this agent's zap receipts")
  })

  it('prints JSON, and without a trust root counts nobody unpaid', async () => {
    const summary = JSON.parse(await run([agent.pk, '--relay', relay.url, '--json', '--kind', '5300']))
    expect(summary).toMatchObject({ agent: agent.pk, trustRoot: null, evidenceCount: 0, kind: { kind: 5300, scope: 'overall' } })
    expect(summary.ignored).toEqual({ 'no trust path and no verified payment': 3 })
    expect(summary.zaps).toEqual({ zapper: null, receipts: 0, payments: 0, rejected: {} })
  })

  it('refuses a secret key where a public key belongs', async () => {
    await expect(run([agent.pk, '--relay', relay.url, '--trust-root', 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5'])).rejects.toThrow('secret key')
  })
})
