// The page's NWC payment against the test wallet service over a real relay; the browser's WebSocket
// is `ws` here (Node 20 has none).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { generateSecretKey, getPublicKey, verifyEvent } from '../nips/01.js'
import { buildNwcUri, type NwcEncryption } from '../nips/47.js'
import { RelayPool as AgentRelayPool } from '../agents/pool.js'
import { FakeLightningNetwork } from '../agents/lightning/fake-network.js'
import { startRelay, type RunningRelay } from '../relay/index.js'
import { startNwcService } from '../test/lightning/nwc-service.js'
import { payInvoiceWithNwc, storedNwcUri, storeNwcUri } from './nwc.js'
import { RelayPool } from './relay-pool.js'

let relay: RunningRelay
let servicePool: AgentRelayPool
const network = new FakeLightningNetwork()
const now = () => Math.floor(Date.now() / 1000)

beforeAll(async () => {
  vi.stubGlobal('WebSocket', WebSocket)
  relay = await startRelay({ port: 0, dbPath: ':memory:', config: { verifierThreads: 0 } })
  servicePool = new AgentRelayPool({ verify: verifyEvent })
})

afterAll(async () => {
  servicePool.close()
  await relay.close()
  vi.unstubAllGlobals()
})

let nodes = 0
async function connect(options: { encryptions?: NwcEncryption[]; methods?: string[]; balanceMsats?: number }) {
  const serviceSk = generateSecretKey()
  const clientSk = generateSecretKey()
  const wallet = network.createNode(`page-wallet-${++nodes}`, { balanceMsats: options.balanceMsats ?? 1_000_000 })
  const agent = network.createNode(`agent-${nodes}`)
  const service = await startNwcService({ node: wallet, relays: servicePool, relayUrls: [relay.url], serviceSecretKey: serviceSk, clientPubkey: getPublicKey(clientSk), ...(options.encryptions && { encryptions: options.encryptions }), methods: options.methods ?? ['pay_invoice', 'get_balance'], now })
  const uri = buildNwcUri({ walletPubkey: getPublicKey(serviceSk), relays: [relay.url], secret: clientSk })
  return { uri, wallet, agent, service }
}

const openRelays = (urls: string[]) => new RelayPool(urls)

describe('paying through NWC (NIP-47)', () => {
  it.each([
    { mode: 'NIP-44', encryptions: ['nip44_v2', 'nip04'] as NwcEncryption[], expected: 'nip44_v2' },
    { mode: 'a NIP-04-only service (no encryption tag)', encryptions: undefined, expected: 'nip04' },
  ])('pays a job invoice with $mode', async ({ encryptions, expected }) => {
    const { uri, agent, service } = await connect({ ...(encryptions && { encryptions }) })
    const invoice = await agent.createInvoice({ amountMsats: 21_000, description: 'job', expirySeconds: 600 })
    const paid = await payInvoiceWithNwc(uri, invoice.bolt11, { openRelays, timeoutMs: 10_000 })
    expect((await agent.lookupInvoice(invoice.paymentHash)).state).toBe('settled')
    expect(paid.preimage).toMatch(/^[0-9a-f]{64}$/)
    expect(service.requests).toEqual([{ method: 'pay_invoice', encryption: expected, params: { invoice: invoice.bolt11 } }])
    service.close()
  })

  it("shows the wallet's error code and message", async () => {
    const { uri, agent, service } = await connect({ encryptions: ['nip44_v2'], balanceMsats: 1_000 })
    const invoice = await agent.createInvoice({ amountMsats: 50_000, description: 'job', expirySeconds: 600 })
    await expect(payInvoiceWithNwc(uri, invoice.bolt11, { openRelays, timeoutMs: 10_000 })).rejects.toThrow(/^INSUFFICIENT_BALANCE: /)
    service.close()
  })

  it('refuses a connection that may not pay, before sending anything', async () => {
    const { uri, agent, service } = await connect({ encryptions: ['nip44_v2'], methods: ['get_balance'] })
    const invoice = await agent.createInvoice({ amountMsats: 1_000, description: 'job', expirySeconds: 600 })
    await expect(payInvoiceWithNwc(uri, invoice.bolt11, { openRelays, timeoutMs: 10_000 })).rejects.toThrow('does not allow pay_invoice')
    expect(service.requests).toEqual([])
    service.close()
  })
})

describe('the stored connection URI', () => {
  const memory = () => {
    const items = new Map<string, string>()
    return { getItem: (k: string) => items.get(k) ?? null, setItem: (k: string, v: string) => void items.set(k, v), removeItem: (k: string) => void items.delete(k) }
  }

  it('keeps a valid URI, forgets it on request, and refuses one that does not parse', () => {
    const storage = memory()
    const uri = buildNwcUri({ walletPubkey: getPublicKey(generateSecretKey()), relays: ['wss://relay.example'], secret: generateSecretKey() })
    storeNwcUri(uri, storage)
    expect(storedNwcUri(storage)).toBe(uri)
    expect(() => storeNwcUri('nostr+walletconnect://nothex?relay=wss://r', storage)).toThrow('wallet pubkey')
    expect(storedNwcUri(storage)).toBe(uri)
    storeNwcUri(undefined, storage)
    expect(storedNwcUri(storage)).toBeUndefined()
  })
})
