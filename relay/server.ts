// The embedded relay: NIP-01 over WebSocket (ws) plus NIP-09, 11, 40, 42, 45 and 70, on one port.
//
// Ingest: parse -> shape check -> per-IP limit -> write policies -> batched signature check (worker
// pool) -> per-author limit -> one SQLite transaction per tick -> OK -> fan-out to live
// subscriptions at once. OK true is only ever sent after the event is committed.
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import {
  eventShapeError,
  isEphemeralKind,
  isHex64,
  NostrProtocolError,
  parseFilter,
  type Filter,
  type FilterLimits,
  type NostrEvent,
} from '../nips/01.js'
import { isExpired } from '../nips/40.js'
import { authEventError } from '../nips/42.js'
import { RELAY_INFO_MEDIA_TYPE, type RelayInformation } from '../nips/11.js'
import { resolveRelayConfig, silentLog, type RelayConfig, type RelayLog } from './config.js'
import { defaultPolicies, isProtectedEvent, mayBeProtectedKind, mayRead, narrowFiltersForReader, runPolicies, type WritePolicy } from './policy.js'
import { TokenBucketLimiter } from './rate-limit.js'
import { EventStore, type StoredEventRow } from './store.js'
import { SubscriptionIndex, type IndexedFilter } from './subscriptions.js'
import { createVerifier, type SignatureVerifier } from './verify.js'

export interface StartRelayOptions {
  /** Interface to listen on; default 127.0.0.1. */
  host?: string
  /** TCP port; default 7777, 0 = ephemeral. */
  port?: number
  /** SQLite file of the event store (':memory:' for a throwaway relay). */
  dbPath: string
  config?: Partial<RelayConfig>
  /** Write policies, in order; default defaultPolicies(config). */
  policies?: WritePolicy[]
  /** Unix seconds (fractions allowed); default the system clock. */
  clock?: () => number
  log?: RelayLog
}

export interface RunningRelay {
  /** ws://host:port */
  url: string
  /** http://host:port (NIP-11 document) */
  httpUrl: string
  port: number
  close(): Promise<void>
}

export const SUPPORTED_NIPS = [1, 9, 11, 40, 42, 45, 70]

/** The NIP-11 document: identity plus every limit the relay enforces. */
export function relayInformation(config: RelayConfig): RelayInformation {
  return {
    name: config.name,
    description: config.description,
    ...(config.pubkey ? { pubkey: config.pubkey } : {}),
    ...(config.contact ? { contact: config.contact } : {}),
    supported_nips: SUPPORTED_NIPS,
    software: 'timmy',
    limitation: {
      max_message_length: config.maxMessageBytes,
      max_subscriptions: config.maxSubscriptionsPerConnection,
      max_filters: config.maxFiltersPerReq,
      max_limit: config.maxLimit,
      default_limit: config.maxLimit,
      max_subid_length: config.maxSubscriptionIdLength,
      max_event_tags: config.maxEventTags,
      max_content_length: config.maxContentLength,
      min_pow_difficulty: config.minPowDifficulty,
      auth_required: false,
      payment_required: false,
      restricted_writes: config.allowedKinds.length > 0 || config.minPowDifficulty > 0,
      created_at_lower_limit: config.maxCreatedAtAgeSeconds,
      created_at_upper_limit: config.maxCreatedAtFutureSeconds,
    },
    // Ephemeral events are passed on to live subscribers and never stored.
    retention: [{ kinds: [[20000, 29999]], time: 0 }],
  }
}

export async function startRelay(options: StartRelayOptions): Promise<RunningRelay> {
  const config = resolveRelayConfig(options.config ?? {})
  const log = options.log ?? silentLog
  const clock = options.clock ?? (() => Date.now() / 1000)
  const store = EventStore.open(options.dbPath)
  let verifier: SignatureVerifier
  try {
    verifier = await createVerifier({ threads: config.verifierThreads })
  } catch (err) {
    store.close()
    throw err
  }
  const relay = new Relay(config, options.policies ?? defaultPolicies(config), store, verifier, clock, log)
  try {
    return await relay.listen(options.host ?? '127.0.0.1', options.port ?? 7777)
  } catch (err) {
    await relay.shutdown()
    throw err
  }
}

