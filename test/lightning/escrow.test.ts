// Hold-invoice escrow on the FAKE network: release, dispute, deadlines, and restarts (a new Escrow
// on the same SQLite file) at every step, including crashes between a state write and the wallet call.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createClnRestWallet } from '../../agents/lightning/cln-rest.js'
import { Escrow, EscrowError, type EscrowOptions } from '../../agents/lightning/escrow.js'
import { FakeLightningNetwork, seededRandom, type FakeLightningNode } from '../../agents/lightning/fake-network.js'
import type { LightningWallet } from '../../agents/lightning/wallet.js'

const START = 1_700_000_000_000
let now = START
let network: FakeLightningNetwork
let agent: FakeLightningNode
let requester: FakeLightningNode
let dir: string
let dbPath: string
let opened: Escrow[] = []

beforeEach(() => {
  now = START
  network = new FakeLightningNetwork({ clock: () => now, random: seededRandom('escrow') })
  agent = network.createNode('agent')
  requester = network.createNode('requester', { balanceMsats: 1_000_000 })
  dir = mkdtempSync(join(tmpdir(), 'timmy-escrow-'))
  dbPath = join(dir, 'escrow.sqlite')
})

afterEach(() => {
  for (const e of opened) e.close()
  opened = []
  rmSync(dir, { recursive: true, force: true })
})

function open(wallet: LightningWallet = agent, options: Partial<EscrowOptions> = {}): Escrow {
  const escrow = Escrow.open(dbPath, { wallet, clock: () => now, random: seededRandom(`escrow-${opened.length}`), workTimeoutSeconds: 300, disputeWindowSeconds: 120, invoiceExpirySeconds: 60, ...options })
  opened.push(escrow)
  return escrow
}

/** The wallet with some methods replaced; the rest go to the real one. */
function delegate(wallet: LightningWallet, overrides: Partial<LightningWallet>): LightningWallet {
  return {
    kind: wallet.kind,
    fake: wallet.fake,
    supportsHoldInvoices: wallet.supportsHoldInvoices,
    supportsBolt12: wallet.supportsBolt12,
    createInvoice: (p) => wallet.createInvoice(p),
    lookupInvoice: (h) => wallet.lookupInvoice(h),
    createHoldInvoice: (p) => wallet.createHoldInvoice(p),
    settleHoldInvoice: (p) => wallet.settleHoldInvoice(p),
    cancelHoldInvoice: (h) => wallet.cancelHoldInvoice(h),
    payInvoice: (b, o) => wallet.payInvoice(b, o),
    lookupPayment: (h) => wallet.lookupPayment(h),
    balance: () => wallet.balance(),
    createOffer: (p) => wallet.createOffer(p),
    ...overrides,
  }
}

const never = () => new Promise<never>(() => {})
const outcome = (p: Promise<unknown>) => p.then((v) => v, (e: unknown) => e)
const balance = async (node: FakeLightningNode) => (await node.balance()).balanceMsats

/** Locks job-1 for 50,000 msat and has the requester pay it; resolves when the payment is held. */
async function lockAndPay(escrow: Escrow): Promise<{ payment: Promise<unknown> }> {
  const record = await escrow.lock({ jobId: 'job-1', amountMsats: 50_000, description: 'summarize' })
  const payment = outcome(requester.payInvoice(record.bolt11!, { maxFeeMsats: 0 }))
  expect((await escrow.tick()).map((r) => r.state)).toEqual(['held'])
  // Wrapped: an async function would otherwise wait for the (held) payment itself.
  return { payment }
}

