// Zapping an agent (NIP-57 over LNURL-pay, LUD-06/16): its lightning address names a pay endpoint;
// the zap request (kind 9734, signed by the user) goes to the endpoint's callback, which answers
// with an invoice committing to that request; the invoice is checked before anyone pays it. Zap
// receipts (9735) count only when nips/57.ts validateZapReceipt accepts them against the endpoint's
// nostrPubkey. No DOM here: fetch is passed in.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { bech32 } from '@scure/base'
import { isHex64, type NostrEvent } from '../nips/01.js'
import { validateZapReceipt, type ValidZap } from '../nips/57.js'
import { decodeBolt11 } from './bolt11.js'

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>

export interface PayEndpoint {
  /** What it was found from, for messages: the lightning address, or "its LNURL (lud06)". */
  address: string
  /** The URL the pay endpoint was fetched from, and its bech32 `lnurl1...` form (the zap request's `lnurl` tag). */
  url: string
  lnurl: string
  callback: string
  minSendableMsats: number
  maxSendableMsats: number
  /** Only endpoints that allow Nostr (and name the key signing their receipts) can take zaps. */
  nostrPubkey?: string
  metadata: string
}

const ADDRESS = /^([a-z0-9._+-]+)@([a-z0-9.-]+(?::\d{1,5})?|\[[0-9a-f:.]+\](?::\d{1,5})?)$/i

/**
 * LUD-16: `name@domain` is served at `https://domain/.well-known/lnurlp/name`. Plain http only for
 * onion and loopback hosts, and for the host this page itself came from over http (a local node).
 */
export function lightningAddressUrl(address: string, page?: { protocol: string; host: string }): string {
  const match = ADDRESS.exec(address.trim())
  if (!match) throw new Error(`${JSON.stringify(address.slice(0, 80))} is not a lightning address (name@domain)`)
  const [, name, domain] = match
  const host = domain.toLowerCase()
  const hostname = host.replace(/:\d+$/, '')
  const plain = hostname.endsWith('.onion') || hostname === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(hostname) || hostname === '[::1]' || (page?.protocol === 'http:' && page.host.toLowerCase() === host)
  return `${plain ? 'http' : 'https'}://${host}/.well-known/lnurlp/${encodeURIComponent(name.toLowerCase())}`
}

/** LUD-01: a URL as `lnurl1...` (bech32, no length limit). */
export function encodeLnurl(url: string): string {
  return bech32.encode('lnurl', bech32.toWords(utf8ToBytes(url)), false)
}

/** LUD-01: an `lnurl1…` string (or `lightning:lnurl1…`) as the URL it encodes. */
export function decodeLnurl(lnurl: string): string {
  const { prefix, words } = bech32.decode(lnurl.replace(/^lightning:/i, '').toLowerCase() as `${string}1${string}`, false)
  if (prefix !== 'lnurl') throw new Error('lud06 is not an lnurl1… string')
  return new TextDecoder().decode(bech32.fromWords(words))
}

/**
 * The LNURL-pay endpoint a profile names, where its zap server key is found (NIP-57): its lightning
 * address (lud16), else its lnurl (lud06); undefined when it names neither. A lud06 URL must be https,
 * or plain http for the hosts lightningAddressUrl allows it (onion, loopback, the page's own http host).
 * Throws on a malformed address.
 */
export function payEndpointUrl(profile: { lud16?: string; lud06?: string }, page?: { protocol: string; host: string }): string | undefined {
  if (profile.lud16) return lightningAddressUrl(profile.lud16, page)
  if (!profile.lud06) return undefined
  const url = new URL(decodeLnurl(profile.lud06))
  const host = url.hostname
  const plain = host.endsWith('.onion') || host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || (page?.protocol === 'http:' && page.host.toLowerCase() === url.host)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plain)) throw new Error(`lud06 names ${url.protocol}//${url.host}, not an https endpoint`)
  return url.href
}

/** The key that signs an LNURL-pay endpoint's zap receipts, from its answer: only when it allowsNostr. */
export function zapperFromPayEndpoint(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined
  const { tag, allowsNostr, nostrPubkey } = body as Record<string, unknown>
  return tag === 'payRequest' && allowsNostr === true && isHex64(nostrPubkey) ? nostrPubkey : undefined
}

async function getJson(fetchFn: Fetch, url: string, what: string): Promise<Record<string, unknown>> {
  let response: Response
  try {
    response = await fetchFn(url, { headers: { accept: 'application/json' } })
  } catch (err) {
    throw new Error(`${what} did not answer (${(err as Error).message})`)
  }
  let body: unknown
  try {
    body = await response.json()
  } catch {
    throw new Error(`${what} answered HTTP ${response.status} without JSON`)
  }
  if (typeof body !== 'object' || body === null) throw new Error(`${what} answered something that is not a JSON object`)
  const record = body as Record<string, unknown>
  // LUD-06: errors are {"status": "ERROR", "reason": ...}, whatever the HTTP status.
  if (record.status === 'ERROR') throw new Error(`${what} refused: ${typeof record.reason === 'string' ? record.reason : 'no reason given'}`)
  if (!response.ok) throw new Error(`${what} answered HTTP ${response.status}`)
  return record
}

