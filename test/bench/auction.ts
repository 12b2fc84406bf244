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
  parseAuctionRequest,
  parseCommit,
  verifyAuction,
  type VerifyEvent,
} from '../../nips/auction.js'
import { formatMs, markdownTable, median, type BenchContext, type BenchSection } from './harness.js'

const SIZES = [10, 100, 1000]
const RESERVE = 1_000_000
const T0 = 1_767_225_600
const BID_DEADLINE = T0 + 300
const REVEAL_DEADLINE = T0 + 600
/** Noble verifies ~300 events/s: one run at 1000 bids already takes seconds. */
const NOBLE_MAX_RUNS_AT_1000 = 1

export type RevealMode = 'public' | 'encrypted'
export type Verifier = 'nostr-wasm' | 'noble (nips/01)' | 'none (pre-verified)'

export interface AuctionBenchRow {
  bids: number
  reveals: RevealMode
  operation: 'close' | 'verify'
  verifier: Verifier
  /** Median over runs, milliseconds. */
  ms: number
  runsMs: number[]
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

function timed<T>(work: () => T): { ms: number; result: T } {
  const started = performance.now()
  const result = work()
  return { ms: performance.now() - started, result }
}

/** Measures every combination; the exported rows feed the Markdown section and anything else that wants numbers. */
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
  const verifiers: [Verifier, VerifyEvent][] = [
    ['nostr-wasm', verifyWithWasm],
    ['noble (nips/01)', verifyWithNoble],
    ['none (pre-verified)', () => true],
  ]
  const rows: AuctionBenchRow[] = []
  for (const size of SIZES) {
    for (const mode of ['public', 'encrypted'] as const) {
      ctx.log(`auction: signing ${size} commits and ${size} ${mode} reveals`)
      const signed = signAuction(wasm, size, mode)
      const outcome = computeOutcome({ ...signed, verify: verifyWithWasm })
      if (!outcome.winner || outcome.ranked.length !== size) throw new Error(`auction bench: expected ${size} ranked bids, got ${outcome.ranked.length}`)
      const outcomeEvent = sign(wasm, buildOutcome(outcome, REVEAL_DEADLINE), signed.auctioneerSecret)
      const outcomeBytes = JSON.stringify(outcomeEvent).length
      for (const [verifier, verify] of verifiers) {
        // Noble is only there to show why the verifier is injectable; public reveals are enough for that.
        if (verifier === 'noble (nips/01)' && mode === 'encrypted') continue
        const runs = verifier === 'noble (nips/01)' && size >= 1000 ? Math.min(ctx.runs, NOBLE_MAX_RUNS_AT_1000) : ctx.runs
        const close: number[] = []
        const check: number[] = []
        for (let run = 0; run < runs; run++) {
          close.push(timed(() => computeOutcome({ ...signed, verify })).ms)
          const verification = timed(() => verifyAuction({ request: signed.request, outcomeEvent, commits: signed.commits, reveals: signed.reveals, verify }))
          if (!verification.result.ok) throw new Error(`auction bench: verification failed: ${verification.result.problems.slice(0, 3).join('; ')}`)
          check.push(verification.ms)
        }
        rows.push({ bids: size, reveals: mode, operation: 'close', verifier, ms: median(close), runsMs: close, outcomeBytes })
        rows.push({ bids: size, reveals: mode, operation: 'verify', verifier, ms: median(check), runsMs: check, outcomeBytes })
        ctx.log(`auction ${size} ${mode} ${verifier}: close ${formatMs(median(close))} ms, verify ${formatMs(median(check))} ms`)
      }
    }
  }
  return rows
}

async function runAuctionBench(ctx: BenchContext): Promise<string> {
  const rows = await measureAuctions(ctx)
  const table = markdownTable(
    ['bids', 'reveals', 'signature check', 'close (computeOutcome) ms', 'verify (verifyAuction) ms', 'outcome event'],
    rows
      .filter((row) => row.operation === 'close')
      .map((close) => {
        const verify = rows.find((r) => r.operation === 'verify' && r.bids === close.bids && r.reveals === close.reveals && r.verifier === close.verifier)!
        return [String(close.bids), close.reveals, close.verifier, formatMs(close.ms), formatMs(verify.ms), `${(close.outcomeBytes / 1024).toFixed(1)} KiB`]
      }),
  )
  return [
    table,
    '',
    `Median of ${ctx.runs} runs (noble at 1000 bids: ${NOBLE_MAX_RUNS_AT_1000}), one core, on the event loop. Each bid is ` +
      'a commit chained to the previous one and a reveal, so n bids are 2n signed events; closing checks their ' +
      'signatures, decrypts encrypted reveals (one NIP-44 conversation key per bidder) and ranks; verifying checks ' +
      'every signature again (request and outcome included), recomputes the outcome, and runs the dropped-bid checks ' +
      '(without the auctioneer key: encrypted reveals are checked through the openings the outcome states). ' +
      'Goal: under 1 s at 1000 bids with nostr-wasm. "pre-verified" is the cost of the rules alone, for callers that ' +
      'verified the events already (e.g. in the relay\'s worker-thread verifier) and pass `verify: () => true`.',
    'Outcome size grows about 300 bytes per bid: relays with strfry\'s default 64 KiB event limit take a single ' +
      'outcome for a few hundred bids at most.',
  ].join('\n')
}

export const auctionSection: BenchSection = {
  id: 'auction',
  title: 'Sealed-bid auctions: close and verify (nips/auction.ts)',
  run: runAuctionBench,
}
