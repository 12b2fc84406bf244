// A small relay pool for agents: subscriptions that survive reconnects, publishing that waits for
// OK, and NIP-42 AUTH answered on the relay's first challenge. Our own rather than nostr-tools'
// SimplePool because an agent needs three things it does not do together: REQs and EVENTs refused
// with `auth-required:` are re-sent once AUTH is accepted, subscriptions are restored after a
// reconnect (resuming from the newest event seen), and every incoming event is verified with the
// fast verifier before it reaches the runtime.
import WebSocket from 'ws'
import { matchFilters, type EventTemplate, type Filter, type NostrEvent } from '../nips/01.js'
import { normalizeRelayUrl } from '../nips/relay-url.js'
import { silentLogger, type Logger } from './logger.js'

export interface PublishOutcome {
  relay: string
  ok: boolean
  /** The relay's OK message, or why no OK came ('error: ...'). */
  message: string
}

export interface SubscriptionHandlers {
  onevent: (event: NostrEvent, relay: string) => void
  /** Each relay's end of stored events. */
  oneose?: (relay: string) => void
  /** A relay ended the subscription for good (CLOSED that AUTH could not fix). */
  onclosed?: (relay: string, reason: string) => void
  /** A connection attempt failed; the pool keeps retrying while the subscription is open. */
  onunreachable?: (relay: string) => void
}

export interface PoolSubscription {
  /** Replaces the filters on every relay of the subscription (a REQ with the same id). */
  update(filters: Filter[]): void
  close(): void
}

export interface RelayPoolOptions {
  verify: (event: NostrEvent) => boolean
  /** Signs NIP-42 AUTH events; without it challenges are ignored. */
  signAuth?: (template: EventTemplate) => NostrEvent
  /** Unix milliseconds; AUTH events are dated with it. */
  clock?: () => number
  log?: Logger
  connectTimeoutMs?: number
  publishTimeoutMs?: number
  /** Delays before reconnect attempts; the last one repeats. */
  reconnectDelaysMs?: number[]
}

export interface RelayStatus {
  url: string
  connected: boolean
  authenticated: boolean
}

interface PendingPublish {
  event: NostrEvent
  resolve: (outcome: PublishOutcome) => void
  timer: NodeJS.Timeout
  awaitingAuth: boolean
  retriedAfterAuth: boolean
}

interface RelaySub {
  filters: Filter[]
  handlers: SubscriptionHandlers
  awaitingAuth: boolean
  /** Newest created_at seen, so that a re-sent REQ resumes instead of replaying. */
  newestSeen: number
}

const RESUME_SLACK_SECONDS = 60
const AUTH_GRACE_MS = 150

