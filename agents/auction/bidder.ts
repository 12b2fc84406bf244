// The agent's side of a sealed-bid auction (nips/auction.md): commit the cost of the job before
// the bid deadline, reveal it after, check the auctioneer's outcome with verifyAuction, and run
// the job only when the verified outcome names this agent. Every step is a fact in the job log
// with the events it publishes (the outbox), so the opening is stored (sealed to the agent's own
// key) before the commit leaves, and after a restart the timers are rebuilt from the deadlines in
// the log.
import type { EventTemplate, Filter, NostrEvent } from '../../nips/01.js'
import {
  AUCTION_COMMIT_KIND,
  AUCTION_OUTCOME_KIND,
  AUCTION_REVEAL_KIND,
  buildCommit,
  buildReveal,
  generateBidNonce,
  parseAuctionRequest,
  parseCommit,
  parseOutcome,
  verifyAuction,
  type AuctionRequest,
} from '../../nips/auction.js'
import type { JobRequest } from '../../nips/90.js'
import type { Capability } from '../capability.js'
import { DEFAULT_AUCTION_SETTINGS, type AuctionSettings } from '../config.js'
import type { AppendOptions, EffectSpec, JobLog } from '../joblog.js'
import type { Logger } from '../logger.js'
import { relayUrls } from '../pool.js'
import { specOf, type JobFact, type JobState } from '../state.js'
import { bidPriceMsats, commitFrontier, sealOpening, unsealOpening } from './bidding.js'

/** What the bidder needs from the agent that hosts it. */
export interface BidderHost {
  readonly pubkey: string
  readonly secretKey: Uint8Array
  readonly relays: string[]
  readonly jobLog: JobLog
  readonly log: Logger
  /** Unix milliseconds. */
  clock(): number
  sign(template: EventTemplate): NostrEvent
  verify(event: NostrEvent): boolean
  query(relays: string[], filters: Filter[], timeoutMs?: number): Promise<NostrEvent[]>
  subscribe(relays: string[], filters: Filter[], onevent: (event: NostrEvent) => void): { close(): void }
  /** Appends to the job log and lets the agent react (outbox pump, listeners). */
  append(jobId: string, facts: JobFact[], effects?: EffectSpec[], options?: AppendOptions): JobState | undefined
  publishEffect(event: NostrEvent, extraRelays: string[]): EffectSpec
  /** The effects that start an assigned job: processing feedback and the run. */
  startEffects(state: JobState): EffectSpec[]
  /** Why a job of this kind and price would need an operator, if it would. */
  approvalReason(kind: number, priceMsats: number): string | undefined
}

/** An auction request, by its params: such requests go to the bidder, not to the quote-and-run path. */
export function isAuctionRequest(request: Pick<JobRequest, 'params'>): boolean {
  return request.params.auction !== undefined
}

function short(id: string): string {
  return id.slice(0, 12)
}

export class AuctionBidder {
  private readonly settings: AuctionSettings
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly watches = new Map<string, { close(): void }>()
  /** Jobs between the decision to bid and the append of the commit. */
  private readonly preparing = new Set<string>()
  /** Outcome events being verified. */
  private readonly checking = new Set<string>()
  private active = false

  constructor(
    private readonly host: BidderHost,
    settings: Partial<AuctionSettings> = {},
  ) {
    this.settings = { ...DEFAULT_AUCTION_SETTINGS, ...settings }
  }

  private nowSeconds(): number {
    return Math.floor(this.host.clock() / 1000)
  }

  /** Rebuilds the timers and outcome watches of every open bid from the log. */
  resume(): void {
    this.active = true
    for (const state of this.host.jobLog.jobs({ status: ['bidding'], limit: 100_000 })) if (state.auction) this.schedule(state)
  }

  stop(): void {
    this.active = false
    for (const timer of this.timers.values()) clearTimeout(timer)
    for (const watch of this.watches.values()) watch.close()
    this.timers.clear()
    this.watches.clear()
  }

  /** A new auction request for a kind this agent serves; `problem` is why the agent could not do it. */
  consider(request: JobRequest, capability: Capability, problem: string | undefined): void {
    if (!this.active || this.preparing.has(request.id) || this.host.jobLog.has(request.id)) return
    this.preparing.add(request.id)
    this.commit(request, capability, problem)
      .catch((err: Error) => this.host.log.warn({ job: request.id, err: err.message }, 'could not bid'))
      .finally(() => this.preparing.delete(request.id))
  }

