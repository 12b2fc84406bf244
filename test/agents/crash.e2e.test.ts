// Kill -9 an agent process in the middle of a job, start it again, and check that the job
// completes exactly once: one result event on the relay, the job log folded to 'completed'.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildJobRequest } from '../../nips/90.js'
import type { RunningRelay } from '../../relay/index.js'
import { JobLog } from '../../agents/joblog.js'
import { jobLogPath } from '../../agents/host.js'
import { startTestRelay, statusOf, TestRequester } from './helpers.js'

const repoRoot = fileURLToPath(new URL('../../', import.meta.url))
const cli = join(repoRoot, 'dist', 'bin', 'timmy.js')
const built = existsSync(cli)
const SLOW_KIND = 5901

// A capability plugin as an operator would write one: plain JS, default export.
const PLUGIN = `
import { appendFileSync } from 'node:fs'
export default {
  kind: ${SLOW_KIND}, id: 'slow', name: 'Slow echo', about: 'Echoes after a delay (crash test)',
  params: [{ name: 'delay_ms', description: 'how long to work' }],
  price: () => 0,
  availability: async () => ({ ok: true }),
  async run(ctx) {
    appendFileSync(process.env.CRASH_TEST_MARKER, 'started\\n')
    await new Promise((resolve) => setTimeout(resolve, Number(ctx.params.delay_ms?.[0] ?? 0)))
    return { content: 'slow: ' + ctx.inputs.map((i) => i.value).join(' ') }
  },
}
`

describe.skipIf(!built)('agent process killed with SIGKILL mid-job (needs dist/: npm run build)', () => {
  let relay: RunningRelay
  let requester: TestRequester
  let dir: string
  const children: ChildProcess[] = []

  beforeAll(async () => {
    relay = await startTestRelay()
    requester = await TestRequester.create([relay.url])
    dir = mkdtempSync(join(tmpdir(), 'timmy-crash-'))
    writeFileSync(join(dir, 'slow.mjs'), PLUGIN)
    // A cheap scrypt cost keeps key creation fast in the test.
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ keyLogN: 4, heartbeatSeconds: 1 }))
  })

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    requester?.close()
    await relay?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  function startAgent(): Promise<{ child: ChildProcess; pubkey: string }> {
    const child = spawn(process.execPath, [cli, 'agent', '--plugin', join(dir, 'slow.mjs'), '--name', 'crashy', '--relay', relay.url, '--home', dir], {
      env: { ...process.env, TIMMY_PASSPHRASE: 'crash-test', TIMMY_LOG_LEVEL: 'warn', CRASH_TEST_MARKER: join(dir, 'marker') },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let stderr = ''
    child.stderr!.on('data', (d) => (stderr += d))
    return new Promise((resolve, reject) => {
      let stdout = ''
      child.stdout!.on('data', (d) => {
        stdout += d
        const match = /^agent crashy (npub1\w+)/m.exec(stdout)
        if (match) resolve({ child, pubkey: match[1] })
      })
      child.on('exit', (code) => reject(new Error(`agent exited (${code}) before starting: ${stderr}`)))
    })
  }

  async function waitUntil(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs
    while (!condition()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  it('completes the job exactly once after a restart', async () => {
    const first = await startAgent()
    const request = requester.sign(
      buildJobRequest({ kind: SLOW_KIND, inputs: [{ type: 'text', value: 'survives' }], params: { delay_ms: ['1500'] }, createdAt: Math.floor(Date.now() / 1000) }),
    )
    const processing = requester.waitFor([{ kinds: [7000], '#e': [request.id] }], (e) => statusOf(e) === 'processing')
    await requester.pool.publish(requester.relays, request)
    await processing
    const marker = join(dir, 'marker')
    await waitUntil(() => existsSync(marker), 'the job to start running')

    first.child.kill('SIGKILL')
    await new Promise((resolve) => first.child.once('exit', resolve))
    expect(await requester.query([{ kinds: [SLOW_KIND + 1000], '#e': [request.id] }])).toHaveLength(0)

    const result = requester.waitFor([{ kinds: [SLOW_KIND + 1000], '#e': [request.id] }], () => true, 15_000)
    const second = await startAgent()
    expect(second.pubkey).toBe(first.pubkey)
    expect((await result).content).toBe('slow: survives')

    // Give a duplicate every chance to appear, then stop the agent and read its log.
    await new Promise((r) => setTimeout(r, 500))
    const results = await requester.query([{ kinds: [SLOW_KIND + 1000], '#e': [request.id] }])
    expect(results).toHaveLength(1)
    second.child.kill('SIGTERM')
    await new Promise((resolve) => second.child.once('exit', resolve))

    expect(readFileSync(marker, 'utf8').trim().split('\n')).toHaveLength(2)
    const jobLog = JobLog.open(jobLogPath(dir, 'crashy'))
    const state = jobLog.foldFromLog(request.id)!
    expect(state).toMatchObject({ status: 'completed', attempts: 2, result: { eventId: results[0].id } })
    expect(jobLog.facts(request.id).filter((f) => f.type === 'completed')).toHaveLength(1)
    expect(jobLog.effectsOf(request.id).filter((e) => e.status === 'pending')).toEqual([])
    jobLog.close()
  })
})
