// The NWC wallet end to end: our relay (no AUTH needed for NWC kinds), the agent relay pool, and an
// in-test wallet service with a FAKE node behind it, in NIP-44 and in legacy NIP-04 mode.
import bolt11 from 'bolt11'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey, verifyEvent } from '../../nips/01.js'
import { buildNwcUri, type NwcEncryption } from '../../nips/47.js'
import { RelayPool } from '../../agents/pool.js'
import { FakeLightningNetwork, type FakeLightningNode } from '../../agents/lightning/fake-network.js'
import { connectNwcWallet, type NwcWallet } from '../../agents/lightning/nwc.js'
import { paymentHashOf, waitForPayment, WalletError } from '../../agents/lightning/wallet.js'
import { startRelay, type RunningRelay } from '../../relay/index.js'
import { startNwcService, type RunningNwcService } from './nwc-service.js'

const ALL_METHODS = ['pay_invoice', 'get_balance', 'make_invoice', 'lookup_invoice', 'make_hold_invoice', 'settle_hold_invoice', 'cancel_hold_invoice']

let relay: RunningRelay
let pool: RelayPool
let network: FakeLightningNetwork
let cleanup: (() => void)[] = []

beforeAll(async () => {
  relay = await startRelay({ port: 0, dbPath: ':memory:', config: { verifierThreads: 0 } })
  pool = new RelayPool({ verify: verifyEvent })
  network = new FakeLightningNetwork()
})

afterEach(() => {
  for (const c of cleanup) c()
  cleanup = []
})

afterAll(async () => {
  pool.close()
  await relay.close()
})

const outcome = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (e: unknown) => e)

let nodes = 0
async function setup(options: { encryptions?: NwcEncryption[]; methods?: string[]; balanceMsats?: number } = {}): Promise<{ wallet: NwcWallet; node: FakeLightningNode; service: RunningNwcService; payer: FakeLightningNode }> {
  const serviceSk = generateSecretKey()
  const clientSk = generateSecretKey()
  const node = network.createNode(`nwc-${++nodes}`, { balanceMsats: options.balanceMsats ?? 1_000_000 })
  const payer = network.createNode(`payer-${nodes}`, { balanceMsats: 1_000_000 })
  const service = await startNwcService({
    node,
    relays: pool,
    relayUrls: [relay.url],
    serviceSecretKey: serviceSk,
    clientPubkey: getPublicKey(clientSk),
    ...('encryptions' in options ? { encryptions: options.encryptions } : { encryptions: ['nip44_v2', 'nip04'] }),
    methods: options.methods ?? ALL_METHODS,
    now: () => Math.floor(Date.now() / 1000),
  })
  const wallet = await connectNwcWallet({ uri: buildNwcUri({ walletPubkey: getPublicKey(serviceSk), relays: [relay.url], secret: clientSk }), relays: pool, requestTimeoutMs: 5000 })
  cleanup.push(() => wallet.close(), () => service.close())
  return { wallet, node, service, payer }
}

const wait = { timeoutMs: 5000, pollMs: 20 }

