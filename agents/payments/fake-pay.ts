// FAKE ONLY: POST /api/fake-lightning/pay {"bolt11": "lnbcrt..."} pays an invoice of the host's
// in-process FAKE Lightning network from a FAKE payer node whose sats are minted on demand. It
// exists because the fake network lives inside the host process, so `timmy job` and the web
// client's demo have no other way to pay a FAKE invoice. Mounted only when the host's wallet is
// the FAKE one, and it answers loopback clients only; real wallets never get this endpoint.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { decodeBolt11 } from '../lightning/bolt11.js'
import type { FakeLightningNode } from '../lightning/fake-network.js'
import { WalletError } from '../lightning/wallet.js'
import type { Logger } from '../logger.js'

export const FAKE_PAY_PATH = '/api/fake-lightning/pay'
const MAX_BODY_BYTES = 4096
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new Error(`body larger than ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

export function fakeLightningPayHandler(payer: FakeLightningNode, log: Logger): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  return async (req, res) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== FAKE_PAY_PATH) return false
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) {
      reply(res, 403, { error: 'the FAKE lightning pay endpoint answers loopback clients only' })
      return true
    }
    if (req.method !== 'POST') {
      reply(res, 405, { error: 'use POST with {"bolt11": "lnbcrt..."}' })
      return true
    }
    let bolt11: unknown
    try {
      bolt11 = ((await readJson(req)) as { bolt11?: unknown } | null)?.bolt11
    } catch (err) {
      reply(res, 400, { error: `body must be JSON {"bolt11": "..."}: ${(err as Error).message}` })
      return true
    }
    if (typeof bolt11 !== 'string' || bolt11 === '') {
      reply(res, 400, { error: 'bolt11 (a FAKE regtest invoice, lnbcrt...) is required' })
      return true
    }
    let paymentHash: string
    let amountMsats: number
    try {
      const decoded = decodeBolt11(bolt11)
      paymentHash = decoded.paymentHash
      amountMsats = decoded.amountMsats ?? 0
    } catch (err) {
      reply(res, 400, { error: (err as Error).message })
      return true
    }
    // FAKE sats appear from nothing so the demo never runs dry.
    const { balanceMsats } = await payer.balance()
    if (balanceMsats < amountMsats) payer.deposit(amountMsats - balanceMsats + 1_000_000)
    const payment = payer.payInvoice(bolt11, { maxFeeMsats: Math.max(1000, Math.ceil(amountMsats / 100)) })
    // A hold invoice keeps the payment in flight until the agent settles or cancels it: answer now.
    const outcome = await Promise.race([payment.then((r) => ({ ok: true as const, preimage: r.preimage }), (err: Error) => ({ ok: false as const, err })), new Promise<undefined>((r) => setImmediate(() => r(undefined)))])
    if (outcome && !outcome.ok) {
      const status = outcome.err instanceof WalletError && outcome.err.code !== 'backend' ? 400 : 500
      reply(res, status, { error: outcome.err.message, fake: true })
      return true
    }
    if (!outcome) payment.catch((err: Error) => log.info({ paymentHash, err: err.message }, 'FAKE lightning: held payment returned'))
    log.warn({ paymentHash, amountMsats }, 'FAKE lightning: paid an invoice with FAKE sats (not real)')
    reply(res, 200, { fake: true, paymentHash, state: outcome ? 'succeeded' : 'held', ...(outcome && { preimage: outcome.preimage }) })
    return true
  }
}
