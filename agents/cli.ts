// `timmy start`, `agent`, `job`, `label`, `agents`, `keys`, `approvals`, `config`.
import { existsSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Command, InvalidArgumentError, Option } from 'commander'
import { generateSecretKey, isHex64 } from '../nips/01.js'
import { decodeToHexPubkey, npubEncode } from '../nips/19.js'
import { JOB_OUTCOMES, type JobOutcome } from '../nips/32.js'
import { INPUT_TYPES, isJobRequestKind, type InputType, type JobRequestInput } from '../nips/90.js'
import { approveJob, pendingApprovals, rejectJob } from './approvals.js'
import { runAuctionJobCommand } from './auction/cli.js'
import type { Capability } from './capability.js'
import { builtinCapabilities } from './capabilities/index.js'
import { describeConfig, loadConfig, type ConfigInput, type TimmyConfig } from './config.js'
import { loadEventCrypto, type EventCrypto } from './crypto.js'
import { createAgent, jobLogPath, startHost } from './host.js'
import { JobLog } from './joblog.js'
import { checkKeyName, Keystore, resolvePassphrase } from './keystore.js'
import { SecretStore } from './secrets.js'
import { WALLET_SECRETS } from './lightning/wallet-config.js'
import { createLogger, type Logger } from './logger.js'
import { addOperator, loadOperators, OPERATORS_ENV, operatorsPath, readOperatorsFile, removeOperator } from './operators.js'
import { jobPaymentResponder } from './payments/cli.js'
import { RelayPool } from './pool.js'
import { discoverDvms, JobTimeoutError, publishJobLabel, sendJob } from './requester.js'
import { jobSummary } from './http.js'
import { replayJob, type JobFact, type JobState } from './state.js'

interface CommonOptions {
  home?: string
  askPassphrase?: boolean
}

