// The auction runtime's pure parts: the bidders' cost model and hash-chain frontier, and the
// auctioneer's log fold and its persistence across a reopen, and what it refuses to open.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from '../../nips/01.js'
import { auctionRequestParams, buildCommit, generateBidNonce, parseAuctionRequest } from '../../nips/auction.js'
import { buildJobRequest } from '../../nips/90.js'
import { bidPriceMsats, commitFrontier, costOf, inputSize } from '../../agents/auction/bidding.js'
import { applyAuctionFact, AuctionLog, foldAuction, IllegalAuctionFactError, type AuctionFact } from '../../agents/auction/log.js'
import { loadConfig } from '../../agents/config.js'
import { Auctioneer } from '../../agents/auction/auctioneer.js'
import { loadEventCrypto } from '../../agents/crypto.js'
import { echoCapability } from './helpers.js'

const auctioneerKey = generateSecretKey()
const request = finalizeEvent(
  buildJobRequest({ kind: 5900, inputs: [{ type: 'text', value: 'x'.repeat(10) }], params: auctionRequestParams({ bidDeadline: 1100, revealDeadline: 1200 }), bidMsats: 50_000, createdAt: 1000 }),
  auctioneerKey,
)
const terms = parseAuctionRequest(request)

function commitBy(previous: string[], createdAt = 1010): NostrEvent {
  const bidder = generateSecretKey()
  return finalizeEvent(buildCommit({ request: terms, bidder: getPublicKey(bidder), priceMsats: 1, nonce: generateBidNonce(), previous, createdAt }), bidder)
}

describe('bidding', () => {
  it('prices a job from the cost model of its kind: base plus per started 1000 characters', () => {
    const inputs = [
      { type: 'text' as const, value: 'a'.repeat(1500) },
      { type: 'url' as const, value: 'https://example.com/not-fetched-before-bidding' },
      { type: 'url' as const, value: 'https://example.com/x', resolved: 'b'.repeat(500) },
    ]
    expect(inputSize(inputs)).toBe(2000)
    expect(costOf({ baseMsats: 1000, msatsPer1000Chars: 700 }, inputs)).toBe(2400)
    expect(costOf({ baseMsats: 0, msatsPer1000Chars: 3 }, [{ type: 'text', value: 'abc' }])).toBe(1)
    const capability = echoCapability({ price: 777 })
    expect(bidPriceMsats(capability, inputs, {}, { '5900': { baseMsats: 5, msatsPer1000Chars: 0 } })).toBe(5)
    expect(bidPriceMsats(capability, inputs, {}, { '5001': { baseMsats: 5, msatsPer1000Chars: 0 } })).toBe(777)
  })

  it('reads cost models and auction settings from the configuration, with defaults', () => {
    const defaults = loadConfig({ env: {} }).auction
    expect(defaults).toEqual({ costs: {}, encryptReveals: true, outcomeWaitSeconds: 300, closeGraceSeconds: 5 })
    const configured = loadConfig({ env: {}, overrides: { auction: { costs: { '5001': { baseMsats: 2000 } }, encryptReveals: false } } }).auction
    expect(configured.costs['5001']).toEqual({ baseMsats: 2000, msatsPer1000Chars: 0 })
    expect(() => loadConfig({ env: {}, overrides: { auction: { costs: { summarize: { baseMsats: 1 } } } } as never })).toThrow(/auction\.costs/)
  })

  it('references the frontier of the commits it saw, not its own or other auctions’', () => {
    const first = commitBy([])
    const second = commitBy([first.id], 1011)
    const parallel = commitBy([], 1012)
    const otherAuction = { ...commitBy([]), tags: [['e', 'f'.repeat(64)], ['p', terms.auctioneer], ['commitment', '0'.repeat(64)]] }
    const self = commitBy([], 1013)
    const frontier = commitFrontier([first, second, parallel, otherAuction, self, second], terms, self.pubkey)
    expect(frontier).toEqual([parallel.id, second.id])
    expect(commitFrontier([], terms)).toEqual([])
  })
})

describe('auction log', () => {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-auction-log-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('folds an auction open → closed, refuses facts out of order, and survives a reopen', () => {
    const path = join(dir, 'auctions.db')
    const commit = commitBy([])
    const facts: AuctionFact[] = [
      { type: 'opened', at: 1, request },
      { type: 'request-published', at: 2 },
      { type: 'commit-seen', at: 3, event: commit },
    ]
    let log = AuctionLog.open(path)
    log.append(request.id, facts)
    expect(log.unfinished().map((s) => s.id)).toEqual([request.id])
    log.close()

    log = AuctionLog.open(path)
    const state = log.state(request.id)!
    expect(state).toMatchObject({ status: 'open', requestPublished: true, commits: [commit], outcomePublished: false })
    expect(foldAuction(request.id, log.facts(request.id))).toEqual(state)
    expect(() => log.append(request.id, [{ type: 'outcome-published', at: 4 }])).toThrow(IllegalAuctionFactError)
    const outcome = { ...commit, kind: 7152 }
    log.append(request.id, [{ type: 'closed', at: 5, outcome, labels: [] }])
    expect(() => log.append(request.id, [{ type: 'commit-seen', at: 6, event: commit }])).toThrow(/cannot follow state 'closed'/)
    expect(log.unfinished()).toHaveLength(1)
    log.append(request.id, [{ type: 'outcome-published', at: 7 }])
    expect(log.unfinished()).toEqual([])
    expect(log.state(request.id)).toMatchObject({ status: 'closed', outcomePublished: true, updatedAt: 7 })
    log.close()
    expect(() => applyAuctionFact(undefined, { type: 'request-published', at: 1 }, request.id)).toThrow(IllegalAuctionFactError)
  })
})

describe('auctioneer', () => {
  it('will not open an auction with a minimum reputation it has no way to score', async () => {
    const auctioneer = new Auctioneer({ secretKey: generateSecretKey(), relays: ['ws://127.0.0.1:9'], auctionLog: AuctionLog.open(':memory:'), crypto: await loadEventCrypto() })
    const options = { kind: 5900, inputs: [{ type: 'text' as const, value: 'x' }], reserveMsats: 1000, bidWindowSeconds: 10, revealWindowSeconds: 10 }
    await expect(auctioneer.open({ ...options, minReputation: 0.5 })).rejects.toThrow(/minimum reputation needs a reputation lookup/)
  })
})