/** The pay endpoint a profile names (its lud16, else its lud06), fetched and checked. */
export async function fetchPayEndpoint(profile: { lud16?: string; lud06?: string }, fetchFn: Fetch, page?: { protocol: string; host: string }): Promise<PayEndpoint> {
  const url = payEndpointUrl(profile, page)
  if (url === undefined) throw new Error('no lightning address (lud16) or LNURL (lud06) to pay')
  const address = profile.lud16 ?? 'its LNURL (lud06)'
  const body = await getJson(fetchFn, url, `The pay endpoint of ${address}`)
  if (body.tag !== 'payRequest') throw new Error(`${address} is not an LNURL-pay endpoint (tag ${JSON.stringify(body.tag)})`)
  const min = body.minSendable
  const max = body.maxSendable
  if (typeof body.callback !== 'string' || !/^https?:\/\//.test(body.callback)) throw new Error(`${address}: the pay endpoint has no valid callback URL`)
  if (typeof min !== 'number' || typeof max !== 'number' || !(min >= 1) || !(max >= min)) throw new Error(`${address}: the pay endpoint's minSendable/maxSendable are not valid`)
  const nostrPubkey = body.allowsNostr === true && typeof body.nostrPubkey === 'string' && /^[0-9a-f]{64}$/.test(body.nostrPubkey) ? body.nostrPubkey : undefined
  return { address, url, lnurl: encodeLnurl(url), callback: body.callback, minSendableMsats: min, maxSendableMsats: max, ...(nostrPubkey && { nostrPubkey }), metadata: typeof body.metadata === 'string' ? body.metadata : '' }
}

/**
 * The invoice for a signed zap request, checked: it must be for exactly the amount asked and
 * commit (description hash) to exactly this zap request, or the payer would be paying for
 * something else.
 */
export async function requestZapInvoice(endpoint: PayEndpoint, zapRequest: NostrEvent, amountMsats: number, fetchFn: Fetch): Promise<string> {
  if (amountMsats < endpoint.minSendableMsats || amountMsats > endpoint.maxSendableMsats) {
    throw new Error(`${endpoint.address} takes between ${endpoint.minSendableMsats / 1000} and ${endpoint.maxSendableMsats / 1000} sats`)
  }
  const json = JSON.stringify(zapRequest)
  const callback = new URL(endpoint.callback)
  callback.searchParams.set('amount', String(amountMsats))
  callback.searchParams.set('nostr', json)
  callback.searchParams.set('lnurl', endpoint.lnurl)
  const body = await getJson(fetchFn, callback.toString(), `The zap callback of ${endpoint.address}`)
  if (typeof body.pr !== 'string') throw new Error(`The zap callback of ${endpoint.address} sent no invoice`)
  const invoice = decodeBolt11(body.pr)
  if (invoice.amountMsats !== amountMsats) throw new Error(`The invoice is for ${invoice.amountMsats ?? 'any'} msat, not the ${amountMsats} msat asked: not paying it`)
  if (invoice.descriptionHash !== bytesToHex(sha256(utf8ToBytes(json)))) throw new Error('The invoice does not commit to this zap request (description hash): not paying it')
  return body.pr
}

export interface ZapTally {
  zaps: ValidZap[]
  totalMsats: number
  /** Receipts that failed validation, with why (forged, mismatched amount, wrong signer, ...). */
  rejected: { id: string; reason: string }[]
}

/** The receipts that prove a zap to `recipient`, newest first, counted once per receipt id. */
export function tallyZaps(receipts: Iterable<NostrEvent>, expected: { nostrPubkey: string; recipient: string }): ZapTally {
  const zaps: ValidZap[] = []
  const rejected: { id: string; reason: string }[] = []
  const seen = new Set<string>()
  for (const receipt of receipts) {
    if (seen.has(receipt.id)) continue
    seen.add(receipt.id)
    const checked = validateZapReceipt(receipt, { nostrPubkey: expected.nostrPubkey, recipientPubkey: expected.recipient })
    if (checked.ok) zaps.push(checked.zap)
    else rejected.push({ id: receipt.id, reason: checked.reason })
  }
  zaps.sort((a, b) => b.paidAt - a.paidAt)
  return { zaps, totalMsats: zaps.reduce((sum, z) => sum + z.amountMsats, 0), rejected }
}
