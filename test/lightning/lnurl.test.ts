// LNURL-pay + NIP-57 for agents, over a real node:http server, paid on the FAKE network; every
// receipt it signs must pass strict zap receipt validation.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bech32 } from '@scure/base'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey } from '../../nips/01.js'
import { buildZapRequest, validateZapReceipt } from '../../nips/57.js'
import { decodeBolt11 } from '../../agents/lightning/bolt11.js'
import { FakeLightningNetwork, type FakeLightningNode } from '../../agents/lightning/fake-network.js'
import { createLnurlHandler, lnurlHttpListener, sqliteZapStore, type LnurlHandler, type ZapStore } from '../../agents/lightning/lnurl.js'
import { sha256Hex } from '../../agents/lightning/wallet.js'

const START = 1_700_000_000_000
let now = START
const agentSk = generateSecretKey()
const agentPubkey = getPublicKey(agentSk)
const zapperSk = generateSecretKey()
const zapSigner = { pubkey: getPublicKey(zapperSk), sign: (t: Parameters<typeof finalizeEvent>[0]) => finalizeEvent(t, zapperSk) }
const senderSk = generateSecretKey()

let network: FakeLightningNetwork
let agentNode: FakeLightningNode
let payer: FakeLightningNode
let server: Server
let baseUrl: string
let handler: LnurlHandler
let dir: string

function makeHandler(store?: ZapStore): LnurlHandler {
  return createLnurlHandler({
    wallet: agentNode,
    agents: { summarizer: { pubkey: agentPubkey, zapSigner, description: 'Summaries for sats' } },
    baseUrl,
    clock: () => now,
    minSendableMsats: 1000,
    maxSendableMsats: 1_000_000,
    ...(store && { store }),
  })
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'timmy-lnurl-'))
  server = createServer((req, res) => {
    if (lnurlHttpListener(handler)(req, res)) return
    res.writeHead(404, { 'Content-Type': 'text/plain' })
    res.end('host route')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(dir, { recursive: true, force: true })
})

beforeEach(() => {
  now = START
  network = new FakeLightningNetwork({ clock: () => now })
  agentNode = network.createNode('agent')
  payer = network.createNode('payer', { balanceMsats: 10_000_000 })
  handler = makeHandler()
})


async function get(path: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(baseUrl + path)
  const text = await res.text()
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : { text }, headers: res.headers }
}

function zapRequest(overrides: Partial<Parameters<typeof buildZapRequest>[0]> = {}) {
  return finalizeEvent(
    buildZapRequest({ recipientPubkey: agentPubkey, amountMsats: 21_000, relays: ['wss://relay.one', 'wss://relay.two'], lnurl: handler.lnurl('summarizer'), eventId: 'ab'.repeat(32), comment: 'thanks', createdAt: START / 1000, ...overrides }),
    senderSk,
  )
}

const callbackPath = (amount: number, zap?: object) => `/lnurlp/summarizer/callback?amount=${amount}${zap ? `&nostr=${encodeURIComponent(JSON.stringify(zap))}` : ''}`

