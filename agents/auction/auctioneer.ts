// The requester's side of a sealed-bid auction (nips/auction.md): publish the job request with the
// reserve and deadlines, collect commits and reveals (decrypting encrypted reveals as they arrive),
// close at the reveal deadline plus the relay window, publish the outcome and a no-reveal label for
// every bidder that committed and did not reveal. Everything goes through the AuctionLog first;
// start() picks up every unfinished auction in it, so a restart mid-auction finishes the auction.
import type { EventTemplate, Filter, NostrEvent } from '../../nips/01.js'
import { getPublicKey } from '../../nips/01.js'
import { buildJobOutcomeLabel } from '../../nips/32.js'
import {
  AUCTION_COMMIT_KIND,
  AUCTION_REVEAL_KIND,
  auctionRequestParams,
  buildOutcome,
  computeOutcome,
  openReveal,
  outcomeRecord,
  parseCommit,
  parseOutcome,
  parseReveal,
  type AuctionOutcome,
  type AuctionRequest,
  type BidOpening,
  type Outcome,
} from '../../nips/auction.js'
import { buildJobRequest, type JobRequestInput } from '../../nips/90.js'
import type { EventCrypto } from '../crypto.js'
import { silentLogger, type Logger } from '../logger.js'
import { accepted, RelayPool, relayUrls } from '../pool.js'
import { auctionTerms, type AuctionFact, type AuctionLog, type AuctionState } from './log.js'

const QUERY_TIMEOUT_MS = 5000
const RETRY_MS = 2000

/**
 * Bidders' reputation scores for a job of `kind` as nips/auction.md §5.1 defines them: computed at
 * `at` (the bid deadline) in `trustRoot`'s web of trust. Asked for every bidder when the auction has
 * a minimum reputation, else only for bidders whose valid bids tie (the higher score wins the tie).
 */
export type ReputationLookup = (bidders: string[], kind: number, scoring: { at: number; trustRoot: string }) => Promise<ReadonlyMap<string, number>>

export interface AuctioneerOptions {
  secretKey: Uint8Array
  /** Where the request, and so the bids and the outcome, go. */
  relays: string[]
  auctionLog: AuctionLog
  crypto: EventCrypto
  /** Unix milliseconds. */
  clock?: () => number
  /** Seconds after the reveal deadline before closing: the relays' created_at window (W in nips/auction.md). */
  closeGraceSeconds?: number
  reputation?: ReputationLookup
  log?: Logger
  /** Called once an auction's outcome is published. */
  onClosed?: (state: AuctionState) => void
}

export interface OpenAuctionOptions {
  kind: number
  inputs: JobRequestInput[]
  params?: Record<string, string[]>
  output?: string
  /** The most the requester pays, in msats (the request's `bid` tag). */
  reserveMsats: number
  bidWindowSeconds: number
  revealWindowSeconds: number
  /** Reject bidders whose reputation score (0..1) is below this; needs AuctioneerOptions.reputation. */
  minReputation?: number
  /** Whose web of trust the scores are computed in (default: the auctioneer). */
  reputationRoot?: string
}

/** The bidders whose commits the closing rules weigh: made in time, not by the auctioneer. */
function timelyBidders(state: AuctionState, terms: AuctionRequest): string[] {
  return [...new Set(state.commits.filter((e) => e.created_at <= terms.bidDeadline && e.pubkey !== terms.auctioneer).map((e) => e.pubkey))]
}

/** What the outcome says, read back from the signed event. */
export function outcomeOf(state: AuctionState): AuctionOutcome | undefined {
  return state.outcome && parseOutcome(state.outcome)
}

export class Auctioneer {
  readonly pubkey: string
  private readonly secretKey: Uint8Array
  private readonly relays: string[]
  private readonly auctionLog: AuctionLog
  private readonly crypto: EventCrypto
  private readonly clock: () => number
  private readonly closeGraceSeconds: number
  private readonly reputation?: ReputationLookup
  private readonly log: Logger
  private readonly onClosed?: (state: AuctionState) => void
  private pool: RelayPool | undefined
  private readonly watches = new Map<string, { close(): void }>()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly closing = new Set<string>()
  private readonly waiters = new Map<string, ((state: AuctionState) => void)[]>()

  constructor(options: AuctioneerOptions) {
    this.secretKey = options.secretKey
    this.pubkey = getPublicKey(options.secretKey)
    this.relays = relayUrls(options.relays)
    if (this.relays.length === 0) throw new Error('an auctioneer needs at least one relay')
    this.auctionLog = options.auctionLog
    this.crypto = options.crypto
    this.clock = options.clock ?? Date.now
    this.closeGraceSeconds = options.closeGraceSeconds ?? 5
    this.reputation = options.reputation
    this.log = (options.log ?? silentLogger).child({ part: 'auctioneer' })
    this.onClosed = options.onClosed
  }

  private nowSeconds(): number {
    return Math.floor(this.clock() / 1000)
  }

  private sign(template: EventTemplate): NostrEvent {
    return this.crypto.sign(template, this.secretKey)
  }

  private get relayPool(): RelayPool {
    if (!this.pool) throw new Error('the auctioneer is not started')
    return this.pool
  }

