// NIP-65: relay list metadata (kind 10002): where a user writes (outbox) and reads (inbox).
import type { EventTemplate, NostrEvent } from './01.js'
import { normalizeRelayUrl } from './relay-url.js'

export const RELAY_LIST_KIND = 10002

export interface RelayListEntry {
  url: string
  read: boolean
  write: boolean
}

function tryNormalize(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined
  try {
    return normalizeRelayUrl(url)
  } catch {
    return undefined
  }
}

/** Merges entries for the same normalized URL, keeping first-seen order. */
function merge(entries: RelayListEntry[]): RelayListEntry[] {
  const byUrl = new Map<string, RelayListEntry>()
  for (const entry of entries) {
    const existing = byUrl.get(entry.url)
    if (existing) {
      existing.read ||= entry.read
      existing.write ||= entry.write
    } else {
      byUrl.set(entry.url, { ...entry })
    }
  }
  return [...byUrl.values()]
}

/** A kind-10002 template; URLs are normalized and duplicates merged. Throws on a bad URL or an entry that is neither read nor write. */
export function buildRelayList(entries: RelayListEntry[], createdAt: number): EventTemplate {
  if (!Array.isArray(entries)) throw new TypeError('entries must be an array')
  if (!Number.isSafeInteger(createdAt) || createdAt < 0) throw new TypeError('createdAt must be a non-negative integer (unix seconds)')
  const normalized = entries.map((entry) => {
    if (typeof entry?.read !== 'boolean' || typeof entry.write !== 'boolean') throw new TypeError('each entry needs boolean read and write')
    if (!entry.read && !entry.write) throw new Error(`relay ${entry.url} must be marked read, write or both`)
    return { url: normalizeRelayUrl(entry.url), read: entry.read, write: entry.write }
  })
  return {
    kind: RELAY_LIST_KIND,
    created_at: createdAt,
    tags: merge(normalized).map(({ url, read, write }) => (read && write ? ['r', url] : ['r', url, read ? 'read' : 'write'])),
    content: '',
  }
}

/**
 * The relays of a kind-10002 event. `r` tags whose URL is not a ws/wss URL, or whose marker is
 * something other than absent, "read" or "write", are ignored; repeated URLs are merged.
 */
export function parseRelayList(event: Pick<NostrEvent, 'kind' | 'tags'>): RelayListEntry[] {
  if (event.kind !== RELAY_LIST_KIND) throw new Error(`not a relay list: kind is ${event.kind}, expected ${RELAY_LIST_KIND}`)
  const entries: RelayListEntry[] = []
  for (const [name, url, marker] of event.tags) {
    if (name !== 'r') continue
    const normalized = tryNormalize(url)
    if (normalized === undefined) continue
    if (marker === undefined || marker === '') entries.push({ url: normalized, read: true, write: true })
    else if (marker === 'read') entries.push({ url: normalized, read: true, write: false })
    else if (marker === 'write') entries.push({ url: normalized, read: false, write: true })
  }
  return merge(entries)
}
