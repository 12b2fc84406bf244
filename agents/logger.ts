// Structured logging for agents: a pino logger in production, a silent one in tests.
// Secrets never reach the log: every message, field and child binding passes through
// redactSecrets, which masks secret-looking values (nsec, ncryptsec, NWC secrets, macaroons,
// runes and other long credential tokens) and the values of fields named like secrets.
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino'

export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  child(bindings: Record<string, unknown>): Logger
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

export const REDACTED = '[redacted]'

/** Field names whose values are secrets whatever they look like. */
const SECRET_KEY = /secret|passphrase|password|passwd|macaroon|rune|token|api[-_]?key|authorization|cookie|nsec|seed|mnemonic|private[-_]?key|privkey|credential/i
/** Counters that only sound like secrets. */
const NOT_SECRET_KEY = /tokens$|^max_?tokens?$|tokens?_?(count|limit|usage|used)$/i

const BECH32 = '[02-9ac-hj-np-z]'
const SECRET_VALUES: [RegExp, string][] = [
  [new RegExp(`nsec1${BECH32}{20,}`, 'gi'), '[redacted nsec]'],
  [new RegExp(`ncryptsec1${BECH32}{20,}`, 'gi'), '[redacted ncryptsec]'],
  // NWC (NIP-47) URIs carry the client secret in `secret=`; so do other connection strings.
  [/([?&;]secret=)[^&\s"'#]+/gi, `$1${REDACTED}`],
  // LND macaroons: hex (v2, location "lnd") or base64 ("AgEDbG5k..."), or any very long hex run.
  [/\b0201036c6e64[0-9a-f]+/gi, '[redacted macaroon]'],
  [/\bAgEDbG5k[A-Za-z0-9+/_=-]*/g, '[redacted macaroon]'],
  [/\b[0-9a-fA-F]{200,}\b/g, '[redacted hex]'],
  // Core Lightning runes, API keys, bearer tokens: runs of 40+ base64url characters mixing upper
  // case, lower case and digits (hex ids, npubs, bolt11 invoices and words never do).
  [/(?<![A-Za-z0-9+_=-])(?=[A-Za-z0-9+_-]*[A-Z])(?=[A-Za-z0-9+_-]*[a-z])(?=[A-Za-z0-9+_-]*[0-9])[A-Za-z0-9+_-]{40,}={0,2}/g, '[redacted token]'],
]

function redactString(text: string): string {
  let out = text
  for (const [pattern, replacement] of SECRET_VALUES) out = out.replace(pattern, replacement)
  return out
}

function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !NOT_SECRET_KEY.test(key)
}

/** A copy of the value with secrets masked (strings scanned, secret-named fields replaced). */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value)
  if (value === null || typeof value !== 'object' || depth > 8) return value
  if (value instanceof Error) {
    return { type: value.name, message: redactString(value.message), ...(value.stack && { stack: redactString(value.stack) }) }
  }
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) out[key] = isSecretKey(key) && v !== undefined && v !== null && typeof v !== 'boolean' && typeof v !== 'number' ? REDACTED : redactSecrets(v, depth + 1)
  return out
}

/** Logs JSON lines to stderr (or the given stream), so that stdout stays free for command output (`timmy job --json`). */
export function createLogger(level: LogLevel, destination: DestinationStream = pino.destination(2)): Logger {
  return redacting(pino({ level, base: undefined }, destination))
}

function redacting(inner: PinoLogger): Logger {
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (obj: object, msg?: string) => {
    if (!inner.isLevelEnabled(level)) return
    if (msg === undefined) inner[level](redactSecrets(obj) as object)
    else inner[level](redactSecrets(obj) as object, redactString(msg))
  }
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (bindings) => redacting(inner.child(redactSecrets(bindings) as Record<string, unknown>)),
  }
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger
  },
}