describe('LNURL-pay endpoint', () => {
  it('serves LUD-06/16 pay parameters with NIP-57 fields, CORS open', async () => {
    const { status, body, headers } = await get('/.well-known/lnurlp/summarizer')
    expect(status).toBe(200)
    expect(headers.get('access-control-allow-origin')).toBe('*')
    expect(body).toEqual({
      tag: 'payRequest',
      callback: `${baseUrl}/lnurlp/summarizer/callback`,
      minSendable: 1000,
      maxSendable: 1_000_000,
      metadata: JSON.stringify([['text/plain', 'Summaries for sats'], ['text/identifier', `summarizer@${new URL(baseUrl).host}`]]),
      commentAllowed: 0,
      allowsNostr: true,
      nostrPubkey: zapSigner.pubkey,
    })
    expect(handler.lightningAddress('summarizer')).toBe(`summarizer@${new URL(baseUrl).host}`)
    const decoded = bech32.decode(handler.lnurl('summarizer') as `${string}1${string}`, false)
    expect(new TextDecoder().decode(bech32.fromWords(decoded.words))).toBe(`${baseUrl}/.well-known/lnurlp/summarizer`)
  })

  it('issues a plain LNURL invoice committing to the metadata', async () => {
    const { status, body } = await get(callbackPath(5000))
    expect(status).toBe(200)
    expect(body.routes).toEqual([])
    const metadata = ((await get('/.well-known/lnurlp/summarizer')).body.metadata as string)
    const invoice = decodeBolt11(body.pr as string)
    expect(invoice.amountMsats).toBe(5000)
    expect(invoice.descriptionHash).toBe(sha256Hex(metadata))
    expect(await handler.collectReceipts()).toEqual([])
  })

  it('refuses bad requests with an LNURL error and a reason', async () => {
    const cases: [string, number, RegExp][] = [
      ['/lnurlp/summarizer/callback', 400, /amount \(msat\) is required/],
      [callbackPath(999), 400, /between 1000 and 1000000/],
      [callbackPath(2_000_000), 400, /between/],
      [callbackPath(5000, zapRequest()), 400, /does not match the requested amount/],
      [callbackPath(21_000, zapRequest({ recipientPubkey: 'cd'.repeat(32) })), 400, /another recipient/],
      [callbackPath(21_000, { ...zapRequest(), content: 'forged' }), 400, /signature/],
      [callbackPath(21_000, zapRequest({ lnurl: 'lnurl1somebodyelse' })), 400, /another LNURL/],
      ['/lnurlp/summarizer/callback?amount=21000&nostr=%7Bnope', 400, /not JSON/],
      ['/.well-known/lnurlp/nobody', 404, /no agent named "nobody"/],
    ]
    for (const [path, status, reason] of cases) {
      const res = await get(path)
      expect({ path, status: res.status }).toEqual({ path, status })
      expect(res.body.status).toBe('ERROR')
      expect(res.body.reason).toMatch(reason)
    }
    expect((await fetch(baseUrl + '/.well-known/lnurlp/summarizer', { method: 'POST' })).status).toBe(405)
    expect((await get('/somewhere/else')).body.text).toBe('host route')
  })
})

describe('zaps', () => {
  it('invoices a zap request by its hash and, once paid, signs a receipt that passes strict validation', async () => {
    const request = zapRequest()
    const requestJson = JSON.stringify(request)
    const { body } = await get(callbackPath(21_000, request))
    const pr = body.pr as string
    expect(decodeBolt11(pr).descriptionHash).toBe(sha256Hex(requestJson))
    expect(await handler.collectReceipts()).toEqual([])

    now += 30_000
    const paid = await payer.payInvoice(pr, { maxFeeMsats: 0 })
    const [published, ...more] = await handler.collectReceipts()
    expect(more).toEqual([])
    expect(published.relays).toEqual(['wss://relay.one', 'wss://relay.two'])
    expect(published.agent).toBe('summarizer')
    const result = validateZapReceipt(published.receipt, { nostrPubkey: zapSigner.pubkey, recipientPubkey: agentPubkey, eventId: 'ab'.repeat(32), lnurl: handler.lnurl('summarizer') })
    expect(result.ok && result.zap).toMatchObject({ amountMsats: 21_000, senderPubkey: getPublicKey(senderSk), comment: 'thanks', paidAt: START / 1000 + 30 })
    expect(published.receipt.tags).toContainEqual(['preimage', paid.preimage])
    expect(published.receipt.tags).toContainEqual(['description', requestJson])

    // Until acknowledged the same receipt (same id) comes back; then it is gone.
    expect((await handler.collectReceipts()).map((r) => r.receipt.id)).toEqual([published.receipt.id])
    handler.acknowledge(published.paymentHash)
    expect(await handler.collectReceipts()).toEqual([])
  })

  it('forgets zaps whose invoice expired unpaid', async () => {
    const store = sqliteZapStore(':memory:')
    handler = makeHandler(store)
    await get(callbackPath(21_000, zapRequest()))
    expect(store.list()).toHaveLength(1)
    now += 601_000
    expect(await handler.collectReceipts()).toEqual([])
    expect(store.list()).toEqual([])
  })

  it('owes the receipt across a restart (SQLite store)', async () => {
    const path = join(dir, 'zaps.sqlite')
    const first = sqliteZapStore(path)
    handler = makeHandler(first)
    const { body } = await get(callbackPath(21_000, zapRequest()))
    first.close()

    const second = sqliteZapStore(path)
    handler = makeHandler(second)
    await payer.payInvoice(body.pr as string, { maxFeeMsats: 0 })
    const receipts = await handler.collectReceipts()
    expect(receipts).toHaveLength(1)
    expect(validateZapReceipt(receipts[0].receipt, { nostrPubkey: zapSigner.pubkey }).ok).toBe(true)
    handler.acknowledge(receipts[0].paymentHash)
    expect(second.list()).toEqual([])
    second.close()
  })
})
