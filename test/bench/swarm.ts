// Frame rate of the web client's swarm graph (client/ui/swarm-graph.ts) in headless Chromium at
// 100 and 1000 nodes. The page loads the client's real modules from its own handler, folds a
// synthetic swarm (signed events from the browser tests' fixture) into a SwarmModel, mounts
// <timmy-swarm>, and times frames with requestAnimationFrame while the force layout is kept hot
// (reheated every frame, so every frame simulates and redraws: the worst case, which a settling or
// dragged graph is in; a graph at rest draws nothing).
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import type { NostrEvent } from '../../nips/01.js'
import { createClientHandler } from '../../client/serve.js'
import { swarmFixture } from '../browser/harness.js'
import { formatMs, markdownTable, median, type BenchContext, type BenchSection } from './harness.js'

const CHROMIUM = '/usr/bin/chromium'
const WARMUP_MS = 500
const MEASURE_MS = 3000
/** Agents, requesters and jobs for each size; the graph draws at most 400 jobs (MAX_JOBS), each requester posted one. */
const SIZES = [
  { nodes: 100, agents: 10, requesters: 30, jobs: 60 },
  { nodes: 1000, agents: 200, requesters: 400, jobs: 400 },
]

export const swarmSection: BenchSection = {
  id: 'swarm',
  title: 'Web client: swarm graph frame rate (headless Chromium)',
  run: runSwarm,
}

interface FrameStats {
  nodes: string
  fps: number
  p95FrameMs: number
  frames: number
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'client', 'index.html'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error('package root (with client/index.html) not found')
    dir = parent
  }
  return dir
}

/** The client's page with its import map, but without the app: the bench mounts the graph alone. */
async function startBenchServer(): Promise<{ url: string; close(): Promise<void> }> {
  const root = packageRoot()
  const page = readFileSync(join(root, 'client', 'index.html'), 'utf8')
    .replace(/<script type="module" src="\/app\/main\.js"><\/script>/, '')
    .replace(/<timmy-app>[\s\S]*<\/timmy-app>/, '')
  const handler = createClientHandler({ rootDir: root })
  const server = createServer((req, res) => {
    if (req.url === '/bench.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(page)
      return
    }
    if (handler(req, res)) return
    res.writeHead(404)
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function measure(browser: Browser, url: string, events: NostrEvent[], now: number): Promise<{ summary: string; frameMs: number[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
  try {
    await page.goto(`${url}/bench.html`)
    return await page.evaluate(
      async ({ events, now, warmupMs, measureMs }) => {
        const { SwarmModel } = (await import('/app/model.js' as string)) as typeof import('../../client/model.js')
        await import('/app/ui/swarm-graph.js' as string)
        const model = new SwarmModel()
        for (const event of events) model.apply(event)
        type Graph = HTMLElement & { services: unknown; version: number; updateComplete: Promise<boolean>; layout: { reheat(alpha: number): void }; renderRoot: ParentNode }
        const graph = document.createElement('timmy-swarm') as Graph
        graph.services = { model, pool: undefined, signer: undefined, now: () => now, watch: () => ({ close() {} }) }
        graph.version = model.version
        document.body.append(graph)
        await graph.updateComplete
        const frameMs: number[] = []
        await new Promise<void>((resolve) => {
          const start = performance.now()
          let last = start
          const frame = (t: number) => {
            // The graph's own frame callback was queued before this one: keep its layout hot for the next.
            graph.layout.reheat(1)
            if (t - start > warmupMs) frameMs.push(t - last)
            last = t
            if (t - start < warmupMs + measureMs) requestAnimationFrame(frame)
            else resolve()
          }
          requestAnimationFrame(frame)
        })
        const summary = graph.renderRoot.querySelector('[data-testid="swarm-summary"]')?.textContent ?? ''
        return { summary, frameMs }
      },
      { events, now, warmupMs: WARMUP_MS, measureMs: MEASURE_MS },
    )
  } finally {
    await page.close()
  }
}

async function runSwarm(ctx: BenchContext): Promise<string> {
  if (!existsSync(CHROMIUM)) return `Not measured: ${CHROMIUM} is missing (apt-get install chromium).`
  const server = await startBenchServer()
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const rows: FrameStats[] = []
  try {
    for (const size of SIZES) {
      const now = Math.floor(Date.now() / 1000)
      ctx.log(`swarm: signing a ${size.nodes}-node swarm`)
      const events = swarmFixture({ agents: size.agents, requesters: size.requesters, jobs: size.jobs, now })
      const fps: number[] = []
      const p95: number[] = []
      let frames = 0
      let summary = ''
      for (let run = 0; run < ctx.runs; run++) {
        ctx.log(`swarm: ${size.nodes} nodes, run ${run + 1}/${ctx.runs}`)
        const measured = await measure(browser, server.url, events, now)
        summary = measured.summary
        frames += measured.frameMs.length
        fps.push(1000 / median(measured.frameMs))
        p95.push([...measured.frameMs].sort((a, b) => a - b)[Math.ceil(0.95 * measured.frameMs.length) - 1])
      }
      rows.push({ nodes: `${size.nodes} (${summary.trim()})`, fps: median(fps), p95FrameMs: median(p95), frames })
    }
  } finally {
    await browser.close()
    await server.close()
  }
  return [
    markdownTable(
      ['nodes drawn', 'median fps', 'p95 frame time (ms)', 'frames timed'],
      rows.map((r) => [r.nodes, r.fps.toFixed(1), formatMs(r.p95FrameMs), String(r.frames)]),
    ),
    '',
    `Headless Chromium (${CHROMIUM}, \`--disable-gpu\`: canvas drawn in software), 1280×860 viewport. Each run mounts the graph, ` +
      `waits ${WARMUP_MS} ms, then times ${MEASURE_MS / 1000} s of requestAnimationFrame callbacks with the force layout reheated ` +
      'every frame, so that each frame runs layout ticks and a full redraw (the state while a graph settles or a node is dragged; ' +
      'a graph at rest draws nothing). Median over runs of each run\'s median fps and p95 frame time. Headless Chromium paces frames ' +
      'at most at 60 Hz.',
  ].join('\n')
}
