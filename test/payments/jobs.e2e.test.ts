// Paid NIP-90 jobs end to end: our relay, a real agent, and a requester that answers the agent's
// payment-required feedback by paying its bolt11 — through every backend's test double (the FAKE
// network itself, the LND REST client against the fake LND server, the CLN REST client against the
// fake CLN server, NWC against the in-test wallet service over our relay). Then pay-after-work,
// escrow (settle and cancel), restarts between invoice, payment and result, and bad invoices.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { buildJobRequest, FEEDBACK_KIND, parseJobFeedback, parseJobResult, resultKindFor } from '../../nips/90.js'
import type { NostrEvent } from '../../nips/01.js'
import { Escrow } from '../../agents/lightning/escrow.js'
import { FakeLightningNetwork, type FakeLightningNode } from '../../agents/lightning/fake-network.js'
import { Treasury } from '../../agents/lightning/treasury.js'
import type { LightningWallet } from '../../agents/lightning/wallet.js'
import { JobLog } from '../../agents/joblog.js'
import type { AgentPaymentsOptions, PaymentTerms } from '../../agents/payments.js'
import { paymentRequestProblem, walletPayer } from '../../agents/payments/requester.js'
import type { RunningRelay } from '../../relay/index.js'
import { echoCapability, ECHO_KIND, gate, startTestAgent, startTestRelay, statusOf, TestRequester, waitForJob, type TestAgent } from '../agents/helpers.js'
import { BACKENDS, walletOn } from './helpers.js'

const PRICE = 21_000
const TERMS: PaymentTerms = { payBeforeWork: true, escrow: false, invoiceExpirySeconds: 120, pollMs: 50 }

let relay: RunningRelay
let requester: TestRequester
const cleanups: (() => Promise<void> | void)[] = []

beforeAll(async () => {
  relay = await startTestRelay()
})

// A requester per test: agents started later catch up on earlier requests, which must not count against this one's limits.
beforeEach(async () => {
  requester = await TestRequester.create([relay.url])
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  requester.close()
})

afterAll(async () => {
  await relay?.close()
})

const now = () => Math.floor(Date.now() / 1000)

async function paidAgent(payments: AgentPaymentsOptions, options: { gates?: Map<string, Promise<void>>; jobLog?: JobLog; secretKey?: Uint8Array } = {}): Promise<TestAgent> {
  const agent = await startTestAgent(relay.url, [echoCapability({ price: PRICE, ...(options.gates && { gates: options.gates }) })], {
    name: 'payee',
    payments,
    ...(options.jobLog && { jobLog: options.jobLog }),
    ...(options.secretKey && { secretKey: options.secretKey }),
  })
  cleanups.push(() => agent.agent.stop())
  return agent
}

async function sendRequest(text: string, params: [string, string][] = [], bidMsats?: number): Promise<NostrEvent> {
  return requester.publish(buildJobRequest({ kind: ECHO_KIND, inputs: [{ type: 'text', value: text }], params: Object.fromEntries(params.map(([k, v]) => [k, [v]])), ...(bidMsats && { bidMsats }), createdAt: now() }))
}

function paymentRequired(request: NostrEvent): Promise<NostrEvent> {
  return requester.waitFor([{ kinds: [FEEDBACK_KIND], '#e': [request.id] }], (e) => statusOf(e) === 'payment-required')
}

function resultOf(request: NostrEvent): Promise<NostrEvent> {
  return requester.waitFor([{ kinds: [resultKindFor(ECHO_KIND)], '#e': [request.id] }])
}

/** The requester's checks, then the payment. */
async function pay(feedback: NostrEvent, wallet: LightningWallet, maxMsats = PRICE): Promise<'succeeded' | 'held'> {
  const parsed = parseJobFeedback(feedback)
  expect(paymentRequestProblem(parsed, { maxMsats, nowSeconds: now() })).toBeUndefined()
  return (await walletPayer(wallet, { maxFeeMsats: 1000, heldAfterMs: 300 }).pay(parsed.bolt11!)).state
}

