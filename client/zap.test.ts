// The zap flow's pure side against the agents' real LNURL handler on the FAKE Lightning network:
// lightning address to pay endpoint, a signed zap request to a checked invoice, and receipts
// tallied only when they validate.
import { describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey, type EventTemplate } from '../nips/01.js'
import { buildZapReceipt, buildZapRequest } from '../nips/57.js'
import { FakeLightningNetwork } from '../agents/lightning/fake-network.js'
import { createLnurlHandler } from '../agents/lightning/lnurl.js'
import { fetchPayEndpoint, lightningAddressUrl, requestZapInvoice, tallyZaps, type Fetch } from './zap.js'

const BASE = 'http://127.0.0.1:8080'

function setup() {
  const network = new FakeLightningNetwork()
  const agentNode = network.createNode('agent')
  const payer = network.createNode('payer', { balanceMsats: 10_000_000 })
  const agentKey = generateSecretKey()
  const zapperKey = generateSecretKey()
  const handler = createLnurlHandler({
    wallet: agentNode,
    agents: { scribe: { pubkey: getPublicKey(agentKey), zapSigner: { pubkey: getPublicKey(zapperKey), sign: (t: EventTemplate) => finalizeEvent(t, zapperKey) } } },
    baseUrl: BASE,
  })
  const fetchFn: Fetch = async (url) => {
    const answer = await handler.handle('GET', url)
    return new Response(answer.body, { status: answer.status, headers: answer.headers })
  }
  return { network, payer, handler, fetchFn, agent: getPublicKey(agentKey), zapper: getPublicKey(zapperKey), zapperKey }
}

describe('zapping an agent', () => {
  it('maps lightning addresses to LUD-16 URLs, https unless local', () => {
    expect(lightningAddressUrl('Scribe@agents.example.com')).toBe('https://agents.example.com/.well-known/lnurlp/scribe')
    expect(lightningAddressUrl('scribe@127.0.0.1:8080')).toBe('http://127.0.0.1:8080/.well-known/lnurlp/scribe')
    expect(lightningAddressUrl('scribe@node.lan:8080', { protocol: 'http:', host: 'node.lan:8080' })).toBe('http://node.lan:8080/.well-known/lnurlp/scribe')
    expect(lightningAddressUrl('scribe@node.lan:8080', { protocol: 'https:', host: 'node.lan:8080' })).toBe('https://node.lan:8080/.well-known/lnurlp/scribe')
    expect(() => lightningAddressUrl('not an address')).toThrow(/not a lightning address/)
  })

  it('gets a checked invoice for a signed zap request, and counts the paid receipt', async () => {
    const { payer, handler, fetchFn, agent, zapper } = setup()
    const endpoint = await fetchPayEndpoint({ lud16: 'scribe@127.0.0.1:8080' }, fetchFn)
    expect(endpoint.nostrPubkey).toBe(zapper)
    expect(endpoint.lnurl).toBe(handler.lnurl('scribe'))
    const sender = generateSecretKey()
    const now = Math.floor(Date.now() / 1000)
    const request = finalizeEvent(buildZapRequest({ recipientPubkey: agent, amountMsats: 21_000, relays: ['ws://127.0.0.1:7777'], lnurl: endpoint.lnurl, comment: 'thanks', createdAt: now }), sender)
    const invoice = await requestZapInvoice(endpoint, request, 21_000, fetchFn)
    await payer.payInvoice(invoice, { maxFeeMsats: 1000 })
    const [paid] = await handler.collectReceipts()
    const tally = tallyZaps([paid.receipt, paid.receipt], { nostrPubkey: zapper, recipient: agent })
    expect(tally.zaps).toHaveLength(1)
    expect(tally.totalMsats).toBe(21_000)
    expect(tally.zaps[0]).toMatchObject({ senderPubkey: getPublicKey(sender), comment: 'thanks' })
    expect(tally.rejected).toEqual([])
  })

  it('refuses an invoice for another amount or another request, and the endpoint\'s errors', async () => {
    const { fetchFn, agent } = setup()
    const endpoint = await fetchPayEndpoint({ lud16: 'scribe@127.0.0.1:8080' }, fetchFn)
    const sender = generateSecretKey()
    const request = finalizeEvent(buildZapRequest({ recipientPubkey: agent, amountMsats: 21_000, relays: ['ws://127.0.0.1:7777'], lnurl: endpoint.lnurl, createdAt: Math.floor(Date.now() / 1000) }), sender)
    const other = finalizeEvent(buildZapRequest({ recipientPubkey: agent, amountMsats: 21_000, relays: ['ws://127.0.0.1:7777'], lnurl: endpoint.lnurl, comment: 'other', createdAt: Math.floor(Date.now() / 1000) }), sender)
    // A callback that answers with the invoice of another zap request.
    const swapping: Fetch = (url) => {
      const swapped = new URL(url)
      if (swapped.searchParams.has('nostr')) swapped.searchParams.set('nostr', JSON.stringify(other))
      return fetchFn(swapped.toString())
    }
    await expect(requestZapInvoice(endpoint, request, 21_000, swapping)).rejects.toThrow(/does not commit to this zap request/)
    // A zap request whose amount tag differs from the amount asked: the endpoint refuses it.
    await expect(requestZapInvoice(endpoint, request, 22_000, fetchFn)).rejects.toThrow(/refused: .*amount/)
    await expect(requestZapInvoice(endpoint, request, 1, fetchFn)).rejects.toThrow(/takes between/)
    await expect(fetchPayEndpoint({ lud16: 'nobody@127.0.0.1:8080' }, fetchFn)).rejects.toThrow(/refused: no agent named/)
  })

  it('ignores forged and mismatched receipts, saying why', async () => {
    const { fetchFn, agent, zapper, zapperKey } = setup()
    const endpoint = await fetchPayEndpoint({ lud16: 'scribe@127.0.0.1:8080' }, fetchFn)
    const sender = generateSecretKey()
    const request = finalizeEvent(buildZapRequest({ recipientPubkey: agent, amountMsats: 21_000, relays: ['ws://127.0.0.1:7777'], lnurl: endpoint.lnurl, createdAt: Math.floor(Date.now() / 1000) }), sender)
    const invoice = await requestZapInvoice(endpoint, request, 21_000, fetchFn)
    const template = buildZapReceipt({ zapRequestJson: JSON.stringify(request), bolt11: invoice, paidAt: Math.floor(Date.now() / 1000) })
    const forged = finalizeEvent(template, generateSecretKey())
    const inflated = finalizeEvent({ ...template, tags: template.tags.map((t) => (t[0] === 'description' ? ['description', JSON.stringify(finalizeEvent({ ...buildZapRequest({ recipientPubkey: agent, amountMsats: 2_100_000, relays: ['ws://127.0.0.1:7777'], createdAt: request.created_at }) }, sender))] : t)) }, zapperKey)
    const tally = tallyZaps([forged, inflated], { nostrPubkey: zapper, recipient: agent })
    expect(tally.zaps).toEqual([])
    expect(tally.rejected.map((r) => r.reason)).toEqual([expect.stringContaining('not signed by'), expect.stringContaining('description hash')])
  })
})
