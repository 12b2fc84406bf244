// Checks an auction from the outside, as anyone can (nips/auction.md §7): fetch the request, the
// commits, the reveals and the outcome from relays and recompute the outcome with verifyAuction.
import { isHex64, type NostrEvent } from '../../nips/01.js'
import { AUCTION_COMMIT_KIND, AUCTION_OUTCOME_KIND, AUCTION_REVEAL_KIND, parseOutcome, verifyAuction, type AuctionVerification } from '../../nips/auction.js'
import type { EventCrypto } from '../crypto.js'
import { RelayPool } from '../pool.js'

export interface AuctionReport extends AuctionVerification {
  jobId: string
  outcomeId?: string
  auctioneer?: string
  winner?: string
  clearingPriceMsats?: number
  commits: number
  reveals: number
  /** Outcome events by the auctioneer besides the one checked (the newest). */
  otherOutcomes: string[]
}

function newestFirst(a: NostrEvent, b: NostrEvent): number {
  return b.created_at - a.created_at || (a.id < b.id ? -1 : 1)
}

/** Fetches an auction's events from the relays and verifies its outcome. Never throws for a bad auction: the report says what is wrong. */
export async function verifyAuctionOnRelays(options: { jobId: string; relays: string[]; crypto: EventCrypto; timeoutMs?: number }): Promise<AuctionReport> {
  const { jobId } = options
  if (!isHex64(jobId)) throw new Error('the job id must be 64 lowercase hex characters (the request event id)')
  const pool = new RelayPool({ verify: (e) => options.crypto.verify(e) })
  const report = (fields: Partial<AuctionReport> & Pick<AuctionReport, 'ok' | 'problems' | 'notes'>): AuctionReport => ({ jobId, commits: 0, reveals: 0, otherOutcomes: [], ...fields })
  try {
    const timeoutMs = options.timeoutMs ?? 5000
    const [requests, related] = await Promise.all([
      pool.query(options.relays, [{ ids: [jobId] }], { timeoutMs }),
      pool.query(options.relays, [{ kinds: [AUCTION_COMMIT_KIND, AUCTION_REVEAL_KIND, AUCTION_OUTCOME_KIND], '#e': [jobId] }], { timeoutMs }),
    ])
    const request = requests.find((e) => e.id === jobId)
    if (!request) return report({ ok: false, problems: [`the job request ${jobId} was not found on ${options.relays.join(', ')}`], notes: [] })
    const commits = related.filter((e) => e.kind === AUCTION_COMMIT_KIND)
    const reveals = related.filter((e) => e.kind === AUCTION_REVEAL_KIND)
    const outcomes = related.filter((e) => e.kind === AUCTION_OUTCOME_KIND && e.pubkey === request.pubkey).sort(newestFirst)
    const counts = { commits: commits.length, reveals: reveals.length, auctioneer: request.pubkey }
    if (outcomes.length === 0) return report({ ...counts, ok: false, problems: ['the auctioneer has published no outcome for this job'], notes: [] })
    const [outcomeEvent, ...others] = outcomes
    const verification = verifyAuction({ request, outcomeEvent, commits, reveals, verify: (e) => options.crypto.verify(e) })
    let stated: { winner?: string; clearingPriceMsats?: number } = {}
    try {
      const parsed = parseOutcome(outcomeEvent)
      stated = { ...(parsed.winner && { winner: parsed.winner.bidder }), ...(parsed.clearingPriceMsats !== null && { clearingPriceMsats: parsed.clearingPriceMsats }) }
    } catch {
      // verifyAuction names the problem
    }
    const notes = others.length ? [...verification.notes, `the auctioneer published ${others.length} other outcome(s) for this job; the newest was checked`] : verification.notes
    return report({ ...counts, ...verification, notes, outcomeId: outcomeEvent.id, ...stated, otherOutcomes: others.map((e) => e.id) })
  } finally {
    pool.close()
  }
}
