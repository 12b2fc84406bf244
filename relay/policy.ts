// Write policy: an ordered list of plain functions, each accepting, rejecting or shadow-rejecting an
// event, or having no opinion. Shared by the embedded relay and the strfry write-policy plugin.
// Also the read side of protected kinds: who may receive which event.
import type { Filter, NostrEvent } from '../nips/01.js'
import { isExpired } from '../nips/40.js'
import type { RelayConfig } from './config.js'
import { TokenBucketLimiter } from './rate-limit.js'

export type PolicyDecision = { action: 'accept' } | { action: 'reject' | 'shadowReject'; reason: string }

export interface PolicyContext {
  /** The client's IP; '' when the event did not come from a client connection (import, sync, stream). */
  sourceIp: string
  /** Pubkeys the connection has authenticated as (NIP-42). */
  authedPubkeys: ReadonlySet<string>
  /** Unix seconds. */
  now: number
  config: RelayConfig
}

/** undefined = no opinion; the next policy decides. */
export type WritePolicy = (event: NostrEvent, ctx: PolicyContext) => PolicyDecision | undefined

const ACCEPT: PolicyDecision = Object.freeze({ action: 'accept' })

/** The first policy with an opinion decides; an event nobody objects to is accepted. */
export function runPolicies(policies: WritePolicy[], event: NostrEvent, ctx: PolicyContext): PolicyDecision {
  for (const policy of policies) {
    const decision = policy(event, ctx)
    if (decision !== undefined) return decision
  }
  return ACCEPT
}

const reject = (reason: string): PolicyDecision => ({ action: 'reject', reason })

/** Number of leading zero bits of a hex id (NIP-13 difficulty). */
export function powDifficulty(idHex: string): number {
  let bits = 0
  for (let i = 0; i < idHex.length; i++) {
    const nibble = parseInt(idHex[i], 16)
    if (nibble === 0) {
      bits += 4
      continue
    }
    return bits + Math.clz32(nibble) - 28
  }
  return bits
}

export const createdAtWindowPolicy: WritePolicy = (event, { now, config }) => {
  if (event.created_at > now + config.maxCreatedAtFutureSeconds) {
    return reject(`invalid: created_at is more than ${config.maxCreatedAtFutureSeconds} seconds in the future`)
  }
  if (event.created_at < now - config.maxCreatedAtAgeSeconds) {
    return reject(`invalid: created_at is more than ${config.maxCreatedAtAgeSeconds} seconds in the past`)
  }
  return undefined
}

export const expiredPolicy: WritePolicy = (event, { now }) =>
  isExpired(event, now) ? reject('invalid: event has already expired') : undefined

export const sizePolicy: WritePolicy = (event, { config }) => {
  if (event.tags.length > config.maxEventTags) return reject(`invalid: more than ${config.maxEventTags} tags`)
  if (event.content.length > config.maxContentLength) {
    return reject(`invalid: content is longer than ${config.maxContentLength} characters`)
  }
  return undefined
}

export const powPolicy: WritePolicy = (event, { config }) => {
  if (config.minPowDifficulty === 0) return undefined
  const difficulty = powDifficulty(event.id)
  return difficulty < config.minPowDifficulty
    ? reject(`pow: difficulty ${difficulty} is less than ${config.minPowDifficulty}`)
    : undefined
}

export const kindPolicy: WritePolicy = (event, { config }) => {
  if (config.blockedKinds.includes(event.kind)) return reject(`blocked: kind ${event.kind} is not accepted here`)
  if (config.allowedKinds.length > 0 && !config.allowedKinds.includes(event.kind)) {
    return reject(`blocked: kind ${event.kind} is not accepted here`)
  }
  return undefined
}

export const pubkeyBlocklistPolicy: WritePolicy = (event, { config }) =>
  config.blockedPubkeys.includes(event.pubkey) ? reject('blocked: this pubkey may not publish here') : undefined

/** NIP-70: an event with a `["-"]` tag may only be published by its authenticated author. */
export const protectedEventPolicy: WritePolicy = (event, { authedPubkeys }) => {
  if (!event.tags.some((tag) => tag.length === 1 && tag[0] === '-')) return undefined
  if (authedPubkeys.has(event.pubkey)) return undefined
  return authedPubkeys.size === 0
    ? reject('auth-required: this event may only be published by its author')
    : reject('restricted: this event may only be published by its author')
}

