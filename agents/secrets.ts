// Secrets at rest other than agent keys (those are NIP-49 ncryptsec, see keystore.ts): Lightning
// credentials (LND macaroons, CLN runes, NWC URIs), API keys. Each secret is one file
// $TIMMY_HOME/secrets/<name>.json (0600, directory 0700), encrypted with the same passphrase that
// unlocks the agent keys: scrypt (N = 2^logN, r = 8, p = 1, per-file salt) derives a key for
// XChaCha20-Poly1305, with the secret's name as associated data so files cannot be swapped.
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { scrypt } from '@noble/hashes/scrypt.js'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import type { Logger } from './logger.js'

interface SecretFile {
  version: 1
  name: string
  kdf: { name: 'scrypt'; logN: number; r: 8; p: 1; salt: string }
  cipher: 'xchacha20poly1305'
  nonce: string
  ciphertext: string
  updatedAt: string
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

function checkSecretName(name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid secret name ${JSON.stringify(name)}: use 1-64 of a-z, 0-9, '.', '-' and '_', starting with a letter or digit`)
  return name
}

export class SecretStore {
  readonly dir: string

  constructor(
    home: string,
    private readonly passphrase: string,
    private readonly logN: number = 16,
    private readonly clock: () => number = Date.now,
  ) {
    if (!passphrase) throw new Error('the secret store needs a passphrase')
    this.dir = join(home, 'secrets')
  }

  private path(name: string): string {
    return join(this.dir, `${checkSecretName(name)}.json`)
  }

  private key(salt: Uint8Array, logN: number): Uint8Array {
    return scrypt(utf8ToBytes(this.passphrase.normalize('NFKC')), salt, { N: 2 ** logN, r: 8, p: 1, dkLen: 32, maxmem: 2 ** (logN + 11) })
  }

  has(name: string): boolean {
    return existsSync(this.path(name))
  }

  list(): string[] {
    if (!existsSync(this.dir)) return []
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort()
  }

  /** Stores (or replaces) a secret. Written to a temporary file first: a crash never leaves half a secret. */
  set(name: string, secret: string): void {
    if (typeof secret !== 'string' || secret === '') throw new Error(`secret ${name} is empty`)
    const path = this.path(name)
    const salt = randomBytes(16)
    const nonce = randomBytes(24)
    const ciphertext = xchacha20poly1305(this.key(salt, this.logN), nonce, utf8ToBytes(name)).encrypt(utf8ToBytes(secret))
    const file: SecretFile = {
      version: 1,
      name,
      kdf: { name: 'scrypt', logN: this.logN, r: 8, p: 1, salt: bytesToHex(salt) },
      cipher: 'xchacha20poly1305',
      nonce: bytesToHex(nonce),
      ciphertext: Buffer.from(ciphertext).toString('base64'),
      updatedAt: new Date(this.clock()).toISOString(),
    }
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    const temporary = `${path}.tmp-${process.pid}`
    writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 })
    chmodSync(temporary, 0o600)
    renameSync(temporary, path)
  }

  get(name: string): string {
    const path = this.path(name)
    if (!existsSync(path)) throw new Error(`no secret named ${name} in ${this.dir}`)
    let file: SecretFile
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as SecretFile
    } catch {
      throw new Error(`${path} is not a Timmy secret file`)
    }
    if (file.version !== 1 || file.kdf?.name !== 'scrypt' || file.cipher !== 'xchacha20poly1305' || !Number.isInteger(file.kdf.logN) || file.kdf.logN < 1 || file.kdf.logN > 22) {
      throw new Error(`${path} is not a Timmy secret file (version 1, scrypt, xchacha20poly1305)`)
    }
    try {
      const plaintext = xchacha20poly1305(this.key(hexToBytes(file.kdf.salt), file.kdf.logN), hexToBytes(file.nonce), utf8ToBytes(name)).decrypt(Buffer.from(file.ciphertext, 'base64'))
      return new TextDecoder('utf-8', { fatal: true }).decode(plaintext)
    } catch {
      throw new Error(`cannot decrypt secret ${name}: wrong passphrase, or the file was altered or belongs to another name`)
    }
  }

  delete(name: string): boolean {
    if (!this.has(name)) return false
    rmSync(this.path(name))
    return true
  }
}

/**
 * Environment variables that hold secrets. TIMMY_PASSPHRASE is not among them: it is what unlocks
 * the stores, and the alternative (a file beside them) is worse; `--ask-passphrase` avoids both.
 */
const SECRET_ENV = /^TIMMY_\w*(SECRET|MACAROON|RUNE|NWC|TOKEN|API_KEY|PASSWORD|PASSPHRASE|NSEC|PRIVATE_KEY)\w*$/

export function secretEnvironmentVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((name) => SECRET_ENV.test(name) && name !== 'TIMMY_PASSPHRASE' && env[name])
    .sort()
}

/** One warning per secret passed in the environment (called at startup). */
export function warnAboutEnvironmentSecrets(env: NodeJS.ProcessEnv, log: Logger): string[] {
  const names = secretEnvironmentVariables(env)
  for (const variable of names) {
    log.warn({ variable }, `a secret comes from the environment variable ${variable}: child processes inherit it and anything running as this user can read it; prefer the encrypted secret store ($TIMMY_HOME/secrets)`)
  }
  return names
}

/**
 * A secret from the environment variable when set (with a warning), else from the store, else
 * undefined. Lightning backends call this for their credentials.
 */
export function resolveSecret(name: string, { store, env = process.env, variable, log }: { store: SecretStore; env?: NodeJS.ProcessEnv; variable?: string; log: Logger }): string | undefined {
  const fromEnv = variable ? env[variable] : undefined
  if (fromEnv) {
    log.warn({ name, variable }, `secret ${name} comes from the environment variable ${variable}; store it encrypted instead and unset the variable`)
    return fromEnv
  }
  return store.has(name) ? store.get(name) : undefined
}
