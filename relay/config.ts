// Every limit and switch of the embedded relay, declared once with its default. The same values
// are advertised in the NIP-11 document and used by the strfry write-policy plugin.
import { availableParallelism } from 'node:os'
import { z } from 'zod'

export interface TokenBucketRate {
  /** Tokens added per second. */
  perSecond: number
  /** Bucket size: how many may be spent at once after a quiet period. */
  burst: number
}

export interface RelayConfig {
  /** NIP-11 `name`. */
  name: string
  /** NIP-11 `description`. */
  description: string
  /** NIP-11 `pubkey` of the operator (hex), if any. */
  pubkey?: string
  /** NIP-11 `contact`, if any. */
  contact?: string
  /**
   * The public URL clients use (e.g. wss://relay.example.com), checked against the `relay` tag of
   * NIP-42 AUTH events. Unset: ws:// or wss:// on the Host the client connected to.
   */
  relayUrl?: string
  /** HTTP header carrying the client's real IP behind a reverse proxy (e.g. x-real-ip); '' = the socket's address. */
  realIpHeader: string

  /** Largest WebSocket message accepted, in bytes (NIP-11 max_message_length). */
  maxMessageBytes: number
  /** A client that lets more than this many bytes pile up unsent is disconnected. */
  maxPendingOutboundBytes: number
  /** Open subscriptions per connection (NIP-11 max_subscriptions). */
  maxSubscriptionsPerConnection: number
  /** Filters in one REQ or COUNT. */
  maxFiltersPerReq: number
  /** Length of a subscription id (NIP-11 max_subid_length). */
  maxSubscriptionIdLength: number
  /** Stored events returned per filter; larger or missing `limit`s are capped to it (NIP-11 max_limit, default_limit). */
  maxLimit: number
  /** Values in one filter field (ids, authors, kinds, #x). */
  maxFilterValues: number
  /** Tag conditions (#x) in one filter. */
  maxTagFiltersPerFilter: number

  /** Tags in one event (NIP-11 max_event_tags). */
  maxEventTags: number
  /** Characters of content in one event (NIP-11 max_content_length). */
  maxContentLength: number
  /** Events dated further in the future are rejected (NIP-11 created_at_upper_limit). */
  maxCreatedAtFutureSeconds: number
  /** Events dated further in the past are rejected (NIP-11 created_at_lower_limit). */
  maxCreatedAtAgeSeconds: number
  /** NIP-13 proof of work: leading zero bits an event id must have (0 = none). */
  minPowDifficulty: number
  /** Only these kinds are accepted; empty = all kinds. */
  allowedKinds: number[]
  /** These kinds are refused. */
  blockedKinds: number[]
  /** Events by these pubkeys (hex) are refused. */
  blockedPubkeys: string[]

  /**
   * Kinds that are only sent to an authenticated (NIP-42) reader who wrote them or is p-tagged in
   * them, and whose REQ/COUNT needs AUTH first: private messages by default.
   */
  protectedKinds: number[]
  /** Treat NIP-90 job requests/results (5000-6999) that carry an `encrypted` tag like protected kinds. */
  protectEncryptedJobs: boolean

  /** EVENT messages per client IP. */
  eventRatePerIp: TokenBucketRate
  /** Accepted events per author, counted after the signature is checked. */
  eventRatePerPubkey: TokenBucketRate
  /** REQ and COUNT messages per connection. */
  reqRatePerConnection: TokenBucketRate

  /** Events written in one SQLite transaction at most. */
  maxIngestBatch: number
  /** Signature-verification worker threads (0 = verify on the event loop). */
  verifierThreads: number
  /** How often expired (NIP-40) events are purged from the store. */
  expirationSweepSeconds: number
}

export const DEFAULT_RELAY_CONFIG: Readonly<RelayConfig> = Object.freeze({
  name: 'timmy relay',
  description: 'Embedded relay of a Timmy agent host: NIP-90 jobs, auctions and reputation for AI agents.',
  realIpHeader: '',
  maxMessageBytes: 131_072,
  maxPendingOutboundBytes: 33_554_432,
  maxSubscriptionsPerConnection: 100,
  maxFiltersPerReq: 50,
  maxSubscriptionIdLength: 128,
  maxLimit: 500,
  maxFilterValues: 1000,
  maxTagFiltersPerFilter: 10,
  maxEventTags: 2000,
  maxContentLength: 65_536,
  maxCreatedAtFutureSeconds: 900,
  maxCreatedAtAgeSeconds: 94_608_000,
  minPowDifficulty: 0,
  allowedKinds: [],
  blockedKinds: [],
  blockedPubkeys: [],
  protectedKinds: [4, 1059],
  protectEncryptedJobs: true,
  eventRatePerIp: { perSecond: 200, burst: 1000 },
  eventRatePerPubkey: { perSecond: 50, burst: 500 },
  reqRatePerConnection: { perSecond: 50, burst: 500 },
  maxIngestBatch: 1000,
  // Signature checks are most of the CPU an event costs (~0.4 ms each in WASM vs ~0.1 ms for the rest),
  // so every core gets a worker; the event loop's share is small enough to run beside them.
  verifierThreads: Math.min(4, availableParallelism()),
  expirationSweepSeconds: 60,
})

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex characters')
const count = z.number().int().nonnegative()
const positive = z.number().int().positive()
const kind = z.number().int().min(0).max(65535)
const rate = z.object({ perSecond: z.number().positive(), burst: positive }).strict()

const relayConfigSchema = z
  .object({
    name: z.string(),
    description: z.string(),
    pubkey: hex64.optional(),
    contact: z.string().optional(),
    relayUrl: z.string().regex(/^wss?:\/\//, 'must start with ws:// or wss://').optional(),
    realIpHeader: z.string().transform((s) => s.toLowerCase()),
    maxMessageBytes: z.number().int().min(1024),
    maxPendingOutboundBytes: positive,
    maxSubscriptionsPerConnection: positive,
    maxFiltersPerReq: positive,
    maxSubscriptionIdLength: positive,
    maxLimit: count,
    maxFilterValues: positive,
    maxTagFiltersPerFilter: count,
    maxEventTags: count,
    maxContentLength: count,
    maxCreatedAtFutureSeconds: count,
    maxCreatedAtAgeSeconds: count,
    minPowDifficulty: z.number().int().min(0).max(256),
    allowedKinds: z.array(kind),
    blockedKinds: z.array(kind),
    blockedPubkeys: z.array(hex64),
    protectedKinds: z.array(kind),
    protectEncryptedJobs: z.boolean(),
    eventRatePerIp: rate,
    eventRatePerPubkey: rate,
    reqRatePerConnection: rate,
    maxIngestBatch: positive,
    verifierThreads: count,
    expirationSweepSeconds: positive,
  })
  .strict()
  .partial()

/**
 * Validates overrides (from a JSON file, or code) and merges them over the defaults. Throws an
 * Error listing every bad field, so a typo in a config file stops the relay at start.
 */
export function resolveRelayConfig(overrides: unknown = {}): RelayConfig {
  const parsed = relayConfigSchema.safeParse(overrides)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`)
    throw new Error(`invalid relay config: ${problems.join('; ')}`)
  }
  const defined = Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined))
  return { ...DEFAULT_RELAY_CONFIG, ...defined }
}

/** Minimal structured logger; a pino logger fits. */
export interface RelayLog {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export const silentLog: RelayLog = { debug() {}, info() {}, warn() {}, error() {} }
