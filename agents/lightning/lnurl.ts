// LNURL-pay (LUD-06), Lightning Addresses (LUD-16) and NIP-57 zaps for agents: `<name>@<host>`
// resolves to GET /.well-known/lnurlp/<name>, whose callback issues invoices through the agent's
// wallet. A callback carrying a zap request (`nostr=`) gets an invoice committing to sha256 of that
// request; once it is paid, collectReceipts() returns the signed 9735 receipt for the caller to
// publish (to the request's relays and the agent's own).
//
// Pure-ish: the wallet, the signers and the clock are injected; pending zaps live in a ZapStore
// (SQLite for a host that must not lose a receipt across restarts, memory for tests).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { bech32 } from '@scure/base'
import type { EventTemplate, NostrEvent } from '../../nips/01.js'
import { buildZapReceipt, parseZapRequest } from '../../nips/57.js'
import { sha256Hex, WalletError, type LightningWallet } from './wallet.js'
import { openDatabase } from '../sqlite.js'

export interface ZapSigner {
  /** The `nostrPubkey` clients check receipts against. */
  pubkey: string
  sign(template: EventTemplate): NostrEvent
}

export interface LnurlAgent {
  /** The agent's Nostr pubkey: zap requests must be for it (their `p` tag). */
  pubkey: string
  zapSigner: ZapSigner
  /** Shown by wallets (`text/plain` metadata); default "Pay <name>, a Timmy agent". */
  description?: string
}

export interface PendingZap {
  paymentHash: string
  agent: string
  /** Exactly as received: the receipt's description and the invoice's description hash. */
  zapRequestJson: string
  bolt11: string
  /** From the zap request's `relays` tag. */
  relays: string[]
  /** Unix seconds. */
  expiresAt: number
}

export interface ZapStore {
  add(zap: PendingZap): void
  list(): PendingZap[]
  remove(paymentHash: string): void
}

export function memoryZapStore(): ZapStore {
  const zaps = new Map<string, PendingZap>()
  return {
    add: (zap) => void zaps.set(zap.paymentHash, zap),
    list: () => [...zaps.values()],
    remove: (hash) => void zaps.delete(hash),
  }
}

/** Pending zaps in SQLite: a receipt owed for a paid invoice survives a restart. */
export function sqliteZapStore(path: string): ZapStore & { close(): void } {
  const db = openDatabase(
    path,
    `CREATE TABLE IF NOT EXISTS pending_zaps (
    payment_hash TEXT PRIMARY KEY, agent TEXT NOT NULL, zap_request TEXT NOT NULL, bolt11 TEXT NOT NULL,
    relays TEXT NOT NULL, expires_at INTEGER NOT NULL)`,
    'FULL',
  )
  const insert = db.prepare('INSERT OR IGNORE INTO pending_zaps VALUES (?, ?, ?, ?, ?, ?)')
  const select = db.prepare('SELECT * FROM pending_zaps ORDER BY expires_at')
  const del = db.prepare('DELETE FROM pending_zaps WHERE payment_hash = ?')
  return {
    add: (z) => void insert.run(z.paymentHash, z.agent, z.zapRequestJson, z.bolt11, JSON.stringify(z.relays), z.expiresAt),
    list: () =>
      (select.all() as { payment_hash: string; agent: string; zap_request: string; bolt11: string; relays: string; expires_at: number }[]).map((r) => ({
        paymentHash: r.payment_hash,
        agent: r.agent,
        zapRequestJson: r.zap_request,
        bolt11: r.bolt11,
        relays: JSON.parse(r.relays) as string[],
        expiresAt: r.expires_at,
      })),
    remove: (hash) => void del.run(hash),
    close: () => db.close(),
  }
}

