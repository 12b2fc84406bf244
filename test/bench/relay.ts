// Relay benchmarks: ingest rate, REQ → EOSE latency over a 100k-event store, live delivery latency. Our relay and
// strfry run in the same process layout (each its own process, fresh temp database) and in the same run.
import type WebSocket from 'ws'
import type { Filter, NostrEvent } from '../../nips/01.js'
import { ingestEvents, LIVE_TAG, loadFixture, type BenchFixture } from './events.js'
import {
  formatMs,
  formatRate,
  formatRatio,
  markdownTable,
  median,
  medianOfSummaries,
  summarizeLatencies,
  type BenchContext,
  type BenchSection,
  type LatencySummary,
} from './harness.js'
import { benchRelays, openSocket, OUR_RELAY_NAME, STRFRY_NAME, writeJsonl, type BenchRelay } from './relays.js'

const INGEST_EVENTS = 20_000
const INGEST_CONNECTIONS = [1, 4]
const INGEST_TIMEOUT_MS = 120_000
const QUERIES_PER_TYPE = 50
const WARMUP_QUERIES = 60
const LIVE_SAMPLES = 50
const LIVE_WARMUP = 5

// Goals from the foundation issue, relative to strfry measured in the same run (live: absolute).
const INGEST_GOAL_SHARE = 2 / 3
const REQ_P95_GOAL_RATIO = 1.5
const LIVE_GOAL_MS = 1

export const relaySections: BenchSection[] = [
  { id: 'relay-ingest', title: `Relay ingest: ${INGEST_EVENTS.toLocaleString('en-US')} pre-signed kind-1 events, pipelined`, run: runIngest },
  { id: 'relay-req', title: 'Relay REQ → EOSE latency, 100k stored events, mixed queries', run: runReqLatency },
  { id: 'relay-live', title: 'Relay live delivery: publish sent → live subscriber receives the event', run: runLiveDelivery },
]

function relaysOrExplain(ctx: BenchContext): { relays: BenchRelay[]; notes: string[] } {
  const { relays, missing } = benchRelays()
  for (const reason of missing) ctx.log(`relay: not measured: ${reason}`)
  const notes = missing.map((reason) => `- Not measured: ${reason}.`)
  if (process.env.BENCH_RELAY_CONFIG) notes.push(`- Our relay ran with config overrides BENCH_RELAY_CONFIG=${process.env.BENCH_RELAY_CONFIG}.`)
  return { relays, notes }
}

// ---------------------------------------------------------------------------------------------------------------
// Ingest

interface IngestRun {
  eventsPerSecond: number
  rejected: Map<string, number>
}

