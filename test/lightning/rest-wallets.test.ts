// The LND and Core Lightning REST clients against servers that speak the real wire formats, backed
// by the FAKE network; the same contract is checked on the fake node itself.
import bolt11 from 'bolt11'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { decodeOffer } from '../../agents/lightning/bolt12/index.js'
import { decodeBolt11 } from '../../agents/lightning/bolt11.js'
import { createClnRestWallet } from '../../agents/lightning/cln-rest.js'
import { FakeLightningNetwork, seededRandom, type FakeLightningNode } from '../../agents/lightning/fake-network.js'
import { createLndRestWallet } from '../../agents/lightning/lnd-rest.js'
import { paymentHashOf, sha256Hex, waitForPayment, WalletError, type LightningWallet } from '../../agents/lightning/wallet.js'
import { startFakeCln, startFakeLnd, type RunningFakeServer } from './fake-servers.js'

const START = 1_700_000_000_000
const MACAROON = '0201036c6e6402f801030a10'
const RUNE = 'tU-RLjMiDpY2U0o3W1oFowar36RFGpWloPbW9-RuZdo9MyZpZD0wMjRiOWExZmE4ZTAwNmYxZTM5MzdmNjVmNjZjNDA4ZTZkYThlMWNhNzI4ZWE0MzIyMmE3MzgxZGYxY2M0NDk2MDU'

let now = START
let network: FakeLightningNetwork
let payer: FakeLightningNode
let servers: RunningFakeServer[] = []

beforeEach(() => {
  now = START
  network = new FakeLightningNetwork({ clock: () => now, random: seededRandom('rest-wallets'), routingFee: { baseMsats: 1000, ppm: 1000 } })
  payer = network.createNode('payer', { balanceMsats: 10_000_000 })
})

afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()))
  servers = []
})

/** Settles a promise into its error (or undefined) at once, so that a later rejection is never unhandled. */
const outcome = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (e: unknown) => e)

async function expectWalletError(promise: Promise<unknown>, code: WalletError['code'], message?: RegExp): Promise<void> {
  const err = await outcome(promise)
  expect(err).toBeInstanceOf(WalletError)
  expect((err as WalletError).code).toBe(code)
  if (message) expect((err as WalletError).message).toMatch(message)
}

const waitOptions = { timeoutMs: 5000, pollMs: 5, now: () => now, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) }

interface Backend {
  name: string
  holds: boolean
  make: () => Promise<{ wallet: LightningWallet; node: FakeLightningNode; server?: RunningFakeServer }>
}

const backends: Backend[] = [
  {
    name: 'fake node',
    holds: true,
    make: async () => {
      const node = network.createNode('merchant', { balanceMsats: 5_000_000 })
      return { wallet: node, node }
    },
  },
  {
    name: 'LND REST',
    holds: true,
    make: async () => {
      const node = network.createNode('lnd', { balanceMsats: 5_000_000 })
      const server = await startFakeLnd(network, node, MACAROON)
      servers.push(server)
      return { wallet: createLndRestWallet({ url: server.url, macaroonHex: MACAROON, trackTimeoutMs: 300 }), node, server }
    },
  },
  {
    name: 'Core Lightning REST',
    holds: false,
    make: async () => {
      const node = network.createNode('cln', { balanceMsats: 5_000_000 })
      const server = await startFakeCln(network, node, RUNE)
      servers.push(server)
      return { wallet: createClnRestWallet({ url: server.url, rune: RUNE, random: seededRandom('labels') }), node, server }
    },
  },
]

