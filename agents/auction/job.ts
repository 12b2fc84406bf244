// A job put out to auction, start to finish, for `timmy job --auction`: run the auction, then take
// the result from the winner alone. What the winner asks for is the clearing price; a result that
// asks for more is reported, not hidden.
import type { NostrEvent } from '../../nips/01.js'
import type { AuctionOutcome } from '../../nips/auction.js'
import { decryptJobContent, parseJobResult, resultKindFor } from '../../nips/90.js'
import { RelayPool } from '../pool.js'
import type { ReceivedResult } from '../requester.js'
import { Auctioneer, outcomeOf, type AuctioneerOptions, type OpenAuctionOptions } from './auctioneer.js'
import type { AuctionState } from './log.js'

export interface AuctionJobOptions extends AuctioneerOptions, OpenAuctionOptions {
  /** How long to wait for the winner's result once the outcome is out. */
  resultTimeoutMs: number
  onOpened?: (request: NostrEvent) => void
  onOutcome?: (outcome: AuctionOutcome, state: AuctionState) => void
}

export interface AuctionJobResult {
  request: NostrEvent
  outcome: AuctionOutcome
  /** Absent when nobody won. */
  result?: ReceivedResult
}

export class AuctionResultTimeoutError extends Error {}

/** Waits for a result of the job from one provider. */
export function waitForResult(options: { pool: RelayPool; relays: string[]; request: NostrEvent; from: string; secretKey: Uint8Array; timeoutMs: number }): Promise<ReceivedResult> {
  const { pool, request } = options
  return new Promise<ReceivedResult>((resolve, reject) => {
    const sub = pool.subscribe(options.relays, [{ kinds: [resultKindFor(request.kind)], '#e': [request.id], authors: [options.from] }], {
      onevent: (event) => {
        try {
          const parsed = parseJobResult(event)
          if (parsed.requestId !== request.id || event.pubkey !== options.from) return
          const content = decryptJobContent(event, options.secretKey)
          finish()
          resolve({ from: event.pubkey, content, ...(parsed.amountMsats !== undefined && { amountMsats: parsed.amountMsats }), ...(parsed.bolt11 && { bolt11: parsed.bolt11 }), event })
        } catch {
          // a result we cannot read
        }
      },
    })
    const timer = setTimeout(() => (finish(), reject(new AuctionResultTimeoutError(`the winner sent no result within ${Math.round(options.timeoutMs / 1000)} s`))), options.timeoutMs)
    const finish = () => {
      clearTimeout(timer)
      sub.close()
    }
  })
}

export async function runAuctionJob(options: AuctionJobOptions): Promise<AuctionJobResult> {
  const auctioneer = new Auctioneer(options)
  const pool = new RelayPool({ verify: (e) => options.crypto.verify(e), clock: options.clock ?? Date.now })
  await auctioneer.start()
  try {
    const request = await auctioneer.open(options)
    options.onOpened?.(request)
    const state = await auctioneer.closed(request.id)
    const outcome = outcomeOf(state)!
    options.onOutcome?.(outcome, state)
    if (!outcome.winner) return { request, outcome }
    const result = await waitForResult({ pool, relays: options.relays, request, from: outcome.winner.bidder, secretKey: options.secretKey, timeoutMs: options.resultTimeoutMs })
    return { request, outcome, result }
  } finally {
    auctioneer.stop()
    pool.close()
  }
}

/** Finishes the unfinished auctions in a log (after a crash of `timmy job --auction`): resolves with each once published. */
export async function finishAuctions(options: AuctioneerOptions): Promise<AuctionState[]> {
  const auctioneer = new Auctioneer(options)
  const pending = options.auctionLog.unfinished().filter((state) => state.request.pubkey === auctioneer.pubkey)
  await auctioneer.start()
  try {
    return await Promise.all(pending.map((state) => auctioneer.closed(state.id)))
  } finally {
    auctioneer.stop()
  }
}