export interface LnurlHandlerOptions {
  wallet: LightningWallet
  agents: Record<string, LnurlAgent>
  /** Public origin the endpoints are reached at, e.g. https://agents.example.com */
  baseUrl: string
  /** Unix milliseconds. */
  clock?: () => number
  minSendableMsats?: number
  maxSendableMsats?: number
  invoiceExpirySeconds?: number
  store?: ZapStore
}

export interface LnurlResponse {
  status: number
  headers: Record<string, string>
  body: string
}

export interface ZapReceiptToPublish {
  paymentHash: string
  agent: string
  receipt: NostrEvent
  /** The zap request's relays; add the agent's own. */
  relays: string[]
}

export interface LnurlHandler {
  /** Whether a request path belongs to this handler. */
  owns(pathname: string): boolean
  handle(method: string, url: string): Promise<LnurlResponse>
  /**
   * Receipts for zap invoices paid since the last call, signed. A receipt keeps being returned (with
   * the same event id) until acknowledge(paymentHash): publish, then acknowledge. Zaps whose invoice
   * expired unpaid are dropped.
   */
  collectReceipts(): Promise<ZapReceiptToPublish[]>
  acknowledge(paymentHash: string): void
  /** `lnurl1...` of an agent's pay endpoint. */
  lnurl(name: string): string
  /** `<name>@<host>` */
  lightningAddress(name: string): string
}

const CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET, OPTIONS', 'Access-Control-Allow-Headers': '*' }
const WELL_KNOWN = /^\/\.well-known\/lnurlp\/([^/]+)$/
const CALLBACK = /^\/lnurlp\/([^/]+)\/callback$/
const NAME = /^[a-z0-9._-]+$/

/** bech32 `lnurl` encoding of a URL (LUD-01), no length limit. */
export function encodeLnurl(url: string): string {
  return bech32.encode('lnurl', bech32.toWords(utf8ToBytes(url)), false)
}