describe.each(backends)('wallet contract: $name', (backend) => {
  it('issues a real BOLT11 invoice that another node pays; lookup shows it settled with the preimage', async () => {
    const { wallet, node } = await backend.make()
    const created = await wallet.createInvoice({ amountMsats: 21_000, description: 'summarize job 42', expirySeconds: 600 })
    const decoded = bolt11.decode(created.bolt11)
    expect(decoded.millisatoshis).toBe('21000')
    expect(decoded.payeeNodeKey).toBe(node.nodeId)
    expect(decoded.tagsObject.payment_hash).toBe(created.paymentHash)
    expect(decoded.tagsObject.description).toBe('summarize job 42')
    expect(created.expiresAt).toBe(START / 1000 + 600)
    expect((await wallet.lookupInvoice(created.paymentHash)).state).toBe('open')

    const paid = await payer.payInvoice(created.bolt11, { maxFeeMsats: 5000 })
    const status = await wallet.lookupInvoice(created.paymentHash)
    expect(status).toMatchObject({ state: 'settled', amountMsats: 21_000, settledAt: START / 1000, preimage: paid.preimage })
    expect(paymentHashOf(status.preimage!)).toBe(created.paymentHash)
  })

  it('commits to a description hash (NIP-57 / LNURL)', async () => {
    const { wallet } = await backend.make()
    const description = JSON.stringify({ kind: 9734, content: 'zap' })
    const created = await wallet.createInvoice({ amountMsats: 1000, description, descriptionHash: sha256Hex(description) })
    expect(decodeBolt11(created.bolt11).descriptionHash).toBe(sha256Hex(description))
    await expectWalletError(wallet.createInvoice({ amountMsats: 1000, description: 'other', descriptionHash: sha256Hex(description) }), 'invalid', /not the sha256/)
  })

  it('pays an invoice within the fee limit and reports the payment; refuses expired and over-fee payments', async () => {
    const { wallet } = await backend.make()
    const before = (await wallet.balance()).balanceMsats
    const invoice = await payer.createInvoice({ amountMsats: 100_000, description: 'withdrawal', expirySeconds: 60 })
    await expectWalletError(wallet.payInvoice(invoice.bolt11, { maxFeeMsats: 10 }), 'payment-failed')
    const paid = await wallet.payInvoice(invoice.bolt11, { maxFeeMsats: 5000 })
    expect(paid.feeMsats).toBe(1100)
    expect(paymentHashOf(paid.preimage)).toBe(invoice.paymentHash)
    expect((await wallet.balance()).balanceMsats).toBe(before - 101_100)
    expect(await wallet.lookupPayment(invoice.paymentHash)).toMatchObject({ state: 'succeeded', preimage: paid.preimage, feeMsats: 1100 })
    expect((await wallet.lookupPayment('ab'.repeat(32))).state).toBe('unknown')

    const late = await payer.createInvoice({ amountMsats: 1000, expirySeconds: 60 })
    now += 61_000
    await expectWalletError(wallet.payInvoice(late.bolt11, { maxFeeMsats: 5000 }), 'expired')
  })

  it('says not-found for an unknown invoice and rejects malformed input before calling the node', async () => {
    const { wallet, server } = await backend.make()
    await expectWalletError(wallet.lookupInvoice('00'.repeat(32)), 'not-found')
    const seen = server?.requests.length ?? 0
    await expectWalletError(wallet.lookupInvoice('xyz'), 'invalid')
    await expectWalletError(wallet.createInvoice({ amountMsats: 0 }), 'invalid')
    await expectWalletError(wallet.payInvoice('lnbc1notaninvoice', { maxFeeMsats: 0 }), 'invalid', /malformed BOLT11/)
    expect(server?.requests.length ?? 0).toBe(seen)
  })

  it('waitForPayment reports an invoice that expires unpaid', async () => {
    const { wallet } = await backend.make()
    const created = await wallet.createInvoice({ amountMsats: 1000, expirySeconds: 30 })
    now += 31_000
    await expectWalletError(waitForPayment(wallet, created.paymentHash, waitOptions), 'expired')
  })
})

