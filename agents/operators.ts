// Who may use the operator HTTP API (approve jobs, move money, change agents): an allowlist of
// npubs in $TIMMY_HOME/operators (one per line, `#` comments; `timmy operators add <npub>`) and in
// TIMMY_OPERATORS (comma-separated). Each operator request carries a NIP-98 auth event; this module
// decides whether it authorizes the request, and remembers event ids so none is used twice.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { getTagValue } from '../nips/01.js'
import { decodeToHexPubkey, npubEncode } from '../nips/19.js'
import { decodeAuthorizationHeader, DEFAULT_HTTP_AUTH_WINDOW_SECONDS, httpAuthError } from '../nips/98.js'

export const OPERATORS_FILE = 'operators'
export const OPERATORS_ENV = 'TIMMY_OPERATORS'

export function operatorsPath(home: string): string {
  return join(home, OPERATORS_FILE)
}

/** Hex pubkeys listed in the operators file (missing file: none). Throws naming the bad line. */
export function readOperatorsFile(home: string): string[] {
  const path = operatorsPath(home)
  if (!existsSync(path)) return []
  const pubkeys: string[] = []
  readFileSync(path, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.replace(/#.*/, '').trim()
      if (!line) return
      try {
        pubkeys.push(decodeToHexPubkey(line))
      } catch (err) {
        throw new Error(`${path}:${i + 1}: not an npub or hex public key (${(err as Error).message})`)
      }
    })
  return pubkeys
}

function parseEnvOperators(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeToHexPubkey(s)
      } catch (err) {
        throw new Error(`${OPERATORS_ENV}: ${JSON.stringify(s.slice(0, 80))} is not an npub or hex public key (${(err as Error).message})`)
      }
    })
}

/** Every operator, from the file and the environment, as hex pubkeys. */
export function loadOperators(home: string, env: NodeJS.ProcessEnv = process.env): Set<string> {
  return new Set([...readOperatorsFile(home), ...parseEnvOperators(env[OPERATORS_ENV])])
}

/** Adds an operator to the file (created 0600); returns false when already there. */
export function addOperator(home: string, npubOrHex: string): boolean {
  const pubkey = decodeToHexPubkey(npubOrHex.trim())
  const current = readOperatorsFile(home)
  if (current.includes(pubkey)) return false
  writeOperators(home, [...current, pubkey])
  return true
}

/** Removes an operator from the file; returns false when it was not there. */
export function removeOperator(home: string, npubOrHex: string): boolean {
  const pubkey = decodeToHexPubkey(npubOrHex.trim())
  const current = readOperatorsFile(home)
  if (!current.includes(pubkey)) return false
  writeOperators(home, current.filter((p) => p !== pubkey))
  return true
}

function writeOperators(home: string, pubkeys: string[]): void {
  mkdirSync(home, { recursive: true, mode: 0o700 })
  const path = operatorsPath(home)
  const header = '# Operators of this Timmy host: npubs allowed to use the operator HTTP API (NIP-98 auth).\n# Edit with `timmy operators add|remove <npub>`, or by hand: one npub per line.\n'
  writeFileSync(path, header + pubkeys.map((p) => `${npubEncode(p)}\n`).join(''), { mode: 0o600 })
  chmodSync(path, 0o600)
}

export const NO_OPERATORS_REASON = `no operators are configured, so the operator API is locked: add your npub with \`timmy operators add <npub>\` (or set ${OPERATORS_ENV}) and restart`

/** Event ids of auth events already used, kept as long as they could still pass the time window. */
export class ReplayCache {
  private readonly expiries = new Map<string, number>()

  constructor(private readonly maxEntries = 100_000) {}

  /** Records the id; false when it was already seen (a replay). */
  remember(id: string, expiresAt: number, now: number): boolean {
    if (this.expiries.has(id)) return false
    if (this.expiries.size >= this.maxEntries) this.prune(now)
    // Only operators' valid events get here; a full cache means a runaway client, not an attacker.
    if (this.expiries.size >= this.maxEntries) this.expiries.delete(this.expiries.keys().next().value!)
    this.expiries.set(id, expiresAt)
    return true
  }

  prune(now: number): void {
    for (const [id, expiresAt] of this.expiries) if (expiresAt < now) this.expiries.delete(id)
  }

  get size(): number {
    return this.expiries.size
  }
}

export interface OperatorRequest {
  /** The Host header. */
  host: string
  /** Path and query, as in the request line. */
  path: string
  method: string
  authorization: string | undefined
  body: Uint8Array
}

export type OperatorDecision = { ok: true; pubkey: string } | { ok: false; status: 401 | 403; reason: string }

export interface OperatorAuthOptions {
  /** Hex pubkeys; read on every request so that `timmy operators add` needs no restart when given a reader. */
  operators: () => ReadonlySet<string>
  /** Unix seconds. */
  now: () => number
  windowSeconds?: number
}

export interface OperatorAuth {
  authorize(request: OperatorRequest): OperatorDecision
}

export function createOperatorAuth({ operators, now, windowSeconds = DEFAULT_HTTP_AUTH_WINDOW_SECONDS }: OperatorAuthOptions): OperatorAuth {
  const seen = new ReplayCache()
  return {
    authorize(request) {
      const allowed = operators()
      if (allowed.size === 0) return { ok: false, status: 403, reason: NO_OPERATORS_REASON }
      const decoded = decodeAuthorizationHeader(request.authorization)
      if ('reason' in decoded) return { ok: false, status: 401, reason: decoded.reason }
      const { event } = decoded
      const at = now()
      // Behind a TLS-terminating proxy this server sees http while the client signed https: the
      // scheme is taken from the event, host and path from the request (the Host header is
      // checked by the server, and binds the signature to this host either way).
      const scheme = /^https:/i.test(getTagValue(event, 'u') ?? '') ? 'https:' : 'http:'
      const problem = httpAuthError(event, { url: `${scheme}//${request.host}${request.path}`, method: request.method, body: request.body, now: at, windowSeconds })
      if (problem) return { ok: false, status: 401, reason: problem }
      if (!allowed.has(event.pubkey)) return { ok: false, status: 403, reason: `${npubEncode(event.pubkey)} is not an operator of this host (\`timmy operators add <npub>\`)` }
      if (!seen.remember(event.id, event.created_at + windowSeconds, at)) return { ok: false, status: 401, reason: 'auth event already used: sign a new one for each request' }
      return { ok: true, pubkey: event.pubkey }
    },
  }
}
