// Kind 5300 content discovery. Without input: trending notes, scored by the reactions, reposts and
// zaps they received in a recent window. With an event or text as input: notes related to it by
// shared hashtags and terms. The result is what kind 5300 clients render: a JSON list of `e` tags.
import type { Filter, NostrEvent } from '../../nips/01.js'
import { isHex64 } from '../../nips/01.js'
import type { Capability, JobContext, JobOutput } from '../capability.js'
import { inputText } from '../capability.js'
import { contentWords } from './summarize.js'

const DEFAULT_LIMIT = 20
const MAX_LIMIT = 100
const DEFAULT_HOURS = 24
const MAX_HOURS = 24 * 30
/** How many engagement events / candidate notes one job reads from the relays, per query. */
const SCAN_LIMIT = 5000
const MAX_TERMS = 12

export interface DiscoveryParams {
  limit: number
  hours: number
}

function parsePositiveInt(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback
  if (!/^\d+$/.test(value) || Number(value) === 0) throw new Error(`${name} must be a positive whole number`)
  return Math.min(Number(value), max)
}

export function parseDiscoveryParams(params: Record<string, string[]>): DiscoveryParams {
  return {
    limit: parsePositiveInt(params.limit?.[0], 'limit', DEFAULT_LIMIT, MAX_LIMIT),
    hours: parsePositiveInt(params.hours?.[0], 'hours', DEFAULT_HOURS, MAX_HOURS),
  }
}

/** Millisats of a bolt11 invoice, read from its human-readable part (amount and multiplier). */
export function bolt11AmountMsats(invoice: string): number | undefined {
  const match = /^ln(?:bc|tbs|tb|bcrt|sb)(\d+)([munp]?)1/.exec(invoice.toLowerCase())
  if (!match) return undefined
  const amount = Number(match[1])
  const msatsPerUnit: Record<string, number> = { '': 1e11, m: 1e8, u: 1e5, n: 100, p: 0.1 }
  return Math.floor(amount * msatsPerUnit[match[2]])
}

/** Millisats a zap receipt (kind 9735) carries: the zap request's amount tag, else its invoice. */
export function zapAmountMsats(receipt: NostrEvent): number {
  const description = receipt.tags.find((t) => t[0] === 'description')?.[1]
  if (description) {
    try {
      const request = JSON.parse(description) as { tags?: unknown }
      const amount = Array.isArray(request.tags) ? request.tags.find((t) => Array.isArray(t) && t[0] === 'amount')?.[1] : undefined
      if (typeof amount === 'string' && /^\d+$/.test(amount)) return Number(amount)
    } catch {
      // A receipt with a broken description still counts by its invoice.
    }
  }
  const invoice = receipt.tags.find((t) => t[0] === 'bolt11')?.[1]
  return (invoice && bolt11AmountMsats(invoice)) || 0
}

/** The note an engagement event points at: NIP-25 puts the reacted-to event in the last `e` tag. */
function targetOf(event: NostrEvent): string | undefined {
  const eTags = event.tags.filter((t) => t[0] === 'e' && isHex64(t[1]))
  return eTags[eTags.length - 1]?.[1]
}

interface Engagement {
  reactions: Set<string>
  reposts: Set<string>
  zapMsats: number
}

/**
 * Trending score: one point per person who reacted, two per person who reposted, and for zaps the
 * log of the sats so that one whale does not outweigh a crowd. Each person counts once per note.
 */
export function trendingScores(engagement: NostrEvent[]): Map<string, number> {
  const byNote = new Map<string, Engagement>()
  for (const event of engagement) {
    const target = targetOf(event)
    if (!target) continue
    let entry = byNote.get(target)
    if (!entry) byNote.set(target, (entry = { reactions: new Set(), reposts: new Set(), zapMsats: 0 }))
    if (event.kind === 7 && event.content !== '-') entry.reactions.add(event.pubkey)
    else if (event.kind === 6 || event.kind === 16) entry.reposts.add(event.pubkey)
    else if (event.kind === 9735) entry.zapMsats += zapAmountMsats(event)
  }
  const scores = new Map<string, number>()
  for (const [note, e] of byNote) {
    const score = e.reactions.size + 2 * e.reposts.size + 3 * Math.log10(1 + e.zapMsats / 1000)
    if (score > 0) scores.set(note, score)
  }
  return scores
}