interface LiveSubscription {
  id: string
  connection: Connection
  /** `["EVENT","<sub id>",` — the event JSON and `]` are appended per event. */
  eventPrefix: string
  entries: IndexedFilter<LiveSubscription>[]
}

interface Connection {
  ws: WebSocket
  ip: string
  /** Host header the client connected with; NIP-42 relay tags are checked against it when relayUrl is unset. */
  host: string
  challenge: string
  authed: Set<string>
  subs: Map<string, LiveSubscription>
  alive: boolean
}

/** An event on its way through verification and storage, with everyone waiting for its OK. */
interface Incoming {
  event: NostrEvent
  /** Serialized once, reused for every subscriber. */
  json: string
  waiters: Connection[]
  /** A policy shadow-rejected it: answer OK true, keep and send nothing. */
  shadow: boolean
}

const DUPLICATE = 'duplicate: already have this event'
// Messages up to this many times the advertised maximum get a NOTICE and the connection goes on;
// beyond it ws closes the connection (1009) without reading the rest.
const OVERSIZE_FACTOR = 2
// Below common reverse-proxy idle timeouts (60 s), like strfry's autoPingSeconds.
const PING_INTERVAL_MS = 55_000

class Relay {
  private readonly http = createServer((req, res) => this.serveHttp(req, res))
  private readonly wss: WebSocketServer
  private readonly connections = new Set<Connection>()
  private readonly live = new SubscriptionIndex<LiveSubscription>()
  private readonly ipLimiter: TokenBucketLimiter
  private readonly pubkeyLimiter: TokenBucketLimiter
  private readonly reqLimiter: TokenBucketLimiter
  private readonly filterLimits: FilterLimits
  private readonly infoJson: string
  private readonly timers: NodeJS.Timeout[] = []

  /** Non-shadow events between arrival and OK, by id: a second copy waits for the first. */
  private readonly inFlight = new Map<string, Incoming>()
  private verifyQueue: Incoming[] = []
  private saveQueue: Incoming[] = []
  private verifyScheduled = false
  private saveScheduled = false
  private verifying = 0
  private drained: (() => void) | undefined
  private closing = false
  private nextConnectionId = 0

  constructor(
    private readonly config: RelayConfig,
    private readonly policies: WritePolicy[],
    private readonly store: EventStore,
    private readonly verifier: SignatureVerifier,
    private readonly clock: () => number,
    private readonly log: RelayLog,
  ) {
    this.ipLimiter = new TokenBucketLimiter(config.eventRatePerIp)
    this.pubkeyLimiter = new TokenBucketLimiter(config.eventRatePerPubkey)
    this.reqLimiter = new TokenBucketLimiter(config.reqRatePerConnection)
    this.filterLimits = { maxValuesPerField: config.maxFilterValues, maxTagFilters: config.maxTagFiltersPerFilter }
    this.infoJson = JSON.stringify(relayInformation(config))
    // No permessage-deflate: sendFrames writes uncompressed frames past ws.
    this.wss = new WebSocketServer({ server: this.http, maxPayload: config.maxMessageBytes * OVERSIZE_FACTOR, perMessageDeflate: false })
    this.wss.on('connection', (ws, req) => this.accept(ws, req))
    this.wss.on('error', (err) => this.log.error({ err }, 'websocket server error'))
  }