describe.each(BACKENDS)('a payment-required job paid through %s', (backend) => {
  it('asks for the price with a bolt11 from the agent wallet, runs once paid, books the earning once', async () => {
    const network = new FakeLightningNetwork()
    const agentSide = await walletOn(backend, network, 'agent', relay.url)
    const requesterSide = await walletOn(backend, network, 'requester', relay.url, 1_000_000)
    cleanups.push(agentSide.close, requesterSide.close)
    const treasury = Treasury.open(':memory:')
    cleanups.push(() => treasury.close())
    const { agent, jobLog } = await paidAgent({ wallet: agentSide.wallet, treasury, terms: TERMS })

    const request = await sendRequest(`paid via ${backend}`)
    const feedback = await paymentRequired(request)
    const asked = parseJobFeedback(feedback)
    expect(asked.amountMsats).toBe(PRICE)
    // The invoice was in the log before the feedback that carries it went out.
    expect(jobLog.state(request.id)?.payment).toMatchObject({ bolt11: asked.bolt11, amountMsats: PRICE, state: 'awaiting' })
    expect(jobLog.state(request.id)?.status).toBe('payment-required')

    expect(await pay(feedback, requesterSide.wallet)).toBe('succeeded')
    const result = parseJobResult(await resultOf(request))
    expect(result.content).toBe(`echo: paid via ${backend}`)
    expect(result.amountMsats).toBe(PRICE)
    await waitForJob(agent, jobLog, request.id, 'completed')
    expect(jobLog.facts(request.id).map((f) => f.type)).toEqual(['posted', 'quoted', 'assigned', 'invoice-issued', 'paid', 'started', 'completed'])
    await expect.poll(() => treasury.summary('payee')).toMatchObject({ earnedMsats: PRICE, payments: 1 })
  }, 20_000)
})

describe('pay after work', () => {
  it('publishes the result with an amount and bolt11, plus payment-required; the payment is booked when it arrives', async () => {
    const network = new FakeLightningNetwork()
    const agentNode = network.createNode('agent')
    const payer = network.createNode('payer', { balanceMsats: 1_000_000 })
    const treasury = Treasury.open(':memory:')
    cleanups.push(() => treasury.close())
    const { agent, jobLog } = await paidAgent({ wallet: agentNode, treasury, terms: { ...TERMS, payBeforeWork: false } })

    const request = await sendRequest('work first')
    const resultEvent = await resultOf(request)
    const result = parseJobResult(resultEvent)
    expect(result).toMatchObject({ content: 'echo: work first', amountMsats: PRICE })
    expect(result.bolt11).toMatch(/^lnbcrt/)
    const feedback = parseJobFeedback(await paymentRequired(request))
    expect(feedback.bolt11).toBe(result.bolt11)
    expect(jobLog.state(request.id)).toMatchObject({ status: 'completed', payment: { state: 'awaiting', beforeWork: false } })

    expect(paymentRequestProblem(result, { maxMsats: PRICE, nowSeconds: now() })).toBeUndefined()
    await payer.payInvoice(result.bolt11!, { maxFeeMsats: 0 })
    await waitForJob(agent, jobLog, request.id, (s) => s.payment?.state === 'paid')
    await expect.poll(() => treasury.summary('payee').earnedMsats).toBe(PRICE)
  }, 20_000)
})