class RelayConnection {
  private ws: WebSocket | undefined
  private opening: Promise<void> | undefined
  private readonly subs = new Map<string, RelaySub>()
  private readonly publishes = new Map<string, PendingPublish>()
  private challenge: string | undefined
  private authEventId: string | undefined
  private authenticated = false
  /** Nothing is sent before AUTH is settled (or the relay had no challenge within AUTH_GRACE_MS). */
  private ready = false
  private graceTimer: NodeJS.Timeout | undefined
  private reconnectAttempt = 0
  private reconnectTimer: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    readonly url: string,
    private readonly options: Required<Omit<RelayPoolOptions, 'signAuth'>> & Pick<RelayPoolOptions, 'signAuth'>,
  ) {}

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  get isAuthenticated(): boolean {
    return this.authenticated
  }

  subscribe(id: string, filters: Filter[], handlers: SubscriptionHandlers): void {
    this.subs.set(id, { filters, handlers, awaitingAuth: false, newestSeen: 0 })
    this.sendReq(id)
  }

  update(id: string, filters: Filter[]): void {
    const sub = this.subs.get(id)
    if (!sub) return
    sub.filters = filters
    sub.newestSeen = 0
    this.sendReq(id)
  }

  unsubscribe(id: string): void {
    if (!this.subs.delete(id)) return
    if (this.connected) this.ws!.send(JSON.stringify(['CLOSE', id]))
  }

  publish(event: NostrEvent, timeoutMs: number): Promise<PublishOutcome> {
    const existing = this.publishes.get(event.id)
    if (existing) return new Promise((resolve) => {
      const previous = existing.resolve
      existing.resolve = (outcome) => (previous(outcome), resolve(outcome))
    })
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settlePublish(event.id, false, 'error: no OK from relay in time'), timeoutMs)
      this.publishes.set(event.id, { event, resolve, timer, awaitingAuth: false, retriedAfterAuth: false })
      this.ensureOpen().then(
        () => this.sendEvent(event.id),
        (err: Error) => this.settlePublish(event.id, false, `error: ${err.message}`),
      )
    })
  }

  close(): void {
    this.closed = true
    clearTimeout(this.reconnectTimer)
    clearTimeout(this.graceTimer)
    for (const id of [...this.publishes.keys()]) this.settlePublish(id, false, 'error: pool closed')
    this.subs.clear()
    this.ws?.terminate()
  }

  private sendReq(id: string): void {
    const sub = this.subs.get(id)
    if (!sub) return
    if (!this.connected) {
      this.ensureOpen().catch(() => this.subs.get(id)?.handlers.onunreachable?.(this.url))
      return
    }
    if (!this.ready || (sub.awaitingAuth && !this.authenticated)) return
    const filters = sub.newestSeen
      ? sub.filters.map((f) => (f.since === undefined ? f : { ...f, since: Math.max(f.since, sub.newestSeen - RESUME_SLACK_SECONDS) }))
      : sub.filters
    this.ws!.send(JSON.stringify(['REQ', id, ...filters]))
  }

  private sendEvent(id: string): void {
    const pending = this.publishes.get(id)
    if (!pending || !this.connected || !this.ready) return
    if (pending.awaitingAuth && !this.authenticated) return
    this.ws!.send(JSON.stringify(['EVENT', pending.event]))
  }

  private settlePublish(id: string, ok: boolean, message: string): void {
    const pending = this.publishes.get(id)
    if (!pending) return
    this.publishes.delete(id)
    clearTimeout(pending.timer)
    pending.resolve({ relay: this.url, ok, message })
  }

  private ensureOpen(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('pool closed'))
    if (this.connected) return Promise.resolve()
    this.opening ??= this.open().finally(() => (this.opening = undefined))
    return this.opening
  }

  private open(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { handshakeTimeout: this.options.connectTimeoutMs })
      this.ws = ws
      this.authenticated = false
      this.ready = false
      this.challenge = undefined
      ws.on('open', () => {
        this.reconnectAttempt = 0
        if (this.options.signAuth) {
          // Relays that want AUTH send their challenge at once; a REQ sent before answering it would
          // be served as an anonymous reader (no encrypted job requests addressed to us).
          this.graceTimer = setTimeout(() => this.becomeReady(), AUTH_GRACE_MS)
        } else {
          this.becomeReady()
        }
        resolve()
      })
      ws.on('message', (data) => this.onMessage(data.toString()))
      ws.on('error', (err) => {
        this.options.log.debug({ relay: this.url, err: err.message }, 'relay connection error')
        reject(err)
      })
      ws.on('close', () => {
        if (this.ws !== ws) return
        this.ws = undefined
        this.authenticated = false
        reject(new Error('connection closed'))
        this.scheduleReconnect()
      })
    })
  }

  private becomeReady(): void {
    clearTimeout(this.graceTimer)
    if (this.ready || !this.connected) return
    this.ready = true
    for (const id of this.subs.keys()) this.sendReq(id)
    for (const id of this.publishes.keys()) this.sendEvent(id)
  }

  private scheduleReconnect(): void {
    if (this.closed || (this.subs.size === 0 && this.publishes.size === 0)) return
    const delays = this.options.reconnectDelaysMs
    const delay = delays[Math.min(this.reconnectAttempt++, delays.length - 1)]
    clearTimeout(this.reconnectTimer)
    this.reconnectTimer = setTimeout(() => this.ensureOpen().catch(() => {}), delay)
    this.reconnectTimer.unref()
  }

  private onMessage(raw: string): void {
    let message: unknown
    try {
      message = JSON.parse(raw)
    } catch {
      return
    }
    if (!Array.isArray(message)) return
    const [type, a, b, c] = message as [unknown, unknown, unknown, unknown]
    if (type === 'EVENT' && typeof a === 'string') this.onEvent(a, b as NostrEvent)
    else if (type === 'EOSE' && typeof a === 'string') this.subs.get(a)?.handlers.oneose?.(this.url)
    else if (type === 'OK' && typeof a === 'string') this.onOk(a, b === true, typeof c === 'string' ? c : '')
    else if (type === 'CLOSED' && typeof a === 'string') this.onClosed(a, typeof b === 'string' ? b : '')
    else if (type === 'AUTH' && typeof a === 'string') this.onChallenge(a)
    else if (type === 'NOTICE') this.options.log.debug({ relay: this.url, notice: a }, 'relay notice')
  }

  private onEvent(subId: string, event: NostrEvent): void {
    const sub = this.subs.get(subId)
    if (!sub) return
    if (!this.options.verify(event)) {
      this.options.log.debug({ relay: this.url, id: (event as { id?: unknown })?.id }, 'dropped an event that failed verification')
      return
    }
    if (!matchFilters(sub.filters, event)) return
    if (event.created_at > sub.newestSeen) sub.newestSeen = event.created_at
    sub.handlers.onevent(event, this.url)
  }

  private onOk(id: string, ok: boolean, message: string): void {
    if (id === this.authEventId) {
      this.authEventId = undefined
      if (ok) {
        this.authenticated = true
        if (this.ready) this.resendAfterAuth()
        else this.becomeReady()
      } else {
        this.options.log.warn({ relay: this.url, message }, 'relay refused our AUTH')
        this.failAuthWaiters(`auth-required: AUTH refused (${message})`)
        this.becomeReady()
      }
      return
    }
    const pending = this.publishes.get(id)
    if (!pending) return
    if (!ok && message.startsWith('auth-required:') && this.options.signAuth && !pending.retriedAfterAuth) {
      pending.awaitingAuth = true
      pending.retriedAfterAuth = true
      if (this.authenticated) this.sendEvent(id)
      else this.authenticate()
      return
    }
    this.settlePublish(id, ok, message)
  }

  private onClosed(subId: string, reason: string): void {
    const sub = this.subs.get(subId)
    if (!sub) return
    if (reason.startsWith('auth-required:') && this.options.signAuth && !sub.awaitingAuth) {
      sub.awaitingAuth = true
      if (this.authenticated) this.sendReq(subId)
      else this.authenticate()
      return
    }
    this.subs.delete(subId)
    sub.handlers.onclosed?.(this.url, reason)
  }

  private onChallenge(challenge: string): void {
    this.challenge = challenge
    this.authenticated = false
    this.authenticate()
  }

  private authenticate(): void {
    const sign = this.options.signAuth
    if (!sign || !this.challenge || this.authEventId || !this.connected) return
    const auth = sign({
      kind: 22242,
      created_at: Math.floor(this.options.clock() / 1000),
      tags: [
        ['relay', this.url],
        ['challenge', this.challenge],
      ],
      content: '',
    })
    this.authEventId = auth.id
    this.ws!.send(JSON.stringify(['AUTH', auth]))
  }

  /**
   * Every REQ is sent again, not only those refused: a relay that filters protected events per
   * reader (encrypted job requests) answered the earlier REQ as an anonymous reader.
   */
  private resendAfterAuth(): void {
    for (const [id, sub] of this.subs) {
      sub.newestSeen = 0
      this.sendReq(id)
    }
    for (const [id, pending] of this.publishes) if (pending.awaitingAuth) this.sendEvent(id)
  }

  private failAuthWaiters(reason: string): void {
    for (const [id, sub] of [...this.subs]) {
      if (!sub.awaitingAuth) continue
      this.subs.delete(id)
      sub.handlers.onclosed?.(this.url, reason)
    }
    for (const [id, pending] of [...this.publishes]) if (pending.awaitingAuth) this.settlePublish(id, false, reason)
  }
}

