// NIP-90 job round trip through a relay: a requester signs and publishes a kind 5001 request, one
// agent (the built-in summarize capability, its job log in a SQLite file) answers, the requester
// receives and verifies the result. Measured plain and NIP-44 encrypted, one job at a time (p50,
// p95), then how many jobs per second one agent sustains when requests arrive all at once.
// Each relay runs in its own process (relays.ts); agent and requester share this one.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { generateSecretKey, getPublicKey, type NostrEvent } from '../../nips/01.js'
import { buildJobRequest, decryptJobContent, encryptJobRequest, parseJobResult } from '../../nips/90.js'
import { createSummarizeCapability } from '../../agents/capabilities/summarize.js'
import { loadEventCrypto, type EventCrypto } from '../../agents/crypto.js'
import { JobLog } from '../../agents/joblog.js'
import { RelayPool } from '../../agents/pool.js'
import { Agent } from '../../agents/runtime.js'
import { formatMs, formatRate, markdownTable, medianOfSummaries, median, summarizeLatencies, type BenchContext, type BenchSection, type LatencySummary } from './harness.js'
import { benchRelays, type BenchRelay } from './relays.js'

const SEQUENTIAL_JOBS = 200
const WARMUP_JOBS = 20
const BURST_JOBS = 500
const TEXT =
  'Nostr is a simple open protocol. Relays store events and pass them on. Clients sign events with their keys. ' +
  'Data vending machines take job requests and sell the results for sats. Nobody needs permission to run one.'

interface RunResult {
  plain: LatencySummary
  encrypted: LatencySummary
  /** Request entering the agent's log to its result being committed, ms (from the job log). */
  agentInternal: LatencySummary
  jobsPerSecond: number
}

class Requester {
  readonly secretKey = generateSecretKey()
  readonly pubkey = getPublicKey(this.secretKey)
  private readonly pending = new Map<string, (result: NostrEvent) => void>()
  private readonly pool: RelayPool
  private sent = 0

  constructor(
    private readonly relay: string,
    private readonly crypto: EventCrypto,
  ) {
    this.pool = new RelayPool({ verify: (e) => crypto.verify(e), signAuth: (t) => crypto.sign(t, this.secretKey) })
    this.pool.subscribe([relay], [{ kinds: [6001], '#p': [this.pubkey], since: Math.floor(Date.now() / 1000) - 5 }], {
      onevent: (event) => {
        const requestId = parseJobResult(event).requestId
        this.pending.get(requestId)?.(event)
        this.pending.delete(requestId)
      },
    })
  }

  /** Signs, publishes and resolves with the verified (and, when encrypted, decrypted) result content. */
  async job(encryptTo?: string): Promise<string> {
    // Numbered, so that two requests signed in the same second are two events.
    let template = buildJobRequest({ kind: 5001, inputs: [{ type: 'text', value: `${TEXT} This is job ${++this.sent}.` }], params: { length: ['2'] }, createdAt: Math.floor(Date.now() / 1000) })
    if (encryptTo) template = encryptJobRequest(template, this.secretKey, encryptTo)
    const request = this.crypto.sign(template, this.secretKey)
    const result = new Promise<NostrEvent>((resolve) => this.pending.set(request.id, resolve))
    const outcomes = await this.pool.publish([this.relay], request)
    if (!outcomes[0].ok) throw new Error(`request refused: ${outcomes[0].message}`)
    const event = await result
    return encryptTo ? decryptJobContent(event, this.secretKey) : event.content
  }

  close(): void {
    this.pool.close()
  }
}

async function timeJobs(count: number, job: () => Promise<string>): Promise<number[]> {
  const samples: number[] = []
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    const content = await job()
    samples.push(performance.now() - started)
    if (!content) throw new Error('empty result')
  }
  return samples
}

