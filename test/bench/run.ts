// Benchmark entry: `npm run bench` (all sections) or `node dist/test/bench/run.js relay verify` (sections whose id
// is, or starts with, one of the words followed by '-'). `--runs=N` repeats each measurement N times (default 3).
// Writes test/bench/RESULTS.md; sections that were not run keep their previous results there.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  composeResults,
  machineDescription,
  parseSectionBlocks,
  sectionBlock,
  type BenchContext,
  type BenchSection,
} from './harness.js'
import { relaySections } from './relay.js'
import { verifySection } from './verify.js'
import { dvmSection } from './dvm.js'
import { auctionSection } from './auction.js'
import { reputationSection } from './reputation.js'
import { swarmSection } from './swarm.js'
import { fuzzSection } from './fuzz.js'

/** Every benchmark, in the order RESULTS.md lists them. A new benchmark module exports its sections and is added here. */
const SECTIONS: BenchSection[] = [...relaySections, verifySection, dvmSection, auctionSection, reputationSection, swarmSection, fuzzSection]

const DEFAULT_RUNS = 3

function resultsPath(): string {
  // This file runs as dist/test/bench/run.js; RESULTS.md lives beside the sources in test/bench/.
  let dir = new URL('.', import.meta.url)
  while (!existsSync(fileURLToPath(new URL('package.json', dir)))) {
    const parent = new URL('..', dir)
    if (parent.href === dir.href) throw new Error('bench: cannot find the repository root (package.json)')
    dir = parent
  }
  return fileURLToPath(new URL('test/bench/RESULTS.md', dir))
}

function parseArgs(argv: string[]): { selected: BenchSection[]; runs: number } {
  let runs = DEFAULT_RUNS
  const words: string[] = []
  for (const arg of argv) {
    const runsMatch = /^--runs=(\d+)$/.exec(arg)
    if (runsMatch && Number(runsMatch[1]) > 0) runs = Number(runsMatch[1])
    else if (arg.startsWith('-')) throw new Error(`bench: unknown option ${arg} (known: --runs=N)`)
    else words.push(arg)
  }
  const selected = words.length === 0 ? SECTIONS : SECTIONS.filter((s) => words.some((w) => s.id === w || s.id.startsWith(`${w}-`)))
  const unknown = words.filter((w) => !SECTIONS.some((s) => s.id === w || s.id.startsWith(`${w}-`)))
  if (unknown.length > 0) {
    throw new Error(`bench: no section matches ${unknown.join(', ')}; sections: ${SECTIONS.map((s) => s.id).join(', ')}`)
  }
  return { selected, runs }
}

async function main(): Promise<void> {
  const { selected, runs } = parseArgs(process.argv.slice(2))
  const started = Date.now()
  const log = (message: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`)
  const ctx: BenchContext = { log, runs }
  const machine = machineDescription()
  const file = resultsPath()
  const previous = existsSync(file) ? parseSectionBlocks(readFileSync(file, 'utf8')) : new Map<string, string>()
  const fresh = new Map<string, string>()

  for (const section of selected) {
    log(`== ${section.id}: ${section.title}`)
    const body = await section.run(ctx)
    fresh.set(section.id, sectionBlock(section, body, `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine}`))
    // Written after every section, so an interrupted run still leaves what it measured.
    writeFileSync(file, composeResults({ header: header(machine), order: SECTIONS.map((s) => s.id), fresh, previous }))
  }
  log(`wrote ${file}`)
}

function header(machine: string): string {
  return [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (`node dist/test/bench/run.js [section...] [--runs=N]`); do not edit by hand.',
    `Last written ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on: ${machine}.`,
    'Each section states when and where it was measured; ratios compare against a baseline measured in the same run.',
  ].join('\n')
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err)
  process.exit(1)
})
