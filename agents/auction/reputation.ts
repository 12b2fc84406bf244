// Reputation scores for an auction (nips/auction.md §5.1), computed from the NIP-32 labels on the
// relays (agents/reputation/gather.ts) in the auction's reputation root — the auctioneer unless the
// request names another — as of the bid deadline, so that anyone can compute the same numbers.
import type { EventCrypto } from '../crypto.js'
import { RelayPool } from '../pool.js'
import { reputationLookup } from '../reputation/gather.js'
import { lnurlZappers } from '../reputation/zaps.js'
import type { UrlFetcher } from '../url-input.js'
import type { ReputationLookup } from './auctioneer.js'

/** `fetchText` reads bidders' pay endpoints, whose keys let their zap receipts count as payments. */
export function relayReputation(options: { relays: string[]; crypto: EventCrypto; fetchText: UrlFetcher; timeoutMs?: number }): { lookup: ReputationLookup; close(): void } {
  const pool = new RelayPool({ verify: (e) => options.crypto.verify(e) })
  const query = (filters: Parameters<RelayPool['query']>[1]) => pool.query(options.relays, filters, { timeoutMs: options.timeoutMs ?? 5000 })
  return {
    lookup: reputationLookup(query, { zappers: lnurlZappers({ query, fetchText: options.fetchText }), verify: (event) => options.crypto.verify(event) }),
    close: () => pool.close(),
  }
}
