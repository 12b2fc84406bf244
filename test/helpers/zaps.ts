// Real zap receipts for tests: an agent's LNURL server (agents/lightning/lnurl.ts) on the FAKE Lightning
// network issues an invoice for each signed zap request, a payer node pays it, and the server signs the
// kind-9735 receipt — the events reputation counts as sats actually paid.
import { finalizeEvent, generateSecretKey, getPublicKey, type EventTemplate, type NostrEvent } from '../../nips/01.js'
import { buildZapRequest } from '../../nips/57.js'
import { FakeLightningNetwork } from '../../agents/lightning/fake-network.js'
import { createLnurlHandler } from '../../agents/lightning/lnurl.js'
import { fetchPayEndpoint, requestZapInvoice, type Fetch } from '../../client/zap.js'

export const ZAP_BASE_URL = 'http://127.0.0.1:8080'

/** A zap server for `agent` (hex pubkey), named `name` (its lightning address is name@127.0.0.1:8080). */
export function zapServer(agent: string, name = 'agent') {
  const network = new FakeLightningNetwork()
  const payer = network.createNode('payer', { balanceMsats: 1_000_000_000 })
  const zapperKey = generateSecretKey()
  const handler = createLnurlHandler({
    wallet: network.createNode('agent'),
    agents: { [name]: { pubkey: agent, zapSigner: { pubkey: getPublicKey(zapperKey), sign: (t: EventTemplate) => finalizeEvent(t, zapperKey) } } },
    baseUrl: ZAP_BASE_URL,
  })
  const fetchFn: Fetch = async (url) => {
    const answer = await handler.handle('GET', url)
    return new Response(answer.body, { status: answer.status, headers: answer.headers })
  }
  /** The receipt for a zap of `msats` from `sender` for event `job` (none: a zap of the agent alone). */
  async function zap(sender: Uint8Array, msats: number, job?: string): Promise<NostrEvent> {
    const endpoint = await fetchPayEndpoint({ lud16: `${name}@127.0.0.1:8080` }, fetchFn)
    const request = finalizeEvent(buildZapRequest({ recipientPubkey: agent, amountMsats: msats, relays: ['ws://127.0.0.1:7777'], lnurl: endpoint.lnurl, ...(job && { eventId: job }), createdAt: Math.floor(Date.now() / 1000) }), sender)
    await payer.payInvoice(await requestZapInvoice(endpoint, request, msats, fetchFn), { maxFeeMsats: 1000 })
    const [paid] = await handler.collectReceipts()
    handler.acknowledge(paid.paymentHash)
    return paid.receipt
  }
  return { zapper: getPublicKey(zapperKey), zapperKey, handler, fetchFn, zap, address: `${name}@127.0.0.1:8080` }
}
