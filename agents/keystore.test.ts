import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey } from '../nips/01.js'
import { decode, nsecEncode } from '../nips/19.js'
import { encryptSecretKey } from '../nips/49.js'
import { Keystore, resolvePassphrase } from './keystore.js'
import { silentLogger, type Logger } from './logger.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))
function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-keys-'))
  dirs.push(dir)
  return dir
}
// logN 4: the scrypt cost does not matter here, only the format.
const store = (dir: string, passphrase = 'correct horse') => new Keystore(dir, passphrase, 4)

describe('Keystore', () => {
  it('creates keys as NIP-49 ncryptsec files readable only by the owner, and lists them without the passphrase', () => {
    const dir = home()
    const created = store(dir).create('summarize')
    const file = join(dir, 'keys', 'summarize.json')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    const content = JSON.parse(readFileSync(file, 'utf8')) as { ncryptsec: string; pubkey: string }
    expect(content.ncryptsec).toMatch(/^ncryptsec1/)
    expect(JSON.stringify(content)).not.toMatch(/nsec1/)
    expect(store(dir, 'another passphrase').list()).toEqual([created])
    expect(getPublicKey(store(dir).load('summarize'))).toBe(created.pubkey)
  })

  it('refuses a wrong passphrase with a clear error', () => {
    const dir = home()
    store(dir).create('a')
    expect(() => store(dir, 'wrong').load('a')).toThrow(/wrong passphrase/)
  })

  it('imports nsec, hex and ncryptsec keys and exports them again', () => {
    const dir = home()
    const sk = generateSecretKey()
    const keystore = store(dir)
    expect(keystore.import('from-nsec', nsecEncode(sk)).pubkey).toBe(getPublicKey(sk))
    expect(keystore.import('from-hex', Buffer.from(sk).toString('hex')).pubkey).toBe(getPublicKey(sk))
    const ncryptsec = encryptSecretKey(sk, 'other password', { logN: 4 })
    expect(keystore.import('from-ncryptsec', ncryptsec, 'other password').pubkey).toBe(getPublicKey(sk))
    expect(decode(keystore.export('from-nsec', 'nsec')).data).toEqual(sk)
    expect(keystore.export('from-hex', 'ncryptsec')).toMatch(/^ncryptsec1/)
    expect(() => keystore.import('bad', 'npub1xyz')).toThrow()
    expect(() => keystore.create('from-nsec')).toThrow(/already exists/)
    expect(() => keystore.create('../escape')).toThrow(/invalid key name/)
  })

  it('rotates a key and keeps the retired one', () => {
    const dir = home()
    const keystore = store(dir)
    const first = keystore.create('agent')
    const { retired, current } = keystore.rotate('agent')
    expect(retired.pubkey).toBe(first.pubkey)
    expect(current.pubkey).not.toBe(first.pubkey)
    expect(getPublicKey(keystore.load('agent'))).toBe(current.pubkey)
    expect(readdirSync(join(dir, 'keys', 'retired'))).toHaveLength(1)
  })

  it('creates a key on first use and loads the same one afterwards', () => {
    const dir = home()
    const first = store(dir).loadOrCreate('x')
    const second = store(dir).loadOrCreate('x')
    expect(first.created).toBe(true)
    expect(second.created).toBe(false)
    expect(second.secretKey).toEqual(first.secretKey)
  })
})

describe('resolvePassphrase', () => {
  const recording = () => {
    const warnings: object[] = []
    const log: Logger = { ...silentLogger, warn: (obj: object) => warnings.push(obj) }
    return { log, warnings }
  }

  it('prefers TIMMY_PASSPHRASE', async () => {
    expect(await resolvePassphrase({ home: home(), configured: 'from env', log: silentLogger })).toBe('from env')
  })

  it('generates a 0600 passphrase file when nothing is configured, warns where it is, and reuses it', async () => {
    const dir = home()
    const { log, warnings } = recording()
    const generated = await resolvePassphrase({ home: dir, log })
    const file = join(dir, 'passphrase')
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(generated.length).toBeGreaterThanOrEqual(40)
    expect(warnings).toEqual([{ file }])
    expect(await resolvePassphrase({ home: dir, log: silentLogger })).toBe(generated)
  })

  it('does not invent a passphrase for keys that exist already', async () => {
    const dir = home()
    store(dir).create('a')
    await expect(resolvePassphrase({ home: dir, log: silentLogger })).rejects.toThrow(/TIMMY_PASSPHRASE/)
    expect(existsSync(join(dir, 'passphrase'))).toBe(false)
  })

  it('reads a passphrase file an operator wrote', async () => {
    const dir = home()
    writeFileSync(join(dir, 'passphrase'), 'mine\n', { mode: 0o600 })
    expect(await resolvePassphrase({ home: dir, log: silentLogger })).toBe('mine')
  })
})
