// Structured logging for agents: a pino logger in production, a silent one in tests.
import { pino } from 'pino'

export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
  child(bindings: Record<string, unknown>): Logger
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'

/** Logs JSON lines to stderr, so that stdout stays free for command output (`timmy job --json`). */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: undefined }, pino.destination(2))
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