  private async commit(request: JobRequest, capability: Capability, problem: string | undefined): Promise<void> {
    const { log } = this.host
    let auction: AuctionRequest
    try {
      auction = parseAuctionRequest(request.event)
    } catch (err) {
      log.info({ job: request.id, reason: (err as Error).message }, 'not a valid auction: no bid')
      return
    }
    // Auctions are open calls: a provider that cannot or will not bid stays silent instead of answering with an error.
    const skip = (reason: string) => log.info({ job: request.id, reason }, 'no bid')
    if (problem) return skip(problem)
    if (auction.auctioneer === this.host.pubkey) return skip('our own auction')
    if (this.nowSeconds() > auction.bidDeadline) return skip('the bid deadline has passed')
    const priceMsats = bidPriceMsats(capability, request.inputs, request.params, this.settings.costs)
    if (priceMsats > auction.reserveMsats) return skip(`our cost of ${priceMsats} msats is above the reserve of ${auction.reserveMsats} msats`)
    const approval = this.host.approvalReason(request.kind, priceMsats)
    if (approval) return skip(`${approval}; auctions are not bid on when a job would wait for an operator`)

    const relays = this.auctionRelays(auction.relays)
    // The chain is worth a short wait, not the bid: half the time left at most.
    const timeoutMs = Math.max(100, Math.min(5000, ((auction.bidDeadline + 1) * 1000 - this.host.clock()) / 2))
    const seen = await this.host.query(relays, [{ kinds: [AUCTION_COMMIT_KIND], '#e': [auction.id] }], timeoutMs)
    const createdAt = this.nowSeconds()
    if (!this.active || createdAt > auction.bidDeadline) return skip('the bid deadline passed while bidding')
    const nonce = generateBidNonce()
    const commit = this.host.sign(buildCommit({ request: auction, bidder: this.host.pubkey, priceMsats, nonce, previous: commitFrontier(seen, auction, this.host.pubkey), createdAt }))
    const at = this.host.clock()
    const sealedOpening = sealOpening({ priceMsats, nonce }, this.host.secretKey)
    const bid = { auctioneer: auction.auctioneer, reserveMsats: auction.reserveMsats, bidDeadline: auction.bidDeadline, revealDeadline: auction.revealDeadline, relays: auction.relays, sealedOpening, commit }
    // The nonce and price are in the log in the same transaction as the commit's publish effect: a crash cannot lose the opening.
    const state = this.host.append(
      auction.id,
      [
        { type: 'posted', at, request: request.event, spec: specOf(request), agent: this.host.pubkey },
        { type: 'bid-committed', at, bid },
      ],
      [this.host.publishEffect(commit, relays)],
      { ifNew: true },
    )
    if (!state) return
    log.info({ job: auction.id, priceMsats, commit: commit.id, previous: commit.tags.filter((t) => t[0] === 'prev').length }, 'sealed bid committed')
    this.schedule(state)
  }

  private auctionRelays(requestRelays: string[]): string[] {
    return relayUrls([...this.host.relays, ...requestRelays])
  }

  /** The next step of a bid, from its state in the log: the reveal, or waiting for the outcome. */
  private schedule(state: JobState): void {
    const bid = state.auction!
    if (!this.active) return
    if (!bid.revealId) {
      // A reveal must be dated after the bid deadline.
      this.at(state.id, (bid.bidDeadline + 1) * 1000, () => this.reveal(state.id))
      return
    }
    this.watchOutcome(state)
    this.at(state.id, (bid.revealDeadline + this.settings.outcomeWaitSeconds) * 1000, () => this.giveUp(state.id))
  }

  private at(jobId: string, whenMs: number, action: () => void): void {
    clearTimeout(this.timers.get(jobId))
    const timer = setTimeout(
      () => {
        this.timers.delete(jobId)
        if (this.active) action()
      },
      Math.max(0, whenMs - this.host.clock()),
    )
    timer.unref()
    this.timers.set(jobId, timer)
  }

  private current(jobId: string): JobState | undefined {
    const state = this.host.jobLog.state(jobId)
    return state?.status === 'bidding' && state.auction ? state : undefined
  }

  private reveal(jobId: string): void {
    const state = this.current(jobId)
    if (!state || state.auction!.revealId) return
    const bid = state.auction!
    const now = this.nowSeconds()
    if (now <= bid.bidDeadline) {
      this.schedule(state)
      return
    }
    if (now > bid.revealDeadline) {
      this.append(jobId, [{ type: 'failed', at: this.host.clock(), reason: `the reveal deadline (${bid.revealDeadline}) passed before the bid could be revealed` }])
      return
    }
    const reveal = this.host.sign(
      buildReveal({
        commit: parseCommit(bid.commit),
        opening: unsealOpening(bid.sealedOpening, this.host.secretKey),
        createdAt: now,
        ...(this.settings.encryptReveals && { bidderSecret: this.host.secretKey }),
      }),
    )
    const next = this.append(jobId, [{ type: 'bid-revealed', at: this.host.clock(), revealId: reveal.id }], [this.host.publishEffect(reveal, this.auctionRelays(bid.relays))])
    if (!next) return
    this.host.log.info({ job: jobId, reveal: reveal.id, encrypted: this.settings.encryptReveals }, 'bid revealed')
    this.schedule(next)
  }

