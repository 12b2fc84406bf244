// `timmy auction verify|resume`, and the auction half of `timmy job --auction`.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Command, Option } from 'commander'
import { generateSecretKey, getPublicKey } from '../../nips/01.js'
import { npubEncode } from '../../nips/19.js'
import type { JobRequestInput } from '../../nips/90.js'
import { loadConfig, type TimmyConfig } from '../config.js'
import { loadEventCrypto } from '../crypto.js'
import { Keystore, resolvePassphrase } from '../keystore.js'
import { createLogger, type Logger } from '../logger.js'
import { outcomeOf } from './auctioneer.js'
import { AuctionResultTimeoutError, finishAuctions, runAuctionJob } from './job.js'
import { AuctionLog } from './log.js'
import { relayReputation } from './reputation.js'
import { createUrlFetcher } from '../url-input.js'
import { verifyAuctionOnRelays, type AuctionReport } from './verify.js'

/** Where the auctions run with a stored key are logged, so that `timmy auction resume` can finish them. */
export function auctionLogPath(home: string, keyName: string): string {
  return join(home, 'auctions', `${keyName}.db`)
}

function openAuctionLog(home: string, keyName: string | undefined): AuctionLog {
  if (!keyName) return AuctionLog.open(':memory:')
  mkdirSync(join(home, 'auctions'), { recursive: true, mode: 0o700 })
  return AuctionLog.open(auctionLogPath(home, keyName))
}

function defaultRelays(config: TimmyConfig, given: string[]): string[] {
  return given.length ? given : [`ws://127.0.0.1:${config.relayPort}`, ...config.relays]
}

function fail(err: unknown): never {
  process.stderr.write(`timmy: ${(err as Error).message}\n`)
  process.exit(1)
}

export function printReport(report: AuctionReport, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    return
  }
  const lines = [`auction ${report.jobId}: ${report.ok ? 'ok' : 'NOT OK'}`]
  if (report.outcomeId) lines.push(`outcome ${report.outcomeId} by ${npubEncode(report.auctioneer!)}`)
  lines.push(`${report.commits} commit(s), ${report.reveals} reveal(s) found`)
  if (report.winner) lines.push(`winner ${npubEncode(report.winner)} at ${report.clearingPriceMsats} msats`)
  else if (report.outcomeId) lines.push('no winner')
  for (const problem of report.problems) lines.push(`problem: ${problem}`)
  for (const note of report.notes) lines.push(`note: ${note}`)
  process.stdout.write(`${lines.join('\n')}\n`)
}

export interface AuctionJobCommandOptions {
  config: TimmyConfig
  log: Logger
  kind: number
  inputs: JobRequestInput[]
  params: Record<string, string[]>
  output?: string
  reserveMsats: number
  bidWindowSeconds: number
  revealWindowSeconds: number
  /** Reject bidders whose reputation in the requester's web of trust is below this (0..1). */
  minReputation?: number
  relays: string[]
  /** Stored key name; the auction is then logged under $TIMMY_HOME/auctions and can be resumed. */
  keyName?: string
  secretKey?: Uint8Array
  timeoutSeconds: number
  json?: boolean
}

