// Sealed-bid second-price auctions end to end through a real relay: agents with different cost
// models bid, the cheapest wins at the second price and delivers the result asking for it, the
// outcome verifies from the relay's events alone; a restart of the auctioneer and of a bidder
// between commit and reveal still finishes the auction.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey, type NostrEvent } from '../../nips/01.js'
import { LABEL_KIND, parseJobOutcomeLabel } from '../../nips/32.js'
import {
  auctionRequestParams,
  AUCTION_COMMIT_KIND,
  AUCTION_OUTCOME_KIND,
  AUCTION_REVEAL_KIND,
  buildCommit,
  buildOutcome,
  computeOutcome,
  generateBidNonce,
  outcomeRecord,
  parseAuctionRequest,
  parseOutcome,
} from '../../nips/auction.js'
import { buildJobRequest, resultKindFor } from '../../nips/90.js'
import type { RunningRelay } from '../../relay/index.js'
import { Auctioneer } from '../../agents/auction/auctioneer.js'
import { runAuctionJob } from '../../agents/auction/job.js'
import { unsealOpening } from '../../agents/auction/bidding.js'
import { AuctionLog } from '../../agents/auction/log.js'
import { verifyAuctionOnRelays } from '../../agents/auction/verify.js'
import type { CostModel } from '../../agents/config.js'
import { loadEventCrypto } from '../../agents/crypto.js'
import { JobLog } from '../../agents/joblog.js'
import { ECHO_KIND, echoCapability, startTestAgent, startTestRelay, TestRequester, waitForJob, type TestAgent } from './helpers.js'

const cli = fileURLToPath(new URL('../../dist/bin/timmy.js', import.meta.url))
const cliHasAuctions = existsSync(fileURLToPath(new URL('../../dist/agents/auction/cli.js', import.meta.url)))
const INPUT = 'n'.repeat(2000)
// Short windows keep the test fast; each leaves the agents about a second to act after the request.
const BID_WINDOW = 3
const REVEAL_WINDOW = 2

function costs(model: Partial<CostModel>): { costs: Record<string, CostModel> } {
  return { costs: { [String(ECHO_KIND)]: { baseMsats: 0, msatsPer1000Chars: 0, ...model } } }
}

function runCli(args: string[], env: Record<string, string> = {}, onStdout?: (text: string, child: ChildProcess) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, TIMMY_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
    onStdout?.(stdout, child)
  })
  child.stderr.on('data', (d) => (stderr += d))
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })))
}

