// Paying an invoice through Nostr Wallet Connect (NIP-47): the user pastes the connection URI their
// wallet gave them; the page reads the wallet service's info event (kind 13194) for its encryption,
// sends a pay_invoice request (kind 23194) signed with the URI's secret over the URI's relays, and
// waits for the answer (kind 23195) pointing back at it. The URI is a spending credential: it lives
// in sessionStorage for the tab's life only and is never logged.
import { finalizeEvent, type Filter, type NostrEvent } from '../nips/01.js'
import {
  buildNwcRequest,
  chooseEncryption,
  NWC_INFO_KIND,
  NWC_RESPONSE_KIND,
  parseNwcInfo,
  parseNwcResponse,
  parseNwcUri,
  type NwcEncryption,
} from '../nips/47.js'
import type { PublishOutcome, Subscription, SubscriptionHandlers } from './relay-pool.js'

/** What paying needs of a relay pool (client/relay-pool.ts RelayPool). */
export interface NwcRelays {
  query(filters: Filter[]): Promise<NostrEvent[]>
  subscribe(filters: Filter[], handlers: SubscriptionHandlers): Subscription
  publish(event: NostrEvent): Promise<PublishOutcome[]>
  close(): void
}

export interface NwcPaid {
  preimage: string
  feesPaidMsats?: number
}

const STORAGE_KEY = 'timmy.nwc'

/** The connection URI kept for this tab, if any. */
export function storedNwcUri(storage: Pick<Storage, 'getItem'> = sessionStorage): string | undefined {
  return storage.getItem(STORAGE_KEY) ?? undefined
}

/** Keeps a URI for this tab after checking it parses (throws with the reason); undefined forgets it. */
export function storeNwcUri(uri: string | undefined, storage: Pick<Storage, 'setItem' | 'removeItem'> = sessionStorage): void {
  if (uri === undefined) return storage.removeItem(STORAGE_KEY)
  parseNwcUri(uri)
  storage.setItem(STORAGE_KEY, uri)
}

/** The wallet service's encryption: from its newest info event; without one, NIP-04 as NIP-47 says. */
function encryptionOf(infoEvents: NostrEvent[]): NwcEncryption {
  const newest = infoEvents.sort((a, b) => b.created_at - a.created_at)[0]
  if (!newest) return 'nip04'
  const info = parseNwcInfo(newest)
  if (info.methods.length > 0 && !info.methods.includes('pay_invoice')) throw new Error('this wallet connection does not allow pay_invoice')
  return chooseEncryption(info)
}

export async function payInvoiceWithNwc(
  uri: string,
  bolt11: string,
  { openRelays, now = () => Math.floor(Date.now() / 1000), timeoutMs = 60_000 }: { openRelays: (urls: string[]) => NwcRelays; now?: () => number; timeoutMs?: number },
): Promise<NwcPaid> {
  const connection = parseNwcUri(uri)
  const relays = openRelays(connection.relays)
  let timer: ReturnType<typeof setTimeout> | undefined
  let subscription: Subscription | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the wallet service did not answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs)
  })
  const pay = async (): Promise<NwcPaid> => {
    const encryption = encryptionOf(await relays.query([{ kinds: [NWC_INFO_KIND], authors: [connection.walletPubkey] }]))
    const createdAt = now()
    const request = finalizeEvent(
      buildNwcRequest({ request: { method: 'pay_invoice', params: { invoice: bolt11 } }, walletPubkey: connection.walletPubkey, encryption, createdAt, expiration: createdAt + Math.ceil(timeoutMs / 1000) }, connection.secret),
      connection.secret,
    )
    const answer = new Promise<NostrEvent>((resolve) => {
      subscription = relays.subscribe([{ kinds: [NWC_RESPONSE_KIND], authors: [connection.walletPubkey], '#e': [request.id] }], { onevent: resolve })
    })
    const outcomes = await relays.publish(request)
    if (!outcomes.some((o) => o.ok)) throw new Error(`the wallet's relay did not take the request: ${outcomes.map((o) => `${o.url}: ${o.message}`).join('; ') || 'no relay'}`)
    const response = parseNwcResponse(await answer, connection.secret, connection.walletPubkey, encryption)
    if (response.error) throw new Error(`${response.error.code}: ${response.error.message}`)
    const preimage = response.result?.preimage
    if (typeof preimage !== 'string') throw new Error('the wallet answered without a preimage')
    const fees = response.result?.fees_paid
    return { preimage, ...(typeof fees === 'number' && { feesPaidMsats: fees }) }
  }
  try {
    return await Promise.race([pay(), timeout])
  } finally {
    clearTimeout(timer)
    subscription?.close()
    relays.close()
  }
}