const integer = (what: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a non-negative integer`)
  return n
}
const collect = (value: string, previous: string[]) => [...previous, value]
const quality = (value: string) => {
  const n = Number(value)
  if (!/^[1-5]$/.test(value)) throw new InvalidArgumentError('quality must be a whole number from 1 (poor) to 5 (excellent)')
  return n
}
const reputationScore = (value: string) => {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('the minimum reputation must be a number from 0 to 1')
  return n
}

function homeOption(): Option {
  return new Option('--home <dir>', 'data directory (default $TIMMY_HOME or ./.timmy)')
}

function passphraseOption(): Option {
  return new Option('--ask-passphrase', 'ask for the key passphrase on the terminal instead of using $TIMMY_HOME/passphrase')
}

function configFrom(options: CommonOptions, overrides: ConfigInput = {}): TimmyConfig {
  return loadConfig({ overrides: { ...overrides, ...(options.home && { home: options.home }) } })
}

async function openKeystore(config: TimmyConfig, log: Logger, options: CommonOptions): Promise<Keystore> {
  const passphrase = await resolvePassphrase({ home: config.home, configured: config.passphrase, prompt: options.askPassphrase, log })
  return new Keystore(config.home, passphrase, config.keyLogN)
}

/** Agents with a job log under $TIMMY_HOME. */
function agentLogs(config: TimmyConfig): { name: string; path: string }[] {
  const dir = join(config.home, 'agents')
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .map((name) => ({ name, path: jobLogPath(config.home, name) }))
    .filter((a) => existsSync(a.path))
}

function findJob(config: TimmyConfig, jobId: string, agentName?: string): { name: string; jobLog: JobLog; state: JobState } {
  for (const { name, path } of agentLogs(config)) {
    if (agentName && name !== agentName) continue
    const jobLog = JobLog.open(path)
    const state = jobLog.state(jobId)
    if (state) return { name, jobLog, state }
    jobLog.close()
  }
  throw new Error(`no job ${jobId} in the job logs under ${join(config.home, 'agents')}`)
}

function runUntilSignal(log: Logger, close: () => Promise<void>): void {
  let closing = false
  const shutdown = (signal: string) => {
    if (closing) return
    closing = true
    log.info({ signal }, 'shutting down')
    close().then(
      () => process.exit(0),
      (err: Error) => {
        log.error({ err: err.message }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

/** Capabilities from a plugin module: its default export is a Capability, an array, or a function returning either. */
async function loadPlugin(path: string): Promise<Capability[]> {
  const module = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown }
  let exported = module.default
  if (typeof exported === 'function') exported = await (exported as () => unknown)()
  const list = Array.isArray(exported) ? exported : [exported]
  for (const c of list) {
    const cap = c as Partial<Capability>
    if (!cap || typeof cap.kind !== 'number' || typeof cap.id !== 'string' || typeof cap.run !== 'function') throw new Error(`${path}: the default export must be a Capability (kind, id, name, about, params, price, availability, run) or an array of them`)
  }
  return list as Capability[]
}

function fail(err: unknown): never {
  process.stderr.write(`timmy: ${(err as Error).message}\n`)
  process.exit(1)
}

/** The kind of a job request found on the relays, for a label that must name its capability. */
async function jobKindOnRelays(relays: string[], job: string, crypto: EventCrypto): Promise<number> {
  const pool = new RelayPool({ verify: (e) => crypto.verify(e) })
  try {
    const [request] = await pool.query(relays, [{ ids: [job] }])
    if (!request) throw new Error(`job request ${job} is not on ${relays.join(', ')}: pass --kind`)
    if (!isJobRequestKind(request.kind)) throw new Error(`event ${job} is kind ${request.kind}, not a job request (5000-5999)`)
    return request.kind
  } finally {
    pool.close()
  }
}

export function registerAgentCommands(program: Command): void {
  program
    .command('start')
    .description('run the agent host: embedded relay, the built-in agents and the HTTP API')
    .addOption(homeOption())
    .option('--relay-port <port>', 'embedded relay port (default $TIMMY_RELAY_PORT or 7777; 0 = any)', integer('port'))
    .option('--http-port <port>', 'HTTP API port (default $TIMMY_HTTP_PORT or 8080; 0 = any)', integer('port'))
    .addOption(passphraseOption())
    .action(async (options: CommonOptions & { relayPort?: number; httpPort?: number }) => {
      try {
        const config = configFrom(options, { relayPort: options.relayPort, httpPort: options.httpPort })
        const log = createLogger(config.logLevel)
        const passphrase = await resolvePassphrase({ home: config.home, configured: config.passphrase, prompt: options.askPassphrase, log })
        const host = await startHost({ config, passphrase, capabilities: builtinCapabilities(), log })
        process.stdout.write(`relay ${host.relay.url}\nhttp  ${host.http.url}\n${host.agents.map((a) => `agent ${a.name} ${a.npub}`).join('\n')}\n`)
        runUntilSignal(log, host.close)
      } catch (err) {
        fail(err)
      }
    })

  program
    .command('agent')
    .description('run one agent against the given relays')
    .addOption(homeOption())
    .option('--name <name>', 'agent (and key) name; default the first capability id')
    .option('--capability <id>', 'built-in capability to serve (repeatable)', collect, [])
    .option('--plugin <module>', 'JS module whose default export is a Capability or an array of them (repeatable)', collect, [])
    .option('--relay <url>', 'relay to use (repeatable; default the host relay and $TIMMY_RELAYS)', collect, [])
    .option('--heartbeat <seconds>', 'seconds between heartbeats', Number)
    .addOption(passphraseOption())
    .action(async (options: CommonOptions & { name?: string; capability: string[]; plugin: string[]; relay: string[]; heartbeat?: number }) => {
      try {
        const config = configFrom(options, { ...(options.heartbeat !== undefined && { heartbeatSeconds: options.heartbeat }) })
        const log = createLogger(config.logLevel)
        const builtins = builtinCapabilities()
        const capabilities: Capability[] = []
        for (const id of options.capability) {
          const found = builtins.find((c) => c.id === id)
          if (!found) throw new Error(`unknown capability ${id}; built in: ${builtins.map((c) => c.id).join(', ')}`)
          capabilities.push(found)
        }
        for (const path of options.plugin) capabilities.push(...(await loadPlugin(path)))
        if (capabilities.length === 0) throw new Error('give at least one --capability or --plugin')
        if (options.name) checkKeyName(options.name)
        const relays = options.relay.length ? options.relay : [`ws://127.0.0.1:${config.relayPort}`, ...config.relays]
        const keystore = await openKeystore(config, log, options)
        const agent = await createAgent({ config, keystore, capabilities, relays, log, ...(options.name && { name: options.name }) })
        await agent.start()
        process.stdout.write(`agent ${agent.name} ${agent.npub}\n`)
        runUntilSignal(log, async () => {
          await agent.stop()
          agent.jobLog.close()
        })
      } catch (err) {
        fail(err)
      }
    })

  const job = program
    .command('job')
    .description('send a NIP-90 job request, follow its feedback and print the result')
    .argument('<kind>', 'job request kind (5000-5999)', integer('kind'))
    .option('--input <value>', 'job input (repeatable)', collect, [])
    .addOption(new Option('--input-type <type>', 'type of the inputs').choices([...INPUT_TYPES]).default('text'))
    .option('--param <name value...>', 'job parameter: --param name value (repeatable)')
    .option('--output <mime>', 'requested output MIME type')
    .option('--bid <msats>', 'the most you will pay, in millisats', integer('bid'))
    .option('--to <npub>', 'ask this DVM only (npub or hex)')
    .option('--encrypt', 'encrypt inputs and params to the DVM (NIP-44; needs --to)')
    .option('--relay <url>', 'relay to use (repeatable; default the host relay and $TIMMY_RELAYS)', collect, [])
    .option('--key <name>', 'sign with this stored key instead of a fresh one')
    .option('--timeout <seconds>', 'give up after this long', Number, 60)
    .option('--json', 'print JSON lines: every feedback, then the result')
    .option('--wallet <uri>', "pay payment-required invoices with this NWC wallet (nostr+walletconnect://...), or 'fake-host' for the local host's FAKE network (test sats); without it invoices are printed")
    .option('--auction', 'put the job out to a sealed-bid second-price auction; --bid is the reserve price')
    .option('--bid-window <seconds>', 'with --auction: how long bids are taken', integer('bid window'), 30)
    .option('--reveal-window <seconds>', 'with --auction: how long bidders have to reveal after bidding closes', integer('reveal window'), 30)
    .option('--min-reputation <score>', 'with --auction: reject bidders whose reputation in your web of trust is below this score (0 to 1)', reputationScore)
    .option('--quality <1-5>', 'your rating of the result, in the job-outcome label published with it', quality)
    .option('--no-label', 'publish no job-outcome label (NIP-32) on the agent once the result is in')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action(
      async (
        kind: number,
        options: CommonOptions & {
          input: string[]
          inputType: InputType
          param?: string[]
          output?: string
          bid?: number
          to?: string
          encrypt?: boolean
          relay: string[]
          key?: string
          timeout: number
          json?: boolean
          wallet?: string
          auction?: boolean
          bidWindow: number
          revealWindow: number
          minReputation?: number
          quality?: number
          label: boolean
        },
      ) => {
        try {
          if (options.input.length === 0) throw new Error('give at least one --input')
          const params: Record<string, string[]> = {}
          const flat = options.param ?? []
          if (flat.length % 2 !== 0) throw new Error('each --param needs a name and a value')
          for (let i = 0; i < flat.length; i += 2) params[flat[i]] = [...(params[flat[i]] ?? []), flat[i + 1]]
          const config = configFrom(options)
          const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
          const crypto = await loadEventCrypto()
          const secretKey = options.key ? (await openKeystore(config, log, options)).load(options.key) : generateSecretKey()
          const relays = options.relay.length ? options.relay : [`ws://127.0.0.1:${config.relayPort}`, ...config.relays]
          const inputs: JobRequestInput[] = options.input.map((value) => ({ type: options.inputType, value }))
          if (options.minReputation !== undefined && !options.auction) throw new Error('--min-reputation applies to --auction only')
          if (options.auction) {
            if (options.bid === undefined) throw new Error('an auction needs --bid: the reserve price in msats')
            if (options.to || options.encrypt) throw new Error('an auction is an open, public request: --to and --encrypt do not apply')
            if (options.bidWindow < 1 || options.revealWindow < 1) throw new Error('--bid-window and --reveal-window must be at least 1 second')
            process.exit(
              await runAuctionJobCommand({
                config,
                log,
                kind,
                inputs,
                params,
                ...(options.output && { output: options.output }),
                reserveMsats: options.bid,
                bidWindowSeconds: options.bidWindow,
                revealWindowSeconds: options.revealWindow,
                ...(options.minReputation !== undefined && { minReputation: options.minReputation }),
                relays,
                ...(options.key && { keyName: options.key }),
                secretKey,
                timeoutSeconds: options.timeout,
                json: options.json ?? false,
              }),
            )
          }
          const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`)
          const payment = await jobPaymentResponder({ wallet: options.wallet, httpPort: config.httpPort, crypto, ...(options.bid !== undefined && { maxMsats: options.bid }), say: (line) => process.stderr.write(`${line}\n`) })
          const paying: Promise<number>[] = []
          const { request, result } = await sendJob({
            kind,
            inputs,
            params,
            ...(options.output && { output: options.output }),
            ...(options.bid !== undefined && { bidMsats: options.bid }),
            ...(options.to && { targets: [decodeToHexPubkey(options.to)] }),
            encrypt: options.encrypt ?? false,
            relays,
            secretKey,
            crypto,
            timeoutMs: options.timeout * 1000,
            onSent: (request) => (options.json ? print({ type: 'request', id: request.id, event: request }) : process.stderr.write(`sent job ${request.id}\n`)),
            onFeedback: (update) => {
              if (options.json) print({ type: 'feedback', from: npubEncode(update.from), status: update.status, extraInfo: update.extraInfo, content: update.content, amountMsats: update.amountMsats, eventId: update.event.id })
              else process.stderr.write(`[${update.status}] ${npubEncode(update.from).slice(0, 16)}… ${[update.extraInfo, update.content].filter(Boolean).join(' — ')}\n`)
              if (update.status === 'payment-required') paying.push(payment.respond(update))
            },
          })
          // Pay after work: the result carries the invoice.
          paying.push(payment.respond(result))
          const paidMsats = (await Promise.all(paying)).reduce((sum, msats) => sum + msats, 0)
          payment.close()
          if (options.json) print({ type: 'result', from: npubEncode(result.from), content: result.content, amountMsats: result.amountMsats, bolt11: result.bolt11, eventId: result.event.id })
          else process.stdout.write(`${result.content}\n`)
          if (options.label) {
            // The requester's word on the job, which reputation is computed from; `timmy label` corrects it.
            try {
              const label = await publishJobLabel({
                relays,
                secretKey,
                crypto,
                label: { agent: result.from, job: request.id, kind, outcome: 'success', ...(options.quality !== undefined && { quality: options.quality }), ...(paidMsats > 0 && { amountMsats: paidMsats }), createdAt: Math.floor(Date.now() / 1000) },
              })
              if (options.json) print({ type: 'label', id: label.id, agent: npubEncode(result.from), outcome: 'success', quality: options.quality })
              else process.stderr.write(`labelled ${npubEncode(result.from).slice(0, 16)}… success${options.quality ? ` (quality ${options.quality})` : ''} for this job; correct it with \`timmy label\`\n`)
            } catch (err) {
              process.stderr.write(`timmy: could not publish the job-outcome label: ${(err as Error).message}\n`)
            }
          }
          process.exit(0)
        } catch (err) {
          if (err instanceof JobTimeoutError) {
            process.stderr.write(`timmy: ${err.message}\n`)
            process.exit(2)
          }
          fail(err)
        }
      },
    )

  job
    .command('replay')
    .description("fold a job's log again and print every state it went through")
    .argument('<id>', 'job (request event) id')
    .option('--agent <name>', 'only look in this agent’s log')
    .option('--json', 'print JSON')
    .addOption(homeOption())
    .action((id: string, options: CommonOptions & { agent?: string; json?: boolean }) => {
      try {
        const config = configFrom(options)
        const { name, jobLog } = findJob(config, id, options.agent)
        const facts = jobLog.facts(id)
        const states = replayJob(id, facts)
        jobLog.close()
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ agent: name, steps: facts.map((fact, i) => ({ fact, state: states[i] })) }, null, 2)}\n`)
          return
        }
        process.stdout.write(`job ${id} (agent ${name})\n`)
        facts.forEach((fact, i) => process.stdout.write(`${String(i + 1).padStart(3)}  ${new Date(fact.at).toISOString()}  ${fact.type.padEnd(18)} → ${states[i].status}${describeFact(fact)}\n`))
      } catch (err) {
        fail(err)
      }
    })

  program
    .command('label')
    .description("label an agent for a job (a NIP-32 job-outcome label, nips/reputation.md); your newer label for the same job replaces an older one")
    .argument('<agent>', 'the agent: npub or hex')
    .requiredOption('--job <id>', 'the job request id (hex)')
    .addOption(new Option('--outcome <outcome>', 'what happened').choices([...JOB_OUTCOMES]).makeOptionMandatory())
    .option('--quality <1-5>', '1 (poor) to 5 (excellent); not with no-reveal', quality)
    .option('--kind <n>', "the job's kind (5000-5999) [default: read from the job request on the relays]", integer('kind'))
    .option('--amount <msats>', 'what you paid, in msats (informational: only zap receipts count as payment)', integer('amount'))
    .option('--comment <text>', 'a word on the job')
    .requiredOption('--key <name>', 'sign with this stored key: a label weighs what its key stands for in the reader\'s web of trust')
    .option('--relay <url>', 'relay to use (repeatable; default the host relay and $TIMMY_RELAYS)', collect, [])
    .option('--json', 'print the label event as JSON')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action(async (agentArg: string, options: CommonOptions & { job: string; outcome: JobOutcome; quality?: number; kind?: number; amount?: number; comment?: string; key: string; relay: string[]; json?: boolean }) => {
      try {
        const agent = decodeToHexPubkey(agentArg)
        if (!isHex64(options.job)) throw new Error('--job must be the job request id: 64 lowercase hex characters')
        const config = configFrom(options)
        const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
        const crypto = await loadEventCrypto()
        const relays = options.relay.length ? options.relay : [`ws://127.0.0.1:${config.relayPort}`, ...config.relays]
        const kind = options.kind ?? (await jobKindOnRelays(relays, options.job, crypto))
        const secretKey = (await openKeystore(config, log, options)).load(options.key)
        const label = await publishJobLabel({
          relays,
          secretKey,
          crypto,
          label: {
            agent,
            job: options.job,
            kind,
            outcome: options.outcome,
            ...(options.quality !== undefined && { quality: options.quality }),
            ...(options.amount !== undefined && { amountMsats: options.amount }),
            ...(options.comment && { comment: options.comment }),
            createdAt: Math.floor(Date.now() / 1000),
          },
        })
        process.stdout.write(options.json ? `${JSON.stringify(label)}\n` : `labelled ${npubEncode(agent)} ${options.outcome}${options.quality ? ` (quality ${options.quality})` : ''} for job ${options.job}: ${label.id}\n`)
        process.exit(0)
      } catch (err) {
        fail(err)
      }
    })

  program
    .command('agents')
    .description('list the DVMs that announce themselves (NIP-89) on the relays')
    .option('--kind <kind>', 'only DVMs serving this job kind', integer('kind'))
    .option('--relay <url>', 'relay to ask (repeatable; default the host relay and $TIMMY_RELAYS)', collect, [])
    .option('--json', 'print JSON')
    .addOption(homeOption())
    .action(async (options: CommonOptions & { kind?: number; relay: string[]; json?: boolean }) => {
      try {
        const config = configFrom(options)
        const relays = options.relay.length ? options.relay : [`ws://127.0.0.1:${config.relayPort}`, ...config.relays]
        const dvms = await discoverDvms({ relays, crypto: await loadEventCrypto(), nowSeconds: Math.floor(Date.now() / 1000), deadAfterIntervals: config.deadAfterIntervals, ...(options.kind !== undefined && { kind: options.kind }) })
        if (options.json) {
          process.stdout.write(`${JSON.stringify(dvms, null, 2)}\n`)
        } else if (dvms.length === 0) {
          process.stdout.write('no DVMs announced on these relays\n')
        } else {
          for (const dvm of dvms) {
            const live = dvm.heartbeat ? (dvm.heartbeat.alive ? 'online' : 'offline') : 'no heartbeat'
            process.stdout.write(`${dvm.kinds.join(',').padEnd(6)} ${(dvm.name ?? dvm.id).padEnd(20)} ${dvm.npub}  ${live}${dvm.encryptionSupported ? '  encrypted ok' : ''}\n`)
            if (dvm.about) process.stdout.write(`       ${dvm.about}\n`)
            const params = Object.entries(dvm.params)
            if (params.length) process.stdout.write(`       params: ${params.map(([n, p]) => `${n}${p.required ? '*' : ''}${p.values.length ? `=${p.values.join('|')}` : ''}`).join(', ')}\n`)
          }
        }
        process.exit(0)
      } catch (err) {
        fail(err)
      }
    })

  const secrets = program.command('secrets').description('credentials encrypted at rest under $TIMMY_HOME/secrets (wallet macaroon, rune, NWC URI, API keys)')
  const withSecrets = async (options: CommonOptions, action: (store: SecretStore) => void | Promise<void>) => {
    try {
      const config = configFrom(options)
      const passphrase = await resolvePassphrase({ home: config.home, configured: config.passphrase, prompt: options.askPassphrase, log: createLogger(config.logLevel) })
      await action(new SecretStore(config.home, passphrase, config.keyLogN))
    } catch (err) {
      fail(err)
    }
  }
  secrets
    .command('list')
    .description('names of the stored secrets (never their values)')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action((options: CommonOptions) => withSecrets(options, (store) => void process.stdout.write(store.list().map((name) => `${name}\n`).join(''))))
  secrets
    .command('set')
    .description(`store a secret read from standard input, e.g. \`timmy secrets set lnd-macaroon < admin.macaroon.hex\`; wallet credentials: ${Object.values(WALLET_SECRETS).map((w) => w.secret).join(', ')}`)
    .argument('<name>')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action((name: string, options: CommonOptions) =>
      withSecrets(options, async (store) => {
        let value = ''
        for await (const chunk of process.stdin) value += String(chunk)
        value = value.trim()
        if (!value) throw new Error('nothing on standard input: pipe the secret in (it is not taken as an argument, so it stays out of shell history)')
        store.set(name, value)
        process.stdout.write(`stored ${name}\n`)
      }),
    )
  secrets
    .command('remove')
    .description('delete a stored secret')
    .argument('<name>')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action((name: string, options: CommonOptions) =>
      withSecrets(options, (store) => {
        if (!store.delete(name)) throw new Error(`no secret named ${name}`)
        process.stdout.write(`removed ${name}\n`)
      }),
    )
  const keys = program.command('keys').description('manage agent and requester keys (NIP-49 encrypted under $TIMMY_HOME/keys)')
  const withKeystore = async (options: CommonOptions, action: (keystore: Keystore) => void) => {
    try {
      const config = configFrom(options)
      action(await openKeystore(config, createLogger(config.logLevel), options))
    } catch (err) {
      fail(err)
    }
  }
  keys
    .command('list')
    .description('list keys (name, npub)')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action((options: CommonOptions) =>
      withKeystore(options, (keystore) => {
        for (const key of keystore.list()) process.stdout.write(`${key.name.padEnd(20)} ${key.npub}  ${key.createdAt}\n`)
      }),
    )
  keys
    .command('create')
    .description('create a new key')
    .argument('<name>')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action((name: string, options: CommonOptions) => withKeystore(options, (keystore) => process.stdout.write(`${keystore.create(name).npub}\n`)))
  keys
    .command('import')
    .description('import a key: nsec, hex or ncryptsec (an ncryptsec is decrypted with $TIMMY_IMPORT_PASSPHRASE, else the store passphrase)')
    .argument('<name>')
    .argument('<secret>')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action((name: string, secret: string, options: CommonOptions) =>
      withKeystore(options, (keystore) => process.stdout.write(`${keystore.import(name, secret, process.env.TIMMY_IMPORT_PASSPHRASE).npub}\n`)),
    )
  keys
    .command('export')
    .description('print a key as nsec (or as its ncryptsec)')
    .argument('<name>')
    .option('--ncryptsec', 'print the encrypted form')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action((name: string, options: CommonOptions & { ncryptsec?: boolean }) =>
      withKeystore(options, (keystore) => process.stdout.write(`${keystore.export(name, options.ncryptsec ? 'ncryptsec' : 'nsec')}\n`)),
    )
  keys
    .command('rotate')
    .description('replace a key with a new one; the old one is kept in keys/retired/')
    .argument('<name>')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action((name: string, options: CommonOptions) =>
      withKeystore(options, (keystore) => {
        const { retired, current } = keystore.rotate(name)
        process.stdout.write(`retired ${retired.npub}\ncurrent ${current.npub}\n`)
      }),
    )

  const approvals = program
    .command('approvals')
    .description('jobs waiting for an operator (list, approve, reject)')
    .addOption(homeOption())
    .option('--json', 'print JSON')
    .action((options: CommonOptions & { json?: boolean }) => listApprovals(options))
  approvals
    .command('list')
    .description('list jobs awaiting approval')
    .addOption(homeOption())
    .option('--json', 'print JSON')
    .action((options: CommonOptions & { json?: boolean }) => listApprovals(options))
  approvals
    .command('approve')
    .description('let a job run')
    .argument('<id>', 'job id')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action((id: string, options: CommonOptions) => decide(id, 'approve', options))
  approvals
    .command('reject')
    .description('refuse a job; the requester gets an error feedback with the reason')
    .argument('<id>', 'job id')
    .requiredOption('--reason <text>', 'why (sent to the requester)')
    .addOption(homeOption())
    .addOption(passphraseOption())
    .action((id: string, options: CommonOptions & { reason: string }) => decide(id, 'reject', options))

  const operators = program
    .command('operators')
    .description('npubs allowed on the operator HTTP API (NIP-98 signed requests): list, add, remove')
    .addOption(homeOption())
    .action((options: CommonOptions) => listOperators(options))
  operators.command('list').description('list operators (from $TIMMY_HOME/operators and TIMMY_OPERATORS)').addOption(homeOption()).action((options: CommonOptions) => listOperators(options))
  operators
    .command('add')
    .description('allow an npub on the operator HTTP API')
    .argument('<npub>', 'npub or hex public key')
    .addOption(homeOption())
    .action((npub: string, options: CommonOptions) => {
      try {
        const config = configFrom(options)
        const added = addOperator(config.home, npub)
        process.stdout.write(`${added ? 'added' : 'already an operator:'} ${npubEncode(decodeToHexPubkey(npub.trim()))} (${operatorsPath(config.home)})\n`)
      } catch (err) {
        fail(err)
      }
    })
  operators
    .command('remove')
    .description('take an npub off the operator allowlist')
    .argument('<npub>', 'npub or hex public key')
    .addOption(homeOption())
    .action((npub: string, options: CommonOptions) => {
      try {
        const config = configFrom(options)
        if (!removeOperator(config.home, npub)) throw new Error(`${npub} is not in ${operatorsPath(config.home)}${process.env[OPERATORS_ENV] ? ` (${OPERATORS_ENV} is not edited)` : ''}`)
        process.stdout.write(`removed ${npubEncode(decodeToHexPubkey(npub.trim()))}\n`)
      } catch (err) {
        fail(err)
      }
    })

  program
    .command('config')
    .description('print the effective configuration (secrets masked)')
    .addOption(homeOption())
    .action((options: CommonOptions) => {
      try {
        process.stdout.write(`${JSON.stringify(describeConfig(configFrom(options)), null, 2)}\n`)
      } catch (err) {
        fail(err)
      }
    })
}

