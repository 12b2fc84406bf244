// Reputation scoring (nips/reputation.ts) for one agent with 100k job-outcome labels (goal < 100 ms):
// from the labels an AgentLabels keeps (what the host scores auctions and the directory from), and
// cold, by computeReputation from the bare events; and building a web of trust from large contact lists. The label events carry true
// ids but placeholder signatures: computeReputation takes events that were verified where they were
// fetched and never checks a signature, so signing 100k events (over a minute) would measure nothing.
// What verification costs is the verify section's subject.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { serializeEvent, type NostrEvent } from '../../nips/01.js'
import { buildJobOutcomeLabel, JOB_OUTCOMES, newJobOutcomeFields, readJobOutcomeFields } from '../../nips/32.js'
import { AgentLabels, buildTrustGraph, computeReputation, type ReputationReport, type TrustGraph, type VerifiedPayment } from '../../nips/reputation.js'
import { formatMs, markdownTable, median, type BenchContext, type BenchSection } from './harness.js'

const NOW = 1_800_000_000
const YEAR = 365 * 86_400
const LABELS = 100_000
const GOAL_MS = 100
const PLACEHOLDER_SIG = '0'.repeat(128)

export interface ReputationBenchRow {
  scenario: string
  labels: number
  /** Median over runs, ms. */
  medianMs: number
  runsMs: number[]
  /** The goal for this scenario in ms, if it has one. */
  goalMs?: number
}