  async listen(host: string, port: number): Promise<RunningRelay> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject)
      this.http.listen(port, host, () => {
        this.http.off('error', reject)
        resolve()
      })
    })
    this.http.on('error', (err) => this.log.error({ err }, 'http server error'))
    const bound = (this.http.address() as AddressInfo).port
    const hostInUrl = host.includes(':') ? `[${host}]` : host
    this.startTimers()
    const url = `ws://${hostInUrl}:${bound}`
    this.log.info({ url }, `relay listening on ${url}`)
    return { url, httpUrl: `http://${hostInUrl}:${bound}`, port: bound, close: () => this.shutdown() }
  }

  private now(): number {
    return Math.floor(this.clock())
  }

  private startTimers(): void {
    const sweep = setInterval(() => {
      try {
        const removed = this.store.deleteExpired(this.now())
        if (removed > 0) this.log.debug({ removed }, 'expired events deleted')
      } catch (err) {
        this.log.error({ err }, 'expired-event sweep failed')
      }
      const now = this.clock()
      this.ipLimiter.prune(now)
      this.pubkeyLimiter.prune(now)
      this.reqLimiter.prune(now)
    }, this.config.expirationSweepSeconds * 1000)
    // Drops connections that stopped answering pings (half-open TCP, sleeping laptops).
    const heartbeat = setInterval(() => {
      for (const c of this.connections) {
        if (!c.alive) {
          c.ws.terminate()
          continue
        }
        c.alive = false
        if (c.ws.readyState === WebSocket.OPEN) c.ws.ping()
      }
    }, PING_INTERVAL_MS)
    sweep.unref()
    heartbeat.unref()
    this.timers.push(sweep, heartbeat)
  }

  // ---- HTTP: NIP-11 and a short page for browsers ----------------------------------------------

  private serveHttp(req: IncomingMessage, res: ServerResponse): void {
    res.setHeader('Access-Control-Allow-Origin', '*')
    res.setHeader('Access-Control-Allow-Headers', '*')
    res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS')
    if (req.method === 'OPTIONS') {
      res.writeHead(204).end()
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD, OPTIONS' }).end('method not allowed\n')
      return
    }
    res.setHeader('Vary', 'Accept')
    if ((req.headers.accept ?? '').includes(RELAY_INFO_MEDIA_TYPE)) {
      res.writeHead(200, { 'Content-Type': RELAY_INFO_MEDIA_TYPE }).end(this.infoJson)
      return
    }
    const name = escapeHtml(this.config.name)
    const page =
      `<!doctype html><meta charset="utf-8"><title>${name}</title>` +
      `<h1>${name}</h1><p>${escapeHtml(this.config.description)}</p>` +
      `<p>This is a Nostr relay. Connect a Nostr client to this address over WebSocket (ws:// or wss://).</p>\n`
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page)
  }

  // ---- connections -----------------------------------------------------------------------------

  private accept(ws: WebSocket, req: IncomingMessage): void {
    const connection: Connection = {
      ws,
      ip: clientIp(req, this.config.realIpHeader),
      host: req.headers.host ?? '',
      challenge: randomBytes(16).toString('hex'),
      authed: new Set(),
      subs: new Map(),
      alive: true,
    }
    const reqKey = `c${this.nextConnectionId++}`
    this.connections.add(connection)
    ws.on('pong', () => (connection.alive = true))
    ws.on('message', (data, isBinary) => this.onMessage(connection, reqKey, data, isBinary))
    ws.on('error', (err) => this.log.debug({ err: err.message, ip: connection.ip }, 'websocket error'))
    ws.on('close', () => {
      this.connections.delete(connection)
      for (const sub of connection.subs.values()) this.live.remove(sub.entries)
      connection.subs.clear()
    })
    if (this.closing) {
      ws.close(1001, 'relay shutting down')
      return
    }
    this.send(connection, JSON.stringify(['AUTH', connection.challenge]))
  }

  private send(connection: Connection, text: string): void {
    if (this.writable(connection)) connection.ws.send(text)
  }

  /**
   * Writes WebSocket frames built by replyFrames straight to the connection's socket, in order with what
   * ws.send wrote before: ws writes through at once when, as here, no extension (compression) is negotiated.
   */
  private sendFrames(connection: Connection, frames: Buffer): void {
    if (this.writable(connection)) (connection.ws as unknown as { _socket: Socket })._socket.write(frames)
  }

  /** Open, and reading what it is sent: a client that lets too much pile up is disconnected. */
  private writable(connection: Connection): boolean {
    const ws = connection.ws
    if (ws.readyState !== WebSocket.OPEN) return false
    if (ws.bufferedAmount > this.config.maxPendingOutboundBytes) {
      this.log.warn({ ip: connection.ip, buffered: ws.bufferedAmount }, 'disconnecting a client that does not read')
      ws.terminate()
      return false
    }
    return true
  }

  private notice(connection: Connection, message: string): void {
    this.send(connection, JSON.stringify(['NOTICE', message]))
  }

  private ok(connection: Connection, id: string, accepted: boolean, message: string): void {
    this.send(connection, JSON.stringify(['OK', id, accepted, message]))
  }

  /** Refuses or ends a REQ (an open subscription under the same id ends with it) or a COUNT. */
  private closed(connection: Connection, subId: string, message: string, endsSubscription = true): void {
    const existing = endsSubscription ? connection.subs.get(subId) : undefined
    if (existing !== undefined) {
      this.live.remove(existing.entries)
      connection.subs.delete(subId)
    }
    this.send(connection, JSON.stringify(['CLOSED', subId, message]))
  }

  private onMessage(connection: Connection, reqKey: string, data: RawData, isBinary: boolean): void {
    if (this.closing) return
    const bytes = rawBytes(data)
    if (bytes.length > this.config.maxMessageBytes) {
      const reason = `invalid: message is larger than ${this.config.maxMessageBytes} bytes`
      const id = isBinary ? undefined : sniffEventId(bytes)
      if (id !== undefined) this.ok(connection, id, false, reason)
      else this.notice(connection, reason)
      return
    }
    let message: unknown
    try {
      message = JSON.parse(bytes.toString('utf8'))
    } catch {
      this.notice(connection, 'invalid: message is not valid JSON')
      return
    }
    if (!Array.isArray(message) || typeof message[0] !== 'string') {
      this.notice(connection, 'invalid: message must be a JSON array that starts with a message type')
      return
    }
    switch (message[0]) {
      case 'EVENT':
        return this.onEvent(connection, message)
      case 'REQ':
        return this.onReq(connection, reqKey, message, false)
      case 'COUNT':
        return this.onReq(connection, reqKey, message, true)
      case 'CLOSE':
        return this.onClose(connection, message)
      case 'AUTH':
        return this.onAuth(connection, reqKey, message)
      default:
        this.notice(connection, `invalid: unknown message type ${JSON.stringify(message[0].slice(0, 32))}`)
    }
  }

  // ---- EVENT -----------------------------------------------------------------------------------

  private onEvent(connection: Connection, message: unknown[]): void {
    const raw = message[1] as Record<string, unknown> | undefined
    const shapeError = message.length < 2 ? 'EVENT needs an event' : eventShapeError(raw)
    if (shapeError !== null) {
      const id = typeof raw === 'object' && raw !== null ? raw.id : undefined
      if (isHex64(id)) this.ok(connection, id, false, `invalid: ${shapeError}`)
      else this.notice(connection, `invalid: ${shapeError}`)
      return
    }
    // Only the NIP-01 fields travel on: unknown extra fields are neither stored nor forwarded.
    const { id, pubkey, created_at, kind, tags, content, sig } = raw as unknown as NostrEvent
    const event: NostrEvent = { id, pubkey, created_at, kind, tags, content, sig }

    if (!this.ipLimiter.take(connection.ip, this.clock())) {
      this.ok(connection, id, false, 'rate-limited: too many events from your IP, slow down')
      return
    }
    const decision = runPolicies(this.policies, event, {
      sourceIp: connection.ip,
      authedPubkeys: connection.authed,
      now: this.now(),
      config: this.config,
    })
    if (decision.action === 'reject') {
      this.ok(connection, id, false, decision.reason)
      return
    }
    const shadow = decision.action === 'shadowReject'
    if (!shadow) {
      const pending = this.inFlight.get(id)
      if (pending !== undefined) {
        pending.waiters.push(connection)
        return
      }
    }
    const incoming: Incoming = { event, json: JSON.stringify(event), waiters: [connection], shadow }
    if (!shadow) this.inFlight.set(id, incoming)
    this.verifyQueue.push(incoming)
    if (!this.verifyScheduled) {
      this.verifyScheduled = true
      setImmediate(() => this.verifyBatch())
    }
  }

  /** Takes what arrived since the last tick, skips what is already stored, verifies the rest in one call. */
  private verifyBatch(): void {
    this.verifyScheduled = false
    const batch = this.verifyQueue.splice(0, this.config.maxIngestBatch)
    if (this.verifyQueue.length > 0) {
      this.verifyScheduled = true
      setImmediate(() => this.verifyBatch())
    }
    const storable = batch.filter((i) => !i.shadow && !isEphemeralKind(i.event.kind))
    let known = new Set<string>()
    if (storable.length > 0) {
      try {
        const ids = storable.map((i) => i.event.id)
        known = this.store.storedIds(ids, this.now())
      } catch (err) {
        this.log.error({ err }, 'duplicate lookup failed')
      }
    }
    const toVerify: Incoming[] = []
    for (const incoming of batch) {
      if (known.has(incoming.event.id)) this.finish(incoming, true, DUPLICATE, false)
      else toVerify.push(incoming)
    }
    if (toVerify.length === 0) return this.settleIfDrained()
    this.verifying++
    this.verifier
      .verify(toVerify.map((i) => i.event))
      .then(
        (valid) => {
          toVerify.forEach((incoming, i) => {
            if (valid[i]) this.saveQueue.push(incoming)
            else this.finish(incoming, false, 'invalid: bad event id or signature', false)
          })
        },
        (err: unknown) => {
          this.log.error({ err }, 'signature verification failed')
          for (const incoming of toVerify) this.finish(incoming, false, 'error: could not verify the event, try again', false)
        },
      )
      .finally(() => {
        this.verifying--
        if (this.saveQueue.length > 0 && !this.saveScheduled) {
          this.saveScheduled = true
          setImmediate(() => this.saveBatch())
        }
        this.settleIfDrained()
      })
  }

  /** Writes everything verified since the last tick in one transaction, then answers and fans out. */
  private saveBatch(): void {
    this.saveScheduled = false
    const batch = this.saveQueue
    this.saveQueue = []
    const clock = this.clock()
    const now = Math.floor(clock)
    const toStore: Incoming[] = []
    const toBroadcastOnly: Incoming[] = []
    for (const incoming of batch) {
      if (incoming.shadow) {
        this.finish(incoming, true, '', false)
      } else if (!this.pubkeyLimiter.take(incoming.event.pubkey, clock)) {
        this.finish(incoming, false, 'rate-limited: too many events from this pubkey, slow down', false)
      } else if (isEphemeralKind(incoming.event.kind)) {
        toBroadcastOnly.push(incoming)
      } else {
        toStore.push(incoming)
      }
    }
    if (toStore.length > 0) {
      let results
      try {
        results = this.store.saveMany(
          toStore.map((i) => i.event),
          now,
        )
      } catch (err) {
        this.log.error({ err, events: toStore.length }, 'saving events failed')
        for (const incoming of toStore) this.finish(incoming, false, 'error: could not save the event, try again', false)
        results = undefined
      }
      if (results !== undefined) {
        for (let i = 0; i < toStore.length; i++) {
          const result = results[i]
          if (result.ok) this.finish(toStore[i], true, result.message, result.stored)
          else this.finish(toStore[i], false, result.message, false)
        }
      }
    }
    for (const incoming of toBroadcastOnly) this.finish(incoming, true, '', true)
    this.settleIfDrained()
  }

  /** Answers everyone who sent this event (later copies hear it is a duplicate), then fans it out. */
  private finish(incoming: Incoming, accepted: boolean, message: string, broadcast: boolean): void {
    const { event } = incoming
    if (!incoming.shadow) this.inFlight.delete(event.id)
    incoming.waiters.forEach((connection, i) => {
      this.ok(connection, event.id, accepted, i > 0 && accepted && message === '' ? DUPLICATE : message)
    })
    if (broadcast) this.broadcast(event, incoming.json)
  }

  private broadcast(event: NostrEvent, json: string): void {
    if (isExpired(event, this.now())) return
    const restricted = isProtectedEvent(event, this.config)
    for (const sub of this.live.matching(event)) {
      if (restricted && !mayRead(event, sub.connection.authed, this.config)) continue
      this.send(sub.connection, `${sub.eventPrefix}${json}]`)
    }
  }

  // ---- REQ / COUNT / CLOSE ---------------------------------------------------------------------

  private onReq(connection: Connection, reqKey: string, message: unknown[], isCount: boolean): void {
    const verb = isCount ? 'COUNT' : 'REQ'
    const subId = message[1]
    if (typeof subId !== 'string' || subId === '') {
      this.notice(connection, `invalid: ${verb} needs a subscription id (a non-empty string)`)
      return
    }
    if (subId.length > this.config.maxSubscriptionIdLength) {
      this.closed(connection, subId, `invalid: subscription id is longer than ${this.config.maxSubscriptionIdLength} characters`, !isCount)
      return
    }
    if (!this.reqLimiter.take(reqKey, this.clock())) {
      this.closed(connection, subId, `rate-limited: too many ${verb} messages, slow down`, !isCount)
      return
    }
    const rawFilters = message.slice(2)
    if (rawFilters.length === 0) {
      this.closed(connection, subId, `invalid: ${verb} needs at least one filter`, !isCount)
      return
    }
    if (rawFilters.length > this.config.maxFiltersPerReq) {
      this.closed(connection, subId, `invalid: more than ${this.config.maxFiltersPerReq} filters`, !isCount)
      return
    }
    const filters: Filter[] = []
    try {
      for (const raw of rawFilters) {
        const filter = parseFilter(raw, this.filterLimits)
        if (filter.search !== undefined) throw new NostrProtocolError('invalid', 'search (NIP-50) is not supported by this relay')
        filter.limit = Math.min(filter.limit ?? this.config.maxLimit, this.config.maxLimit)
        filters.push(filter)
      }
    } catch (err) {
      this.closed(connection, subId, err instanceof NostrProtocolError ? err.message : 'invalid: bad filter', !isCount)
      return
    }
    const narrowed = narrowFiltersForReader(filters, connection.authed, this.config)
    if (!narrowed.ok) {
      this.closed(connection, subId, narrowed.reason, !isCount)
      return
    }
    const now = this.now()
    if (isCount) {
      try {
        const count = narrowed.filters.length > 0 ? this.store.count(narrowed.filters, now) : 0
        this.send(connection, JSON.stringify(['COUNT', subId, { count }]))
      } catch (err) {
        this.log.error({ err }, 'COUNT failed')
        this.closed(connection, subId, 'error: could not count events', !isCount)
      }
      return
    }

    const previous = connection.subs.get(subId)
    if (previous === undefined && connection.subs.size >= this.config.maxSubscriptionsPerConnection) {
      this.closed(connection, subId, `error: too many open subscriptions (max ${this.config.maxSubscriptionsPerConnection}); close one first`, !isCount)
      return
    }
    let stored: StoredEventRow[]
    try {
      stored = narrowed.filters.length > 0 ? this.store.queryRaw(narrowed.filters, now) : []
    } catch (err) {
      this.log.error({ err }, 'query failed')
      this.closed(connection, subId, 'error: could not run the query', !isCount)
      return
    }
    if (previous !== undefined) this.live.remove(previous.entries)
    const sub: LiveSubscription = {
      id: subId,
      connection,
      eventPrefix: `["EVENT",${JSON.stringify(subId)},`,
      entries: [],
    }
    sub.entries = narrowed.filters.map((filter) => ({ sub, filter }))
    const raws: string[] = []
    for (const row of stored) {
      if (mayBeProtectedKind(row.kind, this.config) && !mayRead(JSON.parse(row.raw) as NostrEvent, connection.authed, this.config)) continue
      raws.push(row.raw)
    }
    this.sendFrames(connection, replyFrames(sub.eventPrefix, raws, JSON.stringify(['EOSE', subId])))
    // Registered in the same tick as the query ran: no event can fall between stored and live.
    connection.subs.set(subId, sub)
    this.live.add(sub.entries)
  }

  private onClose(connection: Connection, message: unknown[]): void {
    const subId = message[1]
    if (typeof subId !== 'string') {
      this.notice(connection, 'invalid: CLOSE needs a subscription id')
      return
    }
    const sub = connection.subs.get(subId)
    if (sub === undefined) return
    this.live.remove(sub.entries)
    connection.subs.delete(subId)
  }

  // ---- AUTH (NIP-42) ---------------------------------------------------------------------------

  private onAuth(connection: Connection, reqKey: string, message: unknown[]): void {
    const raw = message[1] as Record<string, unknown> | undefined
    const shapeError = eventShapeError(raw)
    if (shapeError !== null) {
      const id = typeof raw === 'object' && raw !== null ? raw.id : undefined
      if (isHex64(id)) this.ok(connection, id, false, `invalid: ${shapeError}`)
      else this.notice(connection, `invalid: AUTH needs a signed kind 22242 event: ${shapeError}`)
      return
    }
    const event = raw as unknown as NostrEvent
    // The signature check runs on the event loop; AUTH shares the REQ budget so it cannot be used to burn CPU.
    if (!this.reqLimiter.take(reqKey, this.clock())) {
      this.ok(connection, event.id, false, 'rate-limited: too many AUTH attempts, slow down')
      return
    }
    const error = this.authError(connection, event)
    if (error !== null) {
      this.ok(connection, event.id, false, `invalid: ${error}`)
      return
    }
    connection.authed.add(event.pubkey)
    this.ok(connection, event.id, true, '')
  }

  private authError(connection: Connection, event: NostrEvent): string | null {
    const now = this.now()
    const candidates = this.config.relayUrl ? [this.config.relayUrl] : [`ws://${connection.host}`, `wss://${connection.host}`]
    let firstError: string | null = 'this relay cannot tell its own URL (no Host header)'
    for (const relayUrl of candidates) {
      let error: string | null
      try {
        error = authEventError(event, { challenge: connection.challenge, relayUrl, now })
      } catch {
        continue
      }
      if (error === null) return null
      if (firstError === 'this relay cannot tell its own URL (no Host header)') firstError = error
      // Only the relay URL differs between candidates; any other reason is final.
      if (!error.startsWith('relay tag')) return error
    }
    return firstError
  }

  // ---- shutdown --------------------------------------------------------------------------------

  private settleIfDrained(): void {
    if (this.drained && this.verifying === 0 && this.verifyQueue.length === 0 && this.saveQueue.length === 0 && !this.saveScheduled && !this.verifyScheduled) {
      this.drained()
    }
  }

  async shutdown(): Promise<void> {
    if (this.closing) return
    this.closing = true
    for (const timer of this.timers) clearInterval(timer)
    for (const c of this.connections) c.ws.close(1001, 'relay shutting down')
    // Events already accepted for verification are still written, so no work is lost mid-batch.
    await new Promise<void>((resolve) => {
      this.drained = resolve
      this.settleIfDrained()
    })
    await new Promise<void>((resolve) => {
      const deadline = setTimeout(() => {
        for (const c of this.connections) c.ws.terminate()
      }, 500)
      this.wss.close(() => {
        clearTimeout(deadline)
        resolve()
      })
      for (const client of this.wss.clients) if (client.readyState !== WebSocket.OPEN) client.terminate()
    })
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve())
      this.http.closeAllConnections()
    })
    await this.verifier.close()
    this.store.close()
    this.log.info({}, 'relay closed')
  }
}

