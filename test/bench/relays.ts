// The relays under test, each in its own process on an ephemeral loopback port with a fresh database in a temp
// dir: ours (relay-child.js) and, when a binary is found, strfry as the same-run baseline.
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import type { NostrEvent } from '../../nips/01.js'
import { sleep } from './harness.js'

export interface RunningBenchRelay {
  url: string
  /** Time to put the pre-load events in the database, ms (0 without pre-load). */
  preloadMs: number
  close: () => Promise<void>
}

export interface BenchRelay {
  name: string
  /** `preload`: a JSONL file of events to put in the database before the relay starts listening. */
  start: (options?: { preload?: string }) => Promise<RunningBenchRelay>
}

export const OUR_RELAY_NAME = 'timmy'
export const STRFRY_NAME = 'strfry'

/** Our relay when it is built, then strfry when its binary is found; `missing` says why one is absent. */
export function benchRelays(): { relays: BenchRelay[]; missing: string[] } {
  const relays: BenchRelay[] = []
  const missing: string[] = []
  const ourEntry = fileURLToPath(new URL('../../relay/index.js', import.meta.url))
  if (existsSync(ourEntry)) relays.push(ourRelay())
  else missing.push(`${OUR_RELAY_NAME}: relay/index.js is not built (no startRelay yet)`)
  const strfryBin = findStrfry()
  if (strfryBin) relays.push(strfry(strfryBin))
  else missing.push(`${STRFRY_NAME}: no binary (set STRFRY_BIN, or build it in $TMPDIR/scratch/strfry)`)
  return { relays, missing }
}

function findStrfry(): string | undefined {
  if (process.env.STRFRY_BIN) {
    if (!existsSync(process.env.STRFRY_BIN)) throw new Error(`STRFRY_BIN=${process.env.STRFRY_BIN} does not exist`)
    return process.env.STRFRY_BIN
  }
  const scratchBuild = path.join(os.tmpdir(), 'scratch', 'strfry', 'strfry')
  return existsSync(scratchBuild) ? scratchBuild : undefined
}

function ourRelay(): BenchRelay {
  const childScript = fileURLToPath(new URL('./relay-child.js', import.meta.url))
  // e.g. BENCH_RELAY_NODE_ARGS="--cpu-prof --cpu-prof-dir=/some/dir" to profile the relay process only.
  const nodeArgs = (process.env.BENCH_RELAY_NODE_ARGS ?? '').split(' ').filter(Boolean)
  return {
    name: OUR_RELAY_NAME,
    async start(options = {}) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'timmy-bench-relay-'))
      const args = [...nodeArgs, childScript, path.join(dir, 'relay.db'), ...(options.preload ? [options.preload] : [])]
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      const stderr = collectOutput(child)
      try {
        const line = await firstStdoutLine(child, 180_000)
        const { url, preloadMs } = JSON.parse(line) as { url: string; preloadMs: number }
        return { url, preloadMs, close: () => stopProcess(child, dir) }
      } catch (err) {
        await stopProcess(child, dir)
        throw new Error(`our relay did not start: ${(err as Error).message}\n${stderr()}`)
      }
    },
  }
}

function strfry(binary: string): BenchRelay {
  return {
    name: STRFRY_NAME,
    async start(options = {}) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'timmy-bench-strfry-'))
      const dbDir = path.join(dir, 'db')
      mkdirSync(dbDir)
      const port = await freeLoopbackPort()
      const configFile = path.join(dir, 'strfry.conf')
      writeFileSync(configFile, strfryConfig(dbDir, port))
      let preloadMs = 0
      if (options.preload) {
        try {
          preloadMs = await strfryImport(binary, configFile, options.preload)
        } catch (err) {
          rmSync(dir, { recursive: true, force: true })
          throw err
        }
      }
      const child = spawn(binary, [`--config=${configFile}`, 'relay'], { stdio: ['ignore', 'ignore', 'pipe'] })
      const stderr = collectOutput(child)
      const url = `ws://127.0.0.1:${port}`
      try {
        await waitUntilAccepting(url, child, 15_000)
      } catch (err) {
        await stopProcess(child, dir)
        throw new Error(`strfry did not start: ${(err as Error).message}\n${stderr()}`)
      }
      return { url, preloadMs, close: () => stopProcess(child, dir) }
    },
  }
}

/** strfry's defaults, except: loopback, our port, a temp db, no NOFILES change, compression off like ours. */
function strfryConfig(dbDir: string, port: number): string {
  return `db = "${dbDir}/"
relay {
    bind = "127.0.0.1"
    port = ${port}
    nofiles = 0
    compression {
        enabled = false
    }
}
`
}

/** `strfry import --no-verify` of a JSONL file (our pre-load skips signature checks too); returns its duration in ms. */
async function strfryImport(binary: string, configFile: string, jsonlFile: string): Promise<number> {
  const input = openSync(jsonlFile, 'r')
  const started = performance.now()
  try {
    const child = spawn(binary, [`--config=${configFile}`, 'import', '--no-verify'], { stdio: [input, 'ignore', 'pipe'] })
    const stderr = collectOutput(child)
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', resolve)
    })
    if (code !== 0) throw new Error(`strfry import exited with ${code}: ${stderr()}`)
  } finally {
    closeSync(input)
  }
  return performance.now() - started
}

export function writeJsonl(events: readonly NostrEvent[]): { file: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'timmy-bench-jsonl-'))
  const file = path.join(dir, 'events.jsonl')
  writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n') + '\n')
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

async function waitUntilAccepting(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`)
    try {
      const socket = await openSocket(url)
      socket.close()
      return
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(50)
    }
  }
}

function collectOutput(child: ChildProcess): () => string {
  let text = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-4000)
  })
  return () => text
}

function firstStdoutLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    const timer = setTimeout(() => reject(new Error(`no output within ${timeoutMs} ms`)), timeoutMs)
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      const newline = buffered.indexOf('\n')
      if (newline === -1) return
      clearTimeout(timer)
      resolve(buffered.slice(0, newline))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`exited with ${code}`))
    })
  })
}

async function stopProcess(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    const forced = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(forced)
  }
  rmSync(dir, { recursive: true, force: true })
}

/** A client socket without permessage-deflate, so neither relay spends time compressing. */
export function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { perMessageDeflate: false })
    socket.once('open', () => {
      socket.off('error', reject)
      resolve(socket)
    })
    socket.once('error', reject)
  })
}