/** Deterministic PRNG so every machine scores the same data. */
function mulberry32(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const hex64 = (seed: string) => bytesToHex(sha256(utf8ToBytes(seed)))

function withId(event: Omit<NostrEvent, 'id' | 'sig'>): NostrEvent {
  return { ...event, id: bytesToHex(sha256(utf8ToBytes(serializeEvent(event)))), sig: PLACEHOLDER_SIG }
}

interface Scenario {
  agent: string
  labels: NostrEvent[]
  trust: TrustGraph
  payments: VerifiedPayment[]
}

/**
 * `labellers` pubkeys label one agent `LABELS` times in all (one label per job), across 5 capabilities,
 * with ages up to a year and every outcome; when `paid`, 1 in 10 jobs has a verified payment. The trust root follows the first
 * `followed` labellers directly and, through one of them, the next `followed` at second degree.
 */
function scenario(seed: number, labellers: number, followed: number, paid: boolean): Scenario {
  const random = mulberry32(seed)
  const agent = hex64(`agent ${seed}`)
  const root = hex64(`root ${seed}`)
  const pubkeys = Array.from({ length: labellers }, (_, i) => hex64(`labeller ${seed} ${i}`))
  const labels: NostrEvent[] = []
  const payments: VerifiedPayment[] = []
  for (let i = 0; i < LABELS; i++) {
    const pubkey = pubkeys[i % labellers]
    const job = hex64(`job ${seed} ${i}`)
    const outcome = JOB_OUTCOMES[Math.floor(random() * JOB_OUTCOMES.length)]
    const amountMsats = 1000 * (1 + Math.floor(random() * 5000))
    const template = buildJobOutcomeLabel({
      agent,
      job,
      kind: 5000 + (i % 5),
      outcome,
      quality: outcome === 'no-reveal' ? undefined : 1 + Math.floor(random() * 5),
      amountMsats,
      createdAt: NOW - Math.floor(random() * YEAR),
    })
    labels.push(withId({ ...template, pubkey }))
    if (paid && i % 10 === 0) payments.push({ job, payer: pubkey, recipient: agent, msats: amountMsats })
  }
  const bridge = pubkeys[0] ?? root
  const contactLists = [
    withId({ kind: 3, pubkey: root, created_at: NOW - 1, tags: pubkeys.slice(0, followed).map((p) => ['p', p]), content: '' }),
    withId({ kind: 3, pubkey: bridge, created_at: NOW - 1, tags: pubkeys.slice(followed, 2 * followed).map((p) => ['p', p]), content: '' }),
  ]
  return { agent, labels, trust: buildTrustGraph(root, contactLists), payments }
}

function time(runs: number, work: () => unknown): number[] {
  work() // warm-up: JIT and caches
  const times: number[] = []
  for (let run = 0; run < runs; run++) {
    const started = performance.now()
    work()
    times.push(performance.now() - started)
  }
  return times
}

function keep(s: Scenario): AgentLabels {
  const kept = new AgentLabels(s.agent)
  for (const event of s.labels) kept.add(event)
  return kept
}

/** The measurements, one row per scenario. */
export async function measureReputation(ctx: BenchContext): Promise<ReputationBenchRow[]> {
  const rows: ReputationBenchRow[] = []
  const options = (s: Scenario) => ({ trust: s.trust, payments: s.payments, now: NOW })
  const cold = (s: Scenario) => () => computeReputation({ agent: s.agent, labels: s.labels, ...options(s) })
  const measure = (scenario: string, work: () => unknown, goalMs?: number) => {
    const runsMs = time(ctx.runs, work)
    rows.push({ scenario, labels: LABELS, medianMs: median(runsMs), runsMs, goalMs })
  }
  // Same numbers either way, or the comparison means nothing.
  const sameReport = (a: ReputationReport, b: ReputationReport) => JSON.stringify({ ...a, evidence: a.evidence.length }) === JSON.stringify({ ...b, evidence: b.evidence.length })

  ctx.log('reputation: generating 100k labels by 1,000 labellers')
  const market = scenario(1, 1_000, 250, true)
  const kept = keep(market)
  if (!sameReport(kept.score(options(market)), cold(market)())) throw new Error('reputation bench: kept and cold scores differ')
  measure('1,000 labellers (250 follows, 250 at second degree), 100 jobs each, 10% paid: score from the kept labels (AgentLabels.score)', () => kept.score(options(market)), GOAL_MS)
  measure('… the same, then listing every counted label\'s evidence (report.evidence, built on first read)', () => kept.score(options(market)).evidence)
  measure('… cold: computeReputation from the 100k bare events (filing them, reading the 50k with weight, scoring)', cold(market), GOAL_MS)
  measure('… of which filing the 100k events by labeller (AgentLabels.add)', () => keep(market))
  const fields = newJobOutcomeFields()
  measure('… for scale: reading all 100k labels\' tags (readJobOutcomeFields, which cold scoring does for the 50k with weight)', () => {
    for (const event of market.labels) readJobOutcomeFields(event, market.agent, fields)
  })

  ctx.log('reputation: generating 100k labels by 100k fresh keys (a sybil army)')
  const army = scenario(2, LABELS, 0, false)
  const keptArmy = keep(army)
  measure('100,000 fresh keys, no trust path, unpaid (all weightless, never read): score from the kept labels', () => keptArmy.score(options(army)), GOAL_MS)
  measure('… cold: computeReputation from the 100k bare events', cold(army), GOAL_MS)

  ctx.log('reputation: building a trust graph from 1,000 contact lists of 1,000 follows')
  const root = hex64('graph root')
  const follows = Array.from({ length: 1_000 }, (_, i) => hex64(`follow ${i}`))
  const lists = [
    withId({ kind: 3, pubkey: root, created_at: NOW, tags: follows.map((p) => ['p', p]), content: '' }),
    ...follows.map((pubkey, i) => withId({ kind: 3, pubkey, created_at: NOW, tags: Array.from({ length: 1_000 }, (_, j) => ['p', hex64(`fof ${(i * 1_000 + j) % 200_000}`)]), content: '' })),
  ]
  const graphRuns = time(ctx.runs, () => buildTrustGraph(root, lists))
  rows.push({ scenario: `buildTrustGraph: 1,001 contact lists, 1,001,000 p tags → ${buildTrustGraph(root, lists).standing.size.toLocaleString('en-US')} pubkeys`, labels: 0, medianMs: median(graphRuns), runsMs: graphRuns })
  return rows
}

export const reputationSection: BenchSection = {
  id: 'reputation',
  title: 'Reputation: scoring 100k NIP-32 job-outcome labels for one agent',
  run: async (ctx) => {
    const rows = await measureReputation(ctx)
    return [
      markdownTable(
        ['scenario', 'labels', 'median ms', `goal < ${GOAL_MS} ms`, 'runs ms'],
        rows.map((r) => [
          r.scenario,
          r.labels ? r.labels.toLocaleString('en-US') : '-',
          formatMs(r.medianMs),
          r.goalMs === undefined ? '-' : r.medianMs < r.goalMs ? 'met' : 'missed',
          r.runsMs.map(formatMs).join(' / '),
        ]),
      ),
      '',
      `Median of ${ctx.runs} runs after one warm-up run. A score runs end to end: finding the labellers with weight ` +
        '(a trust path or a verified payment), one label per labeller and job, decaying, weighting and summing in canonical ' +
        'order, with the ignored list; the evidence list is built when first read, which the second row measures. ' +
        'The host keeps each agent\'s labels in an AgentLabels (ReputationCache, agents/reputation/gather.ts), fed with the ' +
        'new events each lookup fetches; it reads every label once, by the first score that gives its author weight. A cold ' +
        'score reads them too, which is what the third row adds. Both give the same report, checked before timing. ' +
        'Events carry true ids but placeholder signatures: scoring takes verified events and checks no signature ' +
        '(verification happens once, where events are fetched; see the verify section for its cost).',
    ].join('\n')
  },
}
