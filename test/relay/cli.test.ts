// `timmy relay` as users run it: the built CLI (dist/), in relay mode and as a strfry plugin.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { finalizeEvent } from '../../nips/01.js'
import { keypair, nowSeconds } from './helpers.js'

const cli = fileURLToPath(new URL('../../dist/bin/timmy.js', import.meta.url))
const built = existsSync(cli) && existsSync(fileURLToPath(new URL('../../dist/relay/strfry-plugin.js', import.meta.url)))
const dir = mkdtempSync(join(tmpdir(), 'timmy-cli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe.skipIf(!built)('timmy relay (dist/bin/timmy.js; run `npm run build` first)', () => {
  it('documents its options', () => {
    const { stdout, status } = spawnSync(process.execPath, [cli, 'relay', '--help'], { encoding: 'utf8' })
    expect(status).toBe(0)
    for (const option of ['--host', '--port', '--db', '--config', '--strfry-plugin']) expect(stdout).toContain(option)
    expect(stdout).toContain('TIMMY_RELAY_PORT')
  })

  it('refuses a bad port and a bad config file with a clear message', () => {
    const badPort = spawnSync(process.execPath, [cli, 'relay', '--port', 'seventy'], { encoding: 'utf8' })
    expect(badPort.status).not.toBe(0)
    expect(badPort.stderr).toMatch(/--port.*must be an integer/)
    const badEnv = spawnSync(process.execPath, [cli, 'relay', '--db', join(dir, 'x.sqlite')], {
      encoding: 'utf8',
      env: { ...process.env, TIMMY_RELAY_PORT: 'abc' },
    })
    expect(badEnv.status).not.toBe(0)
    expect(badEnv.stderr).toContain('TIMMY_RELAY_PORT="abc" is not a port number')
    const missing = spawnSync(process.execPath, [cli, 'relay', '--config', join(dir, 'missing.json')], { encoding: 'utf8' })
    expect(missing.status).not.toBe(0)
    expect(missing.stderr).toContain('cannot read relay config')
  })

  it('listens on loopback and stores under $TIMMY_HOME by default', async () => {
    const home = join(dir, 'home')
    const child = spawn(process.execPath, [cli, 'relay', '--port', '0'], { env: { ...process.env, TIMMY_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] })
    const listening = await new Promise<Record<string, unknown>>((resolve) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>
        if (String(entry.msg).startsWith('relay listening')) resolve(entry)
      })
    })
    expect(listening.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/)
    expect(listening.db).toBe(join(home, 'relay.sqlite'))
    expect(existsSync(join(home, 'relay.sqlite'))).toBe(true)
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve))
    child.kill('SIGINT')
    expect(await exit).toBe(0)
  })

  it('works as a strfry write-policy plugin over stdin/stdout, logging only to stderr', async () => {
    const child = spawn(process.execPath, [cli, 'relay', '--strfry-plugin'], { stdio: ['pipe', 'pipe', 'pipe'] })
    const replies: Array<Record<string, unknown>> = []
    const lines = createInterface({ input: child.stdout! })
    lines.on('line', (line) => replies.push(JSON.parse(line) as Record<string, unknown>))
    const { sk } = keypair()
    const good = finalizeEvent({ kind: 1, tags: [], content: 'hi', created_at: nowSeconds() }, sk)
    const stale = finalizeEvent({ kind: 1, tags: [], content: 'old', created_at: 1000 }, sk)
    const request = (event: unknown) => JSON.stringify({ type: 'new', event, receivedAt: nowSeconds(), sourceType: 'IP4', sourceInfo: '198.51.100.4' })
    child.stdin!.write(`${request(good)}\n{garbage\n${request(stale)}\n`)
    child.stdin!.end()
    let stderr = ''
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()))
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(code).toBe(0)
    expect(replies).toEqual([
      { id: good.id, action: 'accept', msg: '' },
      { id: stale.id, action: 'reject', msg: expect.stringMatching(/^invalid: created_at/) },
    ])
    expect(stderr).toContain('unusable write-policy request')
  })
})
