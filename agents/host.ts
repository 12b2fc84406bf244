// `timmy start`: the embedded relay, one agent per capability (each with its own key and job
// log), and the HTTP API, all in one process. Layout under $TIMMY_HOME:
//   passphrase            generated when nothing else unlocks the keys (0600)
//   operators             npubs allowed on the operator HTTP API (`timmy operators add`)
//   keys/<name>.json      NIP-49 encrypted agent keys (0600)
//   agents/<name>/jobs.db each agent's job log and outbox
//   relay/events.db       the embedded relay's store
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { startRelay, type RunningRelay } from '../relay/index.js'
import { createClientHandler } from '../client/serve.js'
import type { Capability } from './capability.js'
import type { TimmyConfig } from './config.js'
import { loadEventCrypto } from './crypto.js'
import { startHttpApi, type RunningHttpApi, type StaticHandler } from './http.js'
import { getPublicKey, type Filter } from '../nips/01.js'
import { JobLog } from './joblog.js'
import { Keystore } from './keystore.js'
import type { Logger } from './logger.js'
import { createJobMetrics, type JobMetrics } from './metrics.js'
import { loadOperators, NO_OPERATORS_REASON, operatorsPath } from './operators.js'
import { SecretStore, warnAboutEnvironmentSecrets } from './secrets.js'
import type { AgentPaymentsOptions } from './payments.js'
import { startHostPayments, type HostPayments } from './payments/host.js'
import { Agent, type AgentSettings } from './runtime.js'
import { lnurlZappers } from './reputation/zaps.js'
import { createUrlFetcher, type UrlFetcher } from './url-input.js'

export function agentDir(home: string, name: string): string {
  return join(home, 'agents', name)
}

export function jobLogPath(home: string, name: string): string {
  return join(agentDir(home, name), 'jobs.db')
}

export function agentSettings(config: TimmyConfig): AgentSettings {
  const { heartbeatSeconds, deadAfterIntervals, takeoverWindowSeconds, jobTimeoutSeconds, inputWaitSeconds, maxUrlInputBytes, maxConcurrentJobs, catchupSeconds, approval } = config
  return { heartbeatSeconds, deadAfterIntervals, takeoverWindowSeconds, jobTimeoutSeconds, inputWaitSeconds, maxUrlInputBytes, maxConcurrentJobs, catchupSeconds, approval }
}

export interface AgentSetup {
  config: TimmyConfig
  keystore: Keystore
  capabilities: Capability[]
  /** Defaults to the first capability's id. */
  name?: string
  relays: string[]
  log: Logger
  metrics?: JobMetrics
  clock?: () => number
  fetchUrl?: UrlFetcher
  /** The agent's wallet, treasury and terms (agents/payments/host.ts), from its name and pubkey. */
  payments?: (name: string, pubkey: string) => Promise<AgentPaymentsOptions | undefined>
}

/** An agent with its key from the keystore (created on first use) and its job log under $TIMMY_HOME. */
export async function createAgent(setup: AgentSetup): Promise<Agent> {
  const name = setup.name ?? setup.capabilities[0]?.id
  if (!name) throw new Error('an agent needs at least one capability')
  const { secretKey, created } = setup.keystore.loadOrCreate(name)
  if (created) setup.log.info({ agent: name, keys: setup.keystore.dir }, 'created a key for the agent')
  mkdirSync(agentDir(setup.config.home, name), { recursive: true, mode: 0o700 })
  const payments = await setup.payments?.(name, getPublicKey(secretKey))
  return new Agent({
    name,
    secretKey,
    capabilities: setup.capabilities,
    relays: setup.relays,
    jobLog: JobLog.open(jobLogPath(setup.config.home, name)),
    crypto: await loadEventCrypto(),
    settings: agentSettings(setup.config),
    auction: setup.config.auction,
    ...(setup.config.agents[name] && { profile: setup.config.agents[name] }),
    log: setup.log,
    ...(setup.metrics && { metrics: setup.metrics }),
    ...(setup.clock && { clock: setup.clock }),
    fetchUrl: setup.fetchUrl ?? createUrlFetcher({ allowPrivateAddresses: setup.config.allowPrivateUrlInputs }),
    limits: setup.config.requesterLimits,
    ...(payments && { payments }),
  })
}

