// `timmy relay`: the embedded relay on its own, or (--strfry-plugin) the same write policy as a
// strfry plugin speaking JSONL on stdin/stdout.
import { mkdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { InvalidArgumentError, type Command } from 'commander'
import { pino } from 'pino'
import { resolveRelayConfig, type RelayConfig } from './config.js'
import { defaultPolicies, rateLimitPolicies } from './policy.js'
import { startRelay } from './server.js'
import { runStrfryPlugin } from './strfry-plugin.js'

interface RelayCommandOptions {
  host: string
  port: number
  db?: string
  config?: string
  strfryPlugin?: boolean
}

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be an integer 0..65535')
  return port
}

function defaultPort(): number {
  const fromEnv = process.env.TIMMY_RELAY_PORT
  if (fromEnv === undefined || fromEnv === '') return 7777
  try {
    return parsePort(fromEnv)
  } catch {
    throw new Error(`TIMMY_RELAY_PORT=${JSON.stringify(fromEnv)} is not a port number`)
  }
}

function loadConfig(path: string | undefined): RelayConfig {
  if (path === undefined) return resolveRelayConfig({})
  let json: unknown
  try {
    json = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new Error(`cannot read relay config ${path}: ${(err as Error).message}`)
  }
  return resolveRelayConfig(json)
}

export function registerRelayCommands(program: Command): void {
  program
    .command('relay')
    .description('run the embedded Nostr relay on its own (or, with --strfry-plugin, act as a strfry write-policy plugin)')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 = any free port) [default: $TIMMY_RELAY_PORT or 7777]', parsePort)
    .option('--db <path>', 'SQLite event store [default: $TIMMY_HOME/relay.sqlite, TIMMY_HOME defaults to ./.timmy]')
    .option('--config <file>', 'JSON file overriding relay limits and policies (see relay/config.ts)')
    .option('--strfry-plugin', 'read strfry write-policy requests (JSONL) on stdin and answer on stdout')
    .action(async (options: RelayCommandOptions) => {
      try {
        await runRelayCommand(options)
      } catch (err) {
        // Problems a user can fix (bad port, unreadable config, port in use) get one line, not a stack trace.
        process.stderr.write(`timmy relay: ${err instanceof Error ? err.message : String(err)}\n`)
        process.exit(1)
      }
    })
}

async function runRelayCommand(options: RelayCommandOptions): Promise<void> {
  const config = loadConfig(options.config)
  if (options.strfryPlugin) {
    // stdout carries the plugin protocol; logs go to stderr, which strfry copies into its own log.
    const log = pino({ name: 'timmy-strfry-plugin' }, pino.destination(2))
    const policies = [...defaultPolicies(config), ...rateLimitPolicies(config)]
    await runStrfryPlugin(process.stdin, process.stdout, policies, () => Date.now() / 1000, { config, log })
    return
  }
  const port = options.port ?? defaultPort()
  const dbPath = options.db ?? join(process.env.TIMMY_HOME || './.timmy', 'relay.sqlite')
  mkdirSync(dirname(dbPath), { recursive: true })
  const log = pino({ name: 'timmy-relay' })
  const starting = startRelay({ host: options.host, port, dbPath, config, log: log.child({ db: dbPath }) })
  // Installed before the relay announces itself, so a signal right after "listening" still closes it cleanly.
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'closing relay')
    starting
      .then((relay) => relay.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err }, 'relay did not close cleanly')
          process.exit(1)
        },
      )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    await starting
  } catch (err) {
    throw new Error(`cannot start the relay: ${err instanceof Error ? err.message : String(err)}`)
  }
}
