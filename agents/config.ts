// Every setting of an agent host, declared once with its default. Sources, later ones winning:
// defaults < $TIMMY_HOME/config.json < environment (TIMMY_*) < command-line overrides.
// Validated at start: a typo stops the host with the field's name instead of being ignored.
import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { decodeToHexPubkey } from '../nips/19.js'
import { maskWalletConfig, walletConfigSchema } from './lightning/wallet-config.js'

const kind = z.number().int().min(0).max(65535)
const port = z.number().int().min(0).max(65535)
const relayUrl = z.string().regex(/^wss?:\/\//, 'must start with ws:// or wss://')
/** An npub or hex public key, kept as hex. */
const pubkey = z.string().transform((value, ctx) => {
  try {
    return decodeToHexPubkey(value)
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message })
    return z.NEVER
  }
})

const identityClaim = z
  .object({
    /** NIP-39 platform, e.g. 'github'. */
    platform: z.string().regex(/^[a-z0-9._-]+$/, 'lowercase platform name'),
    identity: z.string().min(1),
    /** Where the claim can be checked (for github: the gist id). */
    proof: z.string().min(1),
  })
  .strict()

const agentProfile = z
  .object({
    displayName: z.string().optional(),
    about: z.string().optional(),
    picture: z.string().url().optional(),
    /** NIP-05 identifier, e.g. summarize@example.com (served by the operator's web server). */
    nip05: z.string().regex(/^[^@\s]+@[^@\s]+$/, 'name@domain').optional(),
    /** NIP-39 external identity claims. */
    identities: z.array(identityClaim).default([]),
    /** This agent's own payment terms, over the host's `payments`. */
    payments: z
      .object({ payBeforeWork: z.boolean().optional(), escrow: z.boolean().optional() })
      .strict()
      .optional(),
  })
  .strict()

/** How priced jobs are paid (NIP-90 payment-required feedback with a bolt11 from the host's wallet). */
const paymentSettings = z
  .object({
    /**
     * Ask requesters to pay for priced jobs. Off by default: a fresh host answers for free, and the
     * FAKE wallet's network exists only inside one process (a standalone `timmy agent` could not be
     * paid by anyone). Turn it on with a real wallet, or with the FAKE one to try the flow.
     */
    enabled: z.boolean().default(false),
    /** Invoice first, work after payment; false: work first, the result carries the invoice. */
    payBeforeWork: z.boolean().default(true),
    /** Hold invoices: the payment is locked until the requester accepts or the dispute window passes (needs a wallet with hold invoices: FAKE, LND, some NWC). */
    escrow: z.boolean().default(false),
    invoiceExpirySeconds: z.number().int().positive().default(600),
    /** Escrow: a held payment without a result by then is returned. */
    workTimeoutSeconds: z.number().int().positive().default(3600),
    /** Escrow: from the result to automatic release; the requester may dispute meanwhile. */
    disputeWindowSeconds: z.number().int().positive().default(600),
    /** How often open invoices are checked. */
    pollMs: z.number().int().positive().default(1000),
    /** Where the LNURL/lightning address endpoints are reached; default http://<host>:<httpPort>. */
    publicUrl: z.string().url().optional(),
  })
  .strict()

export type PaymentSettings = z.infer<typeof paymentSettings>
export const DEFAULT_PAYMENT_SETTINGS: PaymentSettings = paymentSettings.parse({})

/** What a job costs this host: a fixed part and a part per 1000 characters of input. */
const costModel = z
  .object({
    baseMsats: z.number().int().nonnegative().default(0),
    msatsPer1000Chars: z.number().int().nonnegative().default(0),
  })
  .strict()

const auctionSettings = z
  .object({
    /**
     * Costs by job kind ("5001": {...}); bidders bid their cost (truthful bidding is a dominant
     * strategy in a second-price auction). Kinds without one bid the capability's price.
     */
    costs: z.record(z.string().regex(/^[0-9]+$/, 'a job kind'), costModel).default({}),
    /** Reveal bids NIP-44 encrypted to the auctioneer (recommended by nips/auction.md) instead of in public. */
    encryptReveals: z.boolean().default(true),
    /** How long a bidder waits for the outcome after the reveal deadline before it gives up. */
    outcomeWaitSeconds: z.number().positive().default(300),
    /** Auctioneers close this long after the reveal deadline, so that in-time events reach the relays (W in nips/auction.md). */
    closeGraceSeconds: z.number().nonnegative().default(5),
  })
  .strict()

export type CostModel = z.infer<typeof costModel>
export type AuctionSettings = z.infer<typeof auctionSettings>
export const DEFAULT_AUCTION_SETTINGS: AuctionSettings = auctionSettings.parse({})

