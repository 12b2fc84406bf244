// Live subscriptions, indexed so that fan-out looks only at filters that could match an event:
// each filter is filed under its most selective field (ids, authors, one tag, kinds), and the few
// filters with none of those are checked for every event.
import { matchFilter, type Filter, type NostrEvent } from '../nips/01.js'

export interface IndexedFilter<S> {
  sub: S
  filter: Filter
}

type Buckets<K, S> = Map<K, Set<IndexedFilter<S>>>

export class SubscriptionIndex<S> {
  private readonly byId: Buckets<string, S> = new Map()
  private readonly byAuthor: Buckets<string, S> = new Map()
  private readonly byTag: Buckets<string, S> = new Map()
  private readonly byKind: Buckets<number, S> = new Map()
  private readonly unindexed = new Set<IndexedFilter<S>>()

  add(entries: readonly IndexedFilter<S>[]): void {
    for (const entry of entries) this.file(entry, true)
  }

  remove(entries: readonly IndexedFilter<S>[]): void {
    for (const entry of entries) this.file(entry, false)
  }

  /** Every subscription with a filter matching the event, once each. */
  matching(event: NostrEvent): Set<S> {
    const found = new Set<S>()
    const visit = (bucket: Set<IndexedFilter<S>> | undefined) => {
      if (bucket === undefined) return
      for (const entry of bucket) if (!found.has(entry.sub) && matchFilter(entry.filter, event)) found.add(entry.sub)
    }
    visit(this.byId.get(event.id))
    visit(this.byAuthor.get(event.pubkey))
    visit(this.byKind.get(event.kind))
    if (this.byTag.size > 0) {
      for (const tag of event.tags) if (tag.length > 1 && tag[0].length === 1) visit(this.byTag.get(tagKey(tag[0], tag[1])))
    }
    visit(this.unindexed)
    return found
  }

  private file(entry: IndexedFilter<S>, adding: boolean): void {
    const f = entry.filter
    if (f.ids) return fileUnder(this.byId, f.ids, entry, adding)
    if (f.authors) return fileUnder(this.byAuthor, f.authors, entry, adding)
    for (const key in f) {
      const values = f[key as `#${string}`]
      if (key.length === 2 && key[0] === '#' && values) {
        return fileUnder(
          this.byTag,
          values.map((v) => tagKey(key[1], v)),
          entry,
          adding,
        )
      }
    }
    if (f.kinds) return fileUnder(this.byKind, f.kinds, entry, adding)
    if (adding) this.unindexed.add(entry)
    else this.unindexed.delete(entry)
  }
}

const tagKey = (name: string, value: string) => `${name}\u0000${value}`

function fileUnder<K, S>(buckets: Buckets<K, S>, keys: readonly K[], entry: IndexedFilter<S>, adding: boolean): void {
  for (const key of keys) {
    let bucket = buckets.get(key)
    if (adding) {
      if (bucket === undefined) buckets.set(key, (bucket = new Set()))
      bucket.add(entry)
    } else if (bucket !== undefined) {
      bucket.delete(entry)
      if (bucket.size === 0) buckets.delete(key)
    }
  }
}
