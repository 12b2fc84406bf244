// Reputation scores for an auction's tie-breaks, computed from the NIP-32 labels on the relays
// (agents/reputation/gather.ts) with the auctioneer as trust root: whom it follows vouches.
import { scoreFor } from '../../nips/reputation.js'
import type { EventCrypto } from '../crypto.js'
import { RelayPool } from '../pool.js'
import { gatherReputation } from '../reputation/gather.js'
import type { ReputationLookup } from './auctioneer.js'

export function relayReputation(options: { relays: string[]; crypto: EventCrypto; trustRoot: string; clock?: () => number; timeoutMs?: number }): { lookup: ReputationLookup; close(): void } {
  const clock = options.clock ?? Date.now
  const pool = new RelayPool({ verify: (e) => options.crypto.verify(e), clock })
  const query = (filters: Parameters<RelayPool['query']>[1]) => pool.query(options.relays, filters, { timeoutMs: options.timeoutMs ?? 5000 })
  return {
    lookup: async (bidders, kind) => {
      const now = Math.floor(clock() / 1000)
      const scores = await Promise.all(bidders.map(async (agent) => [agent, scoreFor((await gatherReputation(query, { agent, trustRoot: options.trustRoot, now })).report, kind).value] as const))
      return new Map(scores)
    },
    close: () => pool.close(),
  }
}
