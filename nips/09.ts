// NIP-09: deletion requests (kind 5). Builds them, reads their targets, and decides whether one
// applies to a given event. Pure: the relay or client decides what to do with the answer.
import { eventAddress, isHex64, MAX_KIND, type EventTemplate, type NostrEvent } from './01.js'

export const DELETION_KIND = 5
const GIFT_WRAP_KIND = 1059

export interface Address {
  kind: number
  pubkey: string
  identifier: string
}

// `kind:pubkey:d`; the d part may itself contain colons.
const ADDRESS = /^(\d{1,5}):([0-9a-f]{64}):(.*)$/s

/** Parses a `kind:pubkey:d-identifier` address (NIP-01 `a` tag value); throws with the reason. */
export function parseAddress(address: string): Address {
  if (typeof address !== 'string') throw new TypeError('address must be a string')
  const match = ADDRESS.exec(address)
  if (!match) throw new Error(`invalid address ${JSON.stringify(address.slice(0, 80))}: expected <kind>:<64-hex pubkey>:<d-identifier>`)
  const kind = Number(match[1])
  if (kind > MAX_KIND) throw new Error(`invalid address: kind ${kind} is above ${MAX_KIND}`)
  return { kind, pubkey: match[2], identifier: match[3] }
}

function isAddress(value: string): boolean {
  const match = ADDRESS.exec(value)
  return match !== null && Number(match[1]) <= MAX_KIND
}

function parseKindTag(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,5}$/.test(value)) return undefined
  const kind = Number(value)
  return kind <= MAX_KIND ? kind : undefined
}

export interface DeletionRequest {
  ids?: string[]
  addresses?: string[]
  /** Kinds of the deleted events (`k` tags); the kinds of `addresses` are added automatically. */
  kinds?: number[]
  reason?: string
  createdAt: number
}

/** A kind-5 deletion request template. Needs at least one id or address. */
export function buildDeletion({ ids = [], addresses = [], kinds = [], reason = '', createdAt }: DeletionRequest): EventTemplate {
  if (!Array.isArray(ids) || !Array.isArray(addresses) || !Array.isArray(kinds)) throw new TypeError('ids, addresses and kinds must be arrays')
  if (ids.length === 0 && addresses.length === 0) throw new Error('a deletion request needs at least one event id or address')
  for (const id of ids) if (!isHex64(id)) throw new TypeError(`event id ${JSON.stringify(String(id).slice(0, 80))} must be 64 lowercase hex characters`)
  const addressKinds = addresses.map((address) => parseAddress(address).kind)
  for (const kind of kinds) {
    if (!Number.isInteger(kind) || kind < 0 || kind > MAX_KIND) throw new TypeError(`kind ${kind} must be an integer 0..${MAX_KIND}`)
  }
  if (typeof reason !== 'string') throw new TypeError('reason must be a string')
  if (!Number.isSafeInteger(createdAt) || createdAt < 0) throw new TypeError('createdAt must be a non-negative integer (unix seconds)')
  const allKinds = [...new Set([...kinds, ...addressKinds])]
  return {
    kind: DELETION_KIND,
    created_at: createdAt,
    tags: [
      ...[...new Set(ids)].map((id) => ['e', id]),
      ...[...new Set(addresses)].map((address) => ['a', address]),
      ...allKinds.map((kind) => ['k', String(kind)]),
    ],
    content: reason,
  }
}

/** The well-formed `e`, `a` and `k` values of a deletion request; malformed tags are skipped. */
export function deletionTargets(event: NostrEvent): { ids: string[]; addresses: string[]; kinds: number[] } {
  if (event.kind !== DELETION_KIND) throw new Error(`not a deletion request: kind is ${event.kind}, expected ${DELETION_KIND}`)
  const ids = new Set<string>()
  const addresses = new Set<string>()
  const kinds = new Set<number>()
  for (const [name, value] of event.tags) {
    if (name === 'e' && isHex64(value)) ids.add(value)
    else if (name === 'a' && typeof value === 'string' && isAddress(value)) addresses.add(value)
    else if (name === 'k') {
      const kind = parseKindTag(value)
      if (kind !== undefined) kinds.add(kind)
    }
  }
  return { ids: [...ids], addresses: [...addresses], kinds: [...kinds] }
}

/**
 * Does this deletion request delete `target`? Only the author can delete: by id (`e` tag), or by
 * address (`a` tag) for every version of a replaceable/addressable event created no later than
 * the request. The one exception (NIP-09, gift wraps): a recipient named in a kind-1059 gift
 * wrap's `p` tags may delete it by id with a `k` tag of 1059. Deletions of deletions do nothing.
 */
export function deletionApplies(deletion: NostrEvent, target: NostrEvent): boolean {
  if (deletion.kind !== DELETION_KIND || target.kind === DELETION_KIND) return false
  const { ids, addresses, kinds } = deletionTargets(deletion)
  if (target.pubkey !== deletion.pubkey) {
    return target.kind === GIFT_WRAP_KIND && ids.includes(target.id) && kinds.includes(GIFT_WRAP_KIND) &&
      target.tags.some((tag) => tag[0] === 'p' && tag[1] === deletion.pubkey)
  }
  if (ids.includes(target.id)) return true
  const address = eventAddress(target)
  return address !== undefined && addresses.includes(address) && target.created_at <= deletion.created_at
}