function listOperators(options: CommonOptions): void {
  try {
    const config = configFrom(options)
    const all = loadOperators(config.home)
    if (all.size === 0) {
      process.stdout.write(`no operators: the operator HTTP API is locked. Add one with \`timmy operators add <npub>\`\n`)
      return
    }
    const inFile = new Set(readOperatorsFile(config.home))
    for (const pubkey of all) process.stdout.write(`${npubEncode(pubkey)}  ${inFile.has(pubkey) ? operatorsPath(config.home) : OPERATORS_ENV}\n`)
  } catch (err) {
    fail(err)
  }
}

function listApprovals(options: CommonOptions & { json?: boolean }): void {
  try {
    const config = configFrom(options)
    const rows: Record<string, unknown>[] = []
    for (const { name, path } of agentLogs(config)) {
      const jobLog = JobLog.open(path)
      for (const state of pendingApprovals(jobLog)) rows.push(jobSummary({ name, pubkey: jobLog.getValue('agent.pubkey') ?? '' }, state))
      jobLog.close()
    }
    if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
    else if (rows.length === 0) process.stdout.write('no jobs awaiting approval\n')
    else for (const r of rows) process.stdout.write(`${r.id}  ${String(r.agent).padEnd(16)} kind ${r.kind}  ${r.priceMsats ?? 0} msats  ${(r.approval as { reason: string }).reason}\n`)
  } catch (err) {
    fail(err)
  }
}

