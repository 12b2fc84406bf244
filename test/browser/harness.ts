// Shared by the browser tests: Debian's Chromium driven by playwright-core (never a downloaded
// browser), the client served by its own handler, a fake NIP-07 extension backed by a test key,
// an in-test NIP-46 bunker, and fixtures (a busy swarm, a finished auction) published to a relay.
import { existsSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import WebSocket from 'ws'
import { finalizeEvent, generateSecretKey, getPublicKey, type EventTemplate, type NostrEvent } from '../../nips/01.js'
import * as nip44 from '../../nips/44.js'
import { buildHandlerInformation } from '../../nips/89.js'
import { buildJobFeedback, buildJobRequest, buildJobResult, parseJobRequest } from '../../nips/90.js'
import { auctionRequestParams, buildCommit, buildOutcome, buildReveal, computeOutcome, generateBidNonce, parseAuctionRequest, parseCommit } from '../../nips/auction.js'
import { createClientHandler } from '../../client/serve.js'
import type { LightningWallet } from '../../agents/lightning/wallet.js'

export const CHROMIUM = '/usr/bin/chromium'
export const haveChromium = existsSync(CHROMIUM)
export const haveBuild = existsSync(new URL('../../dist/client/main.js', import.meta.url)) && existsSync(new URL('../../dist/nips/90.js', import.meta.url))
export const skipReason = !haveChromium
  ? `browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`
  : !haveBuild
    ? 'browser tests skipped: dist/client is missing (run `npm run build` first; `npm test` does)'
    : ''

/** Set TIMMY_SCREENSHOTS=1 to refresh docs/screenshots/*.png while the tests run. */
export const screenshotDir = process.env.TIMMY_SCREENSHOTS === '1' ? fileURLToPath(new URL('../../docs/screenshots/', import.meta.url)) : undefined

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
}

