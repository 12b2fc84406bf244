// The browser's side of NIP-01: one WebSocket per relay, reconnecting with backoff, subscriptions
// replayed after every reconnect, events checked (signature, shape) and de-duplicated across
// relays before anyone sees them. With a signer it answers NIP-42 AUTH challenges, then replays
// its subscriptions: relays show encrypted job traffic only to the parties of the job.
import { eventShapeError, verifyEvent, type EventTemplate, type Filter, type NostrEvent } from '../nips/01.js'
import { buildAuthEvent } from '../nips/42.js'
import { normalizeRelayUrl } from '../nips/relay-url.js'

export type RelayState = 'connecting' | 'open' | 'closed'

export interface RelayStatus {
  url: string
  state: RelayState
  /** Why the last connection ended or a relay refused something, for the user. */
  error?: string
  /** Whether this relay ever opened since it was added. */
  reached: boolean
  /** The pubkey this connection authenticated as (NIP-42). */
  authedAs?: string
}

export type AuthSigner = (template: EventTemplate) => Promise<NostrEvent>

export interface PublishOutcome {
  url: string
  ok: boolean
  message: string
}

export interface SubscriptionHandlers {
  onevent(event: NostrEvent, relay: string): void
  /** Once, when every open relay has sent its stored events (or none is open). */
  oneose?(): void
  onclosed?(relay: string, reason: string): void
}

export interface Subscription {
  close(): void
}

const PUBLISH_TIMEOUT_MS = 8000
const MAX_BACKOFF_MS = 30_000

interface RelaySub {
  filters: Filter[]
  handlers: SubscriptionHandlers
  eosed: boolean
}

class RelayConnection {
  private ws: WebSocket | undefined
  private backoffMs = 1000
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private closedByUs = false
  readonly subs = new Map<string, RelaySub>()
  private readonly pendingOk = new Map<string, (outcome: PublishOutcome) => void>()
  private challenge: string | undefined
  status: RelayStatus

  constructor(
    readonly url: string,
    private readonly onStatus: () => void,
    private readonly accept: (event: NostrEvent) => boolean,
    private readonly authSigner: () => AuthSigner | undefined,
  ) {
    this.status = { url, state: 'connecting', reached: false }
  }