async function runIngest(ctx: BenchContext): Promise<string> {
  const { relays, notes } = relaysOrExplain(ctx)
  const fixture = await loadFixture(ctx.log)
  const events = ingestEvents(fixture, INGEST_EVENTS)
  const runs = new Map<string, IngestRun[]>()
  for (const connections of INGEST_CONNECTIONS) {
    for (let run = 0; run < ctx.runs; run++) {
      // Interleaved, so that a noisy moment on the machine hits both relays alike.
      for (const relay of relays) {
        const running = await relay.start()
        try {
          const result = await ingestOnce(running.url, events, connections)
          ctx.log(`ingest ${relay.name} ${connections} conn run ${run + 1}: ${formatRate(result.eventsPerSecond)} events/s`)
          const key = `${relay.name}/${connections}`
          runs.set(key, [...(runs.get(key) ?? []), result])
        } finally {
          await running.close()
        }
      }
    }
  }

  const rows = INGEST_CONNECTIONS.map((connections) => {
    const rate = (name: string) => {
      const r = runs.get(`${name}/${connections}`)
      return r ? median(r.map((x) => x.eventsPerSecond)) : NaN
    }
    const perRun = (name: string) => runs.get(`${name}/${connections}`)?.map((x) => formatRate(x.eventsPerSecond)).join(' / ') ?? 'n/a'
    const ours = rate(OUR_RELAY_NAME)
    const theirs = rate(STRFRY_NAME)
    const met = Number.isFinite(ours) && Number.isFinite(theirs) ? (ours >= INGEST_GOAL_SHARE * theirs ? 'yes' : 'no') : 'n/a'
    return [String(connections), formatRate(ours), formatRate(theirs), formatRatio(ours, theirs), met,
      perRun(OUR_RELAY_NAME), perRun(STRFRY_NAME)]
  })
  const rejections = [...runs.entries()].flatMap(([key, list]) =>
    list.flatMap((r) => [...r.rejected.entries()].map(([reason, n]) => `- ${key}: ${n} events refused (${reason})`)))
  return [
    markdownTable(
      ['connections', `${OUR_RELAY_NAME} events/s`, `${STRFRY_NAME} events/s`, `${OUR_RELAY_NAME} / ${STRFRY_NAME}`,
        `goal ≥ ${INGEST_GOAL_SHARE.toFixed(2)}×`, `${OUR_RELAY_NAME} runs`, `${STRFRY_NAME} runs`],
      rows,
    ),
    '',
    `Median of ${ctx.runs} runs, each against a fresh relay with an empty file-backed database. The clock runs from the ` +
      'first EVENT sent to the last OK received; all events are sent at once (split evenly across the connections), ' +
      'without waiting for OKs. Our relay runs with its shipped defaults except the per-IP/pubkey rate limits ' +
      '(all load comes from 127.0.0.1); strfry with its defaults (compression off on both sides).',
    ...(rejections.length > 0 ? ['', ...rejections] : []),
    ...(notes.length > 0 ? ['', ...notes] : []),
  ].join('\n')
}