export function createLnurlHandler(options: LnurlHandlerOptions): LnurlHandler {
  const base = new URL(options.baseUrl)
  const origin = base.origin
  const clock = options.clock ?? Date.now
  const minSendable = options.minSendableMsats ?? 1000
  const maxSendable = options.maxSendableMsats ?? 100_000_000
  const expirySeconds = options.invoiceExpirySeconds ?? 600
  const store = options.store ?? memoryZapStore()
  for (const name of Object.keys(options.agents)) if (!NAME.test(name)) throw new Error(`LNURL: agent name ${JSON.stringify(name)} is not a valid lightning address name (a-z0-9._-)`)

  const metadataOf = (name: string) =>
    JSON.stringify([
      ['text/plain', options.agents[name].description ?? `Pay ${name}, a Timmy agent`],
      ['text/identifier', `${name}@${base.host}`],
    ])
  const lnurl = (name: string) => encodeLnurl(`${origin}/.well-known/lnurlp/${name}`)
  const reply = (status: number, body: unknown): LnurlResponse => ({
    status,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...CORS },
    body: JSON.stringify(body),
  })
  const error = (status: number, reason: string) => reply(status, { status: 'ERROR', reason })

  async function callback(name: string, params: URLSearchParams): Promise<LnurlResponse> {
    const agent = options.agents[name]
    const amountText = params.get('amount')
    if (amountText === null || !/^\d+$/.test(amountText)) return error(400, 'amount (msat) is required and must be an integer')
    const amountMsats = Number(amountText)
    if (!Number.isSafeInteger(amountMsats) || amountMsats < minSendable || amountMsats > maxSendable) {
      return error(400, `amount must be between ${minSendable} and ${maxSendable} msat`)
    }
    const zapRequestJson = params.get('nostr')
    let relays: string[] = []
    if (zapRequestJson !== null) {
      try {
        const request = parseZapRequest(zapRequestJson, { amountMsats, recipientPubkey: agent.pubkey, lnurl: lnurl(name) })
        relays = request.tags.find((t) => t[0] === 'relays')?.slice(1) ?? []
      } catch (err) {
        return error(400, (err as Error).message)
      }
    }
    // NIP-57: the description of a zap invoice is the zap request and nothing else.
    const description = zapRequestJson ?? metadataOf(name)
    let created
    try {
      created = await options.wallet.createInvoice({ amountMsats, description, descriptionHash: sha256Hex(description), expirySeconds })
    } catch (err) {
      const reason = err instanceof WalletError ? err.message : 'the wallet failed'
      return error(502, `cannot create an invoice: ${reason}`)
    }
    if (zapRequestJson !== null) {
      store.add({ paymentHash: created.paymentHash, agent: name, zapRequestJson, bolt11: created.bolt11, relays, expiresAt: created.expiresAt })
    }
    return reply(200, { pr: created.bolt11, routes: [] })
  }

  return {
    owns(pathname) {
      return WELL_KNOWN.test(pathname) || CALLBACK.test(pathname)
    },

    async handle(method, url) {
      const parsed = new URL(url, origin)
      if (method === 'OPTIONS') return { status: 204, headers: CORS, body: '' }
      if (method !== 'GET') return error(405, 'only GET is supported')
      const wellKnown = WELL_KNOWN.exec(parsed.pathname)
      const cb = CALLBACK.exec(parsed.pathname)
      let name: string
      try {
        name = decodeURIComponent((wellKnown ?? cb)?.[1] ?? '').toLowerCase()
      } catch {
        return error(400, 'malformed name in the path')
      }
      const agent = Object.hasOwn(options.agents, name) ? options.agents[name] : undefined
      if (!agent) return error(404, `no agent named ${JSON.stringify(name)} here`)
      if (cb) return callback(name, parsed.searchParams)
      return reply(200, {
        tag: 'payRequest',
        callback: `${origin}/lnurlp/${name}/callback`,
        minSendable,
        maxSendable,
        metadata: metadataOf(name),
        commentAllowed: 0,
        allowsNostr: true,
        nostrPubkey: agent.zapSigner.pubkey,
      })
    },

    async collectReceipts() {
      const nowSeconds = Math.floor(clock() / 1000)
      const receipts: ZapReceiptToPublish[] = []
      for (const zap of store.list()) {
        const agent = options.agents[zap.agent]
        let status
        try {
          status = await options.wallet.lookupInvoice(zap.paymentHash)
        } catch (err) {
          if (err instanceof WalletError && err.code === 'not-found') store.remove(zap.paymentHash)
          continue
        }
        if (status.state === 'settled' && agent) {
          const template = buildZapReceipt({
            zapRequestJson: zap.zapRequestJson,
            bolt11: zap.bolt11,
            ...(status.preimage && { preimage: status.preimage }),
            paidAt: status.settledAt ?? nowSeconds,
          })
          receipts.push({ paymentHash: zap.paymentHash, agent: zap.agent, receipt: agent.zapSigner.sign(template), relays: zap.relays })
        } else if (status.state === 'canceled' || (status.state === 'open' && zap.expiresAt < nowSeconds) || !agent) {
          store.remove(zap.paymentHash)
        }
      }
      return receipts
    },

    acknowledge(paymentHash) {
      store.remove(paymentHash)
    },

    lnurl,

    lightningAddress(name) {
      return `${name}@${base.host}`
    },
  }
}

/**
 * For a node:http server: returns false for requests that are not LNURL paths (the host goes on
 * routing them), true for ours, which it answers (asynchronously).
 */
export function lnurlHttpListener(handler: LnurlHandler, onError: (err: Error) => void = () => {}): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname
    if (!handler.owns(pathname)) return false
    handler.handle(req.method ?? 'GET', req.url ?? '/').then(
      (response) => {
        res.writeHead(response.status, response.headers)
        res.end(response.body)
      },
      (err: Error) => {
        onError(err)
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json', ...CORS })
        res.end(JSON.stringify({ status: 'ERROR', reason: 'internal error' }))
      },
    )
    return true
  }
}