/** The stateless policies every Timmy relay applies, in order, cheapest first. */
export function defaultPolicies(config: RelayConfig): WritePolicy[] {
  const policies: WritePolicy[] = [createdAtWindowPolicy, sizePolicy, kindPolicy, pubkeyBlocklistPolicy]
  if (config.minPowDifficulty > 0) policies.push(powPolicy)
  policies.push(expiredPolicy, protectedEventPolicy)
  return policies
}

/**
 * Per-IP and per-author rate limits as policies, for the strfry plugin, where strfry has already
 * checked the signature (the embedded relay applies its limiters itself, the per-author one only
 * after verification, so that forged events cannot drain someone else's bucket). Events that did
 * not come from a client connection are not limited.
 */
export function rateLimitPolicies(config: RelayConfig): WritePolicy[] {
  const perIp = new TokenBucketLimiter(config.eventRatePerIp)
  const perPubkey = new TokenBucketLimiter(config.eventRatePerPubkey)
  let lastPrune = 0
  const prune = (now: number) => {
    if (now - lastPrune < 60) return
    lastPrune = now
    perIp.prune(now)
    perPubkey.prune(now)
  }
  return [
    (_event, { sourceIp, now }) => {
      if (sourceIp === '') return undefined
      prune(now)
      return perIp.take(sourceIp, now) ? undefined : reject('rate-limited: too many events from your IP, slow down')
    },
    (event, { sourceIp, now }) => {
      if (sourceIp === '') return undefined
      return perPubkey.take(event.pubkey, now) ? undefined : reject('rate-limited: too many events from this pubkey, slow down')
    },
  ]
}

// ---- read side ---------------------------------------------------------------------------------

const isJobKind = (kind: number) => kind >= 5000 && kind <= 6999

/** Is this event only for the eyes of its author and the pubkeys it p-tags? */
export function isProtectedEvent(event: NostrEvent, config: RelayConfig): boolean {
  if (config.protectedKinds.includes(event.kind)) return true
  return config.protectEncryptedJobs && isJobKind(event.kind) && event.tags.some((tag) => tag[0] === 'encrypted')
}

/** Could an event of this kind be read-protected? When not, it can be sent to anyone without looking inside. */
export function mayBeProtectedKind(kind: number, config: RelayConfig): boolean {
  return config.protectedKinds.includes(kind) || (config.protectEncryptedJobs && isJobKind(kind))
}

/** May a reader authenticated as `authedPubkeys` receive this event? */
export function mayRead(event: NostrEvent, authedPubkeys: ReadonlySet<string>, config: RelayConfig): boolean {
  if (!isProtectedEvent(event, config)) return true
  if (authedPubkeys.size === 0) return false
  if (authedPubkeys.has(event.pubkey)) return true
  return event.tags.some((tag) => tag[0] === 'p' && tag.length > 1 && authedPubkeys.has(tag[1]))
}

export type ReadFilterOutcome = { ok: true; filters: Filter[] } | { ok: false; reason: string }

/**
 * Narrows filters asking for protected kinds to the events the reader is involved in (as author
 * or p-tagged), so that the store's `limit` counts only events the reader may see. A reader who
 * has not authenticated gets `auth-required:`. Filters without `kinds` pass unchanged; the events
 * they return are still checked one by one with mayRead.
 */
export function narrowFiltersForReader(filters: Filter[], authedPubkeys: ReadonlySet<string>, config: RelayConfig): ReadFilterOutcome {
  const protectedKinds = config.protectedKinds
  if (protectedKinds.length === 0) return { ok: true, filters }
  const out: Filter[] = []
  for (const filter of filters) {
    const kinds = filter.kinds
    const asked = kinds?.filter((k) => protectedKinds.includes(k)) ?? []
    if (kinds === undefined || asked.length === 0) {
      out.push(filter)
      continue
    }
    if (authedPubkeys.size === 0) {
      return { ok: false, reason: `auth-required: kinds ${asked.join(', ')} are only shown to their author and recipients` }
    }
    const open = kinds.filter((k) => !protectedKinds.includes(k))
    if (open.length > 0) out.push({ ...filter, kinds: open })
    const readers = [...authedPubkeys]
    const asAuthor = filter.authors ? readers.filter((pk) => filter.authors!.includes(pk)) : readers
    if (asAuthor.length > 0) out.push({ ...filter, kinds: asked, authors: asAuthor })
    const taggedWanted = filter['#p']
    const asRecipient = taggedWanted ? readers.filter((pk) => taggedWanted.includes(pk)) : readers
    if (asRecipient.length > 0) out.push({ ...filter, kinds: asked, '#p': asRecipient })
  }
  return { ok: true, filters: out }
}
