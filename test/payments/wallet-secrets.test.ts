// Wallet credentials live encrypted in the secret store, never in config.json in clear: the host
// fills the configured wallet from the store (or, with a warning, an environment variable), and
// `timmy secrets` stores them from standard input.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createWallet, walletCredential, withWalletCredential } from '../../agents/lightning/index.js'
import { SecretStore } from '../../agents/secrets.js'

const MACAROON = 'ab'.repeat(40)
const homes: string[] = []
const newHome = () => {
  const home = mkdtempSync(join(tmpdir(), 'timmy-wallet-secrets-'))
  homes.push(home)
  return home
}
afterEach(() => homes.splice(0).forEach((h) => rmSync(h, { recursive: true, force: true })))

describe('wallet credentials', () => {
  it('come from the secret store when config.json has none', () => {
    const store = new SecretStore(newHome(), 'pw', 4)
    store.set('lnd-macaroon', MACAROON)
    const lookup = (secret: string) => (store.has(secret) ? store.get(secret) : undefined)
    const filled = withWalletCredential({ kind: 'lnd', url: 'https://127.0.0.1:8080' }, lookup)
    expect(filled).toEqual({ config: { kind: 'lnd', url: 'https://127.0.0.1:8080', macaroonHex: MACAROON }, inClear: false })
    expect(withWalletCredential({ kind: 'cln', url: 'https://127.0.0.1:3010', rune: 'r' }, lookup).inClear).toBe(true)
    expect(withWalletCredential({ kind: 'fake' }, lookup)).toEqual({ config: { kind: 'fake' }, inClear: false })
  })

  it('missing everywhere: the wallet refuses to start and says where to put it', async () => {
    const config = withWalletCredential({ kind: 'nwc' }, () => undefined).config
    expect(() => walletCredential(config as { kind: 'nwc' })).toThrow(/timmy secrets set nwc-uri.*TIMMY_NWC_URI/)
    await expect(createWallet({ kind: 'lnd', url: 'https://127.0.0.1:8080' }, { name: 'a' })).rejects.toThrow(/timmy secrets set lnd-macaroon/)
  })
})

const cli = fileURLToPath(new URL('../../dist/bin/timmy.js', import.meta.url))
describe.skipIf(!existsSync(cli))('timmy secrets (dist/bin/timmy.js; run `npm run build` first)', () => {
  it('stores a secret from standard input, lists names only, and keeps no clear copy on disk', () => {
    const home = newHome()
    const env = { ...process.env, TIMMY_HOME: home, TIMMY_PASSPHRASE: 'cli secret test' }
    const set = spawnSync(process.execPath, [cli, 'secrets', 'set', 'lnd-macaroon'], { env, input: `${MACAROON}\n`, encoding: 'utf8' })
    expect(set.stderr).toBe('')
    expect(set.stdout).toBe('stored lnd-macaroon\n')
    const list = spawnSync(process.execPath, [cli, 'secrets', 'list'], { env, encoding: 'utf8' })
    expect(list.stdout).toBe('lnd-macaroon\n')
    const files = readdirSync(join(home, 'secrets')).map((f) => readFileSync(join(home, 'secrets', f), 'utf8'))
    expect(files.join('')).not.toContain(MACAROON)
    expect(new SecretStore(home, 'cli secret test').get('lnd-macaroon')).toBe(MACAROON)
    const empty = spawnSync(process.execPath, [cli, 'secrets', 'set', 'cln-rune'], { env, input: '', encoding: 'utf8' })
    expect(empty.status).toBe(1)
    expect(empty.stderr).toMatch(/nothing on standard input/)
  })
})
