// The treasury on the FAKE network: double-entry bookkeeping, sweeps, approvals, crash-safe
// withdrawals (a new Treasury on the same SQLite file after a "crash" at each step) and the CLI.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command, CommanderError } from 'commander'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeLightningNetwork, seededRandom, type FakeLightningNode } from '../../agents/lightning/fake-network.js'
import { registerTreasuryCommands, Treasury, treasuryPath, type TreasuryOptions } from '../../agents/lightning/treasury.js'
import { WalletError, type LightningWallet } from '../../agents/lightning/wallet.js'

const START = 1_700_000_000_000
let now = START
let network: FakeLightningNetwork
let host: FakeLightningNode
let cold: FakeLightningNode
let client: FakeLightningNode
let dir: string
let dbPath: string
let opened: Treasury[] = []

beforeEach(() => {
  now = START
  network = new FakeLightningNetwork({ clock: () => now, random: seededRandom('treasury'), routingFee: { baseMsats: 1000, ppm: 0 } })
  host = network.createNode('host')
  cold = network.createNode('cold')
  client = network.createNode('client', { balanceMsats: 100_000_000 })
  dir = mkdtempSync(join(tmpdir(), 'timmy-treasury-'))
  dbPath = treasuryPath(dir)
})

afterEach(() => {
  for (const t of opened) t.close()
  opened = []
  rmSync(dir, { recursive: true, force: true })
})

function open(options: Partial<TreasuryOptions> = {}): Treasury {
  const treasury = Treasury.open(dbPath, { wallet: host, coldWallet: cold, clock: () => now, maxFee: { baseMsats: 1000, ppm: 0 }, ...options })
  opened.push(treasury)
  return treasury
}

/** A client really pays the host for a job; the treasury books it for the agent. */
async function earn(treasury: Treasury, agent: string, amountMsats: number): Promise<string> {
  const invoice = await host.createInvoice({ amountMsats, description: `job for ${agent}` })
  await client.payInvoice(invoice.bolt11, { maxFeeMsats: 10_000 })
  const status = await host.lookupInvoice(invoice.paymentHash)
  treasury.recordEarning({ agent, paymentHash: invoice.paymentHash, amountMsats: status.amountMsats, memo: 'job 1' })
  return invoice.paymentHash
}

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
const coldPayments = () => network.payments().filter((p) => p.payee === 'cold' && p.state === 'succeeded')

describe('ledger', () => {
  it('books each earning once per payment hash, balanced', async () => {
    const treasury = open()
    const hash = await earn(treasury, 'summarizer', 21_000)
    expect(treasury.recordEarning({ agent: 'summarizer', paymentHash: hash, amountMsats: 21_000 })).toBe(false)
    await earn(treasury, 'summarizer', 9000)
    await earn(treasury, 'translator', 5000)
    expect(treasury.balance('summarizer')).toEqual({ agent: 'summarizer', hotWalletMsats: 30_000, earnedMsats: 30_000, pendingWithdrawalMsats: 0, coldWalletMsats: 0, feesMsats: 0 })
    expect(treasury.summary('summarizer')).toMatchObject({ payments: 2, earnedLast24hMsats: 30_000, earnedLast30dMsats: 30_000 })
    now += 2 * 86_400_000
    expect(treasury.summary('summarizer')).toMatchObject({ earnedLast24hMsats: 0, earnedLast30dMsats: 30_000 })
    expect(treasury.agents()).toEqual(['summarizer', 'translator'])
    const [latest] = treasury.ledger({ agent: 'summarizer' })
    expect(latest.entries).toEqual([{ account: 'hot_wallet', amountMsats: 9000 }, { account: 'earnings', amountMsats: -9000 }])
    expect(treasury.unbalancedTransactions()).toEqual([])
    expect(() => treasury.recordEarning({ agent: 'x', paymentHash: 'nope', amountMsats: 1 })).toThrow(/paymentHash/)
    expect(() => treasury.recordEarning({ agent: 'x', paymentHash: 'a'.repeat(64), amountMsats: 0 })).toThrow(/positive/)
  })
})

