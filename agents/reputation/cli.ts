// `timmy reputation <npub|hex>`: an agent's reputation computed here, from public events read off
// relays (nips/reputation.md), with the evidence behind it. Zap receipts count as payments when the
// agent's pay endpoint (from its profile's lightning address) names the key that signs them; the
// endpoint is fetched like any URL input, so a private or loopback one needs allowPrivateUrlInputs.
import { InvalidArgumentError, type Command } from 'commander'
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool'
import type { Filter as PoolFilter } from 'nostr-tools/filter'
import WebSocket from 'ws'
import { decodeToHexPubkey, npubEncode } from '../../nips/19.js'
import { isJobRequestKind } from '../../nips/90.js'
import type { ReputationScore } from '../../nips/reputation.js'
import { loadConfig } from '../config.js'
import { loadEventCrypto } from '../crypto.js'
import { createUrlFetcher } from '../url-input.js'
import { gatherReputation, summarize, type QueryEvents, type ReputationSummary } from './gather.js'
import { lnurlZappers } from './zaps.js'

const DAY = 86_400
const EVIDENCE_SHOWN = 20
const QUERY_WAIT_MS = 10_000

interface ReputationCommandOptions {
  relay: string[]
  trustRoot?: string
  kind?: number
  halfLifeDays?: number
  json?: boolean
}

const collect = (value: string, previous: string[]) => [...previous, value]

function parsePubkey(value: string): string {
  try {
    return decodeToHexPubkey(value)
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message)
  }
}

function parseKind(value: string): number {
  const kind = Number(value)
  if (!/^\d+$/.test(value) || !isJobRequestKind(kind)) throw new InvalidArgumentError('must be a job request kind (5000-5999)')
  return kind
}

function parseDays(value: string): number {
  const days = Number(value)
  if (!/^\d+$/.test(value) || days < 1 || days > 36_500) throw new InvalidArgumentError('must be a whole number of days, 1..36500')
  return days
}

const fixed = (n: number) => n.toFixed(3)

function scoreLine(label: string, score: ReputationScore & { sybilBound: number }): string {
  return `${label.padEnd(10)} ${fixed(score.value)}  (${score.labels} labels; trusted weight ${fixed(score.trustedWeight)}, untrusted ${fixed(score.untrustedWeight)}; strangers can move it at most ±${fixed(score.sybilBound)})`
}

function age(seconds: number): string {
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`
  if (seconds < DAY) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / DAY)}d`
}

function render(summary: ReputationSummary): string {
  const lines = [`agent      ${npubEncode(summary.agent)}`]
  lines.push(
    summary.trustRoot
      ? `trust root ${npubEncode(summary.trustRoot)} (${summary.trustGraphSize} follows and follows of follows)`
      : 'trust root none: only labels backed by verified payments count (pass --trust-root <npub>)',
  )
  lines.push(scoreLine('overall', summary.overall))
  for (const [k, score] of Object.entries(summary.byKind)) lines.push(scoreLine(`kind ${k}`, score))
  if (summary.kind?.scope === 'overall') lines.push(`kind ${summary.kind.kind}  no labels yet: jobs of this kind are judged by the overall score`)
  const { zaps } = summary
  if (zaps.zapper === null) lines.push(`zaps       no key for this agent's zap receipts (no lightning address allowing zaps, or its pay endpoint could not be read): ${zaps.receipts} receipts not counted`)
  else {
    const rejected = Object.values(zaps.rejected).reduce((sum, n) => sum + n, 0)
    lines.push(`zaps       ${zaps.payments} job payments proved by ${zaps.receipts} receipts${rejected ? ` (${rejected} rejected)` : ''}; zap server ${npubEncode(zaps.zapper)}`)
  }
  if (summary.truncated) lines.push('note: more labels exist than are read at once; the newest were scored')
  if (summary.evidence.length > 0) {
    lines.push('', `evidence (${summary.evidence.length} heaviest of ${summary.evidenceCount}):`)
    lines.push('  weight  value  outcome         q  kind  age    paid sats  labeller')
    for (const e of summary.evidence) {
      lines.push(
        `  ${fixed(e.weight).padStart(6)}  ${fixed(e.value)}  ${e.outcome.padEnd(14)}  ${e.quality ?? '-'}  ${String(e.kind ?? '-').padEnd(4)}  ${age(summary.now - e.createdAt).padEnd(5)}  ${String(Math.floor(e.paidMsats / 1000)).padStart(9)}  ${npubEncode(e.labeller)}${e.standing === 0 ? ' (no trust path)' : ''}`,
      )
    }
  }
  const ignored = Object.entries(summary.ignored)
  if (ignored.length > 0) {
    lines.push('', 'ignored:')
    for (const [reason, count] of ignored.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) lines.push(`  ${String(count).padStart(6)}  ${reason}`)
  }
  return `${lines.join('\n')}\n`
}

export function registerReputationCommands(program: Command): void {
  program
    .command('reputation')
    .description("an agent's reputation from public NIP-32 job-outcome labels, weighed by a web of trust (see nips/reputation.md)")
    .argument('<pubkey>', 'the agent: npub or hex', parsePubkey)
    .option('--relay <url>', 'relay to read from, repeatable [default: the local relay and $TIMMY_RELAYS]', collect, [])
    .option('--trust-root <npub>', 'whose follows (and their follows) weigh the labels [default: reputation.trustRoot in the config]', parsePubkey)
    .option('--kind <n>', 'the capability (job request kind) you care about', parseKind)
    .option('--half-life-days <n>', 'a label this many days old counts half [default: reputation.halfLifeDays in the config, 90]', parseDays)
    .option('--json', 'print the summary as JSON, with all evidence')
    .action(async (agent: string, options: ReputationCommandOptions) => {
      const config = loadConfig()
      const relays = options.relay.length ? options.relay : [`ws://127.0.0.1:${config.relayPort}`, ...config.relays]
      const crypto = await loadEventCrypto()
      useWebSocketImplementation(WebSocket)
      const pool = new SimplePool()
      // nostr-wasm instead of noble: an agent may carry many thousands of labels.
      pool.verifyEvent = (event) => crypto.verify(event)
      const query: QueryEvents = async (filters) =>
        (await Promise.all(filters.map((filter) => pool.querySync(relays, filter as PoolFilter, { maxWait: QUERY_WAIT_MS })))).flat()
      try {
        const gathered = await gatherReputation(query, {
          agent,
          trustRoot: options.trustRoot ?? config.reputation.trustRoot,
          now: Math.floor(Date.now() / 1000),
          params: { halfLifeSeconds: (options.halfLifeDays ?? config.reputation.halfLifeDays) * DAY },
          zappers: lnurlZappers({ query, fetchText: createUrlFetcher({ allowPrivateAddresses: config.allowPrivateUrlInputs }) }),
          verify: (event) => crypto.verify(event),
        })
        const summary = summarize(gathered, options.json ? Number.MAX_SAFE_INTEGER : EVIDENCE_SHOWN, options.kind)
        process.stdout.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : render(summary))
      } finally {
        pool.destroy()
      }
    })
}
