// Shared pieces of the benchmark runner: the section contract, statistics and Markdown rendering.
import os from 'node:os'

export interface BenchContext {
  /** Progress messages for the console; never part of RESULTS.md. */
  log: (message: string) => void
  /** How many times each measurement is repeated; results report the median over runs. */
  runs: number
}

/**
 * One benchmark section. `run.ts` composes sections; selecting `relay` on the command line runs every
 * section whose id is `relay` or starts with `relay-`. `run` returns the Markdown body of the section
 * (tables and notes), without its heading.
 */
export interface BenchSection {
  id: string
  title: string
  run: (ctx: BenchContext) => Promise<string>
}

export function median(values: readonly number[]): number {
  return percentile(values, 50)
}

/** Nearest-rank percentile (p in 0..100) of the values; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]
}

export interface LatencySummary {
  p50: number
  p95: number
  samples: number
}

export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), samples: samples.length }
}

/** Median over runs of each run's p50 and p95. */
export function medianOfSummaries(runs: readonly LatencySummary[]): LatencySummary {
  return {
    p50: median(runs.map((r) => r.p50)),
    p95: median(runs.map((r) => r.p95)),
    samples: runs.reduce((sum, r) => sum + r.samples, 0),
  }
}

export function formatRate(perSecond: number): string {
  return Number.isFinite(perSecond) ? Math.round(perSecond).toLocaleString('en-US') : 'n/a'
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a'
  if (ms < 10) return ms.toFixed(2)
  if (ms < 100) return ms.toFixed(1)
  return Math.round(ms).toLocaleString('en-US')
}

/** `ours / baseline` as "0.83×"; for latencies pass them so that lower-is-better reads naturally (ours / theirs). */
export function formatRatio(ours: number, baseline: number): string {
  if (!Number.isFinite(ours) || !Number.isFinite(baseline) || baseline === 0) return 'n/a'
  return `${(ours / baseline).toFixed(2)}×`
}

export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n')
}

export function machineDescription(): string {
  const cpus = os.cpus()
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1)
  return `${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, ${memGiB} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`
}

const SECTION_START = /^<!-- section:([\w-]+) -->$/

/** Split an existing RESULTS.md into its section blocks (marker lines included), keyed by section id. */
export function parseSectionBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>()
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const start = SECTION_START.exec(lines[i])
    if (!start) continue
    const end = lines.indexOf(`<!-- /section:${start[1]} -->`, i + 1)
    if (end === -1) continue
    blocks.set(start[1], lines.slice(i, end + 1).join('\n'))
    i = end
  }
  return blocks
}

export function sectionBlock(section: Pick<BenchSection, 'id' | 'title'>, body: string, measuredOn: string): string {
  return [
    `<!-- section:${section.id} -->`,
    `## ${section.title}`,
    '',
    `_Measured ${measuredOn}._`,
    '',
    body.trim(),
    `<!-- /section:${section.id} -->`,
  ].join('\n')
}

/** Sections in registry order: freshly measured ones replace their block, the others keep the previous block. */
export function composeResults(opts: {
  header: string
  order: readonly string[]
  fresh: ReadonlyMap<string, string>
  previous: ReadonlyMap<string, string>
}): string {
  const blocks = opts.order
    .map((id) => opts.fresh.get(id) ?? opts.previous.get(id))
    .filter((block): block is string => block !== undefined)
  return [opts.header.trim(), ...blocks].join('\n\n') + '\n'
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