// Server-to-client text frames (RFC 6455 section 5.2): FIN and opcode 1 in the first byte, no mask, then the
// payload length in 7, 7+16 or 7+64 bits.
const FINAL_TEXT_FRAME = 0x81

function frameHeaderLength(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 65_536 ? 4 : 10
}

function writeFrameHeader(out: Buffer, at: number, payloadLength: number): number {
  out[at] = FINAL_TEXT_FRAME
  if (payloadLength < 126) {
    out[at + 1] = payloadLength
  } else if (payloadLength < 65_536) {
    out[at + 1] = 126
    out.writeUInt16BE(payloadLength, at + 2)
  } else {
    out[at + 1] = 127
    out.writeUInt32BE(Math.floor(payloadLength / 2 ** 32), at + 2)
    out.writeUInt32BE(payloadLength >>> 0, at + 6)
  }
  return at + frameHeaderLength(payloadLength)
}

/**
 * A REQ reply as WebSocket text frames in one buffer: one message `<eventPrefix><raw>]` per stored event, then
 * `last` (the EOSE). Sent through ws, every message is framed on its own and reaches the socket as two chunks
 * (header, then the text, encoded only inside the final write): a reply of 100 events (55 kB) took about
 * 0.19 ms that way on the benchmark machine, 0.1 ms this way, where each text is encoded once, straight into place.
 */