describe('sweeps and withdrawals', () => {
  it('sweeps above the threshold into a withdrawal that waits for approval, then pays the cold wallet', async () => {
    const treasury = open()
    await earn(treasury, 'summarizer', 40_000)
    expect(treasury.sweep({ agent: 'summarizer', thresholdMsats: 50_000, keepMsats: 10_000 })).toBeUndefined()
    await earn(treasury, 'summarizer', 20_000)
    const withdrawal = treasury.sweep({ agent: 'summarizer', thresholdMsats: 50_000, keepMsats: 10_000 })!
    expect(withdrawal).toMatchObject({ id: 1, agent: 'summarizer', amountMsats: 49_000, feeReserveMsats: 1000, state: 'pending-approval' })
    expect(treasury.sweep({ agent: 'summarizer', thresholdMsats: 0 })).toBeUndefined()
    expect(treasury.balance('summarizer')).toMatchObject({ hotWalletMsats: 10_000, pendingWithdrawalMsats: 50_000 })

    expect(await treasury.process()).toEqual([])
    expect(coldPayments()).toEqual([])

    treasury.approve(1, { by: 'cli:alice' })
    const [[paid], again] = await Promise.all([treasury.process(), treasury.process()])
    expect(again).toEqual([paid])
    expect(paid).toMatchObject({ id: 1, state: 'paid', approvedBy: 'cli:alice', feeMsats: 1000 })
    expect((await cold.balance()).balanceMsats).toBe(49_000)
    expect(treasury.balance('summarizer')).toEqual({ agent: 'summarizer', hotWalletMsats: 10_000, earnedMsats: 60_000, pendingWithdrawalMsats: 0, coldWalletMsats: 49_000, feesMsats: 1000 })
    expect(await treasury.process()).toEqual([])
    expect(coldPayments()).toHaveLength(1)
    expect(treasury.unbalancedTransactions()).toEqual([])
  })

  it('pays an invoice the approver supplies, for exactly the amount', async () => {
    const treasury = open({ coldWallet: undefined })
    await earn(treasury, 'a', 30_000)
    const w = treasury.requestWithdrawal({ agent: 'a', amountMsats: 25_000, reason: 'payout' })
    const wrong = await cold.createInvoice({ amountMsats: 24_000 })
    expect(() => treasury.approve(w.id, { by: 'op', bolt11: wrong.bolt11 })).toThrow(expect.objectContaining({ status: 400, message: expect.stringMatching(/24000 msat/) }))
    expect(() => treasury.approve(w.id, { by: 'op', bolt11: 'lnbc1garbage' })).toThrow(expect.objectContaining({ status: 400 }))
    const right = await cold.createInvoice({ amountMsats: 25_000 })
    treasury.approve(w.id, { by: 'op', bolt11: right.bolt11 })
    expect(() => treasury.approve(w.id, { by: 'op' })).toThrow(expect.objectContaining({ status: 409 }))
    expect(await treasury.process()).toMatchObject([{ state: 'paid', paymentHash: right.paymentHash }])
    expect(() => treasury.requestWithdrawal({ agent: 'a', amountMsats: 10_000, reason: 'too much' })).toThrow(/has 4000 msat, cannot withdraw 10000 msat plus up to 1000 msat of fees/)
  })

  it('returns the sats of a rejected or failed withdrawal to the agent', async () => {
    const treasury = open()
    await earn(treasury, 'a', 30_000)
    const rejected = treasury.requestWithdrawal({ agent: 'a', amountMsats: 20_000, reason: 'sweep' })
    expect(treasury.reject(rejected.id, { by: 'op', reason: 'not now' })).toMatchObject({ state: 'rejected', error: 'not now' })
    expect(treasury.balance('a').hotWalletMsats).toBe(30_000)

    // The host node's own balance is short of the amount: the payment fails cleanly.
    treasury.recordEarning({ agent: 'a', paymentHash: 'f'.repeat(64), amountMsats: 10_000_000 })
    const big = treasury.requestWithdrawal({ agent: 'a', amountMsats: 5_000_000, reason: 'sweep' })
    treasury.approve(big.id, { by: 'op' })
    expect(await treasury.process()).toMatchObject([{ id: big.id, state: 'failed', error: expect.stringMatching(/balance/) }])
    expect(treasury.balance('a')).toMatchObject({ hotWalletMsats: 10_030_000, pendingWithdrawalMsats: 0 })
    expect(treasury.unbalancedTransactions()).toEqual([])
  })

  it('keeps its books balanced and never overdraws, whatever the order of operations', async () => {
    type Op = { kind: 'earn'; amount: number } | { kind: 'sweep'; threshold: number } | { kind: 'approve' } | { kind: 'reject' } | { kind: 'process' }
    const op = fc.oneof(
      fc.record({ kind: fc.constant('earn' as const), amount: fc.integer({ min: 1000, max: 50_000 }) }),
      fc.record({ kind: fc.constant('sweep' as const), threshold: fc.integer({ min: 0, max: 60_000 }) }),
      fc.constant({ kind: 'approve' as const }),
      fc.constant({ kind: 'reject' as const }),
      fc.constant({ kind: 'process' as const }),
    )
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 15 }), async (ops: Op[]) => {
        const treasury = Treasury.open(join(dir, `prop-${run++}.sqlite`), { wallet: host, coldWallet: cold, clock: () => now })
        try {
          for (const o of ops) {
            const pending = treasury.withdrawals({ states: ['pending-approval'] })[0]
            if (o.kind === 'earn') await earn(treasury, 'p', o.amount)
            else if (o.kind === 'sweep') treasury.sweep({ agent: 'p', thresholdMsats: o.threshold })
            else if (o.kind === 'approve' && pending) treasury.approve(pending.id, { by: 'op' })
            else if (o.kind === 'reject' && pending) treasury.reject(pending.id, { by: 'op', reason: 'no' })
            else if (o.kind === 'process') await treasury.process()
            const b = treasury.balance('p')
            expect(b.hotWalletMsats).toBeGreaterThanOrEqual(0)
            expect(b.hotWalletMsats + b.pendingWithdrawalMsats + b.coldWalletMsats + b.feesMsats).toBe(b.earnedMsats)
          }
          expect(treasury.unbalancedTransactions()).toEqual([])
        } finally {
          treasury.close()
        }
      }),
      { numRuns: 25 },
    )
  })
})