describe('escrow', () => {
  it('locks the payment, releases it when the requester accepts the result', async () => {
    const escrow = open()
    const record = await escrow.lock({ jobId: 'job-1', amountMsats: 50_000 })
    expect(record).toMatchObject({ state: 'awaiting-payment', amountMsats: 50_000, invoiceExpiresAt: START / 1000 + 60 })
    expect(await escrow.lock({ jobId: 'job-1', amountMsats: 50_000 })).toEqual(record)
    expect(await escrow.tick()).toEqual([])

    const payment = outcome(requester.payInvoice(record.bolt11!, { maxFeeMsats: 0 }))
    const [held] = await escrow.tick()
    expect(held).toMatchObject({ state: 'held', heldAt: START / 1000, workDeadline: START / 1000 + 300 })
    expect(await balance(requester)).toBe(950_000)
    expect(await balance(agent)).toBe(0)

    now += 10_000
    expect(escrow.delivered('job-1')).toMatchObject({ state: 'delivered', disputeDeadline: START / 1000 + 10 + 120 })
    expect(await escrow.accept('job-1')).toMatchObject({ state: 'settled', resolvedAt: START / 1000 + 10 })
    expect(await escrow.accept('job-1')).toMatchObject({ state: 'settled' })
    expect(await payment).toMatchObject({ paymentHash: record.paymentHash })
    expect(await balance(agent)).toBe(50_000)
    expect(escrow.open()).toEqual([])
  })

  it('releases the payment when the dispute window passes in silence', async () => {
    const escrow = open()
    await lockAndPay(escrow)
    escrow.delivered('job-1')
    now += 119_000
    expect(await escrow.tick()).toEqual([])
    now += 1000
    expect((await escrow.tick()).map((r) => r.state)).toEqual(['settled'])
    expect(await balance(agent)).toBe(50_000)
  })

  it('returns the payment on a dispute within the window, and refuses one after it', async () => {
    const escrow = open()
    const { payment } = await lockAndPay(escrow)
    escrow.delivered('job-1')
    now += 60_000
    expect(await escrow.refund('job-1', 'the summary is empty')).toMatchObject({ state: 'canceled', reason: 'the summary is empty' })
    expect(await escrow.refund('job-1', 'again')).toMatchObject({ state: 'canceled', reason: 'the summary is empty' })
    expect(await payment).toMatchObject({ code: 'payment-failed' })
    expect(await balance(requester)).toBe(1_000_000)
    expect(await balance(agent)).toBe(0)

    const late = await escrow.lock({ jobId: 'job-2', amountMsats: 1000 })
    void outcome(requester.payInvoice(late.bolt11!, { maxFeeMsats: 0 }))
    await escrow.tick()
    escrow.delivered('job-2')
    now += 121_000
    expect(await outcome(escrow.refund('job-2', 'too late'))).toMatchObject({ status: 409, message: expect.stringMatching(/dispute window/) })
  })

  it('returns the payment when no result comes before the work deadline', async () => {
    const escrow = open()
    await lockAndPay(escrow)
    now += 300_000
    const [canceled] = await escrow.tick()
    expect(canceled).toMatchObject({ state: 'canceled', reason: 'no result before the work deadline' })
    expect(await balance(requester)).toBe(1_000_000)
  })

  it('gives concurrent lock calls for one job the same invoice', async () => {
    const escrow = open()
    const [x, y] = await Promise.all([escrow.lock({ jobId: 'job-9', amountMsats: 10 }), escrow.lock({ jobId: 'job-9', amountMsats: 10 })])
    expect(x).toEqual(y)
    expect(escrow.open()).toHaveLength(1)
  })

  it('marks an invoice nobody paid as expired', async () => {
    const escrow = open()
    await escrow.lock({ jobId: 'job-1', amountMsats: 1000 })
    now += 61_000
    expect(await escrow.tick()).toMatchObject([{ state: 'expired', reason: 'the hold invoice expired unpaid' }])
  })

  it('refuses wrong transitions and unknown jobs with an HTTP-style status', async () => {
    const escrow = open()
    await escrow.lock({ jobId: 'job-1', amountMsats: 1000 })
    expect(() => escrow.delivered('job-1')).toThrow(expect.objectContaining({ status: 409 }))
    expect(await outcome(escrow.accept('job-1'))).toBeInstanceOf(EscrowError)
    expect(() => escrow.delivered('nope')).toThrow(expect.objectContaining({ status: 404 }))
  })

  it('needs a wallet with hold invoices and a hold short enough for the HTLC', () => {
    expect(() => open(createClnRestWallet({ url: 'http://127.0.0.1:1', rune: 'r' }))).toThrow(/hold invoices/)
    expect(() => open(agent, { workTimeoutSeconds: 12 * 3600 })).toThrow(/CLTV/)
  })
})

