// Reputation scores for an auction (nips/auction.md §5.1), computed from the NIP-32 labels on the
// relays (agents/reputation/gather.ts) in the auction's reputation root — the auctioneer unless the
// request names another — as of the bid deadline, so that anyone can compute the same numbers.
import { scoreFor } from '../../nips/reputation.js'
import type { EventCrypto } from '../crypto.js'
import { RelayPool } from '../pool.js'
import { gatherReputation } from '../reputation/gather.js'
import type { ReputationLookup } from './auctioneer.js'

export function relayReputation(options: { relays: string[]; crypto: EventCrypto; timeoutMs?: number }): { lookup: ReputationLookup; close(): void } {
  const pool = new RelayPool({ verify: (e) => options.crypto.verify(e) })
  const query = (filters: Parameters<RelayPool['query']>[1]) => pool.query(options.relays, filters, { timeoutMs: options.timeoutMs ?? 5000 })
  return {
    lookup: async (bidders, kind, { at, trustRoot }) => {
      const scores = await Promise.all(bidders.map(async (agent) => [agent, scoreFor((await gatherReputation(query, { agent, trustRoot, now: at })).report, kind).value] as const))
      return new Map(scores)
    },
    close: () => pool.close(),
  }
}
