// Sealed-bid auctions (nips/auction.ts): time to close an auction (computeOutcome) and to verify one from its events
// (verifyAuction), signature checks included, at 10, 100 and 1000 bids. Events are signed before the timed part.
import { initNostrWasm, type Nostr } from 'nostr-wasm'
import { bytesToHex } from '@noble/hashes/utils.js'
import { verifyEvent as verifyWithNoble, type EventTemplate, type NostrEvent } from '../../nips/01.js'
import { buildJobRequest } from '../../nips/90.js'
import {
  auctionRequestParams,
  buildCommit,
  buildOutcome,
  buildReveal,
  computeOutcome,
  generateBidNonce,
  openReveal,
  parseAuctionRequest,
  parseCommit,
  parseReveal,
  verifyAuction,
  type BidOpening,
  type VerifyEvent,
} from '../../nips/auction.js'
import { createVerifier } from '../../relay/verify.js'
import { formatMs, markdownTable, median, type BenchContext, type BenchSection } from './harness.js'

const SIZES = [10, 100, 1000]
const RESERVE = 1_000_000
const T0 = 1_767_225_600
const BID_DEADLINE = T0 + 300
const REVEAL_DEADLINE = T0 + 600
const POOL_THREADS = 2

export type RevealMode = 'public' | 'encrypted'

export interface AuctionBenchRow {
  bids: number
  reveals: RevealMode
  /** How signatures are checked (and, for encrypted reveals, where openings come from). */
  variant: string
  /** computeOutcome, median over runs, ms; NaN where the variant does not close. */
  closeMs: number
  /** verifyAuction, median over runs, ms; NaN where the variant does not verify. */
  verifyMs: number
  /** Size of the outcome event's JSON, bytes. */
  outcomeBytes: number
}

interface SignedAuction {
  request: NostrEvent
  commits: NostrEvent[]
  reveals: NostrEvent[]
  auctioneerSecret: Uint8Array
}

function sign(wasm: Nostr, template: EventTemplate, secretKey: Uint8Array): NostrEvent {
  const event = { ...template, pubkey: '', id: '', sig: '' }
  wasm.finalizeEvent(event, secretKey)
  return event
}

/** An auction with `size` bidders, each committing (chained to the previous commit) and revealing. */
function signAuction(wasm: Nostr, size: number, mode: RevealMode): SignedAuction {
  const auctioneerSecret = wasm.generateSecretKey()
  const params = auctionRequestParams({ bidDeadline: BID_DEADLINE, revealDeadline: REVEAL_DEADLINE })
  const request = sign(wasm, buildJobRequest({ kind: 5001, inputs: [{ type: 'text', value: 'bench' }], params, bidMsats: RESERVE, createdAt: T0 }), auctioneerSecret)
  const auction = parseAuctionRequest(request)
  const commits: NostrEvent[] = []
  const reveals: NostrEvent[] = []
  for (let i = 0; i < size; i++) {
    const secret = wasm.generateSecretKey()
    const bidder = bytesToHex(wasm.getPublicKey(secret))
    const priceMsats = 1_000 + ((i * 7919) % (RESERVE - 1_000))
    const nonce = generateBidNonce()
    const previous = commits.length > 0 ? [commits[commits.length - 1].id] : []
    const commit = sign(wasm, buildCommit({ request: auction, bidder, priceMsats, nonce, previous, createdAt: T0 + 1 + (i % 290) }), secret)
    commits.push(commit)
    const bidderSecret = mode === 'encrypted' ? secret : undefined
    reveals.push(sign(wasm, buildReveal({ commit: parseCommit(commit), opening: { priceMsats, nonce }, createdAt: BID_DEADLINE + 1 + (i % 290), bidderSecret }), secret))
  }
  return { request, commits, reveals, auctioneerSecret }
}

async function medianMs(runs: number, work: () => unknown): Promise<number> {
  const samples: number[] = []
  for (let run = 0; run < runs; run++) {
    const started = performance.now()
    await work()
    samples.push(performance.now() - started)
  }
  return median(samples)
}

