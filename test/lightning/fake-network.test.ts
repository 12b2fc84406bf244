// The FAKE Lightning network: real signed BOLT11 invoices, payments between its nodes, hold
// invoices, expiry, determinism, and FAKE labels wherever it shows.
import bolt11 from 'bolt11'
import { describe, expect, it } from 'vitest'
import { decodeOffer } from '../../agents/lightning/bolt12/index.js'
import { signBolt11 } from '../../agents/lightning/bolt11.js'
import { FakeLightningNetwork, seededRandom } from '../../agents/lightning/fake-network.js'
import { createWallet, walletConfigSchema } from '../../agents/lightning/index.js'
import { paymentHashOf, WalletError } from '../../agents/lightning/wallet.js'

const START = 1_700_000_000_000
const outcome = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e)

function setup(seed = 'fake') {
  let now = START
  const lines: string[] = []
  const network = new FakeLightningNetwork({ clock: () => now, random: seededRandom(seed), log: (l) => lines.push(l) })
  const alice = network.createNode('alice', { balanceMsats: 1_000_000 })
  const bob = network.createNode('bob')
  return { network, alice, bob, lines, advance: (ms: number) => (now += ms) }
}

describe('FAKE lightning network', () => {
  it('is labelled FAKE everywhere it shows', async () => {
    const { network, alice, lines } = setup()
    expect(network.fake).toBe(true)
    expect(alice).toMatchObject({ kind: 'fake', fake: true, alias: 'FAKE alice' })
    await alice.createInvoice({ amountMsats: 1000 })
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(line).toMatch(/^FAKE lightning: /)
    const invoice = await alice.createInvoice({ amountMsats: 1000 })
    expect(invoice.bolt11).toMatch(/^lnbcrt/)
  })

  it('issues real invoices, signed by the node, with the hash of a real preimage', async () => {
    const { alice, bob } = setup()
    const invoice = await bob.createInvoice({ amountMsats: 12_345, description: 'translate', expirySeconds: 900 })
    const decoded = bolt11.decode(invoice.bolt11)
    expect(decoded).toMatchObject({ millisatoshis: '12345', payeeNodeKey: bob.nodeId, timestamp: START / 1000, timeExpireDate: START / 1000 + 900 })
    expect(decoded.tagsObject).toMatchObject({ payment_hash: invoice.paymentHash, description: 'translate' })
    expect(decoded.tagsObject.payment_secret).toMatch(/^[0-9a-f]{64}$/)
    const paid = await alice.payInvoice(invoice.bolt11, { maxFeeMsats: 0 })
    expect(paymentHashOf(paid.preimage)).toBe(invoice.paymentHash)
    expect(await bob.balance()).toEqual({ balanceMsats: 12_345 })
    expect(await alice.balance()).toEqual({ balanceMsats: 1_000_000 - 12_345 })
  })

  it('is deterministic with a seeded random source and a fixed clock', async () => {
    const one = setup('same')
    const two = setup('same')
    expect(one.bob.nodeId).toBe(two.bob.nodeId)
    const a = await one.bob.createInvoice({ amountMsats: 5000, description: 'x' })
    const b = await two.bob.createInvoice({ amountMsats: 5000, description: 'x' })
    expect(a).toEqual(b)
    expect(setup('other').bob.nodeId).not.toBe(one.bob.nodeId)
  })

  it('refuses what a real node would refuse, with the reason', async () => {
    const { network, alice, bob, advance } = setup()
    const expectError = async (p: Promise<unknown>, code: string, reason: RegExp) => expect(await outcome(p)).toMatchObject({ code, message: expect.stringMatching(reason) })

    const invoice = await bob.createInvoice({ amountMsats: 2000 })
    await alice.payInvoice(invoice.bolt11, { maxFeeMsats: 0 })
    await expectError(alice.payInvoice(invoice.bolt11, { maxFeeMsats: 0 }), 'payment-failed', /already paid/)
    await expectError(bob.payInvoice((await alice.createInvoice({ amountMsats: 5000 })).bolt11, { maxFeeMsats: 0 }), 'insufficient-balance', /cannot cover/)
    await expectError(alice.payInvoice((await alice.createInvoice({ amountMsats: 1000 })).bolt11, { maxFeeMsats: 0 }), 'payment-failed', /self-payments/)

    const elsewhere = new FakeLightningNetwork({ clock: () => START }).createNode('carol')
    await expectError(alice.payInvoice((await elsewhere.createInvoice({ amountMsats: 1000 })).bolt11, { maxFeeMsats: 0 }), 'payment-failed', /no route/)

    const mainnet = signBolt11({ network: 'bitcoin', amountMsats: 1000, paymentHash: 'aa'.repeat(32), paymentSecret: 'bb'.repeat(32), description: '', timestamp: START / 1000, expirySeconds: 60 }, new Uint8Array(32).fill(7))
    await expectError(alice.payInvoice(mainnet, { maxFeeMsats: 0 }), 'invalid', /only pays regtest/)
    await expectError(alice.payInvoice('lnbcrt1xyz', { maxFeeMsats: 0 }), 'invalid', /malformed/)

    const stale = await bob.createInvoice({ amountMsats: 1000, expirySeconds: 10 })
    advance(10_000)
    await expectError(alice.payInvoice(stale.bolt11, { maxFeeMsats: 0 }), 'expired', /expired/)
    expect((await bob.lookupInvoice(stale.paymentHash)).state).toBe('canceled')
    await expectError(bob.lookupInvoice('00'.repeat(32)), 'not-found', /no invoice/)
    await expectError(bob.createHoldInvoice({ amountMsats: 1, paymentHash: invoice.paymentHash }), 'invalid', /already exists/)
    expect(network.payments().filter((p) => p.state === 'succeeded')).toHaveLength(1)
  })

  it('charges the configured routing fee within the payer’s limit', async () => {
    const network = new FakeLightningNetwork({ clock: () => START, routingFee: { baseMsats: 100, ppm: 10_000 } })
    const payer = network.createNode('payer', { balanceMsats: 100_000 })
    const payee = network.createNode('payee')
    const invoice = await payee.createInvoice({ amountMsats: 10_000 })
    expect(await outcome(payer.payInvoice(invoice.bolt11, { maxFeeMsats: 199 }))).toMatchObject({ code: 'payment-failed', message: expect.stringMatching(/fee 200 msat exceeds/) })
    expect((await payer.payInvoice(invoice.bolt11, { maxFeeMsats: 200 })).feeMsats).toBe(200)
    expect(await payer.balance()).toEqual({ balanceMsats: 100_000 - 10_200 })
    expect(await payer.lookupPayment(invoice.paymentHash)).toMatchObject({ state: 'succeeded', feeMsats: 200 })
  })

  it('holds a payment: the payer waits, the receiver settles with the preimage or cancels', async () => {
    const { alice, bob } = setup()
    const preimage = '5a'.repeat(32)
    const hold = await bob.createHoldInvoice({ amountMsats: 30_000, paymentHash: paymentHashOf(preimage) })
    let settled = false
    const paying = alice.payInvoice(hold.bolt11, { maxFeeMsats: 0 }).then((r) => ((settled = true), r))
    await Promise.resolve()
    expect(settled).toBe(false)
    expect(await bob.lookupInvoice(hold.paymentHash)).toMatchObject({ state: 'accepted' })
    expect(await alice.lookupPayment(hold.paymentHash)).toMatchObject({ state: 'pending' })
    expect(await outcome(bob.settleHoldInvoice('5b'.repeat(32)))).toMatchObject({ code: 'not-found' })
    await bob.settleHoldInvoice(preimage)
    expect((await paying).preimage).toBe(preimage)
    expect(await bob.lookupInvoice(hold.paymentHash)).toMatchObject({ state: 'settled', preimage })
    expect(await outcome(bob.cancelHoldInvoice(hold.paymentHash))).toBeInstanceOf(WalletError)

    const open = await bob.createHoldInvoice({ amountMsats: 1000, paymentHash: paymentHashOf('6c'.repeat(32)) })
    expect(await outcome(bob.settleHoldInvoice('6c'.repeat(32)))).toMatchObject({ code: 'invalid', message: expect.stringMatching(/only a held payment/) })
    await bob.cancelHoldInvoice(open.paymentHash)
    expect((await bob.lookupInvoice(open.paymentHash)).state).toBe('canceled')
  })

  it('creates BOLT12 offers our codec decodes', async () => {
    const { bob } = setup()
    const offer = await bob.createOffer({ amountMsats: 21_000, description: 'a summary' })
    expect(decodeOffer(offer.bolt12)).toMatchObject({ offerAmount: 21_000n, offerDescription: 'a summary', offerIssuerId: bob.nodeId, offerIssuer: 'FAKE bob' })
    expect(offer.offerId).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('wallet configuration', () => {
  it('defaults to the FAKE network, saying so, and validates real backends', async () => {
    const lines: string[] = []
    const network = new FakeLightningNetwork()
    const wallet = await createWallet(walletConfigSchema.parse({ kind: 'fake' }), { name: 'summarizer', fakeNetwork: network, log: (l) => lines.push(l) })
    expect(wallet).toMatchObject({ kind: 'fake', fake: true })
    expect(await createWallet({ kind: 'fake' }, { name: 'summarizer', fakeNetwork: network })).toBe(wallet)
    expect(lines.join('\n')).toMatch(/FAKE lightning: .*sats are not real/)
    expect(walletConfigSchema.safeParse({ kind: 'lnd', url: 'https://127.0.0.1:8080', macaroonHex: 'zz' }).success).toBe(false)
    expect(walletConfigSchema.safeParse({ kind: 'cln', url: 'https://127.0.0.1:3010', rune: 'abc' }).success).toBe(true)
    const lnd = await createWallet({ kind: 'lnd', url: 'https://127.0.0.1:8080', macaroonHex: 'ab' }, { name: 'x' })
    expect(lnd).toMatchObject({ kind: 'lnd', fake: false, supportsBolt12: false, supportsHoldInvoices: true })
  })
})