  connect(): void {
    this.closedByUs = false
    this.setStatus({ state: 'connecting' })
    let ws: WebSocket
    try {
      ws = new WebSocket(this.url)
    } catch (err) {
      this.setStatus({ state: 'closed', error: (err as Error).message })
      return
    }
    this.ws = ws
    this.challenge = undefined
    ws.onopen = () => {
      this.backoffMs = 1000
      this.setStatus({ state: 'open', error: undefined, reached: true, authedAs: undefined })
      for (const [id, sub] of this.subs) this.send(['REQ', id, ...sub.filters])
    }
    ws.onmessage = (message) => this.receive(message.data)
    ws.onclose = (event) => {
      if (this.ws !== ws) return
      this.ws = undefined
      for (const [, resolve] of this.pendingOk) resolve({ url: this.url, ok: false, message: 'error: connection closed' })
      this.pendingOk.clear()
      // A relay that is down still counts as having answered: subscriptions waiting for it go on.
      for (const sub of this.subs.values()) if (!sub.eosed) this.markEose(sub)
      if (this.closedByUs) return
      this.setStatus({ state: 'closed', error: event.reason || (this.status.reached ? 'connection lost' : 'not reachable') })
      this.retryTimer = setTimeout(() => this.connect(), this.backoffMs)
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS)
    }
  }

  close(): void {
    this.closedByUs = true
    clearTimeout(this.retryTimer)
    this.ws?.close()
    this.ws = undefined
    this.setStatus({ state: 'closed' })
  }

  private setStatus(change: Partial<RelayStatus>): void {
    this.status = { ...this.status, ...change }
    this.onStatus()
  }

  private send(frame: unknown[]): boolean {
    if (this.ws?.readyState !== WebSocket.OPEN) return false
    this.ws.send(JSON.stringify(frame))
    return true
  }

  private markEose(sub: RelaySub): void {
    sub.eosed = true
    sub.handlers.oneose?.()
  }

  subscribe(id: string, filters: Filter[], handlers: SubscriptionHandlers): void {
    const sub = { filters, handlers, eosed: false }
    this.subs.set(id, sub)
    // Deferred: the caller may not hold its subscription handle yet.
    if (!this.send(['REQ', id, ...filters]) && this.status.state === 'closed') queueMicrotask(() => sub.eosed || this.markEose(sub))
  }

  unsubscribe(id: string): void {
    if (this.subs.delete(id)) this.send(['CLOSE', id])
  }

  /** Answers the relay's challenge with the signer, if there are both; on success the subscriptions are asked again. */
  async authenticate(): Promise<void> {
    const sign = this.authSigner()
    const challenge = this.challenge
    if (!sign || !challenge) return
    let event: NostrEvent
    try {
      event = await sign(buildAuthEvent({ relayUrl: this.url, challenge, createdAt: Math.floor(Date.now() / 1000) }))
    } catch (err) {
      this.setStatus({ error: `authentication refused by the signer: ${(err as Error).message}` })
      return
    }
    if (challenge !== this.challenge) return
    const outcome = await this.publish(event, 'AUTH')
    if (!outcome.ok) {
      this.setStatus({ error: `authentication failed: ${outcome.message}` })
      return
    }
    this.setStatus({ authedAs: event.pubkey })
    for (const [id, sub] of this.subs) this.send(['REQ', id, ...sub.filters])
  }

  publish(event: NostrEvent, verb: 'EVENT' | 'AUTH' = 'EVENT'): Promise<PublishOutcome> {
    if (!this.send([verb, event])) return Promise.resolve({ url: this.url, ok: false, message: `error: ${this.status.error ?? 'not connected'}` })
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingOk.delete(event.id)
        resolve({ url: this.url, ok: false, message: 'error: no answer from the relay' })
      }, PUBLISH_TIMEOUT_MS)
      this.pendingOk.set(event.id, (outcome) => {
        clearTimeout(timer)
        resolve(outcome)
      })
    })
  }

  private receive(data: unknown): void {
    let message: unknown
    try {
      message = JSON.parse(String(data))
    } catch {
      return
    }
    if (!Array.isArray(message)) return
    const [type, a, b, c] = message as [unknown, unknown, unknown, unknown]
    if (type === 'EVENT' && typeof a === 'string') {
      const sub = this.subs.get(a)
      if (sub && this.accept(b as NostrEvent)) sub.handlers.onevent(b as NostrEvent, this.url)
    } else if (type === 'EOSE' && typeof a === 'string') {
      const sub = this.subs.get(a)
      if (sub && !sub.eosed) this.markEose(sub)
    } else if (type === 'OK' && typeof a === 'string') {
      const resolve = this.pendingOk.get(a)
      this.pendingOk.delete(a)
      resolve?.({ url: this.url, ok: b === true, message: typeof c === 'string' ? c : '' })
    } else if (type === 'CLOSED' && typeof a === 'string') {
      const sub = this.subs.get(a)
      if (!sub) return
      this.subs.delete(a)
      if (!sub.eosed) this.markEose(sub)
      sub.handlers.onclosed?.(this.url, typeof b === 'string' ? b : '')
    } else if (type === 'AUTH' && typeof a === 'string') {
      this.challenge = a
      void this.authenticate()
    } else if (type === 'NOTICE' && typeof a === 'string') {
      this.setStatus({ error: a.slice(0, 200) })
    }
  }
}

export class RelayPool {
  private readonly connections = new Map<string, RelayConnection>()
  private readonly statusListeners = new Set<(statuses: RelayStatus[]) => void>()
  private readonly subscriptions = new Map<string, { filters: Filter[]; handlers: SubscriptionHandlers; seen: Set<string>; waiting: Set<string> }>()
  private nextSubId = 0
  /** Events already checked, by id: a signature is verified once however many relays send it. */
  private readonly verified = new Map<string, boolean>()
  private authSigner: AuthSigner | undefined