let subCounter = 0

export class RelayPool {
  private readonly relays = new Map<string, RelayConnection>()
  private readonly options: Required<Omit<RelayPoolOptions, 'signAuth'>> & Pick<RelayPoolOptions, 'signAuth'>
  private closed = false

  constructor(options: RelayPoolOptions) {
    this.options = {
      verify: options.verify,
      signAuth: options.signAuth,
      clock: options.clock ?? Date.now,
      log: options.log ?? silentLogger,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      publishTimeoutMs: options.publishTimeoutMs ?? 10_000,
      reconnectDelaysMs: options.reconnectDelaysMs ?? [250, 1000, 3000, 10_000, 30_000],
    }
  }

  private relay(url: string): RelayConnection {
    if (this.closed) throw new Error('relay pool is closed')
    const normalized = normalizeRelayUrl(url)
    let relay = this.relays.get(normalized)
    if (!relay) {
      relay = new RelayConnection(normalized, this.options)
      this.relays.set(normalized, relay)
    }
    return relay
  }

  /** Events arriving from several relays are delivered once each. */
  subscribe(relays: string[], filters: Filter[], handlers: SubscriptionHandlers): PoolSubscription {
    const id = `t${(++subCounter).toString(36)}`
    const seen = new Set<string>()
    const dedupe: SubscriptionHandlers = {
      ...handlers,
      onevent: (event, relay) => {
        if (seen.has(event.id)) return
        if (seen.size > 10_000) seen.clear()
        seen.add(event.id)
        handlers.onevent(event, relay)
      },
    }
    const connections = unique(relays).map((url) => this.relay(url))
    for (const relay of connections) relay.subscribe(id, filters, dedupe)
    return {
      update: (next) => connections.forEach((relay) => relay.update(id, next)),
      close: () => connections.forEach((relay) => relay.unsubscribe(id)),
    }
  }

