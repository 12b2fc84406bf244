// Sealed-bid second-price auctions end to end through a real relay: agents with different cost
// models bid, the cheapest wins at the second price and delivers the result asking for it, the
// outcome verifies from the relay's events alone; a restart of the auctioneer and of a bidder
// between commit and reveal still finishes the auction.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey, type NostrEvent } from '../../nips/01.js'
import { LABEL_KIND, parseJobOutcomeLabel } from '../../nips/32.js'
import { AUCTION_COMMIT_KIND, AUCTION_OUTCOME_KIND, AUCTION_REVEAL_KIND, buildCommit, buildOutcome, generateBidNonce, parseAuctionRequest, parseOutcome } from '../../nips/auction.js'
import { resultKindFor } from '../../nips/90.js'
import type { RunningRelay } from '../../relay/index.js'
import { Auctioneer } from '../../agents/auction/auctioneer.js'
import { runAuctionJob } from '../../agents/auction/job.js'
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

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, TIMMY_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
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
    expect(cheap.jobLog.state(request.id)).toMatchObject({ priceMsats: 4000, auction: { priceMsats: 3000, result: { outcome: 'won', clearingPriceMsats: 4000 } } })
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
})
