// GET /api/reputation/:pubkey — an agent's reputation as JSON, computed on request from public
// events (nips/reputation.md). The host mounts it and supplies the query function (its relay pool,
// which verifies signatures), the clock, its ReputationCache (events kept between requests) and
// the zapper lookup that lets zap receipts count as payments.
//   ?trust_root=<npub|hex>  whose web of trust weighs the labels (default: the host's reputation.trustRoot)
//   ?kind=<5000-5999>       also report the score a job of this kind is judged by, as `kind`
//   ?half_life_days=<n>     decay half-life (default: the host's reputation.halfLifeDays, 90)
//   ?evidence=<n>           how many of the heaviest labels to list (default 50, at most 500)
import { decodeToHexPubkey } from '../../nips/19.js'
import { isJobRequestKind } from '../../nips/90.js'
import type { ReputationParams } from '../../nips/reputation.js'
import { gatherReputation, summarize, type GatherOptions, type QueryEvents, type ReputationSummary } from './gather.js'

const DEFAULT_EVIDENCE = 50
const MAX_EVIDENCE = 500
const DAY = 86_400

export interface ReputationApiParams {
  /** The :pubkey path segment: hex or npub. */
  pubkey: string
  query: URLSearchParams
  /** Unix seconds. */
  now: number
  /** Trust root when the request names none: the host operator's key. Without either, only payment-backed labels count. */
  defaultTrustRoot?: string
  /** Half-life when the request names none; default 90 days. */
  defaultHalfLifeDays?: number
  /** The host's: the events kept between requests, how zap receipts are checked. */
  cache?: GatherOptions['cache']
  zappers?: GatherOptions['zappers']
  verify?: GatherOptions['verify']
}

export type ReputationApiResponse =
  | { status: 200; body: ReputationSummary }
  | { status: 400 | 502; body: { error: string } }

class BadRequest extends Error {}

function pubkeyParam(value: string, what: string): string {
  try {
    return decodeToHexPubkey(value)
  } catch (err) {
    throw new BadRequest(`invalid: ${what}: ${(err as Error).message}`)
  }
}

function wholeParam(query: URLSearchParams, name: string, check: (n: number) => boolean, what: string): number | undefined {
  const text = query.get(name)
  if (text === null) return undefined
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || !check(n)) throw new BadRequest(`invalid: ${name} must be ${what}`)
  return n
}

export async function reputationApi(query: QueryEvents, params: ReputationApiParams): Promise<ReputationApiResponse> {
  let agent: string
  let trustRoot: string | undefined
  let kind: number | undefined
  let evidence: number
  let overrides: Partial<ReputationParams>
  try {
    agent = pubkeyParam(params.pubkey, 'pubkey')
    const root = params.query.get('trust_root') ?? params.defaultTrustRoot
    trustRoot = root === undefined || root === '' ? undefined : pubkeyParam(root, 'trust_root')
    kind = wholeParam(params.query, 'kind', isJobRequestKind, 'a job request kind (5000-5999)')
    evidence = wholeParam(params.query, 'evidence', (n) => n <= MAX_EVIDENCE, `a whole number up to ${MAX_EVIDENCE}`) ?? DEFAULT_EVIDENCE
    const halfLifeDays = wholeParam(params.query, 'half_life_days', (n) => n >= 1 && n <= 36_500, 'a whole number of days, 1..36500') ?? params.defaultHalfLifeDays
    overrides = halfLifeDays === undefined ? {} : { halfLifeSeconds: halfLifeDays * DAY }
  } catch (err) {
    if (err instanceof BadRequest) return { status: 400, body: { error: err.message } }
    throw err
  }
  let summary: ReputationSummary
  try {
    const gathered = await gatherReputation(query, { agent, trustRoot, now: params.now, params: overrides, cache: params.cache, zappers: params.zappers, verify: params.verify })
    summary = summarize(gathered, evidence, kind)
  } catch (err) {
    return { status: 502, body: { error: `error: could not read reputation events: ${(err as Error).message}` } }
  }
  return { status: 200, body: summary }
}