async function ingestOnce(url: string, events: readonly NostrEvent[], connections: number): Promise<IngestRun> {
  const sockets = await Promise.all(Array.from({ length: connections }, () => openSocket(url)))
  const perSocket = Math.ceil(events.length / connections)
  const batches = sockets.map((_, i) => events.slice(i * perSocket, (i + 1) * perSocket).map((e) => JSON.stringify(['EVENT', e])))
  const rejected = new Map<string, number>()
  let outstanding = events.length
  try {
    const started = performance.now()
    const finished = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ingest: ${outstanding} OKs missing after ${INGEST_TIMEOUT_MS} ms`)), INGEST_TIMEOUT_MS)
      for (const socket of sockets) {
        socket.on('message', (data: Buffer) => {
          const message = JSON.parse(data.toString()) as unknown[]
          if (message[0] !== 'OK') return
          if (message[2] !== true) {
            const reason = String(message[3]).split(':')[0] || 'no reason'
            rejected.set(reason, (rejected.get(reason) ?? 0) + 1)
          }
          if (--outstanding === 0) {
            clearTimeout(timer)
            resolve(performance.now())
          }
        })
        socket.once('close', () => {
          if (outstanding > 0) reject(new Error(`ingest: connection closed with ${outstanding} OKs missing`))
        })
      }
    })
    sockets.forEach((socket, i) => {
      for (const message of batches[i]) socket.send(message)
    })
    const ended = await finished
    return { eventsPerSecond: events.length / ((ended - started) / 1000), rejected }
  } finally {
    for (const socket of sockets) socket.terminate()
  }
}

// ---------------------------------------------------------------------------------------------------------------
// REQ → EOSE

interface NamedQuery {
  type: string
  filter: Filter
}

const QUERY_TYPES = [
  '{kinds:[1],limit:100}',
  '{authors:[x],limit:50}',
  '{"#e":[5 ids]}',
  '{kinds:[1],"#t":[x],limit:100}',
  '{kinds:[7],"#p":[x],limit:50}',
  '{ids:[10 ids]}',
] as const

/** Deterministic mix of the query shapes clients and agents send, `perType` of each, shuffled. */
function buildQueries(fixture: BenchFixture, perType: number, seed: number): NamedQuery[] {
  let state = seed >>> 0
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 4294967296
  }
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]
  const tagValues = (name: string) => [...new Set(fixture.stored.flatMap((e) => e.tags.filter((t) => t[0] === name).map((t) => t[1])))]
  const referenced = tagValues('e')
  const hashtags = tagValues('t')
  const shapes: Record<(typeof QUERY_TYPES)[number], () => Filter> = {
    '{kinds:[1],limit:100}': () => ({ kinds: [1], limit: 100 }),
    '{authors:[x],limit:50}': () => ({ authors: [pick(fixture.pubkeys)], limit: 50 }),
    '{"#e":[5 ids]}': () => ({ '#e': Array.from({ length: 5 }, () => pick(referenced)) }),
    '{kinds:[1],"#t":[x],limit:100}': () => ({ kinds: [1], '#t': [pick(hashtags)], limit: 100 }),
    '{kinds:[7],"#p":[x],limit:50}': () => ({ kinds: [7], '#p': [pick(fixture.pubkeys)], limit: 50 }),
    '{ids:[10 ids]}': () => ({ ids: Array.from({ length: 10 }, () => pick(fixture.stored).id) }),
  }
  const queries = QUERY_TYPES.flatMap((type) => Array.from({ length: perType }, () => ({ type, filter: shapes[type]() })))
  for (let i = queries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[queries[i], queries[j]] = [queries[j], queries[i]]
  }
  return queries
}

interface QueryTiming {
  type: string
  ms: number
  events: number
}

/** Sends one REQ at a time on one connection; the time runs from sending the REQ to receiving its EOSE. */
async function timeQueries(socket: WebSocket, queries: readonly NamedQuery[]): Promise<QueryTiming[]> {
  const timings: QueryTiming[] = []
  let pending: { prefix: string; eose: string; closed: string; events: number; resolve: () => void; reject: (e: Error) => void } | undefined
  const onMessage = (data: Buffer) => {
    if (!pending) return
    const text = data.toString()
    if (text.startsWith(pending.prefix)) pending.events++
    else if (text.startsWith(pending.eose)) pending.resolve()
    else if (text.startsWith(pending.closed)) pending.reject(new Error(`REQ refused: ${text}`))
  }
  socket.on('message', onMessage)
  try {
    for (let i = 0; i < queries.length; i++) {
      const subId = `q${i}`
      const done = new Promise<void>((resolve, reject) => {
        pending = { prefix: `["EVENT","${subId}"`, eose: `["EOSE","${subId}"`, closed: `["CLOSED","${subId}"`, events: 0, resolve, reject }
      })
      const started = performance.now()
      socket.send(JSON.stringify(['REQ', subId, queries[i].filter]))
      await done
      timings.push({ type: queries[i].type, ms: performance.now() - started, events: pending!.events })
      socket.send(JSON.stringify(['CLOSE', subId]))
    }
  } finally {
    socket.off('message', onMessage)
  }
  return timings
}

async function runReqLatency(ctx: BenchContext): Promise<string> {
  const { relays, notes } = relaysOrExplain(ctx)
  const fixture = await loadFixture(ctx.log)
  const jsonl = writeJsonl(fixture.stored)
  const perRelay = new Map<string, QueryTiming[][]>()
  const preload = new Map<string, number>()
  const running = []
  try {
    for (const relay of relays) {
      ctx.log(`req: pre-loading ${fixture.stored.length} events into ${relay.name}`)
      const started = await relay.start({ preload: jsonl.file })
      running.push({ relay, started })
      preload.set(relay.name, started.preloadMs)
    }
    for (let run = 0; run < ctx.runs; run++) {
      const queries = buildQueries(fixture, QUERIES_PER_TYPE, 1000 + run)
      for (const { relay, started } of running) {
        const socket = await openSocket(started.url)
        try {
          await timeQueries(socket, buildQueries(fixture, WARMUP_QUERIES / QUERY_TYPES.length, 7 + run))
          const timings = await timeQueries(socket, queries)
          perRelay.set(relay.name, [...(perRelay.get(relay.name) ?? []), timings])
          ctx.log(`req ${relay.name} run ${run + 1}: p50 ${formatMs(summarizeLatencies(timings.map((t) => t.ms)).p50)} ms`)
        } finally {
          socket.terminate()
        }
      }
    }
  } finally {
    await Promise.all(running.map(({ started }) => started.close()))
    jsonl.remove()
  }

  const types = ['mixed', ...QUERY_TYPES]
  const summarize = (name: string, type: string): { latency: LatencySummary; events: number } | undefined => {
    const runs = perRelay.get(name)
    if (!runs) return undefined
    const selected = runs.map((timings) => timings.filter((t) => type === 'mixed' || t.type === type))
    const all = selected.flat()
    return {
      latency: medianOfSummaries(selected.map((timings) => summarizeLatencies(timings.map((t) => t.ms)))),
      events: all.reduce((sum, t) => sum + t.events, 0) / all.length,
    }
  }
  const rows = types.map((type) => {
    const ours = summarize(OUR_RELAY_NAME, type)
    const theirs = summarize(STRFRY_NAME, type)
    const p95Ratio = ours && theirs ? ours.latency.p95 / theirs.latency.p95 : NaN
    const met = Number.isFinite(p95Ratio) ? (p95Ratio <= REQ_P95_GOAL_RATIO ? 'yes' : 'no') : 'n/a'
    const cell = (s: typeof ours) => (s ? `${formatMs(s.latency.p50)} / ${formatMs(s.latency.p95)}` : 'n/a')
    const events = (s: typeof ours) => (s ? s.events.toFixed(1) : 'n/a')
    return [type === 'mixed' ? '**mixed (all below)**' : `\`${type}\``, cell(ours), cell(theirs),
      ours && theirs ? formatRatio(ours.latency.p95, theirs.latency.p95) : 'n/a', met, `${events(ours)} / ${events(theirs)}`]
  })
  const preloadNote = [...preload.entries()]
    .map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s (${formatRate(fixture.stored.length / (ms / 1000))} events/s)`)
    .join(', ')
  return [
    markdownTable(
      ['query', `${OUR_RELAY_NAME} p50 / p95 ms`, `${STRFRY_NAME} p50 / p95 ms`, 'p95 ratio', `goal p95 ≤ ${REQ_P95_GOAL_RATIO}×`,
        `events returned per query (${OUR_RELAY_NAME} / ${STRFRY_NAME})`],
      rows,
    ),
    '',
    `${fixture.stored.length.toLocaleString('en-US')} stored events (80% kind 1, 15% kind 7, 5% kind 6; 200 authors; ` +
      '#e/#p/#t tags). Each run sends ' +
      `${QUERIES_PER_TYPE} queries of each shape, shuffled, one at a time on one connection (after ${WARMUP_QUERIES} ` +
      `warm-up queries); the time runs from sending the REQ to receiving its EOSE, all stored events included. ` +
      `p50 / p95 are the medians over ${ctx.runs} runs of each run's percentiles.`,
    `Pre-load (not a like-for-like comparison): ours straight into the store with EventStore.saveMany, strfry with ` +
      `\`strfry import --no-verify\`; neither checks signatures: ${preloadNote || 'n/a'}.`,
    ...(notes.length > 0 ? ['', ...notes] : []),
  ].join('\n')
}

// ---------------------------------------------------------------------------------------------------------------
// Live delivery

async function liveOnce(url: string, events: readonly NostrEvent[], warmup: number): Promise<number[]> {
  const [subscriber, publisher] = await Promise.all([openSocket(url), openSocket(url)])
  try {
    await new Promise<void>((resolve) => {
      const onEose = (data: Buffer) => {
        if (!data.toString().startsWith('["EOSE","live"')) return
        subscriber.off('message', onEose)
        resolve()
      }
      subscriber.on('message', onEose)
      subscriber.send(JSON.stringify(['REQ', 'live', { kinds: [1], '#t': [LIVE_TAG] }]))
    })
    const latencies: number[] = []
    for (let i = 0; i < events.length; i++) {
      const { id } = events[i]
      const received = new Promise<number>((resolve) => {
        const onEvent = (data: Buffer) => {
          const text = data.toString()
          if (!text.startsWith('["EVENT","live"') || !text.includes(id)) return
          subscriber.off('message', onEvent)
          resolve(performance.now())
        }
        subscriber.on('message', onEvent)
      })
      const acknowledged = new Promise<void>((resolve, reject) => {
        const onOk = (data: Buffer) => {
          const message = JSON.parse(data.toString()) as unknown[]
          if (message[0] !== 'OK' || message[1] !== id) return
          publisher.off('message', onOk)
          if (message[2] === true) resolve()
          else reject(new Error(`live: event refused: ${String(message[3])}`))
        }
        publisher.on('message', onOk)
      })
      const sent = performance.now()
      publisher.send(JSON.stringify(['EVENT', events[i]]))
      const [arrived] = await Promise.all([received, acknowledged])
      if (i >= warmup) latencies.push(arrived - sent)
    }
    return latencies
  } finally {
    subscriber.terminate()
    publisher.terminate()
  }
}

async function runLiveDelivery(ctx: BenchContext): Promise<string> {
  const { relays, notes } = relaysOrExplain(ctx)
  const fixture = await loadFixture(ctx.log)
  const events = fixture.live.slice(0, LIVE_WARMUP + LIVE_SAMPLES)
  const perRelay = new Map<string, LatencySummary[]>()
  for (let run = 0; run < ctx.runs; run++) {
    for (const relay of relays) {
      const running = await relay.start()
      try {
        const summary = summarizeLatencies(await liveOnce(running.url, events, LIVE_WARMUP))
        ctx.log(`live ${relay.name} run ${run + 1}: p50 ${formatMs(summary.p50)} ms, p95 ${formatMs(summary.p95)} ms`)
        perRelay.set(relay.name, [...(perRelay.get(relay.name) ?? []), summary])
      } finally {
        await running.close()
      }
    }
  }
  const summary = (name: string) => {
    const runs = perRelay.get(name)
    return runs ? medianOfSummaries(runs) : undefined
  }
  const ours = summary(OUR_RELAY_NAME)
  const theirs = summary(STRFRY_NAME)
  const rows = [
    ['p50', ours ? formatMs(ours.p50) : 'n/a', theirs ? formatMs(theirs.p50) : 'n/a',
      ours && theirs ? formatRatio(ours.p50, theirs.p50) : 'n/a', ours ? (ours.p50 < LIVE_GOAL_MS ? 'yes' : 'no') : 'n/a'],
    ['p95', ours ? formatMs(ours.p95) : 'n/a', theirs ? formatMs(theirs.p95) : 'n/a',
      ours && theirs ? formatRatio(ours.p95, theirs.p95) : 'n/a', ours ? (ours.p95 < LIVE_GOAL_MS ? 'yes' : 'no') : 'n/a'],
  ]
  return [
    markdownTable(['', `${OUR_RELAY_NAME} ms`, `${STRFRY_NAME} ms`, `${OUR_RELAY_NAME} / ${STRFRY_NAME}`, `goal < ${LIVE_GOAL_MS} ms`], rows),
    '',
    `One subscriber with \`{kinds:[1],"#t":["${LIVE_TAG}"]}\` open, one publisher on another connection; ` +
      `${LIVE_SAMPLES} events per run, one at a time (the next is sent after the subscriber got the previous one ` +
      `and its OK arrived), after ${LIVE_WARMUP} warm-up events; median over ${ctx.runs} runs of each run's percentiles. ` +
      'strfry hands new events to live subscriptions after a fixed 100 ms debounce.',
    ...(notes.length > 0 ? ['', ...notes] : []),
  ].join('\n')
}