describe.each(backends.filter((b) => b.holds))('hold invoices: $name', (backend) => {
  it('holds a payment until settled, and returns it when canceled; both idempotent', async () => {
    const { wallet } = await backend.make()
    const preimage = 'a1'.repeat(32)
    const hold = await wallet.createHoldInvoice({ amountMsats: 50_000, description: 'escrow', paymentHash: paymentHashOf(preimage) })
    const payment = payer.payInvoice(hold.bolt11, { maxFeeMsats: 5000 })
    const accepted = await waitForPayment(wallet, hold.paymentHash, { ...waitOptions, untilAccepted: true })
    expect(accepted.state).toBe('accepted')
    expect(accepted.preimage).toBeUndefined()
    await wallet.settleHoldInvoice(preimage)
    await wallet.settleHoldInvoice(preimage)
    expect((await payment).preimage).toBe(preimage)
    expect((await wallet.lookupInvoice(hold.paymentHash)).state).toBe('settled')

    const refund = await wallet.createHoldInvoice({ amountMsats: 70_000, paymentHash: paymentHashOf('b2'.repeat(32)) })
    const balanceBefore = (await payer.balance()).balanceMsats
    const refunded = outcome(payer.payInvoice(refund.bolt11, { maxFeeMsats: 5000 }))
    await waitForPayment(wallet, refund.paymentHash, { ...waitOptions, untilAccepted: true })
    expect((await payer.balance()).balanceMsats).toBe(balanceBefore - 70_000 - 1070)
    await wallet.cancelHoldInvoice(refund.paymentHash)
    await wallet.cancelHoldInvoice(refund.paymentHash)
    expect(await refunded).toMatchObject({ code: 'payment-failed', message: expect.stringMatching(/canceled/) })
    expect((await payer.balance()).balanceMsats).toBe(balanceBefore)
    expect((await wallet.lookupInvoice(refund.paymentHash)).state).toBe('canceled')
  })
})

describe.each(backends.filter((b) => !b.holds))('no hold invoices: $name', (backend) => {
  it('refuses hold invoices with the reason', async () => {
    const { wallet } = await backend.make()
    expect(wallet.supportsHoldInvoices).toBe(false)
    await expectWalletError(wallet.createHoldInvoice({ amountMsats: 1000, paymentHash: '00'.repeat(32) }), 'unsupported', /hold invoices/)
  })
})

describe('LND REST specifics', () => {
  it('speaks the wire format: macaroon header, string int64s, base64 bytes, hex r_hash_str', async () => {
    const node = network.createNode('lnd')
    const server = await startFakeLnd(network, node, MACAROON)
    servers.push(server)
    const lnd = createLndRestWallet({ url: server.url + '/', macaroonHex: MACAROON })
    const description = 'zap request json'
    const created = await lnd.createInvoice({ amountMsats: 2500, description, descriptionHash: sha256Hex(description), expirySeconds: 300 })
    await lnd.lookupInvoice(created.paymentHash)
    const [add, lookup] = server.requests
    expect(add.headers['grpc-metadata-macaroon']).toBe(MACAROON)
    expect(add.body).toEqual({ value_msat: '2500', description_hash: Buffer.from(sha256Hex(description), 'hex').toString('base64'), expiry: '300' })
    expect(lookup.path).toBe(`/v1/invoice/${created.paymentHash}`)
  })

  it('maps a bad macaroon to unauthorized, and says LND cannot receive BOLT12', async () => {
    const node = network.createNode('lnd')
    const server = await startFakeLnd(network, node, MACAROON)
    servers.push(server)
    await expectWalletError(createLndRestWallet({ url: server.url, macaroonHex: 'abcd' }).balance(), 'unauthorized', /verification failed/)
    const lnd = createLndRestWallet({ url: server.url, macaroonHex: MACAROON })
    expect(lnd.supportsBolt12).toBe(false)
    await expectWalletError(lnd.createOffer(), 'unsupported', /LND cannot receive BOLT12/)
  })

  it('keeps paying a hold invoice until its receiver settles; lookupPayment says pending meanwhile', async () => {
    const node = network.createNode('lnd', { balanceMsats: 1_000_000 })
    const server = await startFakeLnd(network, node, MACAROON)
    servers.push(server)
    const lnd = createLndRestWallet({ url: server.url, macaroonHex: MACAROON, trackTimeoutMs: 200 })
    const preimage = 'c3'.repeat(32)
    const hold = await payer.createHoldInvoice({ amountMsats: 30_000, paymentHash: paymentHashOf(preimage) })
    const paying = lnd.payInvoice(hold.bolt11, { maxFeeMsats: 2000 })
    await waitForPayment(payer, hold.paymentHash, { ...waitOptions, untilAccepted: true })
    expect((await lnd.lookupPayment(hold.paymentHash)).state).toBe('pending')
    await payer.settleHoldInvoice(preimage)
    expect(await paying).toEqual({ paymentHash: hold.paymentHash, preimage, feeMsats: 1030 })
    await expectWalletError(lnd.payInvoice(hold.bolt11, { maxFeeMsats: 2000 }), 'payment-failed', /already paid/)
  })

  it('reports insufficient balance from the payment stream', async () => {
    const node = network.createNode('lnd', { balanceMsats: 500 })
    const server = await startFakeLnd(network, node, MACAROON)
    servers.push(server)
    const lnd = createLndRestWallet({ url: server.url, macaroonHex: MACAROON })
    const invoice = await payer.createInvoice({ amountMsats: 10_000 })
    await expectWalletError(lnd.payInvoice(invoice.bolt11, { maxFeeMsats: 2000 }), 'insufficient-balance', /INSUFFICIENT_BALANCE/)
  })
})