/** `timmy job --auction`: runs the auction, prints the outcome and the winner's result. Exit code 0, 1 (error), 2 (timeout), 3 (no winner). */
export async function runAuctionJobCommand(options: AuctionJobCommandOptions): Promise<number> {
  const secretKey = options.secretKey ?? generateSecretKey()
  const auctionLog = openAuctionLog(options.config.home, options.keyName)
  const print = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`)
  const say = (text: string) => process.stderr.write(`${text}\n`)
  const crypto = await loadEventCrypto()
  const reputation = relayReputation({ relays: options.relays, crypto, fetchText: createUrlFetcher({ allowPrivateAddresses: options.config.allowPrivateUrlInputs }) })
  try {
    const { outcome, result } = await runAuctionJob({
      secretKey,
      relays: options.relays,
      auctionLog,
      crypto,
      reputation: reputation.lookup,
      closeGraceSeconds: options.config.auction.closeGraceSeconds,
      log: options.log,
      kind: options.kind,
      inputs: options.inputs,
      params: options.params,
      ...(options.output && { output: options.output }),
      reserveMsats: options.reserveMsats,
      bidWindowSeconds: options.bidWindowSeconds,
      revealWindowSeconds: options.revealWindowSeconds,
      ...(options.minReputation !== undefined && { minReputation: options.minReputation }),
      resultTimeoutMs: options.timeoutSeconds * 1000,
      onOpened: (request) =>
        options.json ? print({ type: 'request', id: request.id, event: request }) : say(`auction ${request.id} open: bids until ${options.bidWindowSeconds} s from now, reveals ${options.revealWindowSeconds} s after`),
      onOutcome: (stated, state) => {
        const winner = stated.winner ? { winner: npubEncode(stated.winner.bidder), clearingPriceMsats: stated.clearingPriceMsats } : {}
        const belowMinimum = stated.commits.filter((c) => c.status === 'below-minimum-reputation').length
        if (options.json) print({ type: 'outcome', id: stated.id, ...winner, commits: stated.commits.length, noReveals: stated.commits.filter((c) => c.status === 'no-reveal').length, belowMinimum, labels: state.labels.length })
        else {
          const rejected = belowMinimum > 0 ? `, ${belowMinimum} below the minimum reputation` : ''
          say(stated.winner ? `won by ${npubEncode(stated.winner.bidder).slice(0, 16)}… at ${stated.clearingPriceMsats} msats (${stated.commits.length} bid(s)${rejected})` : `no winner (${stated.commits.length} bid(s)${rejected})`)
        }
      },
    })
    if (!result) return 3
    if (options.json) print({ type: 'result', from: npubEncode(result.from), content: result.content, amountMsats: result.amountMsats, bolt11: result.bolt11, eventId: result.event.id })
    else process.stdout.write(`${result.content}\n`)
    if (result.amountMsats !== undefined && result.amountMsats !== outcome.clearingPriceMsats) say(`warning: the winner asks ${result.amountMsats} msats, the clearing price is ${outcome.clearingPriceMsats} msats`)
    return 0
  } catch (err) {
    if (err instanceof AuctionResultTimeoutError) {
      say(`timmy: ${err.message}`)
      return 2
    }
    throw err
  } finally {
    reputation.close()
    auctionLog.close()
  }
}

export function registerAuctionCommands(program: Command): void {
  const auction = program.command('auction').description('sealed-bid second-price auctions for jobs (nips/auction.md)')
  const home = () => new Option('--home <dir>', 'data directory (default $TIMMY_HOME or ./.timmy)')
  const collect = (value: string, previous: string[]) => [...previous, value]

  auction
    .command('verify')
    .description("fetch an auction's request, bids and outcome from relays and recompute the outcome; exit 0 if it is right")
    .argument('<job-id>', 'the job request event id (hex)')
    .option('--relay <url>', 'relay to ask (repeatable; default the host relay and $TIMMY_RELAYS)', collect, [])
    .option('--json', 'print JSON')
    .addOption(home())
    .action(async (jobId: string, options: { relay: string[]; json?: boolean; home?: string }) => {
      try {
        const config = loadConfig({ overrides: { ...(options.home && { home: options.home }) } })
        const report = await verifyAuctionOnRelays({ jobId, relays: defaultRelays(config, options.relay), crypto: await loadEventCrypto() })
        printReport(report, options.json)
        process.exit(report.ok ? 0 : 1)
      } catch (err) {
        fail(err)
      }
    })

  auction
    .command('resume')
    .description('finish the auctions a stopped `timmy job --auction --key <name>` left open, and publish their outcomes')
    .requiredOption('--key <name>', 'the stored key the auctions were run with')
    .option('--relay <url>', 'relay to use (repeatable; default the host relay and $TIMMY_RELAYS)', collect, [])
    .option('--ask-passphrase', 'ask for the key passphrase on the terminal')
    .addOption(home())
    .action(async (options: { key: string; relay: string[]; askPassphrase?: boolean; home?: string }) => {
      try {
        const config = loadConfig({ overrides: { ...(options.home && { home: options.home }) } })
        const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel)
        const passphrase = await resolvePassphrase({ home: config.home, configured: config.passphrase, prompt: options.askPassphrase, log })
        const secretKey = new Keystore(config.home, passphrase, config.keyLogN).load(options.key)
        const auctionLog = openAuctionLog(config.home, options.key)
        const relays = defaultRelays(config, options.relay)
        const crypto = await loadEventCrypto()
        const reputation = relayReputation({ relays, crypto, fetchText: createUrlFetcher({ allowPrivateAddresses: config.allowPrivateUrlInputs }) })
        try {
          const finished = await finishAuctions({ secretKey, relays, auctionLog, crypto, reputation: reputation.lookup, closeGraceSeconds: config.auction.closeGraceSeconds, log })
          if (finished.length === 0) process.stdout.write(`no unfinished auctions for ${npubEncode(getPublicKey(secretKey))}\n`)
          for (const state of finished) {
            const outcome = outcomeOf(state)!
            process.stdout.write(`${state.id}  ${outcome.winner ? `won by ${npubEncode(outcome.winner.bidder)} at ${outcome.clearingPriceMsats} msats` : 'no winner'}\n`)
          }
        } finally {
          reputation.close()
          auctionLog.close()
        }
        process.exit(0)
      } catch (err) {
        fail(err)
      }
    })
}