function hashtagsOf(event: Pick<NostrEvent, 'tags' | 'content'>): Set<string> {
  const tags = new Set(event.tags.filter((t) => t[0] === 't' && t[1]).map((t) => t[1].toLowerCase()))
  for (const match of event.content.matchAll(/(?:^|\s)#([\p{L}\p{N}_]+)/gu)) tags.add(match[1].toLowerCase())
  return tags
}

/** The most frequent content words of a text (ties: first seen), its "terms". */
export function topTerms(text: string, max = MAX_TERMS): string[] {
  const counts = new Map<string, number>()
  for (const word of contentWords(text.replace(/(?:https?|nostr):\S+/g, ' '))) {
    if (word.length < 3 || /^\d+$/.test(word)) continue
    counts.set(word, (counts.get(word) ?? 0) + 1)
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, max)
    .map(([word]) => word)
}

/** Relatedness of a candidate note to the source: shared hashtags count double, shared terms once. */
export function relatedness(source: { hashtags: Set<string>; terms: Set<string> }, note: NostrEvent): number {
  let score = 0
  for (const tag of hashtagsOf(note)) if (source.hashtags.has(tag)) score += 2
  for (const term of new Set(contentWords(note.content))) if (source.terms.has(term)) score += 1
  return score
}

function byScoreThenNewest(scores: Map<string, number>, notes: Map<string, NostrEvent>) {
  return (a: string, b: string) => scores.get(b)! - scores.get(a)! || notes.get(b)!.created_at - notes.get(a)!.created_at || (a < b ? -1 : 1)
}

function output(ids: string[]): JobOutput {
  return { content: JSON.stringify(ids.map((id) => ['e', id])), mimeType: 'application/json' }
}

async function trending(ctx: JobContext, { limit, hours }: DiscoveryParams): Promise<JobOutput> {
  const since = ctx.now() - hours * 3600
  const engagement = await ctx.queryEvents([{ kinds: [7, 6, 16, 9735], since, limit: SCAN_LIMIT }])
  ctx.signal.throwIfAborted()
  const scores = trendingScores(engagement)
  // Only notes that exist and are kind 1: reactions to anything else (or to unknown ids) do not count.
  const ranked = [...scores.keys()].sort((a, b) => scores.get(b)! - scores.get(a)!).slice(0, limit * 3)
  const notes = new Map((ranked.length > 0 ? await ctx.queryEvents([{ ids: ranked, kinds: [1] }]) : []).map((n) => [n.id, n]))
  ctx.signal.throwIfAborted()
  ctx.log('discovery: trending', { engagement: engagement.length, candidates: scores.size, found: notes.size })
  return output([...notes.keys()].sort(byScoreThenNewest(scores, notes)).slice(0, limit))
}

async function related(ctx: JobContext, { limit, hours }: DiscoveryParams): Promise<JobOutput> {
  const sourceIds = new Set<string>()
  const hashtags = new Set<string>()
  const texts: string[] = []
  for (const input of ctx.inputs) {
    if (input.type === 'event') {
      sourceIds.add(input.value)
      const [event] = await ctx.queryEvents([{ ids: [input.value], limit: 1 }])
      if (event) {
        for (const tag of hashtagsOf(event)) hashtags.add(tag)
        texts.push(event.content)
        continue
      }
    }
    const text = inputText(input)
    if (text === undefined) throw new Error(`input ${input.value.slice(0, 64)} (${input.type}) could not be read`)
    for (const tag of hashtagsOf({ tags: [], content: text })) hashtags.add(tag)
    // A bare word such as "philosophy" is also the hashtag people would use for it.
    if (!/\s/.test(text.trim())) hashtags.add(text.trim().toLowerCase().replace(/^#/, ''))
    texts.push(text)
  }
  ctx.signal.throwIfAborted()
  const source = { hashtags, terms: new Set(topTerms(texts.join('\n'))) }
  if (source.hashtags.size === 0 && source.terms.size === 0) throw new Error('the input has no hashtags or words to relate notes to')
  const since = ctx.now() - hours * 3600
  const filters: Filter[] = [{ kinds: [1], since, limit: SCAN_LIMIT }]
  if (hashtags.size > 0) filters.push({ kinds: [1], '#t': [...hashtags], limit: SCAN_LIMIT })
  const candidates = await ctx.queryEvents(filters)
  ctx.signal.throwIfAborted()
  const notes = new Map<string, NostrEvent>()
  const scores = new Map<string, number>()
  for (const note of candidates) {
    if (note.kind !== 1 || sourceIds.has(note.id) || notes.has(note.id)) continue
    const score = relatedness(source, note)
    if (score === 0) continue
    notes.set(note.id, note)
    scores.set(note.id, score)
  }
  ctx.log('discovery: related', { hashtags: hashtags.size, terms: source.terms.size, candidates: candidates.length, related: notes.size })
  return output([...notes.keys()].sort(byScoreThenNewest(scores, notes)).slice(0, limit))
}

export interface DiscoveryOptions {
  /** Asking price per job, in millisats. */
  priceMsats?: number
}

export function createDiscoveryCapability(options: DiscoveryOptions = {}): Capability {
  const priceMsats = options.priceMsats ?? 0
  return {
    kind: 5300,
    id: 'discovery',
    name: 'Content discovery',
    about: 'Trending notes (reactions, reposts and zaps of the last hours), or notes related to an event or topic you give as input.',
    params: [
      { name: 'limit', description: `How many notes to return (at most ${MAX_LIMIT})`, default: String(DEFAULT_LIMIT) },
      { name: 'hours', description: `How far back to look, in hours (at most ${MAX_HOURS})`, default: String(DEFAULT_HOURS) },
    ],
    price: () => priceMsats,
    availability: async () => ({ ok: true }),
    run(ctx: JobContext): Promise<JobOutput> {
      const params = parseDiscoveryParams(ctx.params)
      return ctx.inputs.length === 0 ? trending(ctx, params) : related(ctx, params)
    },
  }
}