describe('Core Lightning REST specifics', () => {
  it('sends the Rune header and deschashonly; refuses a bare description hash', async () => {
    const node = network.createNode('cln')
    const server = await startFakeCln(network, node, RUNE)
    servers.push(server)
    const cln = createClnRestWallet({ url: server.url, rune: RUNE })
    const description = '[["text/plain","pay agent"]]'
    await cln.createInvoice({ amountMsats: 3000, description, descriptionHash: sha256Hex(description) })
    const [call] = server.requests
    expect(call.path).toBe('/v1/invoice')
    expect(call.headers.rune).toBe(RUNE)
    expect(call.body).toMatchObject({ amount_msat: 3000, description, deschashonly: true })
    expect((call.body as { label: string }).label).toMatch(/^timmy-[0-9a-f]{32}$/)
    await expectWalletError(cln.createInvoice({ amountMsats: 3000, descriptionHash: sha256Hex(description) }), 'unsupported', /deschashonly/)
  })

  it('maps rune failures to unauthorized', async () => {
    const node = network.createNode('cln')
    const server = await startFakeCln(network, node, RUNE)
    servers.push(server)
    await expectWalletError(createClnRestWallet({ url: server.url, rune: 'wrong' }).balance(), 'unauthorized', /Not authorized/)
  })

  it('counts only normal channels in the balance', async () => {
    const node = network.createNode('cln', { balanceMsats: 123_000 })
    const server = await startFakeCln(network, node, RUNE)
    servers.push(server)
    expect(await createClnRestWallet({ url: server.url, rune: RUNE }).balance()).toEqual({ balanceMsats: 123_000 })
  })

  it('creates BOLT12 offers that our codec decodes, with the node as issuer', async () => {
    const node = network.createNode('cln')
    const server = await startFakeCln(network, node, RUNE)
    servers.push(server)
    const cln = createClnRestWallet({ url: server.url, rune: RUNE })
    expect(cln.supportsBolt12).toBe(true)
    const fixed = await cln.createOffer({ amountMsats: 5000, description: 'translate' })
    expect(decodeOffer(fixed.bolt12)).toMatchObject({ offerAmount: 5000n, offerDescription: 'translate', offerIssuerId: node.nodeId })
    expect(server.requests.at(-1)!.body).toEqual({ amount: '5000msat', description: 'translate' })
    const open = await cln.createOffer({ description: 'tips' })
    expect(decodeOffer(open.bolt12).offerAmount).toBeUndefined()
  })
})
