// Shared by the agent end-to-end tests: a throwaway relay, agents on it, capabilities with
// controllable timing, and a minimal requester.
import { generateSecretKey, getPublicKey, type EventTemplate, type Filter, type NostrEvent } from '../../nips/01.js'
import { startRelay, type RunningRelay } from '../../relay/index.js'
import type { Capability, JobContext } from '../../agents/capability.js'
import { inputText } from '../../agents/capability.js'
import { loadEventCrypto, type EventCrypto } from '../../agents/crypto.js'
import { JobLog } from '../../agents/joblog.js'
import { RelayPool } from '../../agents/pool.js'
import { Agent, type AgentOptions } from '../../agents/runtime.js'
import type { JobState, JobStatus } from '../../agents/state.js'

export async function startTestRelay(): Promise<RunningRelay> {
  return startRelay({ port: 0, dbPath: ':memory:', config: { verifierThreads: 0 } })
}

export const ECHO_KIND = 5900

/**
 * Answers `echo: <input texts>`. A job whose `gate` param is set waits until the test opens that
 * gate, so that tests can act while a job is known to be running.
 */
export function echoCapability(options: { kind?: number; price?: number; gates?: Map<string, Promise<void>>; started?: (ctx: JobContext) => void } = {}): Capability {
  return {
    kind: options.kind ?? ECHO_KIND,
    id: `echo-${options.kind ?? ECHO_KIND}`,
    name: 'Echo',
    about: 'Repeats its input (test capability)',
    params: [
      { name: 'gate', description: 'wait for this test gate' },
      { name: 'partial', description: 'send this as partial feedback first' },
    ],
    price: () => options.price ?? 0,
    availability: async () => ({ ok: true }),
    async run(ctx) {
      options.started?.(ctx)
      const gate = ctx.params.gate?.[0]
      if (gate) await options.gates?.get(gate)
      const partial = ctx.params.partial?.[0]
      if (partial) await ctx.partial(partial)
      return { content: `echo: ${ctx.inputs.map((i) => inputText(i) ?? '').join(' | ')}` }
    },
  }
}

export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}

export interface TestAgent {
  agent: Agent
  jobLog: JobLog
  secretKey: Uint8Array
}

export async function startTestAgent(relayUrl: string, capabilities: Capability[], overrides: Partial<AgentOptions> = {}): Promise<TestAgent> {
  const crypto = await loadEventCrypto()
  const secretKey = overrides.secretKey ?? generateSecretKey()
  const jobLog = overrides.jobLog ?? JobLog.open(':memory:')
  const agent = new Agent({
    name: 'test',
    secretKey,
    capabilities,
    relays: [relayUrl],
    jobLog,
    crypto,
    settings: { heartbeatSeconds: 30 },
    outboxPollMs: 100,
    ...overrides,
  })
  await agent.start()
  return { agent, jobLog, secretKey }
}

/** A requester speaking to relays through the agent pool (the raw nostr-tools and NDK requesters live in their tests). */
export class TestRequester {
  readonly secretKey = generateSecretKey()
  readonly pubkey = getPublicKey(this.secretKey)
  readonly pool: RelayPool

  private constructor(
    readonly relays: string[],
    readonly crypto: EventCrypto,
  ) {
    this.pool = new RelayPool({ verify: (e) => crypto.verify(e), signAuth: (t) => crypto.sign(t, this.secretKey) })
  }

  static async create(relays: string[]): Promise<TestRequester> {
    return new TestRequester(relays, await loadEventCrypto())
  }

  sign(template: EventTemplate): NostrEvent {
    return this.crypto.sign(template, this.secretKey)
  }

  async publish(template: EventTemplate): Promise<NostrEvent> {
    const event = this.sign(template)
    const outcomes = await this.pool.publish(this.relays, event)
    if (!outcomes.some((o) => o.ok)) throw new Error(`request not accepted: ${JSON.stringify(outcomes)}`)
    return event
  }

  /** Resolves with the first event matching the filter that satisfies the predicate. */
  waitFor(filters: Filter[], predicate: (e: NostrEvent) => boolean = () => true, timeoutMs = 10_000): Promise<NostrEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (sub.close(), reject(new Error(`no matching event for ${JSON.stringify(filters)} in ${timeoutMs} ms`))), timeoutMs)
      const sub = this.pool.subscribe(this.relays, filters, {
        onevent: (event) => {
          if (!predicate(event)) return
          clearTimeout(timer)
          sub.close()
          resolve(event)
        },
      })
    })
  }

  query(filters: Filter[]): Promise<NostrEvent[]> {
    return this.pool.query(this.relays, filters)
  }

  close(): void {
    this.pool.close()
  }
}

export function statusOf(feedback: NostrEvent): string | undefined {
  return feedback.tags.find((t) => t[0] === 'status')?.[1]
}

/** Waits until the agent's job reaches a status (or satisfies a predicate), or fails after the timeout. */
export function waitForJob(agent: Agent, jobLog: JobLog, jobId: string, wanted: JobStatus | ((state: JobState) => boolean), timeoutMs = 10_000): Promise<void> {
  const matches = (state: JobState | undefined) => state !== undefined && (typeof wanted === 'string' ? state.status === wanted : wanted(state))
  if (matches(jobLog.state(jobId))) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`job ${jobId} did not get there; it is ${jobLog.state(jobId)?.status}`))), timeoutMs)
    const off = agent.onJob((state) => {
      if (state.id !== jobId || !matches(state)) return
      clearTimeout(timer)
      off()
      resolve()
    })
  })
}
