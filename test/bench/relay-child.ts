// Runs our relay in its own process for the benchmarks, so that it does not share an event loop with the
// load generator (strfry gets its own process too). Usage:
//   node relay-child.js <dbPath> [preload.jsonl]
// Pre-loads the JSONL events straight into the store (no signature checks, like `strfry import --no-verify`),
// starts the relay on an ephemeral loopback port, prints one JSON line {url, preloadMs}, and closes on SIGTERM.
// BENCH_RELAY_CONFIG='{"verifierThreads":2}' merges config overrides over the benchmark's (to measure a change).
import { readFileSync } from 'node:fs'
import type { NostrEvent } from '../../nips/01.js'
import type { RelayConfig } from '../../relay/config.js'
import { startRelay } from '../../relay/index.js'
import { EventStore } from '../../relay/store.js'

const UNLIMITED = { perSecond: 1e9, burst: 1e9 }

/** The shipped defaults, except the per-IP/pubkey/connection rate limits: every benchmark client is 127.0.0.1. */
const BENCH_RELAY_CONFIG: Partial<RelayConfig> = {
  eventRatePerIp: UNLIMITED,
  eventRatePerPubkey: UNLIMITED,
  reqRatePerConnection: UNLIMITED,
  ...(JSON.parse(process.env.BENCH_RELAY_CONFIG ?? '{}') as Partial<RelayConfig>),
}

const PRELOAD_BATCH = 5000

async function main(): Promise<void> {
  const [dbPath, preloadFile] = process.argv.slice(2)
  if (!dbPath) throw new Error('usage: relay-child.js <dbPath> [preload.jsonl]')
  let preloadMs = 0
  if (preloadFile) {
    const started = performance.now()
    const events = readFileSync(preloadFile, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as NostrEvent)
    const store = EventStore.open(dbPath)
    const now = Math.floor(Date.now() / 1000)
    for (let i = 0; i < events.length; i += PRELOAD_BATCH) {
      const results = store.saveMany(events.slice(i, i + PRELOAD_BATCH), now)
      const refused = results.find((r) => !r.ok)
      if (refused) throw new Error(`pre-load refused an event: ${refused.message}`)
    }
    store.close()
    preloadMs = performance.now() - started
  }
  const relay = await startRelay({ host: '127.0.0.1', port: 0, dbPath, config: BENCH_RELAY_CONFIG })
  process.stdout.write(JSON.stringify({ url: relay.url, preloadMs }) + '\n')
  process.once('SIGTERM', () => {
    void relay.close().then(() => process.exit(0))
  })
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exit(1)
})