  constructor(urls: string[] = []) {
    this.setRelays(urls)
  }

  get urls(): string[] {
    return [...this.connections.keys()]
  }

  statuses(): RelayStatus[] {
    return [...this.connections.values()].map((c) => c.status)
  }

  onStatus(listener: (statuses: RelayStatus[]) => void): () => void {
    this.statusListeners.add(listener)
    listener(this.statuses())
    return () => this.statusListeners.delete(listener)
  }

  private emitStatus(): void {
    const statuses = this.statuses()
    for (const listener of this.statusListeners) listener(statuses)
  }

  private accept = (event: NostrEvent): boolean => {
    let ok = this.verified.get(event?.id)
    if (ok === undefined) {
      ok = eventShapeError(event) === null && verifyEvent(event)
      if (this.verified.size > 20_000) this.verified.clear()
      this.verified.set(event.id, ok)
    }
    return ok
  }

  /** Who answers NIP-42 challenges (the logged-in signer), or nobody. Open connections authenticate at once. */
  setAuthSigner(sign: AuthSigner | undefined): void {
    this.authSigner = sign
    if (sign) for (const connection of this.connections.values()) void connection.authenticate()
  }

  /** Replaces the relay set; open subscriptions move to the new relays. */
  setRelays(urls: string[]): void {
    const wanted = new Set(urls.map(normalizeRelayUrl))
    for (const [url, connection] of this.connections) {
      if (wanted.has(url)) continue
      connection.close()
      this.connections.delete(url)
    }
    for (const url of wanted) {
      if (this.connections.has(url)) continue
      const connection = new RelayConnection(url, () => this.emitStatus(), this.accept, () => this.authSigner)
      this.connections.set(url, connection)
      for (const [id, sub] of this.subscriptions) this.subscribeOn(connection, id, sub)
      connection.connect()
    }
    this.emitStatus()
  }

  private subscribeOn(connection: RelayConnection, id: string, sub: { filters: Filter[]; handlers: SubscriptionHandlers; seen: Set<string>; waiting: Set<string> }): void {
    connection.subscribe(id, sub.filters, {
      onevent: (event, relay) => {
        if (sub.seen.has(event.id)) return
        sub.seen.add(event.id)
        sub.handlers.onevent(event, relay)
      },
      oneose: () => {
        if (!sub.waiting.delete(connection.url)) return
        if (sub.waiting.size === 0) sub.handlers.oneose?.()
      },
      onclosed: (relay, reason) => sub.handlers.onclosed?.(relay, reason),
    })
  }

  subscribe(filters: Filter[], handlers: SubscriptionHandlers): Subscription {
    const id = `t${(this.nextSubId++).toString(36)}`
    const sub = { filters, handlers, seen: new Set<string>(), waiting: new Set(this.connections.keys()) }
    this.subscriptions.set(id, sub)
    if (sub.waiting.size === 0) queueMicrotask(() => handlers.oneose?.())
    for (const connection of this.connections.values()) this.subscribeOn(connection, id, sub)
    return {
      close: () => {
        this.subscriptions.delete(id)
        for (const connection of this.connections.values()) connection.unsubscribe(id)
      },
    }
  }

  /** Stored events matching the filters, once every relay has answered. */
  query(filters: Filter[]): Promise<NostrEvent[]> {
    return new Promise((resolve) => {
      const events: NostrEvent[] = []
      const sub = this.subscribe(filters, {
        onevent: (event) => events.push(event),
        oneose: () => {
          sub.close()
          resolve(events)
        },
      })
    })
  }

  async publish(event: NostrEvent): Promise<PublishOutcome[]> {
    return Promise.all([...this.connections.values()].map((c) => c.publish(event)))
  }

  close(): void {
    for (const connection of this.connections.values()) connection.close()
    this.connections.clear()
    this.subscriptions.clear()
  }
}
