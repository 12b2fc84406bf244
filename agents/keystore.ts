// Agent identities at rest: one file per key under $TIMMY_HOME/keys/, mode 0600, holding the
// NIP-49 ncryptsec and the public key (so listing needs no passphrase). Rotated keys are kept in
// keys/retired/ rather than deleted: whatever was signed with them stays attributable.
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { generateSecretKey, getPublicKey } from '../nips/01.js'
import { decode, npubEncode, nsecEncode } from '../nips/19.js'
import { decryptSecretKey, encryptSecretKey } from '../nips/49.js'
import type { Logger } from './logger.js'

export interface StoredKey {
  name: string
  pubkey: string
  npub: string
  createdAt: string
}

interface KeyFile {
  name: string
  pubkey: string
  ncryptsec: string
  createdAt: string
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/

export function checkKeyName(name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid key name ${JSON.stringify(name)}: use 1-64 of a-z, 0-9, '-' and '_', starting with a letter or digit`)
  return name
}

export class Keystore {
  readonly dir: string

  constructor(
    home: string,
    private readonly passphrase: string,
    private readonly logN: number = 16,
    private readonly clock: () => number = Date.now,
  ) {
    this.dir = join(home, 'keys')
  }

  private path(name: string): string {
    return join(this.dir, `${checkKeyName(name)}.json`)
  }

  has(name: string): boolean {
    return existsSync(this.path(name))
  }

  list(): StoredKey[] {
    if (!existsSync(this.dir)) return []
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => this.read(join(this.dir, f)))
      .map(({ name, pubkey, createdAt }) => ({ name, pubkey, npub: npubEncode(pubkey), createdAt }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  create(name: string): StoredKey {
    if (this.has(name)) throw new Error(`a key named ${name} already exists (rotate it with \`timmy keys rotate ${name}\`)`)
    return this.write(name, generateSecretKey())
  }

  /** Imports an nsec, a hex secret key or an ncryptsec (decrypted with `sourcePassphrase`, default ours). */
  import(name: string, secret: string, sourcePassphrase?: string): StoredKey {
    if (this.has(name)) throw new Error(`a key named ${name} already exists`)
    return this.write(name, parseSecret(secret, sourcePassphrase ?? this.passphrase))
  }

  load(name: string): Uint8Array {
    if (!this.has(name)) throw new Error(`no key named ${name} in ${this.dir}`)
    const file = this.read(this.path(name))
    let secretKey: Uint8Array
    try {
      secretKey = decryptSecretKey(file.ncryptsec, this.passphrase)
    } catch {
      throw new Error(`cannot decrypt key ${name}: wrong passphrase (TIMMY_PASSPHRASE or ${join(this.dir, '..', 'passphrase')})`)
    }
    if (getPublicKey(secretKey) !== file.pubkey) throw new Error(`key file of ${name} is inconsistent: its public key does not match the secret`)
    return secretKey
  }

  /** The agent's key, created on first use. */
  loadOrCreate(name: string): { secretKey: Uint8Array; created: boolean } {
    if (this.has(name)) return { secretKey: this.load(name), created: false }
    const secretKey = generateSecretKey()
    this.write(name, secretKey)
    return { secretKey, created: true }
  }

  export(name: string, format: 'nsec' | 'ncryptsec'): string {
    if (format === 'ncryptsec') {
      this.load(name)
      return this.read(this.path(name)).ncryptsec
    }
    return nsecEncode(this.load(name))
  }

  /** Replaces the key with a fresh one; the old file moves to keys/retired/. */
  rotate(name: string): { retired: StoredKey; current: StoredKey } {
    const old = this.read(this.path(name))
    this.load(name)
    const retiredDir = join(this.dir, 'retired')
    mkdirSync(retiredDir, { recursive: true, mode: 0o700 })
    renameSync(this.path(name), join(retiredDir, `${name}-${new Date(this.clock()).toISOString().replace(/[:.]/g, '-')}.json`))
    const current = this.write(name, generateSecretKey())
    return { retired: { name, pubkey: old.pubkey, npub: npubEncode(old.pubkey), createdAt: old.createdAt }, current }
  }

  private read(path: string): KeyFile {
    const file = JSON.parse(readFileSync(path, 'utf8')) as KeyFile
    if (typeof file.ncryptsec !== 'string' || typeof file.pubkey !== 'string') throw new Error(`${path} is not a Timmy key file`)
    return file
  }

  private write(name: string, secretKey: Uint8Array): StoredKey {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const pubkey = getPublicKey(secretKey)
    const createdAt = new Date(this.clock()).toISOString()
    const file: KeyFile = { name, pubkey, ncryptsec: encryptSecretKey(secretKey, this.passphrase, { logN: this.logN }), createdAt }
    const path = this.path(name)
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    chmodSync(path, 0o600)
    return { name, pubkey, npub: npubEncode(pubkey), createdAt }
  }
}

function parseSecret(secret: string, passphrase: string): Uint8Array {
  const text = secret.trim()
  if (text.startsWith('ncryptsec1')) return decryptSecretKey(text, passphrase)
  if (/^[0-9a-f]{64}$/i.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'))
  const decoded = decode(text)
  if (decoded.type !== 'nsec') throw new Error(`expected an nsec, ncryptsec or hex secret key, got ${decoded.type}`)
  return decoded.data as Uint8Array
}

export interface PassphraseOptions {
  home: string
  /** TIMMY_PASSPHRASE / config. */
  configured?: string
  /** Ask on the terminal instead of generating a passphrase file. */
  prompt?: boolean
  log: Logger
}

/**
 * Where the passphrase comes from: TIMMY_PASSPHRASE; else the passphrase file; else the terminal
 * when asked for (or when keys exist that no file unlocks); else, the zero-config default, a
 * generated passphrase in $TIMMY_HOME/passphrase (0600), with a warning that says where it is.
 */
export async function resolvePassphrase(options: PassphraseOptions): Promise<string> {
  if (options.configured) return options.configured
  const file = join(options.home, 'passphrase')
  if (existsSync(file)) {
    options.log.warn({ file }, 'agent keys are unlocked by a passphrase stored in a file; set TIMMY_PASSPHRASE and remove the file to keep it off disk')
    return readFileSync(file, 'utf8').trim()
  }
  const keysExist = existsSync(join(options.home, 'keys')) && readdirSync(join(options.home, 'keys')).some((f) => f.endsWith('.json'))
  if (options.prompt || keysExist) {
    if (!process.stdin.isTTY) throw new Error(`keys in ${join(options.home, 'keys')} need their passphrase: set TIMMY_PASSPHRASE`)
    return askHidden('Passphrase for agent keys: ')
  }
  mkdirSync(options.home, { recursive: true, mode: 0o700 })
  const passphrase = randomBytes(32).toString('base64url')
  writeFileSync(file, `${passphrase}\n`, { mode: 0o600, flag: 'wx' })
  chmodSync(file, 0o600)
  options.log.warn({ file }, 'generated a passphrase for the agent keys and stored it in this file (mode 0600); back it up, or set TIMMY_PASSPHRASE and remove the file')
  return passphrase
}

function askHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true })
    const output = rl as unknown as { _writeToOutput: (s: string) => void }
    let prompted = false
    output._writeToOutput = (s: string) => {
      if (!prompted) process.stderr.write(s)
      prompted = true
    }
    rl.question(question, (answer) => {
      rl.close()
      process.stderr.write('\n')
      if (!answer) reject(new Error('empty passphrase'))
      else resolve(answer)
    })
  })
}