/** Measures every variant; the rows feed the Markdown section and anything else that wants numbers. */
export async function measureAuctions(ctx: BenchContext): Promise<AuctionBenchRow[]> {
  const wasm = await initNostrWasm()
  const verifyWithWasm: VerifyEvent = (event) => {
    try {
      wasm.verifyEvent(event)
      return true
    } catch {
      return false
    }
  }
  const pool = await createVerifier({ threads: POOL_THREADS })
  const rows: AuctionBenchRow[] = []
  try {
    for (const bids of SIZES) {
      for (const reveals of ['public', 'encrypted'] as const) {
        ctx.log(`auction: signing ${bids} commits and ${bids} ${reveals} reveals`)
        const signed = signAuction(wasm, bids, reveals)
        const outcome = computeOutcome({ ...signed, verify: verifyWithWasm })
        if (outcome.ranked.length !== bids) throw new Error(`auction bench: expected ${bids} ranked bids, got ${outcome.ranked.length}`)
        const outcomeEvent = sign(wasm, buildOutcome(outcome, REVEAL_DEADLINE), signed.auctioneerSecret)
        const outcomeBytes = JSON.stringify(outcomeEvent).length
        const allEvents = [signed.request, outcomeEvent, ...signed.commits, ...signed.reveals]
        const verifyInput = { request: signed.request, outcomeEvent, commits: signed.commits, reveals: signed.reveals }
        const close = (verify: VerifyEvent, extra: object = {}) => () => computeOutcome({ ...signed, verify, ...extra })
        const check = (verify: VerifyEvent) => () => {
          const result = verifyAuction({ ...verifyInput, verify })
          if (!result.ok) throw new Error(`auction bench: verification failed: ${result.problems.slice(0, 3).join('; ')}`)
        }
        const row = async (variant: string, runs: number, closeWork?: () => unknown, verifyWork?: () => unknown) => {
          const closeMs = closeWork ? await medianMs(runs, closeWork) : NaN
          const verifyMs = verifyWork ? await medianMs(runs, verifyWork) : NaN
          rows.push({ bids, reveals, variant, closeMs, verifyMs, outcomeBytes })
          ctx.log(`auction ${bids} ${reveals} ${variant}: close ${formatMs(closeMs)} ms, verify ${formatMs(verifyMs)} ms`)
        }

        // The same-run baseline: what the signatures alone cost on this machine right now.
        await row(`signatures alone (nostr-wasm, ${allEvents.length} events)`, ctx.runs, undefined, () => allEvents.forEach(verifyWithWasm))
        await row('nostr-wasm', ctx.runs, close(verifyWithWasm), check(verifyWithWasm))
        const poolVerified = async () => {
          const verdicts = await pool.verify(allEvents)
          return new Set(allEvents.filter((_, i) => verdicts[i]))
        }
        await row(
          `relay worker pool (${POOL_THREADS} threads), then the rules`,
          ctx.runs,
          async () => {
            const ok = await poolVerified()
            return close((e) => ok.has(e))()
          },
          async () => {
            const ok = await poolVerified()
            return check((e) => ok.has(e))()
          },
        )
        await row('none (pre-verified): the rules alone', ctx.runs, close(() => true), check(() => true))
        if (reveals === 'public') {
          // Noble is only here to show why the verifier is injectable; one run at 1000 bids already takes seconds.
          await row('noble (nips/01 default)', bids >= 1000 ? 1 : ctx.runs, close(verifyWithNoble), check(verifyWithNoble))
        } else {
          const openings = new Map<string, BidOpening>(signed.reveals.map((e) => [e.id, openReveal(parseReveal(e), signed.auctioneerSecret)]))
          const openEncrypted = (r: { id: string }) => openings.get(r.id)!
          await row('nostr-wasm, openings decrypted on arrival', ctx.runs, close(verifyWithWasm, { openEncrypted }))
        }
      }
    }
  } finally {
    await pool.close()
  }
  return rows
}

async function runAuctionBench(ctx: BenchContext): Promise<string> {
  const rows = await measureAuctions(ctx)
  const table = markdownTable(
    ['bids', 'reveals', 'signature check', 'close (computeOutcome) ms', 'verify (verifyAuction) ms', 'outcome event'],
    rows.map((r) => [String(r.bids), r.reveals, r.variant, formatMs(r.closeMs), formatMs(r.verifyMs), `${(r.outcomeBytes / 1024).toFixed(1)} KiB`]),
  )
  return [
    table,
    '',
    `Median of ${ctx.runs} runs (noble at 1000 bids: one run), on the event loop unless a pool is named. Each bid is ` +
      'a commit chained to the previous one and a reveal, so n bids are 2n signed events. Closing checks their ' +
      'signatures, decrypts encrypted reveals with the auctioneer key (one NIP-44 ECDH per bidder, noble) unless ' +
      'the openings were decrypted as the reveals arrived, and ranks. Verifying checks every signature (request and ' +
      'outcome included), recomputes the outcome and runs the dropped-bid checks; without the auctioneer key it checks ' +
      'encrypted reveals through the openings the outcome states, so it never decrypts. Goal: under 1 s at 1000 bids; ' +
      'compare each row with the "signatures alone" row of the same size, measured in the same run.',
    'The outcome event grows by about 460 bytes per bid: relays with strfry\'s default 64 KiB event limit accept a ' +
      'single outcome of up to about 140 bids.',
  ].join('\n')
}

export const auctionSection: BenchSection = {
  id: 'auction',
  title: 'Sealed-bid auctions: close and verify (nips/auction.ts)',
  run: runAuctionBench,
}