describe('escrow across restarts', () => {
  it('carries on after a restart between every step', async () => {
    const first = open()
    const record = await first.lock({ jobId: 'job-1', amountMsats: 50_000 })
    first.close()
    const payment = outcome(requester.payInvoice(record.bolt11!, { maxFeeMsats: 0 }))

    const second = open()
    expect(await second.lock({ jobId: 'job-1', amountMsats: 50_000 })).toEqual(record)
    expect((await second.tick()).map((r) => r.state)).toEqual(['held'])
    second.close()

    now += 5000
    const third = open()
    third.delivered('job-1')
    third.close()

    now += 120_000
    const fourth = open()
    expect((await fourth.tick()).map((r) => r.state)).toEqual(['settled'])
    expect(await payment).toMatchObject({ paymentHash: record.paymentHash })
    expect(await balance(agent)).toBe(50_000)
  })

  it('finishes a settle that crashed before the wallet call, exactly once', async () => {
    const crashing = open(delegate(agent, { settleHoldInvoice: never }))
    const { payment } = await lockAndPay(crashing)
    crashing.delivered('job-1')
    void crashing.accept('job-1')
    await Promise.resolve()
    expect(crashing.get('job-1')!.state).toBe('settling')

    const restarted = open()
    expect((await restarted.tick()).map((r) => r.state)).toEqual(['settled'])
    expect(await restarted.tick()).toEqual([])
    expect(await payment).toMatchObject({ preimage: expect.any(String) })
    expect(await balance(agent)).toBe(50_000)
    expect(network.payments().filter((p) => p.state === 'succeeded')).toHaveLength(1)
  })

  it('finishes a settle that crashed after the wallet settled but before the state was written', async () => {
    const crashing = open(delegate(agent, { settleHoldInvoice: async (preimage) => { await agent.settleHoldInvoice(preimage); return never() } }))
    const { payment } = await lockAndPay(crashing)
    crashing.delivered('job-1')
    void crashing.accept('job-1')
    expect(await payment).toMatchObject({ preimage: expect.any(String) })
    expect(crashing.get('job-1')!.state).toBe('settling')

    const restarted = open()
    expect((await restarted.tick()).map((r) => r.state)).toEqual(['settled'])
    expect(await balance(agent)).toBe(50_000)
  })

  it('finishes a refund that crashed midway', async () => {
    const crashing = open(delegate(agent, { cancelHoldInvoice: async (hash) => { await agent.cancelHoldInvoice(hash); return never() } }))
    const { payment } = await lockAndPay(crashing)
    void crashing.refund('job-1', 'requester disputed')
    expect(await payment).toMatchObject({ code: 'payment-failed' })

    const restarted = open()
    expect(await restarted.tick()).toMatchObject([{ state: 'canceled', reason: 'requester disputed' }])
    expect(await balance(requester)).toBe(1_000_000)
  })

  it('starts over when a crash came between storing the preimage and storing the invoice', async () => {
    const crashing = open(delegate(agent, { createHoldInvoice: never }))
    void crashing.lock({ jobId: 'job-1', amountMsats: 2000 })
    await Promise.resolve()
    expect(crashing.get('job-1')!.state).toBe('creating')

    const restarted = open()
    const record = await restarted.lock({ jobId: 'job-1', amountMsats: 2000 })
    expect(record.state).toBe('awaiting-payment')
    void outcome(requester.payInvoice(record.bolt11!, { maxFeeMsats: 0 }))
    expect((await restarted.tick()).map((r) => r.state)).toEqual(['held'])
  })
})