describe.each([
  { mode: 'NIP-44', encryptions: ['nip44_v2', 'nip04'] as NwcEncryption[] | undefined, expected: 'nip44_v2' },
  { mode: 'legacy NIP-04 (no encryption tag)', encryptions: undefined, expected: 'nip04' },
])('NWC wallet over our relay: $mode', ({ encryptions, expected }) => {
  it('makes invoices, sees them paid, pays, looks payments up and reads the balance', async () => {
    const { wallet, node, service, payer } = await setup({ encryptions })
    expect(wallet.encryption).toBe(expected)
    expect(wallet.supportsHoldInvoices).toBe(true)

    const created = await wallet.createInvoice({ amountMsats: 42_000, description: 'job 7', expirySeconds: 120 })
    expect(bolt11.decode(created.bolt11).payeeNodeKey).toBe(node.nodeId)
    const paid = await payer.payInvoice(created.bolt11, { maxFeeMsats: 0 })
    const settled = await waitForPayment(wallet, created.paymentHash, wait)
    expect(settled).toMatchObject({ state: 'settled', amountMsats: 42_000, preimage: paid.preimage })

    const bill = await payer.createInvoice({ amountMsats: 10_000 })
    const payment = await wallet.payInvoice(bill.bolt11, { maxFeeMsats: 100 })
    expect(paymentHashOf(payment.preimage)).toBe(bill.paymentHash)
    expect(await wallet.lookupPayment(bill.paymentHash)).toMatchObject({ state: 'succeeded', preimage: payment.preimage })
    expect((await wallet.lookupPayment('ef'.repeat(32))).state).toBe('unknown')
    expect(await wallet.balance()).toEqual({ balanceMsats: 1_000_000 + 42_000 - 10_000 })
    expect(new Set(service.requests.map((r) => r.encryption))).toEqual(new Set([expected]))
  })

  it('holds a payment and settles or cancels it', async () => {
    const { wallet, payer } = await setup({ encryptions })
    const preimage = bytesHex(7)
    const hold = await wallet.createHoldInvoice({ amountMsats: 5000, paymentHash: paymentHashOf(preimage) })
    const paying = payer.payInvoice(hold.bolt11, { maxFeeMsats: 0 })
    expect((await waitForPayment(wallet, hold.paymentHash, { ...wait, untilAccepted: true })).state).toBe('accepted')
    await wallet.settleHoldInvoice(preimage)
    await wallet.settleHoldInvoice(preimage)
    expect((await paying).preimage).toBe(preimage)

    const other = await wallet.createHoldInvoice({ amountMsats: 5000, paymentHash: paymentHashOf(bytesHex(8)) })
    const refunded = outcome(payer.payInvoice(other.bolt11, { maxFeeMsats: 0 }))
    await waitForPayment(wallet, other.paymentHash, { ...wait, untilAccepted: true })
    await wallet.cancelHoldInvoice(other.paymentHash)
    await wallet.cancelHoldInvoice(other.paymentHash)
    expect(await refunded).toBeInstanceOf(WalletError)
  })
})

describe('NWC errors', () => {
  it('maps wallet service errors to wallet error codes', async () => {
    const { wallet, payer } = await setup({ balanceMsats: 10 })
    const bill = await payer.createInvoice({ amountMsats: 10_000 })
    const err = await outcome(wallet.payInvoice(bill.bolt11, { maxFeeMsats: 100 }))
    expect(err).toMatchObject({ code: 'insufficient-balance', message: expect.stringMatching(/INSUFFICIENT_BALANCE/) })
    expect(await outcome(wallet.lookupInvoice('12'.repeat(32)))).toMatchObject({ code: 'not-found' })
  })

  it('does not send what the service does not offer; no hold support without the hold methods', async () => {
    const { wallet, service } = await setup({ methods: ['make_invoice', 'lookup_invoice'] })
    expect(wallet.supportsHoldInvoices).toBe(false)
    expect(await outcome(wallet.balance())).toMatchObject({ code: 'unsupported', message: expect.stringMatching(/get_balance/) })
    expect(await outcome(wallet.createOffer())).toMatchObject({ code: 'unsupported' })
    expect(service.requests).toEqual([])
  })

  it('fails to connect without an info event, and times out when nobody answers', async () => {
    const clientSk = generateSecretKey()
    const silent = getPublicKey(generateSecretKey())
    const uri = buildNwcUri({ walletPubkey: silent, relays: [relay.url], secret: clientSk })
    expect(await outcome(connectNwcWallet({ uri, relays: pool }))).toMatchObject({ code: 'backend', message: expect.stringMatching(/no info event/) })
    expect(await outcome(connectNwcWallet({ uri: 'nostr+walletconnect://nope', relays: pool }))).toMatchObject({ code: 'invalid' })

    const { wallet, service } = await setup()
    service.close()
    const quick = await connectNwcWallet({ uri: buildNwcUri({ walletPubkey: wallet.walletPubkey, relays: [relay.url], secret: clientSk }), relays: pool, requestTimeoutMs: 300 })
    cleanup.push(() => quick.close())
    expect(await outcome(quick.balance())).toMatchObject({ code: 'timeout' })
  })
})

function bytesHex(seed: number): string {
  return seed.toString(16).padStart(2, '0').repeat(32)
}