export const configSchema = z
  .object({
    /** Keys, job logs and the embedded relay's database live here. */
    home: z.string().default('./.timmy'),
    /** Interface everything binds to. */
    host: z.string().default('127.0.0.1'),
    relayPort: port.default(7777),
    httpPort: port.default(8080),
    /** Relays besides the embedded one; agents read and publish there too. */
    relays: z.array(relayUrl).default([]),
    /** Unlocks the NIP-49 encrypted keys. Unset: $TIMMY_HOME/passphrase, or a prompt. */
    passphrase: z.string().min(1).optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** scrypt cost of newly encrypted keys (NIP-49 log_n; 16 = 64 MiB, about a quarter second). */
    keyLogN: z.number().int().min(1).max(22).default(16),
    /** Seconds between heartbeats (kind 11998). */
    heartbeatSeconds: z.number().positive().default(60),
    /** An agent whose newest heartbeat is older than this many of its intervals is dead. */
    deadAfterIntervals: z.number().positive().default(3),
    /** Claims (processing feedback) older than this are not taken over any more. */
    takeoverWindowSeconds: z.number().positive().default(3600),
    /** A job whose capability runs longer fails with a timeout. */
    jobTimeoutSeconds: z.number().positive().default(300),
    /** How long a chained job waits for the result of its input job. */
    inputWaitSeconds: z.number().positive().default(600),
    /** Largest url input fetched, in bytes. */
    maxUrlInputBytes: z.number().int().positive().default(1_000_000),
    /** Let url inputs reach loopback, private and link-local addresses (never cloud metadata). Off: SSRF. */
    allowPrivateUrlInputs: z.boolean().default(false),
    /** Per-requester limits (agents/limits.ts); unset fields take its defaults. */
    requesterLimits: z
      .object({
        maxConcurrentJobs: z.number().int().positive(),
        maxInputBytes: z.number().int().positive(),
        ratePerMinute: z.number().positive(),
        burst: z.number().int().positive(),
      })
      .partial()
      .strict()
      .default({}),
    /** Jobs one agent executes at once. */
    maxConcurrentJobs: z.number().int().positive().default(4),
    /** Requests older than this when an agent first starts are not taken. */
    catchupSeconds: z.number().int().nonnegative().default(300),
    /** Human-in-the-loop: jobs priced above this, or of these kinds, wait for `timmy approvals approve`. */
    approval: z
      .object({
        aboveMsats: z.number().int().nonnegative().optional(),
        kinds: z.array(kind).default([]),
      })
      .strict()
      .default({ kinds: [] }),
    /** Sealed-bid auctions (nips/auction.md): how agents bid and how `timmy job --auction` closes. */
    auction: auctionSettings.default(DEFAULT_AUCTION_SETTINGS),
    /** The host's Lightning wallet; the FAKE in-process network (not real sats) unless configured. */
    wallet: walletConfigSchema.default({ kind: 'fake' }),
    payments: paymentSettings.default(DEFAULT_PAYMENT_SETTINGS),
    /** Per-agent profile settings, by agent name. */
    agents: z.record(z.string(), agentProfile).default({}),
    /** Reputation (nips/reputation.md) as GET /api/reputation and `timmy reputation` compute it when asked for no other. */
    reputation: z
      .object({
        /** Whose web of trust weighs the labels (npub or hex): the operator's key, typically. Unset: only labels backed by zap payments count. */
        trustRoot: pubkey.optional(),
        /** A label this many days old counts half. */
        halfLifeDays: z.number().int().min(1).max(36_500).default(90),
      })
      .strict()
      .default({ halfLifeDays: 90 }),
  })
  .strict()

export type TimmyConfig = z.infer<typeof configSchema>
export type AgentProfile = z.infer<typeof agentProfile>
export type ConfigInput = z.input<typeof configSchema>

const ENV: Record<string, (value: string) => [keyof TimmyConfig, unknown]> = {
  TIMMY_HOME: (v) => ['home', v],
  TIMMY_HOST: (v) => ['host', v],
  TIMMY_RELAY_PORT: (v) => ['relayPort', Number(v)],
  TIMMY_HTTP_PORT: (v) => ['httpPort', Number(v)],
  TIMMY_RELAYS: (v) => ['relays', splitList(v)],
  TIMMY_PASSPHRASE: (v) => ['passphrase', v],
  TIMMY_LOG_LEVEL: (v) => ['logLevel', v],
  TIMMY_HEARTBEAT_SECONDS: (v) => ['heartbeatSeconds', Number(v)],
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/** The effective configuration. Throws an Error naming every invalid field. */
export function loadConfig(options: { env?: NodeJS.ProcessEnv; overrides?: ConfigInput } = {}): TimmyConfig {
  const env = options.env ?? process.env
  const fromEnv: Record<string, unknown> = {}
  for (const [name, map] of Object.entries(ENV)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    const [key, parsed] = map(value)
    fromEnv[key] = parsed
  }
  const home = (options.overrides?.home ?? fromEnv.home ?? './.timmy') as string
  const fromFile = readConfigFile(join(home, 'config.json'))
  const merged = { ...fromFile, ...fromEnv, ...stripUndefined(options.overrides ?? {}) }
  const parsed = configSchema.safeParse(merged)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`)
    throw new Error(`invalid configuration: ${problems.join('; ')}`)
  }
  return { ...parsed.data, home: resolve(parsed.data.home) }
}

function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {}
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
  } catch (err) {
    throw new Error(`invalid configuration: ${path}: ${(err as Error).message}`)
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

/** The configuration as `timmy config` prints it: secrets masked. */
export function describeConfig(config: TimmyConfig): Record<string, unknown> {
  return { ...config, passphrase: config.passphrase === undefined ? undefined : '********', wallet: maskWalletConfig(config.wallet) }
}