  /** Stored events matching the filters, from every relay, until each sent EOSE or the timeout. */
  query(relays: string[], filters: Filter[], { timeoutMs = 5000 }: { timeoutMs?: number } = {}): Promise<NostrEvent[]> {
    const targets = unique(relays)
    if (targets.length === 0) return Promise.resolve([])
    return new Promise((resolve) => {
      const events = new Map<string, NostrEvent>()
      const done = new Set<string>()
      const finish = () => {
        clearTimeout(timer)
        sub.close()
        resolve([...events.values()])
      }
      const relayDone = (relay: string) => {
        done.add(relay)
        if (done.size >= targets.length) finish()
      }
      const sub = this.subscribe(targets, filters, {
        onevent: (event) => events.set(event.id, event),
        oneose: relayDone,
        onclosed: relayDone,
        onunreachable: relayDone,
      })
      const timer = setTimeout(finish, timeoutMs)
    })
  }

  /** Sends the event to every relay and resolves with each relay's answer. */
  async publish(relays: string[], event: NostrEvent, { timeoutMs }: { timeoutMs?: number } = {}): Promise<PublishOutcome[]> {
    const limit = timeoutMs ?? this.options.publishTimeoutMs
    return Promise.all(unique(relays).map((url) => this.relay(url).publish(event, limit)))
  }

  status(): RelayStatus[] {
    return [...this.relays.values()].map((r) => ({ url: r.url, connected: r.connected, authenticated: r.isAuthenticated }))
  }

  close(): void {
    this.closed = true
    for (const relay of this.relays.values()) relay.close()
    this.relays.clear()
  }
}

/** Normalized and de-duplicated; what is not a relay URL is left out. */
export function relayUrls(relays: string[]): string[] {
  const urls = new Set<string>()
  for (const url of relays) {
    try {
      urls.add(normalizeRelayUrl(url))
    } catch {
      // a malformed `relays` tag of a request must not stop the job
    }
  }
  return [...urls]
}

const unique = relayUrls

/** A relay accepted the event, or already had it. */
export function accepted(outcomes: PublishOutcome[]): boolean {
  return outcomes.some((o) => o.ok)
}