export interface HostOptions {
  config: TimmyConfig
  /** Unlocks (and creates) the agents' keys. */
  passphrase: string
  capabilities: Capability[]
  log: Logger
  clock?: () => number
  fetchUrl?: UrlFetcher
  /** Serves the web client; default: the bundled Lit client (client/serve.ts). */
  staticHandler?: StaticHandler
}

export interface RunningHost {
  relay: RunningRelay
  http: RunningHttpApi
  agents: Agent[]
  metrics: JobMetrics
  /** The wallet, treasury, escrow and LNURL endpoints all agents share. */
  payments: HostPayments
  close(): Promise<void>
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const { config, log } = options
  warnAboutEnvironmentSecrets(process.env, log)
  mkdirSync(join(config.home, 'relay'), { recursive: true, mode: 0o700 })
  const relay = await startRelay({
    host: config.host,
    port: config.relayPort,
    dbPath: join(config.home, 'relay', 'events.db'),
    log: log.child({ part: 'relay' }),
    ...(options.clock && { clock: () => options.clock!() / 1000 }),
  })
  const closers: (() => Promise<void>)[] = [() => relay.close()]
  const close = async () => {
    for (const closeOne of closers.reverse()) await closeOne().catch((err: Error) => log.error({ err: err.message }, 'shutdown step failed'))
  }
  try {
    const metrics = createJobMetrics({ defaultMetrics: true })
    const keystore = new Keystore(config.home, options.passphrase, config.keyLogN)
    const relays = [relay.url, ...config.relays]
    const agents: Agent[] = []
    const staticHandler = options.staticHandler ?? createClientHandler({ relays })
    if (loadOperators(config.home).size === 0) log.warn({ file: operatorsPath(config.home) }, NO_OPERATORS_REASON)
    // The HTTP API listens before the agents start: their lightning addresses (kind 0 lud16) name its port.
    const preHandlers: StaticHandler[] = []
    let payments: HostPayments | undefined
    // One key signs every agent's zap receipts: the LNURL server's nostrPubkey.
    const zapSecretKey = keystore.loadOrCreate('lnurl-zaps').secretKey
    const ownZapper = getPublicKey(zapSecretKey)
    const crypto = await loadEventCrypto()
    const readRelays = (filters: Filter[]) => {
      const reader = agents.find((a) => a.status().running)
      if (!reader) return Promise.reject(new Error('no running agent to read the relays with'))
      return reader.queryRelays(filters)
    }
    const http = await startHttpApi({
      host: config.host,
      port: config.httpPort,
      agents,
      registry: metrics.registry,
      log: log.child({ part: 'http' }),
      staticHandler,
      preHandlers,
      // Read per request: `timmy operators add|remove` takes effect without a restart.
      operators: () => loadOperators(config.home),
      treasury: () => payments?.treasury,
      ...(options.clock && { clock: options.clock }),
      reputation: config.reputation,
      // Reputation counts zaps to this host's agents by their known key, and others' by their LNURL endpoints.
      zappers: lnurlZappers({
        query: readRelays,
        fetchText: options.fetchUrl ?? createUrlFetcher({ allowPrivateAddresses: config.allowPrivateUrlInputs }),
        known: (agent) => (agents.some((a) => a.pubkey === agent) ? ownZapper : undefined),
        ...(options.clock && { clock: options.clock }),
      }),
      verify: (event) => crypto.verify(event),
    })
    closers.push(() => http.close())
    payments = await startHostPayments({
      config,
      zapSecretKey,
      secrets: new SecretStore(config.home, options.passphrase, config.keyLogN),
      relays,
      httpPort: http.port,
      log: log.child({ part: 'payments' }),
      ...(options.clock && { clock: options.clock }),
    })
    closers.push(() => payments.close())
    preHandlers.push(...payments.httpHandlers)
    for (const capability of options.capabilities) {
      const agent = await createAgent({
        config,
        keystore,
        capabilities: [capability],
        relays,
        log,
        metrics,
        payments: payments.forAgent,
        ...(options.clock && { clock: options.clock }),
        ...(options.fetchUrl && { fetchUrl: options.fetchUrl }),
      })
      closers.push(async () => {
        await agent.stop()
        agent.jobLog.close()
      })
      await agent.start()
      agents.push(agent)
    }
    log.info({ relay: relay.url, http: http.url, agents: agents.map((a) => ({ name: a.name, npub: a.npub })) }, 'timmy host started')
    return { relay, http, agents, metrics, payments, close }
  } catch (err) {
    await close()
    throw err
  }
}
