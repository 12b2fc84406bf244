// A relay's REQ → EOSE answer over an in-memory event list, for code that takes a query function
// (agents/reputation/gather.ts): filters matched as NIP-01 says, newest first, and every REQ capped
// like a real relay's, so that callers have to page back with `until`.
import { compareEventsNewestFirst, matchFilter, type Filter, type NostrEvent } from '../../nips/01.js'

export function fakeRelayQuery(events: NostrEvent[], pageCap = 4) {
  const filtersSeen: Filter[] = []
  const query = async (filters: Filter[]) => {
    filtersSeen.push(...filters)
    return filters.flatMap((f) =>
      events
        .filter((e) => matchFilter(f, e))
        .sort(compareEventsNewestFirst)
        .slice(0, Math.min(f.limit ?? Infinity, pageCap)),
    )
  }
  return { query, filtersSeen }
}
