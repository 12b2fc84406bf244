// Restart safety: the relay runs as its own process (the built CLI), is killed with SIGKILL while
// events stream in, and restarted on the same database. Every event it answered `OK true` for must
// still be there. Also: SIGTERM closes it cleanly.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import type { NostrEvent } from '../../nips/01.js'
import { RawClient, keypair, nowSeconds, wasmSigner } from './helpers.js'

const cli = fileURLToPath(new URL('../../dist/bin/timmy.js', import.meta.url))
const relayBuilt = existsSync(cli) && existsSync(fileURLToPath(new URL('../../dist/relay/server.js', import.meta.url)))

const dir = mkdtempSync(join(tmpdir(), 'timmy-crash-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const dbPath = join(dir, 'relay.sqlite')
const configPath = join(dir, 'relay.json')
// One client on one IP publishes far faster than the default limits allow.
writeFileSync(configPath, JSON.stringify({ eventRatePerIp: { perSecond: 100000, burst: 100000 }, eventRatePerPubkey: { perSecond: 100000, burst: 100000 } }))

interface RelayProcess {
  child: ChildProcess
  url: string
  logs: Array<Record<string, unknown>>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

async function spawnRelay(): Promise<RelayProcess> {
  const child = spawn(process.execPath, [cli, 'relay', '--port', '0', '--db', dbPath, '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start; stderr: ${stderr}`)), 10_000)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>
      logs.push(entry)
      if (typeof entry.url === 'string' && String(entry.msg).startsWith('relay listening')) {
        clearTimeout(timer)
        resolve(entry.url)
      }
    })
    void exited.then(({ code }) => reject(new Error(`relay exited (${code}) before listening; stderr: ${stderr}`)))
  })
  return { child, url, logs, exited }
}

describe.skipIf(!relayBuilt)('relay process (dist/bin/timmy.js; run `npm run build` first)', () => {
  it('keeps every acknowledged event through kill -9 and restart', async () => {
    const sign = await wasmSigner()
    const authors = Array.from({ length: 5 }, keypair)
    const now = nowSeconds()
    const sent: NostrEvent[] = []
    const nextEvent = () => {
      const i = sent.length
      const e = sign({ kind: 1, tags: [['t', 'crash']], content: `event ${i}`, created_at: now - (i % 600) }, authors[i % authors.length].sk)
      sent.push(e)
      return e
    }

    const first = await spawnRelay()
    const client = await RawClient.connect(first.url)
    const acknowledged = new Set<string>()
    client.ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as unknown[]
      if (m[0] === 'OK' && m[2] === true) acknowledged.add(m[1] as string)
    })
    let killed = false
    const killAfter = 400
    const killedOnce = new Promise<void>((resolve) => {
      client.ws.on('message', () => {
        if (!killed && acknowledged.size >= killAfter) {
          killed = true
          first.child.kill('SIGKILL')
          resolve()
        }
      })
    })
    // Keeps publishing until the relay is killed, so the kill lands mid-stream.
    while (!killed && sent.length < 20_000) {
      for (let i = 0; i < 25; i++) client.send(['EVENT', nextEvent()])
      await new Promise((resolve) => setImmediate(resolve))
    }
    await killedOnce
    expect((await first.exited).signal).toBe('SIGKILL')
    client.ws.terminate()
    expect(acknowledged.size).toBeGreaterThanOrEqual(killAfter)

    const second = await spawnRelay()
    try {
      const reader = await RawClient.connect(second.url)
      const ids = [...acknowledged]
      const found = new Set<string>()
      for (let i = 0; i < ids.length; i += 500) {
        const { events: got, closed } = await reader.req(`chunk${i}`, { ids: ids.slice(i, i + 500) })
        expect(closed).toBeUndefined()
        for (const e of got) found.add(e.id)
      }
      expect(ids.filter((id) => !found.has(id))).toEqual([])
      // The store also holds nothing that is not one of the events sent.
      reader.send(['COUNT', 'all', { '#t': ['crash'] }])
      const [, , { count }] = (await reader.next((m) => m[0] === 'COUNT')) as [string, string, { count: number }]
      expect(count).toBeGreaterThanOrEqual(acknowledged.size)
      expect(count).toBeLessThanOrEqual(sent.length)
      await reader.close()
    } finally {
      second.child.kill('SIGTERM')
    }
    const { code } = await second.exited
    expect(code).toBe(0)
    expect(second.logs.some((l) => l.msg === 'relay closed')).toBe(true)
  }, 30_000)
})
