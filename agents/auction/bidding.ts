// What a bidder decides, as pure functions: its price (the cost of the job: in a second-price
// auction bidding the true cost is weakly dominant, nips/auction.md §8) and which commits its
// own commit references (the hash chain that makes dropped bids detectable).
import { getPublicKey, isHex64, type NostrEvent } from '../../nips/01.js'
import * as nip44 from '../../nips/44.js'
import { MAX_PREV_REFERENCES, parseCommit, type AuctionCommit, type AuctionRequest, type BidOpening } from '../../nips/auction.js'
import { inputText, type Capability, type JobInput } from '../capability.js'
import type { CostModel } from '../config.js'

/** Characters of input text the job works on; url, event and job inputs are not fetched before bidding and count 0. */
export function inputSize(inputs: readonly JobInput[]): number {
  return inputs.reduce((sum, input) => sum + (inputText(input)?.length ?? 0), 0)
}

/** base + msatsPer1000Chars per started 1000 characters of input text, in msats. */
export function costOf(model: CostModel, inputs: readonly JobInput[]): number {
  return model.baseMsats + Math.ceil((inputSize(inputs) * model.msatsPer1000Chars) / 1000)
}

/** The truthful bid: the configured cost model for the kind, else the capability's own price. */
export function bidPriceMsats(capability: Capability, inputs: JobInput[], params: Record<string, string[]>, costs: Readonly<Record<string, CostModel>>): number {
  const model = costs[String(capability.kind)]
  const price = model ? costOf(model, inputs) : capability.price(inputs, params)
  if (!Number.isSafeInteger(price) || price < 0) throw new RangeError(`the cost of this job is not a whole number of msats: ${price}`)
  return price
}

/** A bid's opening encrypted to the bidder itself (NIP-44), for its job log. */
export function sealOpening(opening: BidOpening, secretKey: Uint8Array): string {
  return nip44.encrypt(JSON.stringify(opening), nip44.getConversationKey(secretKey, getPublicKey(secretKey)))
}

export function unsealOpening(sealed: string, secretKey: Uint8Array): BidOpening {
  const opening = JSON.parse(nip44.decrypt(sealed, nip44.getConversationKey(secretKey, getPublicKey(secretKey)))) as BidOpening
  if (!Number.isSafeInteger(opening.priceMsats) || opening.priceMsats < 0 || !isHex64(opening.nonce)) throw new Error('the sealed opening in the job log is damaged')
  return opening
}

/**
 * The commits of this auction that no other seen commit references (the frontier of the DAG),
 * newest first, at most MAX_PREV_REFERENCES: referencing them vouches for everything before them.
 */
export function commitFrontier(events: readonly NostrEvent[], auction: Pick<AuctionRequest, 'id' | 'auctioneer'>, self?: string): string[] {
  const commits: AuctionCommit[] = []
  for (const event of events) {
    try {
      const commit = parseCommit(event)
      if (commit.jobId === auction.id && commit.auctioneer === auction.auctioneer && commit.bidder !== self) commits.push(commit)
    } catch {
      // not a commit of this auction
    }
  }
  const referenced = new Set(commits.flatMap((c) => c.previous))
  const frontier = [...new Map(commits.filter((c) => !referenced.has(c.id)).map((c) => [c.id, c])).values()]
  frontier.sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
  return frontier.slice(0, MAX_PREV_REFERENCES).map((c) => c.id)
}