describe('escrow with hold invoices', () => {
  async function escrowSetup(workTimeoutSeconds = 60) {
    const network = new FakeLightningNetwork()
    const agentNode = network.createNode('agent')
    const payer = network.createNode('payer', { balanceMsats: 1_000_000 })
    const escrow = Escrow.open(':memory:', { wallet: agentNode, workTimeoutSeconds, disputeWindowSeconds: 1 })
    const treasury = Treasury.open(':memory:')
    cleanups.push(() => escrow.close(), () => treasury.close())
    return { network, agentNode, payer, escrow, treasury }
  }

  it('locks the payment, works, and releases it when the requester accepts; or when the dispute window passes', async () => {
    const { payer, escrow, treasury, agentNode } = await escrowSetup()
    const { agent, jobLog } = await paidAgent({ wallet: agentNode, treasury, escrow, terms: { ...TERMS, escrow: true } })

    // Accepted by the requester.
    const accepted = await sendRequest('held then accepted')
    expect(await pay(await paymentRequired(accepted), payer)).toBe('held')
    await resultOf(accepted)
    await waitForJob(agent, jobLog, accepted.id, 'completed')
    expect(jobLog.state(accepted.id)!.payment).toMatchObject({ escrow: true, state: 'paid' })
    expect(treasury.summary('payee').earnedMsats).toBe(0)
    await expect.poll(() => escrow.get(`payee/${accepted.id}`)?.state).toBe('delivered')
    await agent.payments!.accept(accepted.id)
    await waitForJob(agent, jobLog, accepted.id, (s) => s.payment?.state === 'settled')
    await expect.poll(() => treasury.summary('payee').earnedMsats).toBe(PRICE)
    expect(await payer.lookupPayment(jobLog.state(accepted.id)!.payment!.paymentHash)).toMatchObject({ state: 'succeeded' })

    // Nobody says anything: the dispute window (1 s) passes and the host's escrow tick releases it.
    const silent = await sendRequest('held then released')
    expect(await pay(await paymentRequired(silent), payer)).toBe('held')
    await waitForJob(agent, jobLog, silent.id, 'completed')
    await expect.poll(async () => (await escrow.tick(), escrow.get(`payee/${silent.id}`)?.state), { timeout: 5000, interval: 200 }).toBe('settled')
    await waitForJob(agent, jobLog, silent.id, (s) => s.payment?.state === 'settled')
    await expect.poll(() => treasury.summary('payee')).toMatchObject({ earnedMsats: 2 * PRICE, payments: 2 })
  }, 20_000)

  it('returns the payment when no result comes before the work deadline: the job fails, nothing is earned', async () => {
    const { payer, escrow, treasury, agentNode } = await escrowSetup(1)
    const stuck = gate()
    const { agent, jobLog } = await paidAgent({ wallet: agentNode, treasury, escrow, terms: { ...TERMS, escrow: true } }, { gates: new Map([['never', stuck.promise]]) })
    const before = (await payer.balance()).balanceMsats

    const request = await sendRequest('too slow', [['gate', 'never']])
    expect(await pay(await paymentRequired(request), payer)).toBe('held')
    await waitForJob(agent, jobLog, request.id, 'executing')
    await expect.poll(async () => (await escrow.tick(), escrow.get(`payee/${request.id}`)?.state), { timeout: 5000, interval: 200 }).toBe('canceled')
    await waitForJob(agent, jobLog, request.id, 'failed')
    expect(jobLog.state(request.id)).toMatchObject({ payment: { state: 'refunded' }, error: expect.stringMatching(/payment returned: no result before the work deadline/) })
    const error = await requester.waitFor([{ kinds: [FEEDBACK_KIND], '#e': [request.id] }], (e) => statusOf(e) === 'error')
    expect(parseJobFeedback(error).extraInfo).toMatch(/payment returned/)
    expect((await payer.balance()).balanceMsats).toBe(before)
    expect(treasury.summary('payee').earnedMsats).toBe(0)
    stuck.open()
    expect(await requester.query([{ kinds: [resultKindFor(ECHO_KIND)], '#e': [request.id] }])).toEqual([])
  }, 20_000)
})

describe('restarts', () => {
  it('between invoice and payment the same invoice stands; between payment and result the job runs once: one result, one earning', async () => {
    const network = new FakeLightningNetwork()
    const agentNode = network.createNode('agent')
    const payer = network.createNode('payer', { balanceMsats: 1_000_000 })
    const treasury = Treasury.open(':memory:')
    cleanups.push(() => treasury.close())
    const jobLog = JobLog.open(':memory:')
    const working = gate()
    const gates = new Map([['slow', working.promise]])
    const payments = { wallet: agentNode, treasury, terms: TERMS }
    const first = await paidAgent(payments, { jobLog, gates })

    const request = await sendRequest('survives restarts', [['gate', 'slow']])
    const feedback = parseJobFeedback(await paymentRequired(request))
    await first.agent.stop()

    // Paid while the agent is down; the restarted agent finds the payment from the log.
    await payer.payInvoice(feedback.bolt11!, { maxFeeMsats: 0 })
    const second = await paidAgent(payments, { jobLog, gates, secretKey: first.secretKey })
    await waitForJob(second.agent, jobLog, request.id, 'executing')
    await second.agent.stop()

    // Stopped mid-run after the payment: the third start runs it again, to one result.
    const third = await paidAgent(payments, { jobLog, gates, secretKey: first.secretKey })
    working.open()
    await resultOf(request)
    await waitForJob(third.agent, jobLog, request.id, 'completed')
    const types = jobLog.facts(request.id).map((f) => f.type)
    expect(types.filter((t) => t === 'invoice-issued')).toHaveLength(1)
    expect(types.filter((t) => t === 'paid')).toHaveLength(1)
    const asks = await requester.query([{ kinds: [FEEDBACK_KIND], '#e': [request.id] }])
    expect(new Set(asks.filter((e) => statusOf(e) === 'payment-required').map((e) => parseJobFeedback(e).bolt11))).toEqual(new Set([feedback.bolt11]))
    expect(await requester.query([{ kinds: [resultKindFor(ECHO_KIND)], '#e': [request.id] }])).toHaveLength(1)
    await expect.poll(() => treasury.summary('payee')).toMatchObject({ earnedMsats: PRICE, payments: 1 })
  }, 30_000)
})