describe('sealed-bid auctions between agents', () => {
  let relay: RunningRelay
  let observer: TestRequester
  let dir: string
  const agents: TestAgent[] = []

  beforeAll(async () => {
    relay = await startTestRelay()
    observer = await TestRequester.create([relay.url])
    dir = mkdtempSync(join(tmpdir(), 'timmy-auction-'))
  })

  afterEach(async () => {
    for (const { agent } of agents.splice(0)) await agent.stop()
  })

  afterAll(async () => {
    observer?.close()
    await relay?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  it('three agents with different costs: the cheapest wins, is paid the second price, and the outcome verifies', async () => {
    // 1000 + 2 × 1000 = 3000, 4000 and 2 × 3000 = 6000 msats for 2000 characters.
    const cheap = await startTestAgent(relay.url, [echoCapability()], { name: 'cheap', auction: costs({ baseMsats: 1000, msatsPer1000Chars: 1000 }) })
    const middle = await startTestAgent(relay.url, [echoCapability()], { name: 'middle', auction: costs({ baseMsats: 4000 }) })
    agents.push(cheap, middle)
    const crypto = await loadEventCrypto()
    const secretKey = generateSecretKey()
    // A bidder that commits and never reveals: listed as no-reveal, labelled by the auctioneer.
    const ghostKey = generateSecretKey()
    let ghostCommit: NostrEvent | undefined
    let opened!: (request: NostrEvent) => void
    const requestSent = new Promise<NostrEvent>((resolve) => (opened = resolve))

    const running = runAuctionJob({
      secretKey,
      relays: [relay.url],
      auctionLog: AuctionLog.open(':memory:'),
      crypto,
      closeGraceSeconds: 0,
      kind: ECHO_KIND,
      inputs: [{ type: 'text', value: INPUT }],
      reserveMsats: 10_000,
      bidWindowSeconds: BID_WINDOW,
      revealWindowSeconds: REVEAL_WINDOW,
      resultTimeoutMs: 10_000,
      onOpened: (request) => {
        const terms = parseAuctionRequest(request)
        ghostCommit = crypto.sign(buildCommit({ request: terms, bidder: getPublicKey(ghostKey), priceMsats: 1, nonce: generateBidNonce(), createdAt: request.created_at }), ghostKey)
        void observer.pool.publish([relay.url], ghostCommit)
        opened(request)
      },
    })
    // The third agent comes online once the others have bid: its commit references theirs (the hash chain).
    const sent = await requestSent
    await Promise.all([waitForJob(cheap.agent, cheap.jobLog, sent.id, 'bidding'), waitForJob(middle.agent, middle.jobLog, sent.id, 'bidding')])
    const dear = await startTestAgent(relay.url, [echoCapability()], { name: 'dear', auction: costs({ msatsPer1000Chars: 3000 }) })
    agents.push(dear)
    const { request, outcome, result } = await running

    expect(outcome.winner?.bidder).toBe(cheap.agent.pubkey)
    expect(outcome.clearingPriceMsats).toBe(4000)
    expect(outcome.openings.map((o) => o.priceMsats).sort((a, b) => a - b)).toEqual([3000, 4000, 6000])
    expect(outcome.commits.find((c) => c.bidder === getPublicKey(ghostKey))?.status).toBe('no-reveal')
    expect(outcome.commits.filter((c) => c.status === 'outbid').map((c) => c.bidder).sort()).toEqual([middle.agent.pubkey, dear.agent.pubkey].sort())

    // The winner delivered, asking for the clearing price, not its own bid.
    expect(result).toMatchObject({ from: cheap.agent.pubkey, content: `echo: ${INPUT}`, amountMsats: 4000 })
    await waitForJob(cheap.agent, cheap.jobLog, request.id, 'completed')
    expect(cheap.jobLog.state(request.id)).toMatchObject({ priceMsats: 4000, auction: { result: { outcome: 'won', clearingPriceMsats: 4000 } } })
    // The bid's opening is in the log, sealed: readers of the log (the HTTP API shows facts) cannot open the commitment.
    const committed = JSON.stringify(cheap.jobLog.facts(request.id)[1])
    const cheapOpening = outcome.openings.find((o) => o.priceMsats === 3000)!
    expect(committed).not.toContain(cheapOpening.nonce)
    expect(unsealOpening(cheap.jobLog.state(request.id)!.auction!.sealedOpening, cheap.secretKey)).toEqual({ priceMsats: 3000, nonce: cheapOpening.nonce })
    expect(cheap.jobLog.facts(request.id).map((f) => f.type)).toEqual(['posted', 'bid-committed', 'bid-revealed', 'won', 'started', 'completed'])
    for (const loser of [middle, dear]) {
      await waitForJob(loser.agent, loser.jobLog, request.id, 'cancelled')
      expect(loser.jobLog.state(request.id)!.auction!.result).toMatchObject({ outcome: 'lost', outcomeId: outcome.id })
    }

    const results = await observer.query([{ kinds: [resultKindFor(ECHO_KIND)], '#e': [request.id] }])
    expect(results.map((e) => e.pubkey)).toEqual([cheap.agent.pubkey])
    // Reveals are encrypted to the auctioneer by default: no price in public before the outcome.
    const reveals = await observer.query([{ kinds: [AUCTION_REVEAL_KIND], '#e': [request.id] }])
    expect(reveals).toHaveLength(3)
    for (const reveal of reveals) expect(reveal.tags).toContainEqual(['encrypted'])
    // Later commits reference the earlier ones they saw (the hash chain).
    const commits = await observer.query([{ kinds: [AUCTION_COMMIT_KIND], '#e': [request.id] }])
    expect(commits).toHaveLength(4)
    const latest = commits.find((c) => c.pubkey === dear.agent.pubkey)!
    const previous = latest.tags.filter((t) => t[0] === 'prev').map((t) => t[1])
    const earlier = commits.filter((c) => c.pubkey === cheap.agent.pubkey || c.pubkey === middle.agent.pubkey).map((c) => c.id)
    for (const id of earlier) expect(previous).toContain(id)

    const labels = await observer.query([{ kinds: [LABEL_KIND], '#e': [request.id] }])
    expect(labels.map(parseJobOutcomeLabel).map((l) => [l.agent, l.outcome, l.labeller])).toEqual([[getPublicKey(ghostKey), 'no-reveal', getPublicKey(secretKey)]])

    const report = await verifyAuctionOnRelays({ jobId: request.id, relays: [relay.url], crypto })
    expect(report).toMatchObject({ ok: true, problems: [], winner: cheap.agent.pubkey, clearingPriceMsats: 4000, commits: 4, reveals: 3, outcomeId: outcome.id })

    if (cliHasAuctions) {
      const verified = await runCli(['auction', 'verify', request.id, '--relay', relay.url, '--json'])
      expect(verified.code).toBe(0)
      expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, winner: cheap.agent.pubkey, clearingPriceMsats: 4000 })
    }

    // An outcome the auctioneer rewrites (a lower price for the winner) is caught by anyone.
    const stated = parseOutcome(outcome.event)
    const forged = crypto.sign(buildOutcome({ ...stated, clearingPriceMsats: 3500 }, outcome.createdAt + 1), secretKey)
    await observer.pool.publish([relay.url], forged)
    const caught = await verifyAuctionOnRelays({ jobId: request.id, relays: [relay.url], crypto })
    expect(caught.ok).toBe(false)
    expect(caught.problems.join('\n')).toMatch(/price: the outcome says 3500, the rules give 4000/)
    if (cliHasAuctions) {
      const rejected = await runCli(['auction', 'verify', request.id, '--relay', relay.url])
      expect(rejected.code).toBe(1)
      expect(rejected.stdout).toMatch(/NOT OK[\s\S]*problem: price/)
    }
  }, 30_000)

  it('finishes correctly when the auctioneer and a bidder restart between commit and reveal', async () => {
    const crypto = await loadEventCrypto()
    const bidderKey = generateSecretKey()
    const bidderLogPath = join(dir, 'bidder.db')
    const auctionLogPath = join(dir, 'auctions.db')
    const steady = await startTestAgent(relay.url, [echoCapability()], { name: 'steady', auction: costs({ baseMsats: 2500 }) })
    let restarting = await startTestAgent(relay.url, [echoCapability()], { name: 'restarting', secretKey: bidderKey, jobLog: JobLog.open(bidderLogPath), auction: costs({ baseMsats: 1500 }) })
    agents.push(steady)
    const secretKey = generateSecretKey()
    let auctionLog = AuctionLog.open(auctionLogPath)
    let auctioneer = new Auctioneer({ secretKey, relays: [relay.url], auctionLog, crypto, closeGraceSeconds: 0 })
    await auctioneer.start()
    const request = await auctioneer.open({ kind: ECHO_KIND, inputs: [{ type: 'text', value: 'restart me' }], reserveMsats: 9000, bidWindowSeconds: BID_WINDOW, revealWindowSeconds: REVEAL_WINDOW })
    await waitForJob(restarting.agent, restarting.jobLog, request.id, 'bidding')
    await waitForJob(steady.agent, steady.jobLog, request.id, 'bidding')

    // Both stop after committing, before the bid deadline; nothing about the auction is kept in memory.
    auctioneer.stop()
    auctionLog.close()
    await restarting.agent.stop()
    restarting.jobLog.close()
    expect(Date.now() / 1000).toBeLessThan(parseAuctionRequest(request).bidDeadline + 1)

    restarting = await startTestAgent(relay.url, [echoCapability()], { name: 'restarting', secretKey: bidderKey, jobLog: JobLog.open(bidderLogPath), auction: costs({ baseMsats: 1500 }) })
    agents.push(restarting)
    auctionLog = AuctionLog.open(auctionLogPath)
    auctioneer = new Auctioneer({ secretKey, relays: [relay.url], auctionLog, crypto, closeGraceSeconds: 0 })
    await auctioneer.start()
    try {
      const closed = await auctioneer.closed(request.id)
      const outcome = parseOutcome(closed.outcome!)
      expect(outcome.winner?.bidder).toBe(getPublicKey(bidderKey))
      expect(outcome.clearingPriceMsats).toBe(2500)
      expect(outcome.commits.map((c) => c.status).sort()).toEqual(['outbid', 'winner'])
      // The restarted bidder revealed from its log, then ran the job it won.
      await waitForJob(restarting.agent, restarting.jobLog, request.id, 'completed')
      expect(restarting.jobLog.facts(request.id).map((f) => f.type)).toEqual(['posted', 'bid-committed', 'bid-revealed', 'won', 'started', 'completed'])
      const result = await observer.waitFor([{ kinds: [resultKindFor(ECHO_KIND)], '#e': [request.id] }])
      expect(result.tags.find((t) => t[0] === 'amount')?.[1]).toBe('2500')
      expect(await observer.query([{ kinds: [AUCTION_OUTCOME_KIND], '#e': [request.id] }])).toHaveLength(1)
      expect((await verifyAuctionOnRelays({ jobId: request.id, relays: [relay.url], crypto })).ok).toBe(true)
    } finally {
      auctioneer.stop()
      auctionLog.close()
    }
  }, 30_000)

  it('breaks a price tie by the auctioneer’s reputation scores, and bidders accept the stated scores', async () => {
    const first = await startTestAgent(relay.url, [echoCapability()], { name: 'first', auction: costs({ baseMsats: 2000 }) })
    const second = await startTestAgent(relay.url, [echoCapability()], { name: 'second', auction: costs({ baseMsats: 2000 }) })
    agents.push(first, second)
    const asked: string[][] = []
    const scores = new Map([[first.agent.pubkey, 0.2], [second.agent.pubkey, 0.9]])
    const { request, outcome, result } = await runAuctionJob({
      secretKey: generateSecretKey(),
      relays: [relay.url],
      auctionLog: AuctionLog.open(':memory:'),
      crypto: await loadEventCrypto(),
      closeGraceSeconds: 0,
      reputation: async (bidders) => (asked.push([...bidders].sort()), scores),
      kind: ECHO_KIND,
      inputs: [{ type: 'text', value: 'tie' }],
      reserveMsats: 3000,
      bidWindowSeconds: BID_WINDOW,
      revealWindowSeconds: REVEAL_WINDOW,
      resultTimeoutMs: 10_000,
    })
    expect(asked).toEqual([[first.agent.pubkey, second.agent.pubkey].sort()])
    expect(outcome.winner?.bidder).toBe(second.agent.pubkey)
    expect(outcome.clearingPriceMsats).toBe(2000)
    expect(outcome.reputation).toEqual({ [first.agent.pubkey]: 0.2, [second.agent.pubkey]: 0.9 })
    expect(result).toMatchObject({ from: second.agent.pubkey, amountMsats: 2000 })
    await waitForJob(first.agent, first.jobLog, request.id, 'cancelled')
    const report = await verifyAuctionOnRelays({ jobId: request.id, relays: [relay.url], crypto: await loadEventCrypto() })
    expect(report.ok).toBe(true)
    expect(report.notes.join('\n')).toMatch(/reputation scores the outcome states/)
  }, 30_000)

  it('rejects a bidder below the minimum reputation, listing it with its score, and the outcome verifies', async () => {
    const cheap = await startTestAgent(relay.url, [echoCapability()], { name: 'cheap', auction: costs({ baseMsats: 1000 }) })
    const trusted = await startTestAgent(relay.url, [echoCapability()], { name: 'trusted', auction: costs({ baseMsats: 2000 }) })
    agents.push(cheap, trusted)
    const secretKey = generateSecretKey()
    const asked: { bidders: string[]; at: number; trustRoot: string }[] = []
    const scores = new Map([[cheap.agent.pubkey, 0.3], [trusted.agent.pubkey, 0.8]])
    const { request, outcome, result } = await runAuctionJob({
      secretKey,
      relays: [relay.url],
      auctionLog: AuctionLog.open(':memory:'),
      crypto: await loadEventCrypto(),
      closeGraceSeconds: 0,
      reputation: async (bidders, _kind, { at, trustRoot }) => (asked.push({ bidders: [...bidders].sort(), at, trustRoot }), scores),
      kind: ECHO_KIND,
      inputs: [{ type: 'text', value: 'trusted only' }],
      reserveMsats: 3000,
      bidWindowSeconds: BID_WINDOW,
      revealWindowSeconds: REVEAL_WINDOW,
      minReputation: 0.5,
      resultTimeoutMs: 10_000,
    })
    const terms = parseAuctionRequest(request)
    expect(terms.minReputation).toBe(0.5)
    expect(asked).toEqual([{ bidders: [cheap.agent.pubkey, trusted.agent.pubkey].sort(), at: terms.bidDeadline, trustRoot: getPublicKey(secretKey) }])
    expect(outcome.commits.map((c) => [c.bidder, c.status])).toContainEqual([cheap.agent.pubkey, 'below-minimum-reputation'])
    expect(outcome.reputation).toEqual({ [cheap.agent.pubkey]: 0.3 })
    expect(outcome.winner?.bidder).toBe(trusted.agent.pubkey)
    expect(outcome.clearingPriceMsats).toBe(3000)
    expect(result).toMatchObject({ from: trusted.agent.pubkey, amountMsats: 3000 })
    await waitForJob(cheap.agent, cheap.jobLog, request.id, 'cancelled')
    const report = await verifyAuctionOnRelays({ jobId: request.id, relays: [relay.url], crypto: await loadEventCrypto() })
    expect(report.ok).toBe(true)
    expect(report.notes.join('\n')).toMatch(/below the minimum reputation by the scores the outcome states/)
  }, 30_000)

  it('bidders act only on an outcome that verifies, and give up when none comes in time', async () => {
    const patient = await startTestAgent(relay.url, [echoCapability()], { name: 'patient', auction: costs({ baseMsats: 1000 }) })
    const hasty = await startTestAgent(relay.url, [echoCapability()], { name: 'hasty', auction: { ...costs({ baseMsats: 1200 }), outcomeWaitSeconds: 1 } })
    agents.push(patient, hasty)
    // A hand-driven auctioneer, so that the test decides what the outcome says and when.
    const auctioneer = await TestRequester.create([relay.url])
    try {
      const now = Math.floor(Date.now() / 1000)
      const request = await auctioneer.publish(
        buildJobRequest({ kind: ECHO_KIND, inputs: [{ type: 'text', value: 'check first' }], params: auctionRequestParams({ bidDeadline: now + BID_WINDOW, revealDeadline: now + BID_WINDOW + REVEAL_WINDOW }), bidMsats: 5000, relays: [relay.url], createdAt: now }),
      )
      const { revealDeadline } = parseAuctionRequest(request)
      await new Promise((resolve) => setTimeout(resolve, revealDeadline * 1000 - Date.now() + 50))
      const events = await auctioneer.query([{ kinds: [AUCTION_COMMIT_KIND, AUCTION_REVEAL_KIND], '#e': [request.id] }])
      const closing = computeOutcome({ request, commits: events.filter((e) => e.kind === AUCTION_COMMIT_KIND), reveals: events.filter((e) => e.kind === AUCTION_REVEAL_KIND), auctioneerSecret: auctioneer.secretKey })
      expect(closing.clearingPriceMsats).toBe(1200)

      // The auctioneer understates the winner's pay: both bidders recompute the outcome and refuse it.
      const forged = await auctioneer.publish(buildOutcome({ ...outcomeRecord(closing), clearingPriceMsats: 1100 }, revealDeadline))
      const rejected = (state: { auction?: { rejectedOutcomes: { outcomeId: string }[] } }) => state.auction?.rejectedOutcomes.some((r) => r.outcomeId === forged.id) ?? false
      await waitForJob(patient.agent, patient.jobLog, request.id, rejected)
      await waitForJob(hasty.agent, hasty.jobLog, request.id, rejected)
      expect(patient.jobLog.state(request.id)!.status).toBe('bidding')
      expect(patient.jobLog.state(request.id)!.auction!.rejectedOutcomes[0].problems.join('\n')).toMatch(/price: the outcome says 1100/)

      // No valid outcome within its wait: the hasty bidder stops.
      await waitForJob(hasty.agent, hasty.jobLog, request.id, 'cancelled')
      expect(hasty.jobLog.state(request.id)!.cancelReason).toMatch(/no valid outcome/)

      // The true outcome: the patient bidder runs the job and asks for the second price.
      await auctioneer.publish(buildOutcome(outcomeRecord(closing), revealDeadline + 1))
      const result = await auctioneer.waitFor([{ kinds: [resultKindFor(ECHO_KIND)], '#e': [request.id] }])
      expect(result.pubkey).toBe(patient.agent.pubkey)
      expect(result.tags.find((t) => t[0] === 'amount')?.[1]).toBe('1200')
      expect(patient.jobLog.facts(request.id).map((f) => f.type)).toEqual(['posted', 'bid-committed', 'bid-revealed', 'outcome-rejected', 'won', 'started', 'completed'])
    } finally {
      auctioneer.close()
    }
  }, 30_000)

  it.skipIf(!cliHasAuctions)('`timmy job --auction` runs the auction from the command line; `timmy auction resume` finishes one whose process was killed (needs dist/)', async () => {
    const home = join(dir, 'home')
    const env = { TIMMY_HOME: home, TIMMY_PASSPHRASE: 'auction test' }
    expect((await runCli(['keys', 'create', 'buyer'], env)).code).toBe(0)
    writeFileSync(join(home, 'config.json'), JSON.stringify({ keyLogN: 4, auction: { closeGraceSeconds: 0 } }))
    const low = await startTestAgent(relay.url, [echoCapability()], { name: 'low', auction: costs({ baseMsats: 700 }) })
    const high = await startTestAgent(relay.url, [echoCapability()], { name: 'high', auction: costs({ baseMsats: 900 }) })
    agents.push(low, high)
    const auctionArgs = [ECHO_KIND, '--auction', '--bid', '5000', '--bid-window', String(BID_WINDOW), '--reveal-window', String(REVEAL_WINDOW), '--relay', relay.url, '--json']

    const job = await runCli(['job', ...auctionArgs.map(String), '--input', 'from the shell'], env)
    expect(job.code).toBe(0)
    const lines = job.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines.map((l) => l.type)).toEqual(['request', 'outcome', 'result'])
    expect(lines[1]).toMatchObject({ clearingPriceMsats: 900, commits: 2 })
    expect(lines[2]).toMatchObject({ content: 'echo: from the shell', amountMsats: 900 })
    const jobId = lines[0].id as string
    expect((await runCli(['auction', 'verify', jobId, '--relay', relay.url], env)).stdout).toMatch(/: ok\n[\s\S]*at 900 msats/)

    // Killed after the bids are in: the auction is in $TIMMY_HOME/auctions/buyer.db, and resume closes it.
    let killedId = ''
    await runCli(['job', ...auctionArgs.map(String), '--input', 'killed', '--key', 'buyer'], env, (text, child) => {
      if (killedId || !text.includes('"type":"request"')) return
      killedId = (JSON.parse(text.split('\n')[0]) as { id: string }).id
      void Promise.all([waitForJob(low.agent, low.jobLog, killedId, 'bidding'), waitForJob(high.agent, high.jobLog, killedId, 'bidding')]).then(() => child.kill('SIGKILL'))
    })
    expect(killedId).toMatch(/^[0-9a-f]{64}$/)
    expect(await observer.query([{ kinds: [AUCTION_OUTCOME_KIND], '#e': [killedId] }])).toEqual([])
    const resumed = await runCli(['auction', 'resume', '--key', 'buyer', '--relay', relay.url], env)
    expect(resumed.code).toBe(0)
    expect(resumed.stdout).toContain(`${killedId}  won by ${low.agent.npub} at 900 msats`)
    await waitForJob(low.agent, low.jobLog, killedId, 'completed')
    expect((await verifyAuctionOnRelays({ jobId: killedId, relays: [relay.url], crypto: await loadEventCrypto() })).ok).toBe(true)
  }, 90_000)
})