export async function startClientServer(relays: string[]): Promise<{ url: string; close(): Promise<void> }> {
  const handler = createClientHandler({ relays })
  const server = createServer((req, res) => {
    if (handler(req, res)) return
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** Page errors and console errors, for asserting that a run was clean. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`)
  })
  return errors
}

/**
 * `window.nostr` as a NIP-07 extension would define it, signing with `secretKey` on the Node side
 * through an exposed binding. With `refuse`, every call is rejected as a user saying no.
 */
export async function installFakeExtension(page: Page, secretKey: Uint8Array, options: { refuse?: boolean } = {}): Promise<void> {
  const pubkey = getPublicKey(secretKey)
  await page.exposeFunction('__fakeNip07', (method: string, args: unknown[]) => {
    if (options.refuse) throw new Error('User rejected the request')
    switch (method) {
      case 'getPublicKey':
        return pubkey
      case 'signEvent':
        return finalizeEvent(args[0] as EventTemplate, secretKey)
      case 'nip44.encrypt':
        return nip44.encrypt(args[1] as string, nip44.getConversationKey(secretKey, args[0] as string))
      case 'nip44.decrypt':
        return nip44.decrypt(args[1] as string, nip44.getConversationKey(secretKey, args[0] as string))
    }
    throw new Error(`unknown method ${method}`)
  })
  await page.addInitScript(() => {
    const call = (method: string, ...args: unknown[]) => (window as unknown as { __fakeNip07(m: string, a: unknown[]): Promise<unknown> }).__fakeNip07(method, args)
    ;(window as unknown as { nostr: unknown }).nostr = {
      getPublicKey: () => call('getPublicKey'),
      signEvent: (event: unknown) => call('signEvent', event),
      nip44: { encrypt: (peer: string, text: string) => call('nip44.encrypt', peer, text), decrypt: (peer: string, text: string) => call('nip44.decrypt', peer, text) },
    }
  })
}

/**
 * `window.webln` as a WebLN wallet extension defines it (enable, sendPayment), paying from
 * `wallet` on the Node side: in these tests a node of the FAKE Lightning network.
 */
export async function installFakeWebln(page: Page, wallet: Pick<LightningWallet, 'payInvoice'>): Promise<string[]> {
  const paid: string[] = []
  await page.exposeFunction('__fakeWebln', async (invoice: string) => {
    const result = await wallet.payInvoice(invoice, { maxFeeMsats: 10_000 })
    paid.push(invoice)
    return result.preimage
  })
  await page.addInitScript(() => {
    const pay = (invoice: string) => (window as unknown as { __fakeWebln(i: string): Promise<string> }).__fakeWebln(invoice)
    ;(window as unknown as { webln: unknown }).webln = { enable: async () => {}, sendPayment: async (invoice: string) => ({ preimage: await pay(invoice) }) }
  })
  return paid
}

/** Stored events matching a filter, read over a bare connection (REQ until EOSE). */
export async function queryRelay(relayUrl: string, filter: Record<string, unknown>): Promise<NostrEvent[]> {
  const ws = new WebSocket(relayUrl)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const events: NostrEvent[] = []
  await new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as unknown[]
      if (message[0] === 'EVENT' && message[1] === 'q') events.push(message[2] as NostrEvent)
      else if ((message[0] === 'EOSE' || message[0] === 'CLOSED') && message[1] === 'q') resolve()
    })
    ws.send(JSON.stringify(['REQ', 'q', filter]))
  })
  ws.close()
  return events
}

/** A bare relay connection that publishes events and waits for each OK. */
export async function publishAll(relayUrl: string, events: NostrEvent[]): Promise<void> {
  const ws = new WebSocket(relayUrl)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const pending = new Map(events.map((e) => [e.id, e]))
  const done = new Promise<void>((resolve, reject) => {
    ws.on('message', (data) => {
      const [type, id, ok, message] = JSON.parse(data.toString()) as [string, string, boolean, string]
      if (type !== 'OK') return
      if (!ok && !String(message).startsWith('duplicate')) reject(new Error(`relay refused ${id}: ${message}`))
      pending.delete(id)
      if (pending.size === 0) resolve()
    })
  })
  for (const event of events) ws.send(JSON.stringify(['EVENT', event]))
  if (events.length) await done
  ws.close()
}

/**
 * A NIP-46 remote signer answering kind 24133 requests over the relay with `userSecretKey`.
 * Its own key (the bunker's) differs from the user's, as with real bunkers.
 */
export async function startBunker(relayUrl: string, userSecretKey: Uint8Array): Promise<{ uri: string; requests: string[]; close(): void }> {
  const bunkerKey = generateSecretKey()
  const bunkerPubkey = getPublicKey(bunkerKey)
  const requests: string[] = []
  const ws = new WebSocket(relayUrl)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as unknown[]
    if (message[0] !== 'EVENT' || message[1] !== 'bunker') return
    const event = message[2] as NostrEvent
    const conversation = nip44.getConversationKey(bunkerKey, event.pubkey)
    const request = JSON.parse(nip44.decrypt(event.content, conversation)) as { id: string; method: string; params: string[] }
    requests.push(request.method)
    let result: string
    switch (request.method) {
      case 'connect':
        result = 'ack'
        break
      case 'ping':
        result = 'pong'
        break
      case 'get_public_key':
        result = getPublicKey(userSecretKey)
        break
      case 'sign_event':
        result = JSON.stringify(finalizeEvent(JSON.parse(request.params[0]) as EventTemplate, userSecretKey))
        break
      case 'nip44_encrypt':
        result = nip44.encrypt(request.params[1], nip44.getConversationKey(userSecretKey, request.params[0]))
        break
      case 'nip44_decrypt':
        result = nip44.decrypt(request.params[1], nip44.getConversationKey(userSecretKey, request.params[0]))
        break
      default:
        result = ''
    }
    const reply = finalizeEvent({ kind: 24133, created_at: Math.floor(Date.now() / 1000), tags: [['p', event.pubkey]], content: nip44.encrypt(JSON.stringify({ id: request.id, result }), conversation) }, bunkerKey)
    ws.send(JSON.stringify(['EVENT', reply]))
  })
  ws.send(JSON.stringify(['REQ', 'bunker', { kinds: [24133], '#p': [bunkerPubkey], since: Math.floor(Date.now() / 1000) - 5 }]))
  return { uri: `bunker://${bunkerPubkey}?relay=${encodeURIComponent(relayUrl)}`, requests, close: () => ws.close() }
}

const TOPICS = ['lightning routing', 'relay gossip', 'zap receipts', 'NIP-90 markets', 'sealed bids', 'web of trust']

/**
 * A busy swarm for the directory and the graph: `agents` agents with profiles, announcements and
 * heartbeats, and `jobs` jobs from `requesters` requesters in every phase (processing, payment
 * required, error, done).
 */
export function swarmFixture(options: { agents: number; requesters: number; jobs: number; now: number }): NostrEvent[] {
  const { now } = options
  const events: NostrEvent[] = []
  const kinds = [5002, 5050, 5100, 5250]
  const agents = Array.from({ length: options.agents }, (_, i) => ({ key: generateSecretKey(), kind: kinds[i % kinds.length], name: ['Polyglot', 'Scribe', 'Painter', 'Narrator', 'Oracle', 'Seeker'][i % 6] }))
  for (const agent of agents) {
    events.push(finalizeEvent({ kind: 0, created_at: now - 3600, tags: [], content: JSON.stringify({ name: agent.name.toLowerCase(), display_name: agent.name, about: `A demo ${agent.name.toLowerCase()} agent.`, bot: true }) }, agent.key))
    events.push(
      finalizeEvent(
        buildHandlerInformation({
          d: `demo-${agent.kind}`,
          kinds: [agent.kind],
          content: { name: agent.name, about: `Serves kind ${agent.kind} jobs.`, encryptionSupported: true, nip90Params: { model: { required: false, values: ['small', 'large'], description: 'Model size' } } },
          createdAt: now - 3600,
        }),
        agent.key,
      ),
    )
    events.push(finalizeEvent({ kind: 11998, created_at: now - 20, tags: [['k', String(agent.kind)]], content: JSON.stringify({ status: 'online', interval: 60, active_jobs: 1 }) }, agent.key))
  }
  const requesters = Array.from({ length: options.requesters }, () => generateSecretKey())
  for (let j = 0; j < options.jobs; j++) {
    const agent = agents[j % agents.length]
    const requester = requesters[j % requesters.length]
    const createdAt = now - 3000 + j * 10
    const request = finalizeEvent(buildJobRequest({ kind: agent.kind, inputs: [{ type: 'text', value: `Job ${j} about ${TOPICS[j % TOPICS.length]}` }], createdAt }), requester)
    events.push(request)
    const parsed = parseJobRequest(request)
    const phase = j % 5
    events.push(finalizeEvent(buildJobFeedback({ request: parsed, status: 'processing', createdAt: createdAt + 1 }), agent.key))
    if (phase === 1) events.push(finalizeEvent(buildJobFeedback({ request: parsed, status: 'payment-required', amountMsats: 21_000, createdAt: createdAt + 2 }), agent.key))
    else if (phase === 2) events.push(finalizeEvent(buildJobFeedback({ request: parsed, status: 'error', extraInfo: 'input too long', createdAt: createdAt + 2 }), agent.key))
    else if (phase !== 3) events.push(finalizeEvent(buildJobResult({ request: parsed, content: `Done: ${TOPICS[j % TOPICS.length]}`, amountMsats: 21_000, createdAt: createdAt + 3 }), agent.key))
  }
  return events
}

/** A closed sealed-bid auction for a summarization job: three bids, all revealed, and the auctioneer's outcome. */
export function auctionFixture(now: number): { events: NostrEvent[]; jobId: string } {
  const auctioneer = generateSecretKey()
  const start = now - 900
  const request = finalizeEvent(
    buildJobRequest({
      kind: 5001,
      inputs: [{ type: 'text', value: 'Summarize the sealed-bid auction spec.' }],
      params: auctionRequestParams({ bidDeadline: start + 300, revealDeadline: start + 600 }),
      bidMsats: 50_000,
      createdAt: start,
    }),
    auctioneer,
  )
  const auction = parseAuctionRequest(request)
  const commits: NostrEvent[] = []
  const reveals: NostrEvent[] = []
  for (const [i, price] of [30_000, 21_000, 42_000].entries()) {
    const bidder = generateSecretKey()
    const nonce = generateBidNonce()
    const commit = finalizeEvent(buildCommit({ request: auction, bidder: getPublicKey(bidder), priceMsats: price, nonce, createdAt: start + 10 + i }), bidder)
    commits.push(commit)
    reveals.push(finalizeEvent(buildReveal({ commit: parseCommit(commit), opening: { priceMsats: price, nonce }, createdAt: start + 400 + i }), bidder))
  }
  const outcome = computeOutcome({ request, commits, reveals })
  const outcomeEvent = finalizeEvent(buildOutcome(outcome, start + 650), auctioneer)
  return { events: [request, ...commits, ...reveals, outcomeEvent], jobId: request.id }
}