  /** Connects and resumes every unfinished auction in the log. */
  async start(): Promise<void> {
    if (this.pool) return
    this.pool = new RelayPool({ verify: (e) => this.crypto.verify(e), signAuth: (t) => this.sign(t), clock: this.clock, log: this.log })
    for (const state of this.auctionLog.unfinished()) {
      if (state.request.pubkey !== this.pubkey) continue
      this.log.info({ auction: state.id, status: state.status }, 'resuming auction')
      this.resume(state)
    }
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    for (const watch of this.watches.values()) watch.close()
    this.timers.clear()
    this.watches.clear()
    this.pool?.close()
    this.pool = undefined
  }

  /** Signs, logs and publishes an auctioned job request; returns it once a relay has it. */
  async open(options: OpenAuctionOptions): Promise<NostrEvent> {
    const { minReputation, reputationRoot } = options
    if (minReputation !== undefined && !this.reputation) throw new Error('an auction with a minimum reputation needs a reputation lookup to score the bidders')
    const createdAt = this.nowSeconds()
    const bidDeadline = createdAt + options.bidWindowSeconds
    const params = { ...options.params, ...auctionRequestParams({ bidDeadline, revealDeadline: bidDeadline + options.revealWindowSeconds, minReputation, reputationRoot }) }
    const request = this.sign(
      buildJobRequest({
        kind: options.kind,
        inputs: options.inputs,
        params,
        ...(options.output && { output: options.output }),
        bidMsats: options.reserveMsats,
        relays: this.relays,
        createdAt,
      }),
    )
    auctionTerms({ request })
    const state = this.append(request.id, [{ type: 'opened', at: this.clock(), request }])
    this.log.info({ auction: request.id, kind: options.kind, reserveMsats: options.reserveMsats, bidDeadline }, 'auction opened')
    this.watch(state)
    await this.publishRequest(state)
    this.schedule(state)
    return request
  }