async function decide(id: string, decision: 'approve' | 'reject', options: CommonOptions & { reason?: string }): Promise<void> {
  try {
    const config = configFrom(options)
    const log = createLogger(config.logLevel)
    const { name, jobLog } = findJob(config, id)
    const by = `cli:${process.env.USER ?? 'operator'}`
    const relays = JSON.parse(jobLog.getValue('agent.relays') ?? '[]') as string[]
    const crypto = await loadEventCrypto()
    // The agent's key signs the rejection feedback; approving needs no signature.
    const secretKey = decision === 'reject' ? (await openKeystore(config, log, options)).load(name) : generateSecretKey()
    const decider = { by, now: Date.now(), secretKey, sign: crypto.sign, relays }
    const state = decision === 'approve' ? approveJob(jobLog, id, decider) : rejectJob(jobLog, id, options.reason!, decider)
    jobLog.close()
    process.stdout.write(`job ${id}: ${state.status}${decision === 'approve' ? ' (the running agent picks it up)' : ''}\n`)
  } catch (err) {
    fail(err)
  }
}

function describeFact(fact: JobFact): string {
  switch (fact.type) {
    case 'posted':
      return `  kind ${fact.request.kind} from ${npubEncode(fact.request.pubkey).slice(0, 16)}…${fact.takeoverFrom ? ` (taken over from ${npubEncode(fact.takeoverFrom).slice(0, 16)}…)` : ''}`
    case 'quoted':
      return `  price ${fact.priceMsats} msats`
    case 'bid-committed':
      return `  sealed bid, commit ${fact.bid.commit.id} (bids close ${new Date(fact.bid.bidDeadline * 1000).toISOString()})`
    case 'bid-revealed':
      return `  reveal ${fact.revealId}`
    case 'outcome-rejected':
      return `  outcome ${fact.outcomeId} does not verify: ${fact.problems.join('; ')}`
    case 'won':
      return `  paid the clearing price of ${fact.clearingPriceMsats} msats (outcome ${fact.outcomeId})`
    case 'lost':
      return `  ${fact.reason}`
    case 'approval-required':
      return `  ${fact.reason}`
    case 'approved':
      return `  by ${fact.by}`
    case 'rejected':
      return `  by ${fact.by}: ${fact.reason}`
    case 'awaiting-input':
      return `  for job ${fact.jobIds.join(', ')} until ${new Date(fact.deadline).toISOString()}`
    case 'started':
      return `  attempt ${fact.attempt}`
    case 'partial':
      return `  ${fact.content.slice(0, 60)}`
    case 'completed':
      return `  result ${fact.resultEventId}`
    case 'failed':
      return `  ${fact.reason}`
    case 'cancelled':
      return `  ${fact.reason}`
    case 'assigned':
      return ''
    case 'invoice-issued':
      return `  ${fact.amountMsats} msats, ${fact.escrow ? 'hold invoice (escrow)' : 'invoice'} ${fact.paymentHash}${fact.beforeWork ? '' : ' (with the result)'}`
    case 'paid':
      return `  ${fact.amountMsats} msats, payment ${fact.paymentHash}`
    case 'payment-settled':
      return `  escrow released ${fact.paymentHash}`
    case 'payment-refunded':
    case 'invoice-expired':
      return `  ${fact.reason}`
  }
}
