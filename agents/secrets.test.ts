import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { Logger } from './logger.js'
import { resolveSecret, SecretStore, secretEnvironmentVariables, warnAboutEnvironmentSecrets } from './secrets.js'

const homes: string[] = []
function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-secrets-'))
  homes.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function recordingLog(): Logger & { warnings: { obj: object; msg?: string }[] } {
  const warnings: { obj: object; msg?: string }[] = []
  const log = { debug() {}, info() {}, error() {}, warn: (obj: object, msg?: string) => warnings.push({ obj, msg }), child: () => log, warnings }
  return log
}

const RUNE = 'tU-RLjMiDpY2U0o3W1oFowar36RFGpWloPbW9-RuZdo9MyZpZD0wMjRi'

describe('SecretStore', () => {
  it('round-trips secrets, encrypted, in 0600 files under a 0700 directory', () => {
    const dir = home()
    const store = new SecretStore(dir, 'passphrase', 4)
    store.set('cln-rune', RUNE)
    store.set('nwc', 'nostr+walletconnect://abc?secret=def')
    expect(store.get('cln-rune')).toBe(RUNE)
    expect(new SecretStore(dir, 'passphrase', 4).get('nwc')).toBe('nostr+walletconnect://abc?secret=def')
    expect(store.list()).toEqual(['cln-rune', 'nwc'])
    const file = join(dir, 'secrets', 'cln-rune.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(join(dir, 'secrets')).mode & 0o777).toBe(0o700)
    expect(readFileSync(file, 'utf8')).not.toContain(RUNE)
    store.set('cln-rune', 'rotated')
    expect(store.get('cln-rune')).toBe('rotated')
    expect(store.delete('cln-rune')).toBe(true)
    expect(store.has('cln-rune')).toBe(false)
  })

  it('refuses a wrong passphrase, an altered file and a file renamed to another secret', () => {
    const dir = home()
    const store = new SecretStore(dir, 'right', 4)
    store.set('a', 'secret a')
    expect(() => new SecretStore(dir, 'wrong', 4).get('a')).toThrow(/cannot decrypt secret a: wrong passphrase/)
    const path = join(dir, 'secrets', 'a.json')
    const file = JSON.parse(readFileSync(path, 'utf8')) as { ciphertext: string }
    writeFileSync(join(dir, 'secrets', 'b.json'), JSON.stringify(file))
    expect(() => store.get('b')).toThrow(/belongs to another name/)
    const bytes = Buffer.from(file.ciphertext, 'base64')
    bytes[0] ^= 1
    writeFileSync(path, JSON.stringify({ ...file, ciphertext: bytes.toString('base64') }))
    expect(() => store.get('a')).toThrow(/altered/)
    expect(() => store.get('missing')).toThrow(/no secret named missing/)
    expect(() => store.set('../escape', 'x')).toThrow(/invalid secret name/)
  })

  it('warns about secrets in the environment, and prefers them with a warning', () => {
    const env = { TIMMY_LLM_API_KEY: 'k', TIMMY_NWC_URI: 'nostr+walletconnect://x', TIMMY_PASSPHRASE: 'p', TIMMY_HOME: '/h', TIMMY_CLN_RUNE: '' }
    expect(secretEnvironmentVariables(env)).toEqual(['TIMMY_LLM_API_KEY', 'TIMMY_NWC_URI'])
    const log = recordingLog()
    warnAboutEnvironmentSecrets(env, log)
    expect(log.warnings.map((w) => w.msg)).toEqual([expect.stringContaining('TIMMY_LLM_API_KEY'), expect.stringContaining('TIMMY_NWC_URI')])

    const store = new SecretStore(home(), 'p', 4)
    store.set('lnd-macaroon', 'from store')
    const quiet = recordingLog()
    expect(resolveSecret('lnd-macaroon', { store, env: {}, variable: 'TIMMY_LND_MACAROON', log: quiet })).toBe('from store')
    expect(quiet.warnings).toEqual([])
    expect(resolveSecret('lnd-macaroon', { store, env: { TIMMY_LND_MACAROON: 'from env' }, variable: 'TIMMY_LND_MACAROON', log: quiet })).toBe('from env')
    expect(quiet.warnings[0].msg).toMatch(/environment variable TIMMY_LND_MACAROON/)
    expect(resolveSecret('absent', { store, env: {}, log: quiet })).toBeUndefined()
  })
})