  /** Resolves with the auction's state once its outcome is published. */
  closed(id: string): Promise<AuctionState> {
    const state = this.auctionLog.state(id)
    if (!state) return Promise.reject(new Error(`no auction ${id} in the log`))
    if (state.outcomePublished) return Promise.resolve(state)
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]))
  }

  private append(id: string, facts: AuctionFact[]): AuctionState {
    return this.auctionLog.append(id, facts)
  }

  private resume(state: AuctionState): void {
    if (!state.requestPublished) void this.publishRequest(state)
    if (state.status === 'open') {
      this.watch(state)
      this.schedule(state)
    } else if (!state.outcomePublished) {
      void this.publishOutcome(state)
    }
  }

  private at(id: string, whenMs: number, action: () => void): void {
    clearTimeout(this.timers.get(id))
    const timer = setTimeout(() => {
      this.timers.delete(id)
      if (this.pool) action()
    }, Math.max(0, whenMs - this.clock()))
    timer.unref()
    this.timers.set(id, timer)
  }

  private schedule(state: AuctionState): void {
    const { revealDeadline } = auctionTerms(state)
    this.at(state.id, (revealDeadline + this.closeGraceSeconds) * 1000, () => void this.close(state.id))
  }

  private async publishRequest(state: AuctionState): Promise<void> {
    if (await this.publish(state.request, 'job request')) this.append(state.id, [{ type: 'request-published', at: this.clock() }])
    else this.at(`${state.id}:request`, this.clock() + RETRY_MS, () => void this.publishRequest(this.auctionLog.state(state.id)!))
  }

  private async publish(event: NostrEvent, what: string): Promise<boolean> {
    const outcomes = await this.relayPool.publish(this.relays, event).catch(() => [])
    if (!accepted(outcomes)) this.log.warn({ what, event: event.id, outcomes }, 'no relay accepted the event yet')
    return accepted(outcomes)
  }

  /** Commits and reveals of the auction, as they arrive (the REQ also returns those stored while we were away). */
  private watch(state: AuctionState): void {
    if (this.watches.has(state.id)) return
    const filter: Filter = { kinds: [AUCTION_COMMIT_KIND, AUCTION_REVEAL_KIND], '#e': [state.id] }
    this.watches.set(state.id, this.relayPool.subscribe(this.relays, [filter], { onevent: (event) => this.ingest(state.id, event) }))
  }

  /** Logs a commit or reveal of an open auction once; an encrypted reveal is decrypted now, not at closing. */
  private ingest(id: string, event: NostrEvent): void {
    const state = this.auctionLog.state(id)
    if (!state || state.status !== 'open') return
    const at = this.clock()
    try {
      if (event.kind === AUCTION_COMMIT_KIND) {
        const commit = parseCommit(event)
        if (commit.jobId !== id || commit.auctioneer !== this.pubkey || state.commits.some((e) => e.id === event.id)) return
        this.append(id, [{ type: 'commit-seen', at, event }])
        this.log.info({ auction: id, commit: event.id, bidder: event.pubkey }, 'sealed bid received')
      } else if (event.kind === AUCTION_REVEAL_KIND) {
        const reveal = parseReveal(event)
        if (reveal.jobId !== id || reveal.auctioneer !== this.pubkey || state.reveals.some((r) => r.event.id === event.id)) return
        let opened: { opening?: BidOpening; openError?: string } = {}
        if (reveal.encrypted) {
          try {
            opened = { opening: openReveal(reveal, this.secretKey) }
          } catch (err) {
            opened = { openError: (err as Error).message }
          }
        }
        this.append(id, [{ type: 'reveal-seen', at, event, ...opened }])
        this.log.info({ auction: id, reveal: event.id, bidder: event.pubkey }, 'bid revealed')
      }
    } catch (err) {
      this.log.debug({ auction: id, event: event.id, err: (err as Error).message }, 'not an event of this auction')
    }
  }

  /** Applies the closing rules to everything seen (and anything still on the relays), signs and publishes the outcome. */
  private async close(id: string): Promise<void> {
    if (this.closing.has(id)) return
    this.closing.add(id)
    try {
      const before = this.auctionLog.state(id)
      if (!before || before.status !== 'open') return
      const found = await this.relayPool.query(this.relays, [{ kinds: [AUCTION_COMMIT_KIND, AUCTION_REVEAL_KIND], '#e': [id] }], { timeoutMs: QUERY_TIMEOUT_MS })
      for (const event of found) this.ingest(id, event)
      const state = this.auctionLog.state(id)!
      const terms = auctionTerms(state)
      const scoring = { at: terms.bidDeadline, trustRoot: terms.reputationRoot }
      let outcome = this.compute(state)
      if (terms.minReputation !== undefined) {
        // Every bidder is held to the minimum, so the auction closes only with everyone's score: a
        // failed lookup throws and closing is retried (a missing score would read as 0).
        if (!this.reputation) throw new Error('no reputation lookup to hold the bidders to the minimum reputation')
        outcome = this.compute(state, await this.reputation(timelyBidders(state, terms), terms.kind, scoring))
      } else {
        const tied = outcome.ranked.filter((bid) => outcome.ranked.some((other) => other !== bid && other.priceMsats === bid.priceMsats)).map((bid) => bid.bidder)
        if (this.reputation && tied.length > 0) {
          const scores = await this.reputation(tied, terms.kind, scoring).catch((err: Error) => {
            this.log.warn({ auction: id, err: err.message }, 'no reputation scores for the tie-break: ties go by commitment')
            return undefined
          })
          if (scores) outcome = this.compute(state, scores)
        }
      }
      const createdAt = Math.max(this.nowSeconds(), terms.revealDeadline)
      const outcomeEvent = this.sign(buildOutcome(outcomeRecord(outcome), createdAt))
      const labels = outcome.noReveals.map((n) =>
        this.sign(buildJobOutcomeLabel({ agent: n.bidder, job: id, kind: terms.kind, outcome: 'no-reveal', comment: `committed sealed bid ${n.commitId} and did not reveal it`, createdAt })),
      )
      const closed = this.append(id, [{ type: 'closed', at: this.clock(), outcome: outcomeEvent, labels }])
      this.watches.get(id)?.close()
      this.watches.delete(id)
      const belowMinimum = outcome.commits.filter((c) => c.status === 'below-minimum-reputation').length
      this.log.info({ auction: id, winner: outcome.winner?.bidder, clearingPriceMsats: outcome.clearingPriceMsats, bids: outcome.ranked.length, noReveals: outcome.noReveals.length, belowMinimum }, 'auction closed')
      await this.publishOutcome(closed)
    } catch (err) {
      this.log.error({ auction: id, err: (err as Error).message }, 'closing the auction failed: retrying')
      this.at(id, this.clock() + RETRY_MS, () => void this.close(id))
    } finally {
      this.closing.delete(id)
    }
  }

  private compute(state: AuctionState, reputation?: ReadonlyMap<string, number>): Outcome {
    const openings = new Map(state.reveals.filter((r) => r.opening).map((r) => [r.event.id, r.opening!]))
    const errors = new Map(state.reveals.filter((r) => r.openError).map((r) => [r.event.id, r.openError!]))
    return computeOutcome({
      request: state.request,
      commits: state.commits,
      reveals: state.reveals.map((r) => r.event),
      ...(reputation && { reputation }),
      openEncrypted: (reveal) => {
        const opening = openings.get(reveal.id)
        if (!opening) throw new Error(errors.get(reveal.id) ?? 'not decrypted')
        return opening
      },
      // The pool verified every event before it reached the log.
      verify: () => true,
    })
  }

  private async publishOutcome(state: AuctionState): Promise<void> {
    const results = await Promise.all([this.publish(state.outcome!, 'auction outcome'), ...state.labels.map((label) => this.publish(label, 'no-reveal label'))])
    if (!results[0]) {
      this.at(state.id, this.clock() + RETRY_MS, () => void this.publishOutcome(this.auctionLog.state(state.id)!))
      return
    }
    const done = this.append(state.id, [{ type: 'outcome-published', at: this.clock() }])
    this.onClosed?.(done)
    for (const resolve of this.waiters.get(state.id) ?? []) resolve(done)
    this.waiters.delete(state.id)
  }
}