async function measure(relay: BenchRelay, crypto: EventCrypto, ctx: BenchContext): Promise<RunResult> {
  const running = await relay.start()
  const dir = mkdtempSync(path.join(os.tmpdir(), 'timmy-bench-dvm-'))
  const jobLog = JobLog.open(path.join(dir, 'jobs.db'))
  const agent = new Agent({
    name: 'bench-summarize',
    secretKey: generateSecretKey(),
    capabilities: [createSummarizeCapability()],
    relays: [running.url],
    jobLog,
    crypto,
    // One requester sends every job here: lift the per-requester limits (agents/limits.ts) that would
    // otherwise, rightly, throttle it after a burst of 20.
    limits: { ratePerMinute: 1_000_000, burst: 1_000_000, maxConcurrentJobs: 1_000_000 },
  })
  const requester = new Requester(running.url, crypto)
  try {
    await agent.start()
    await timeJobs(WARMUP_JOBS, () => requester.job())
    ctx.log(`dvm ${relay.name}: ${SEQUENTIAL_JOBS} plain jobs`)
    const plain = await timeJobs(SEQUENTIAL_JOBS, () => requester.job())
    ctx.log(`dvm ${relay.name}: ${SEQUENTIAL_JOBS} encrypted jobs`)
    const encrypted = await timeJobs(SEQUENTIAL_JOBS, () => requester.job(agent.pubkey))
    const internal = jobLog
      .jobs({ status: ['completed'], limit: SEQUENTIAL_JOBS * 2 + WARMUP_JOBS })
      .map((job) => job.updatedAt - job.postedAt)
    ctx.log(`dvm ${relay.name}: ${BURST_JOBS} jobs at once`)
    const burstStart = performance.now()
    await Promise.all(Array.from({ length: BURST_JOBS }, () => requester.job()))
    const jobsPerSecond = BURST_JOBS / ((performance.now() - burstStart) / 1000)
    return { plain: summarizeLatencies(plain), encrypted: summarizeLatencies(encrypted), agentInternal: summarizeLatencies(internal), jobsPerSecond }
  } finally {
    requester.close()
    await agent.stop()
    jobLog.close()
    await running.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The `dvm` section body: one table row per relay found (ours; strfry when its binary is there). */
export async function runDvmBenchmark(ctx: BenchContext): Promise<string> {
  const { relays, missing } = benchRelays()
  const crypto = await loadEventCrypto()
  const rows: string[][] = []
  for (const relay of relays) {
    const runs: RunResult[] = []
    for (let i = 0; i < ctx.runs; i++) runs.push(await measure(relay, crypto, ctx))
    const plain = medianOfSummaries(runs.map((r) => r.plain))
    const encrypted = medianOfSummaries(runs.map((r) => r.encrypted))
    const internal = medianOfSummaries(runs.map((r) => r.agentInternal))
    rows.push([
      relay.name,
      `${formatMs(plain.p50)} / ${formatMs(plain.p95)}`,
      `${formatMs(encrypted.p50)} / ${formatMs(encrypted.p95)}`,
      `${formatMs(internal.p50)} / ${formatMs(internal.p95)}`,
      formatRate(median(runs.map((r) => r.jobsPerSecond))),
    ])
  }
  return [
    markdownTable(['relay', 'round trip plain, p50 / p95 ms', 'round trip NIP-44, p50 / p95 ms', 'inside the agent, p50 / p95 ms', 'jobs/s, one agent'], rows),
    '',
    `Round trip: request signed and published → result received and verified (${SEQUENTIAL_JOBS} sequential kind 5001 summarize jobs each, after ${WARMUP_JOBS} warm-up jobs; median over ${ctx.runs} runs). ` +
      'Inside the agent: request committed to the job log → result committed with its outbox entry (a SQLite file in WAL mode), taken from the job log. ' +
      `Jobs/s: ${BURST_JOBS} requests published at once, until the last result arrived; default settings (4 jobs at a time) except the per-requester limits, lifted because one requester sends every job. ` +
      'Each job sends processing feedback, the result and success feedback. Anchors (shared/ANCHORS.md): 207 ms p50 through strfry, 14 ms through a small in-memory JS relay.',
    ...(missing.length ? ['', `Not measured: ${missing.join('; ')}.`] : []),
  ].join('\n')
}

export const dvmSection: BenchSection = { id: 'dvm', title: 'NIP-90 job round trip (DVM agent)', run: runDvmBenchmark }
