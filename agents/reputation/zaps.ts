// Sats actually paid, for reputation (nips/reputation.md §2.4): a zap receipt is worth what the key
// that signed it is worth, so it must be signed by the agent's LNURL server (its `nostrPubkey`). That
// key is found the way wallets find it: from the lightning address in the agent's kind-0 profile.
// What a receipt then proves is nips/reputation.ts paymentFromZapReceipt.
import { isNewerVersion, type NostrEvent } from '../../nips/01.js'
import { payEndpointUrl, zapperFromPayEndpoint } from '../../client/zap.js'
import type { UrlFetcher } from '../url-input.js'
import type { QueryEvents } from './gather.js'

/** The key that signs an agent's zap receipts, or undefined when it takes no zaps (or cannot be asked). */
export type ZapperOf = (agent: string) => Promise<string | undefined>

const LNURL_BYTES = 64 * 1024
const LNURL_TIMEOUT_MS = 10_000
/** How long a zapper key found (or not) is believed before the profile and endpoint are asked again. */
export const ZAPPER_TTL_SECONDS = 3600
const MAX_ZAPPERS = 1_000

export interface LnurlZapperOptions {
  query: QueryEvents
  /** Fetches the pay endpoint: the host's URL fetcher, which refuses private addresses unless configured. */
  fetchText: UrlFetcher
  /** Keys known without asking: this host's own agents' LNURL server. */
  known?: (agent: string) => string | undefined
  clock?: () => number
}

/** The pay endpoint URL the agent's newest kind-0 profile names: lud16 first, then lud06. */
function profileEndpoint(profiles: NostrEvent[], agent: string): string | undefined {
  let newest: NostrEvent | undefined
  for (const event of profiles) if (event.kind === 0 && event.pubkey === agent && (!newest || isNewerVersion(event, newest))) newest = event
  if (!newest) return undefined
  const profile: unknown = JSON.parse(newest.content)
  if (typeof profile !== 'object' || profile === null) return undefined
  const { lud16, lud06 } = profile as { lud16?: unknown; lud06?: unknown }
  return payEndpointUrl({ ...(typeof lud16 === 'string' && lud16 !== '' && { lud16 }), ...(typeof lud06 === 'string' && lud06 !== '' && { lud06 }) })
}

/**
 * Zapper keys by NIP-57's rule: the `nostrPubkey` of the LNURL-pay endpoint the agent's profile names,
 * when it `allowsNostr`. Answers are kept ZAPPER_TTL_SECONDS per agent, failures included (an endpoint
 * that is down is not asked on every lookup); concurrent asks for one agent share one.
 */
export function lnurlZappers(options: LnurlZapperOptions): ZapperOf {
  const clock = options.clock ?? Date.now
  const answers = new Map<string, { zapper: Promise<string | undefined>; at: number }>()
  const ask = async (agent: string): Promise<string | undefined> => {
    try {
      const url = profileEndpoint(await options.query([{ kinds: [0], authors: [agent] }]), agent)
      if (url === undefined) return undefined
      return zapperFromPayEndpoint(JSON.parse(await options.fetchText(url, { signal: AbortSignal.timeout(LNURL_TIMEOUT_MS), maxBytes: LNURL_BYTES })))
    } catch {
      return undefined
    }
  }
  return (agent) => {
    const known = options.known?.(agent)
    if (known !== undefined) return Promise.resolve(known)
    const now = clock()
    const kept = answers.get(agent)
    if (kept && now - kept.at < ZAPPER_TTL_SECONDS * 1000) return kept.zapper
    const zapper = ask(agent)
    answers.delete(agent)
    answers.set(agent, { zapper, at: now })
    // Bounded like the label cache: the oldest answer goes first.
    if (answers.size > MAX_ZAPPERS) answers.delete(answers.keys().next().value as string)
    return zapper
  }
}