describe('bad payment requests and invoices', () => {
  let agentNode: FakeLightningNode
  let network: FakeLightningNetwork

  beforeAll(() => {
    network = new FakeLightningNetwork()
    agentNode = network.createNode('agent')
  })

  it('an invoice that expires unpaid fails a pay-before-work job with a reason', async () => {
    const treasury = Treasury.open(':memory:')
    cleanups.push(() => treasury.close())
    const { agent, jobLog } = await paidAgent({ wallet: agentNode, treasury, terms: { ...TERMS, invoiceExpirySeconds: 1 } })
    const request = await sendRequest('never paid')
    const feedback = parseJobFeedback(await paymentRequired(request))
    await waitForJob(agent, jobLog, request.id, 'failed')
    expect(jobLog.state(request.id)).toMatchObject({ error: 'the invoice expired unpaid', payment: { state: 'expired' } })
    expect(paymentRequestProblem(feedback, { nowSeconds: now() + 5 })).toMatch(/the invoice expired/)
    const payer = network.createNode('late-payer', { balanceMsats: 100_000 })
    await expect(payer.payInvoice(feedback.bolt11!, { maxFeeMsats: 0 })).rejects.toThrow(/expired/)
  }, 20_000)

  it('the requester refuses wrong amounts, amounts above its bid, malformed and missing invoices', async () => {
    const invoice = await agentNode.createInvoice({ amountMsats: 5000, expirySeconds: 600 })
    const nowSeconds = now()
    expect(paymentRequestProblem({ amountMsats: 4000, bolt11: invoice.bolt11 }, { nowSeconds })).toBe('wrong amount: the DVM asks for 4000 msats but its invoice is for 5000 msats')
    expect(paymentRequestProblem({ amountMsats: 5000, bolt11: invoice.bolt11 }, { maxMsats: 4999, nowSeconds })).toMatch(/more than the 4999 msats offered/)
    expect(paymentRequestProblem({ amountMsats: 5000, bolt11: 'lnbcrt1garbage' }, { nowSeconds })).toMatch(/^the invoice is unusable: malformed BOLT11 invoice/)
    expect(paymentRequestProblem({ amountMsats: 5000, bolt11: 'lno1qgsqvgnwgcg35z6ee2h3yczraddm72xrfua9uve2rlrm9deu7xyfzrc2' }, { nowSeconds })).toMatch(/not a BOLT11 invoice/)
    expect(paymentRequestProblem({ amountMsats: 5000 }, { nowSeconds })).toMatch(/sent no bolt11/)
    expect(paymentRequestProblem({ amountMsats: 5000, bolt11: invoice.bolt11 }, { nowSeconds })).toBeUndefined()
  })

  it('an agent refuses a job whose bid is below its price and asks for nothing', async () => {
    const treasury = Treasury.open(':memory:')
    cleanups.push(() => treasury.close())
    const { agent, jobLog } = await paidAgent({ wallet: agentNode, treasury, terms: TERMS })
    const request = await sendRequest('cheap', [], PRICE - 1)
    await waitForJob(agent, jobLog, request.id, 'failed')
    expect(jobLog.state(request.id)!.payment).toBeUndefined()
    const error = await requester.waitFor([{ kinds: [FEEDBACK_KIND], '#e': [request.id] }], (e) => statusOf(e) === 'error')
    expect(parseJobFeedback(error).extraInfo).toMatch(/below the price/)
  })
})