  private watchOutcome(state: JobState): void {
    if (this.watches.has(state.id)) return
    const bid = state.auction!
    const filter: Filter = { kinds: [AUCTION_OUTCOME_KIND], '#e': [state.id], authors: [bid.auctioneer] }
    this.watches.set(
      state.id,
      this.host.subscribe(this.auctionRelays(bid.relays), [filter], (event) => void this.onOutcome(state.id, event)),
    )
  }

  private endWatch(jobId: string): void {
    this.watches.get(jobId)?.close()
    this.watches.delete(jobId)
    clearTimeout(this.timers.get(jobId))
    this.timers.delete(jobId)
  }

  /** Acts on an outcome only after recomputing it from the auction's events on the relays. */
  private async onOutcome(jobId: string, event: NostrEvent): Promise<void> {
    const state = this.current(jobId)
    if (!state) return this.endWatch(jobId)
    const bid = state.auction!
    if (event.pubkey !== bid.auctioneer || this.checking.has(event.id) || bid.rejectedOutcomes.some((r) => r.outcomeId === event.id)) return
    this.checking.add(event.id)
    try {
      const events = await this.host.query(this.auctionRelays(bid.relays), [{ kinds: [AUCTION_COMMIT_KIND, AUCTION_REVEAL_KIND], '#e': [jobId] }])
      // The relays may not have our own events yet (outbox retries): the log has them.
      const commits = [bid.commit, ...events.filter((e) => e.kind === AUCTION_COMMIT_KIND)]
      const reveals = events.filter((e) => e.kind === AUCTION_REVEAL_KIND)
      const verification = verifyAuction({ request: state.request, outcomeEvent: event, commits, reveals, verify: (e) => this.host.verify(e) })
      if (!this.current(jobId)) return
      const at = this.host.clock()
      if (!verification.ok) {
        this.host.log.warn({ job: jobId, outcome: event.id, problems: verification.problems }, 'the auction outcome does not verify: not acting on it')
        this.append(jobId, [{ type: 'outcome-rejected', at, outcomeId: event.id, problems: verification.problems }])
        return
      }
      const outcome = parseOutcome(event)
      if (outcome.winner?.bidder === this.host.pubkey && outcome.winner.commitId === bid.commit.id) {
        const price = outcome.clearingPriceMsats!
        const won = this.host.jobLog.state(jobId)!
        const next = this.append(jobId, [{ type: 'won', at, outcomeId: event.id, clearingPriceMsats: price }], this.host.startEffects(won))
        if (next) this.host.log.info({ job: jobId, clearingPriceMsats: price }, 'auction won: running the job')
      } else {
        const mine = outcome.commits.find((c) => c.id === bid.commit.id)?.status ?? 'not listed'
        const reason = outcome.winner
          ? `auction lost (our bid: ${mine}); ${short(outcome.winner.bidder)} won at ${outcome.clearingPriceMsats} msats`
          : `auction closed without a winner (our bid: ${mine})`
        this.append(jobId, [{ type: 'lost', at, outcomeId: event.id, reason }])
        this.host.log.info({ job: jobId, reason }, 'auction lost')
      }
      this.endWatch(jobId)
    } catch (err) {
      this.host.log.warn({ job: jobId, outcome: event.id, err: (err as Error).message }, 'could not check the auction outcome')
    } finally {
      this.checking.delete(event.id)
    }
  }

  private giveUp(jobId: string): void {
    if (!this.current(jobId)) return this.endWatch(jobId)
    this.append(jobId, [{ type: 'lost', at: this.host.clock(), reason: `the auctioneer published no valid outcome within ${this.settings.outcomeWaitSeconds} s of the reveal deadline` }])
    this.endWatch(jobId)
  }

  /** Appends unless the job moved on meanwhile (cancelled by its requester, say). */
  private append(jobId: string, facts: JobFact[], effects: EffectSpec[] = []): JobState | undefined {
    try {
      return this.host.append(jobId, facts, effects)
    } catch (err) {
      this.host.log.info({ job: jobId, fact: facts[0]?.type, err: (err as Error).message }, 'auction step discarded')
      return undefined
    }
  }
}