describe('withdrawals across crashes', () => {
  async function approvedWithdrawal(treasury: Treasury): Promise<number> {
    await earn(treasury, 'a', 80_000)
    const w = treasury.sweep({ agent: 'a', thresholdMsats: 10_000 })!
    treasury.approve(w.id, { by: 'op' })
    return w.id
  }

  it('pays once when the crash came after the paying state was written but before the payment left', async () => {
    const crashing = open({ wallet: delegate(host, { payInvoice: never }) })
    const id = await approvedWithdrawal(crashing)
    void crashing.process()
    await vi.waitFor(() => expect(crashing.withdrawal(id).state).toBe('paying'))
    expect(coldPayments()).toEqual([])

    const restarted = open()
    expect(await restarted.process()).toMatchObject([{ id, state: 'paid' }])
    expect(coldPayments()).toHaveLength(1)
    expect(await restarted.process()).toEqual([])
    expect(coldPayments()).toHaveLength(1)
    expect(restarted.balance('a')).toEqual({ agent: 'a', hotWalletMsats: 0, earnedMsats: 80_000, pendingWithdrawalMsats: 0, coldWalletMsats: 79_000, feesMsats: 1000 })
  })

  it('books without paying again when the crash came after the payment but before the ledger write', async () => {
    const crashing = open({ wallet: delegate(host, { payInvoice: async (bolt11, options) => { await host.payInvoice(bolt11, options); return never() } }) })
    const id = await approvedWithdrawal(crashing)
    void crashing.process()
    await vi.waitFor(() => expect(coldPayments()).toHaveLength(1))
    expect(crashing.withdrawal(id).state).toBe('paying')
    expect(crashing.balance('a').coldWalletMsats).toBe(0)

    const restarted = open()
    expect(await restarted.process()).toMatchObject([{ id, state: 'paid', feeMsats: 1000 }])
    expect(coldPayments()).toHaveLength(1)
    expect(restarted.balance('a')).toMatchObject({ coldWalletMsats: 79_000, pendingWithdrawalMsats: 0, feesMsats: 1000 })
    expect(restarted.unbalancedTransactions()).toEqual([])
  })

  it('leaves a payment whose outcome is unknown for the next round', async () => {
    const flaky = open({ wallet: delegate(host, { payInvoice: async () => { throw new WalletError('timeout', 'no answer') } }) })
    const id = await approvedWithdrawal(flaky)
    expect(await flaky.process()).toEqual([])
    expect(flaky.withdrawal(id).state).toBe('paying')
    const restarted = open()
    expect(await restarted.process()).toMatchObject([{ id, state: 'paid' }])
  })
})

describe('timmy treasury', () => {
  async function run(...args: string[]): Promise<string> {
    const program = new Command().exitOverride()
    registerTreasuryCommands(program)
    const lines: string[] = []
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line))
    const error = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true))
    try {
      await program.parseAsync(['node', 'timmy', 'treasury', ...args, '--home', dir])
    } finally {
      log.mockRestore()
      error.mockRestore()
    }
    return lines.join('\n')
  }

  it('shows balances, the ledger and withdrawals, and approves or rejects them', async () => {
    const treasury = open()
    await earn(treasury, 'summarizer', 70_000)
    const w = treasury.sweep({ agent: 'summarizer', thresholdMsats: 50_000 })!

    expect(JSON.parse(await run('balance', '--json'))).toMatchObject([{ agent: 'summarizer', earnedMsats: 70_000, pendingWithdrawalMsats: 70_000, payments: 1 }])
    expect(await run('balance')).toMatch(/summarizer: earned 70 sat in 1 payments/)
    expect(JSON.parse(await run('ledger', '--json')).map((t: { kind: string }) => t.kind)).toEqual(['withdrawal-reserve', 'earning'])
    expect(await run('ledger', '--agent', 'summarizer')).toMatch(/hot_wallet\s+credit 70 sat/)
    expect(JSON.parse(await run('withdrawals', '--pending', '--json'))).toMatchObject([{ id: w.id, state: 'pending-approval' }])
    expect(JSON.parse(await run('approve', String(w.id), '--json'))).toMatchObject({ id: w.id, state: 'approved', approvedBy: expect.stringMatching(/^cli:/) })
    expect(await run('withdrawals')).toMatch(/#1 {2}summarizer {2}69 sat {2}approved/)

    const err = await run('approve', String(w.id)).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(CommanderError)
    expect((err as CommanderError).message).toMatch(/withdrawal #1 is approved, not waiting for approval/)
    expect(await run('reject', String(w.id), '--reason', 'changed my mind')).toMatch(/rejected: #1/)
    expect(treasury.balance('summarizer').hotWalletMsats).toBe(70_000)
  })
})
