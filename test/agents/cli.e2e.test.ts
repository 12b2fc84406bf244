// The `timmy` commands as an operator and a requester use them (built CLI in dist/, real processes):
// keys, a standalone agent, job (with its label), agents, approvals from another process, job replay,
// labels by hand and the reputation they make.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningRelay } from '../../relay/index.js'
import { startTestRelay } from './helpers.js'

const cli = fileURLToPath(new URL('../../dist/bin/timmy.js', import.meta.url))
const GATED_KIND = 5906

const PLUGIN = `export default () => [{
  kind: ${GATED_KIND}, id: 'shout', name: 'Shout', about: 'Upper-cases its input', params: [],
  price: () => 2000, availability: async () => ({ ok: true }),
  async run(ctx) { return { content: ctx.inputs.map((i) => i.value.toUpperCase()).join(' ') } },
}]`

interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

describe.skipIf(!existsSync(cli))('timmy CLI (needs dist/: npm run build)', () => {
  let relay: RunningRelay
  let home: string
  let agent: ChildProcess | undefined
  const env = () => ({ ...process.env, TIMMY_HOME: home, TIMMY_PASSPHRASE: 'cli test', TIMMY_LOG_LEVEL: 'warn' })

  function timmy(args: string[], onStdout?: (text: string) => void): Promise<CliResult> & { child: ChildProcess } {
    const child = spawn(process.execPath, [cli, ...args], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => {
      stdout += d
      onStdout?.(stdout)
    })
    child.stderr!.on('data', (d) => (stderr += d))
    const done = new Promise<CliResult>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })))
    return Object.assign(done, { child })
  }

  beforeAll(async () => {
    relay = await startTestRelay()
    home = mkdtempSync(join(tmpdir(), 'timmy-cli-'))
    writeFileSync(join(home, 'config.json'), JSON.stringify({ keyLogN: 4, approval: { aboveMsats: 1000 } }))
    writeFileSync(join(home, 'shout.mjs'), PLUGIN)
  })

  afterAll(async () => {
    agent?.kill('SIGKILL')
    await relay?.close()
    if (home) rmSync(home, { recursive: true, force: true })
  })

  it('manages keys: create, list, export, import, rotate', async () => {
    const created = await timmy(['keys', 'create', 'alice'])
    expect(created.code).toBe(0)
    const npub = created.stdout.trim()
    expect(npub).toMatch(/^npub1/)
    expect((await timmy(['keys', 'list'])).stdout).toMatch(new RegExp(`^alice\\s+${npub}`, 'm'))
    const nsec = (await timmy(['keys', 'export', 'alice'])).stdout.trim()
    expect(nsec).toMatch(/^nsec1/)
    expect((await timmy(['keys', 'export', 'alice', '--ncryptsec'])).stdout).toMatch(/^ncryptsec1/)
    expect((await timmy(['keys', 'import', 'alice-copy', nsec])).stdout.trim()).toBe(npub)
    const rotated = await timmy(['keys', 'rotate', 'alice'])
    expect(rotated.stdout).toContain(`retired ${npub}`)
    const duplicate = await timmy(['keys', 'create', 'alice'])
    expect(duplicate.code).toBe(1)
    expect(duplicate.stderr).toMatch(/already exists/)
  })

  it('runs an agent; a job waits for approval until `timmy approvals approve` from another process', async () => {
    const started = timmy(['agent', '--plugin', join(home, 'shout.mjs'), '--relay', relay.url, '--heartbeat', '1'])
    agent = started.child
    await new Promise<void>((resolve, reject) => {
      started.child.stdout!.on('data', (d: Buffer) => d.toString().includes('agent shout npub1') && resolve())
      started.then((r) => reject(new Error(`agent exited: ${r.stderr}`)))
    })

    const listed = await timmy(['agents', '--relay', relay.url, '--kind', String(GATED_KIND), '--json'])
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: 'shout', kinds: [GATED_KIND], heartbeat: expect.objectContaining({ alive: true }) })])

    let jobId: string | undefined
    const job = timmy(['job', String(GATED_KIND), '--input', 'hello there', '--relay', relay.url, '--json', '--timeout', '20'], (out) => {
      jobId ??= /"type":"request","id":"([0-9a-f]{64})"/.exec(out)?.[1]
    })
    let pending: { id: string }[] = []
    const until = Date.now() + 15_000
    while (pending.length === 0 && Date.now() < until) {
      pending = JSON.parse((await timmy(['approvals', '--json'])).stdout) as { id: string }[]
    }
    expect(pending.map((p) => p.id)).toEqual([jobId])

    const approved = await timmy(['approvals', 'approve', jobId!])
    expect(approved.stdout).toContain('assigned')
    const result = await job
    expect(result.code).toBe(0)
    const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; content?: string; extraInfo?: string })
    expect(lines.find((l) => l.type === 'feedback' && l.status === 'processing')?.extraInfo).toBe('waiting for operator approval')
    expect(lines.at(-2)).toMatchObject({ type: 'result', content: 'HELLO THERE', amountMsats: 2000 })
    // The requester's word on the job, published once the result is in.
    const agentNpub = JSON.parse(listed.stdout)[0].npub as string
    expect(lines.at(-1)).toMatchObject({ type: 'label', agent: agentNpub, outcome: 'success' })

    const replay = await timmy(['job', 'replay', jobId!])
    expect(replay.stdout.split('\n').filter((l) => /^\s+\d+\s/.test(l)).map((l) => l.split(/\s+/)[3])).toEqual([
      'posted',
      'quoted',
      'approval-required',
      'approved',
      'started',
      'completed',
    ])

    const rejectedJob = timmy(['job', String(GATED_KIND), '--input', 'no', '--relay', relay.url, '--to', JSON.parse(listed.stdout)[0].npub, '--timeout', '20'], () => {})
    let toReject: { id: string }[] = []
    while (toReject.length === 0 && Date.now() < until + 15_000) toReject = JSON.parse((await timmy(['approvals', '--json'])).stdout) as { id: string }[]
    await timmy(['approvals', 'reject', toReject[0].id, '--reason', 'not today'])
    const rejected = await rejectedJob
    expect(rejected.code).toBe(1)
    expect(rejected.stderr).toContain('rejected by the operator: not today')
  })
})
