// `timmy start` in-process: embedded relay, agents from capabilities, HTTP API, identity events.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSummarizeCapability } from '../../agents/capabilities/summarize.js'
import { loadConfig } from '../../agents/config.js'
import { loadEventCrypto } from '../../agents/crypto.js'
import { startHost, type RunningHost } from '../../agents/host.js'
import { silentLogger } from '../../agents/logger.js'
import { discoverDvms, sendJob } from '../../agents/requester.js'
import { generateSecretKey } from '../../nips/01.js'
import { expectValidAgainstSchema } from '../helpers/schemata.js'
import { echoCapability, TestRequester } from './helpers.js'

describe('agent host', () => {
  let home: string
  let host: RunningHost

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'timmy-host-'))
    const config = loadConfig({
      env: {},
      overrides: {
        home,
        relayPort: 0,
        httpPort: 0,
        keyLogN: 4,
        agents: { summarize: { nip05: 'summarize@example.com', identities: [{ platform: 'github', identity: 'timmy-bot', proof: 'abc123' }] } },
      },
    })
    const unavailable = { ...echoCapability({ kind: 5905 }), id: 'needs-gpu', availability: async () => ({ ok: false as const, reason: 'no GPU here' }) }
    host = await startHost({ config, passphrase: 'host test', capabilities: [createSummarizeCapability(), unavailable], log: silentLogger })
  })

  afterAll(async () => {
    await host?.close()
    if (home) rmSync(home, { recursive: true, force: true })
  })

  it('runs one agent per capability with its own encrypted key and job log', () => {
    expect(host.agents.map((a) => a.name)).toEqual(['summarize', 'needs-gpu'])
    expect(new Set(host.agents.map((a) => a.pubkey)).size).toBe(2)
    expect(statSync(join(home, 'keys', 'summarize.json')).mode & 0o777).toBe(0o600)
    expect(statSync(join(home, 'agents', 'summarize', 'jobs.db')).isFile()).toBe(true)
    expect(host.relay.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
  })

  it('answers a job sent the way `timmy job` sends it', async () => {
    const { result } = await sendJob({
      kind: 5001,
      inputs: [{ type: 'text', value: 'The host runs a relay. It also runs agents. Agents answer jobs.' }],
      params: { length: ['1'] },
      relays: [host.relay.url],
      secretKey: generateSecretKey(),
      crypto: await loadEventCrypto(),
      timeoutMs: 10_000,
    })
    expect(result.from).toBe(host.agents[0].pubkey)
    expect(result.content.length).toBeGreaterThan(0)
  })

  it('announces available capabilities only, and says why the others are not', async () => {
    const dvms = await discoverDvms({ relays: [host.relay.url], crypto: await loadEventCrypto(), nowSeconds: Math.floor(Date.now() / 1000) })
    expect(dvms.map((d) => d.kinds)).toEqual([[5001]])
    expect(dvms[0]).toMatchObject({ id: 'summarize', encryptionSupported: true, heartbeat: { alive: true, status: 'online' } })
    const status = (await (await fetch(`${host.http.url}/api/agents`)).json()) as { agents: { name: string; capabilities: { available: boolean; reason?: string }[] }[] }
    expect(status.agents.find((a) => a.name === 'needs-gpu')?.capabilities).toEqual([expect.objectContaining({ available: false, reason: 'no GPU here' })])
  })

  it('publishes a bot profile with NIP-05, NIP-39 claims and a NIP-65 relay list', async () => {
    const requester = await TestRequester.create([host.relay.url])
    const pubkey = host.agents[0].pubkey
    const events = await requester.query([{ authors: [pubkey], kinds: [0, 10002, 10011] }])
    requester.close()
    const byKind = new Map(events.map((e) => [e.kind, e]))
    expect(JSON.parse(byKind.get(0)!.content)).toMatchObject({ name: 'summarize', bot: true, nip05: 'summarize@example.com' })
    expect(byKind.get(0)!.tags).toContainEqual(['i', 'github:timmy-bot', 'abc123'])
    expect(byKind.get(10011)!.tags).toEqual([['i', 'github:timmy-bot', 'abc123']])
    expect(byKind.get(10002)!.tags).toEqual([['r', host.relay.url]])
    for (const event of events) expectValidAgainstSchema(event)
  })

  it('serves health and Prometheus metrics', async () => {
    expect(await (await fetch(`${host.http.url}/healthz`)).json()).toMatchObject({ ok: true })
    const metrics = await (await fetch(`${host.http.url}/metrics`)).text()
    expect(metrics).toMatch(/timmy_jobs_finished_total\{agent="summarize",kind="5001",status="completed"\} 1/)
    expect(metrics).toContain('process_cpu_seconds_total')
  })
})