export function replyFrames(eventPrefix: string, raws: readonly string[], last: string): Buffer {
  const prefix = Buffer.from(eventPrefix)
  const lengths = raws.map((raw) => prefix.length + Buffer.byteLength(raw) + 1)
  const lastLength = Buffer.byteLength(last)
  let size = frameHeaderLength(lastLength) + lastLength
  for (const length of lengths) size += frameHeaderLength(length) + length
  const out = Buffer.allocUnsafe(size)
  let at = 0
  for (let i = 0; i < raws.length; i++) {
    at = writeFrameHeader(out, at, lengths[i])
    at += prefix.copy(out, at)
    at += out.write(raws[i], at)
    out[at++] = 0x5d // ]
  }
  at = writeFrameHeader(out, at, lastLength)
  out.write(last, at)
  return out
}

function rawBytes(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data
  if (Array.isArray(data)) return Buffer.concat(data)
  return Buffer.from(data)
}

// An oversized EVENT still deserves an OK with its id when one can be found near the start.
const EVENT_ID_NEAR_START = /^\s*\[\s*"EVENT"\s*,\s*\{[^]*?"id"\s*:\s*"([0-9a-f]{64})"/

function sniffEventId(bytes: Buffer): string | undefined {
  return EVENT_ID_NEAR_START.exec(bytes.subarray(0, 4096).toString('latin1'))?.[1]
}

function clientIp(req: IncomingMessage, realIpHeader: string): string {
  if (realIpHeader !== '') {
    const header = req.headers[realIpHeader]
    const value = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim()
    if (value) return value
  }
  const address = req.socket.remoteAddress ?? ''
  return address.startsWith('::ffff:') ? address.slice(7) : address
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
