// LND and Core Lightning REST servers for tests, speaking their real wire formats (field names,
// base64/hex conventions, string int64s, error bodies and status codes) on 127.0.0.1, backed by a
// node of the FAKE Lightning network, so that the real REST clients are tested end to end.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { base64, base64urlnopad } from '@scure/base'
import { decodeBolt11 } from '../../agents/lightning/bolt11.js'
import type { FakeLightningNetwork, FakeLightningNode } from '../../agents/lightning/fake-network.js'
import { paymentHashOf, sha256Hex, WalletError } from '../../agents/lightning/wallet.js'

export interface RunningFakeServer {
  url: string
  /** Requests seen, for asserting on the wire format. */
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: unknown }[]
  close(): Promise<void>
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: unknown, path: string) => Promise<void>

async function listen(handler: Handler, requests: RunningFakeServer['requests']): Promise<RunningFakeServer> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      let body: unknown
      try {
        body = text ? JSON.parse(text) : undefined
      } catch {
        body = text
      }
      const path = req.url ?? '/'
      requests.push({ method: req.method ?? '', path, headers: req.headers, body })
      handler(req, res, body, path).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' })
        res.end(JSON.stringify({ code: 2, message: `test server bug: ${err.message}`, details: [] }))
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(body))
}

const b64 = (hex: string) => (hex ? base64.encode(hexToBytes(hex)) : '')
const hexOf = (b64value: unknown) => (typeof b64value === 'string' && b64value ? bytesToHex(base64.decode(b64value)) : '')

// ---------------------------------------------------------------- LND

/** LND REST (grpc-gateway, UseProtoNames + EmitUnpopulated). */
export function startFakeLnd(network: FakeLightningNetwork, node: FakeLightningNode, macaroonHex: string): Promise<RunningFakeServer> {
  const invoices = new Map<string, { bolt11: string; memo: string; addIndex: number }>()
  let addIndex = 0
  const grpcError = (res: ServerResponse, httpStatus: number, code: number, message: string) => json(res, httpStatus, { code, message, details: [] })
  const fromWalletError = (res: ServerResponse, err: unknown) => {
    if (!(err instanceof WalletError)) throw err
    if (err.code === 'not-found') return grpcError(res, 404, 5, 'unable to locate invoice')
    if (err.code === 'invalid') return grpcError(res, 400, 3, err.message)
    return grpcError(res, 500, 2, err.message)
  }

  const invoiceJson = async (paymentHash: string) => {
    const stored = invoices.get(paymentHash)!
    const status = await node.lookupInvoice(paymentHash)
    const decoded = decodeBolt11(stored.bolt11)
    const settled = status.state === 'settled'
    return {
      memo: stored.memo,
      r_preimage: settled ? b64(status.preimage ?? '') : '',
      r_hash: b64(paymentHash),
      value: String(Math.floor(decoded.amountMsats! / 1000)),
      value_msat: String(decoded.amountMsats),
      settled,
      creation_date: String(decoded.timestamp),
      settle_date: String(status.settledAt ?? 0),
      payment_request: stored.bolt11,
      description_hash: b64(decoded.descriptionHash ?? ''),
      expiry: String(decoded.expiresAt - decoded.timestamp),
      fallback_addr: '',
      cltv_expiry: '80',
      route_hints: [],
      private: false,
      add_index: String(stored.addIndex),
      settle_index: settled ? String(stored.addIndex) : '0',
      amt_paid: settled ? String(Math.floor(status.amountMsats / 1000)) : '0',
      amt_paid_sat: settled ? String(Math.floor(status.amountMsats / 1000)) : '0',
      amt_paid_msat: settled ? String(status.amountMsats) : '0',
      state: status.state.toUpperCase(),
      htlcs: [],
      features: {},
      is_keysend: false,
      payment_addr: b64(decoded.paymentSecret ?? ''),
      is_amp: false,
      amp_invoice_state: {},
      is_blinded: false,
    }
  }

  const paymentJson = (p: { paymentHash: string; preimage?: string; amountMsats: number; feeMsats: number; state: string }, bolt11: string, failure = 'FAILURE_REASON_NONE') => ({
    payment_hash: p.paymentHash,
    value: String(Math.floor(p.amountMsats / 1000)),
    creation_date: String(network.nowSeconds()),
    fee: String(Math.floor(p.feeMsats / 1000)),
    payment_preimage: p.preimage ?? '0'.repeat(64),
    value_sat: String(Math.floor(p.amountMsats / 1000)),
    value_msat: String(p.amountMsats),
    payment_request: bolt11,
    status: p.state,
    fee_sat: String(Math.floor(p.feeMsats / 1000)),
    fee_msat: String(p.feeMsats),
    creation_time_ns: String(network.clock() * 1_000_000),
    htlcs: [],
    payment_index: '1',
    failure_reason: failure,
    first_hop_custom_records: {},
  })

  const streamLine = (res: ServerResponse, message: unknown) => {
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })
    res.write(JSON.stringify(message) + '\n')
  }

  const handler: Handler = async (req, res, body, path) => {
    const macaroon = req.headers['grpc-metadata-macaroon']
    if (macaroon === undefined) return grpcError(res, 500, 2, 'expected 1 macaroon, got 0')
    if (macaroon !== macaroonHex) return grpcError(res, 500, 2, 'verification failed: signature mismatch after caveat verification')
    const b = (body ?? {}) as Record<string, unknown>
    const [route, query] = path.split('?')

    if (req.method === 'POST' && (route === '/v1/invoices' || route === '/v2/invoices/hodl')) {
      if (typeof b.value_msat !== 'string' && typeof b.value_msat !== 'number') return grpcError(res, 400, 3, 'value_msat missing')
      const params = {
        amountMsats: Number(b.value_msat),
        ...(b.memo ? { description: String(b.memo) } : {}),
        ...(b.description_hash ? { descriptionHash: hexOf(b.description_hash) } : {}),
        ...(b.expiry ? { expirySeconds: Number(b.expiry) } : {}),
      }
      if (params.descriptionHash) delete (params as { description?: string }).description
      try {
        const created = route === '/v1/invoices'
          ? await node.createInvoice(params)
          : await node.createHoldInvoice({ ...params, paymentHash: hexOf(b.hash) })
        invoices.set(created.paymentHash, { bolt11: created.bolt11, memo: String(b.memo ?? ''), addIndex: ++addIndex })
        const payAddr = b64(decodeBolt11(created.bolt11).paymentSecret ?? '')
        if (route === '/v1/invoices') return json(res, 200, { r_hash: b64(created.paymentHash), payment_request: created.bolt11, add_index: String(addIndex), payment_addr: payAddr })
        return json(res, 200, { payment_request: created.bolt11, add_index: String(addIndex), payment_addr: payAddr })
      } catch (err) {
        return fromWalletError(res, err)
      }
    }

    const lookup = /^\/v1\/invoice\/([0-9a-f]{64})$/.exec(route)
    if (req.method === 'GET' && lookup) {
      if (!invoices.has(lookup[1])) return grpcError(res, 404, 5, 'unable to locate invoice')
      return json(res, 200, await invoiceJson(lookup[1]))
    }

    if (req.method === 'POST' && route === '/v2/invoices/settle') {
      const preimage = hexOf(b.preimage)
      try {
        const status = await node.lookupInvoice(paymentHashOf(preimage))
        if (status.state === 'settled') return grpcError(res, 500, 2, 'invoice already settled')
        await node.settleHoldInvoice(preimage)
        return json(res, 200, {})
      } catch (err) {
        return fromWalletError(res, err)
      }
    }

    if (req.method === 'POST' && route === '/v2/invoices/cancel') {
      const hash = hexOf(b.payment_hash)
      try {
        const status = await node.lookupInvoice(hash)
        if (status.state === 'canceled') return grpcError(res, 500, 2, 'invoice already canceled')
        if (status.state === 'settled') return grpcError(res, 500, 2, 'invoice already settled')
        await node.cancelHoldInvoice(hash)
        return json(res, 200, {})
      } catch (err) {
        return fromWalletError(res, err)
      }
    }

    if (req.method === 'POST' && route === '/v2/router/send') {
      const bolt11 = String(b.payment_request ?? '')
      const fail = (message: string, code = 2) => {
        streamLine(res, { error: { code, message, details: [] } })
        res.end()
      }
      if (!b.timeout_seconds) return fail('timeout_seconds must be specified')
      let decoded
      try {
        decoded = decodeBolt11(bolt11)
      } catch (err) {
        return fail((err as Error).message)
      }
      if ((await node.lookupPayment(decoded.paymentHash)).state === 'succeeded') return fail('invoice is already paid', 6)
      if (decoded.expiresAt <= network.nowSeconds()) return fail(`invoice expired. Valid until ${new Date(decoded.expiresAt * 1000).toISOString()}`)
      // no_inflight_updates: only the final state is sent; the headers go out at once, as grpc-gateway does.
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })
      try {
        const paid = await node.payInvoice(bolt11, { maxFeeMsats: Number(b.fee_limit_msat ?? 0), timeoutSeconds: Number(b.timeout_seconds) })
        streamLine(res, { result: paymentJson({ ...paid, amountMsats: decoded.amountMsats!, state: 'SUCCEEDED' }, bolt11) })
      } catch (err) {
        const reason = err instanceof WalletError && err.code === 'insufficient-balance' ? 'FAILURE_REASON_INSUFFICIENT_BALANCE'
          : err instanceof WalletError && /unknown payment details|canceled/.test(err.message) ? 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS'
          : 'FAILURE_REASON_NO_ROUTE'
        streamLine(res, { result: paymentJson({ paymentHash: decoded.paymentHash, amountMsats: decoded.amountMsats ?? 0, feeMsats: 0, state: 'FAILED' }, bolt11, reason) })
      }
      return void res.end()
    }

    const track = /^\/v2\/router\/track\/([A-Za-z0-9_-]+)$/.exec(route)
    if (req.method === 'GET' && track) {
      if (!/no_inflight_updates=true/.test(query ?? '')) return grpcError(res, 400, 3, 'test server expects no_inflight_updates=true')
      const hash = bytesToHex(base64urlnopad.decode(track[1]))
      const payment = network.payments().filter((p) => p.paymentHash === hash && p.payer === node.name).at(-1)
      if (!payment) return grpcError(res, 404, 5, "payment isn't initiated")
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' })
      await payment.done
      streamLine(res, { result: paymentJson({ ...payment, state: payment.state === 'succeeded' ? 'SUCCEEDED' : 'FAILED' }, '') })
      return void res.end()
    }

    if (req.method === 'GET' && route === '/v1/balance/channels') {
      const { balanceMsats } = await node.balance()
      const amount = (msat: number) => ({ sat: String(Math.floor(msat / 1000)), msat: String(msat) })
      return json(res, 200, {
        balance: String(Math.floor(balanceMsats / 1000)),
        pending_open_balance: '0',
        local_balance: amount(balanceMsats),
        remote_balance: amount(0),
        unsettled_local_balance: amount(0),
        unsettled_remote_balance: amount(0),
        pending_open_local_balance: amount(0),
        pending_open_remote_balance: amount(0),
        custom_channel_data: '',
      })
    }

    return json(res, 404, { code: 5, message: 'Not Found', details: [] })
  }
  return listen(handler, [])
}

// ---------------------------------------------------------------- Core Lightning

/** clnrest: POST /v1/<method>, Rune header, 201 on success, RPC error objects otherwise. */
export function startFakeCln(network: FakeLightningNetwork, node: FakeLightningNode, rune: string): Promise<RunningFakeServer> {
  const invoices = new Map<string, { label: string; bolt11: string; description: string; createdIndex: number }>()
  const labels = new Set<string>()
  const pays = new Map<string, { bolt11: string; createdAt: number }>()
  let createdIndex = 0
  const rpcError = (res: ServerResponse, status: number, code: number, message: string, data?: unknown) =>
    json(res, status, { code, message, ...(data !== undefined && { data }) })

  const handler: Handler = async (req, res, body, path) => {
    const header = req.headers.rune
    if (header === undefined) return rpcError(res, 403, 1501, 'Not authorized: Missing rune')
    if (header !== rune) return rpcError(res, 401, 1502, 'Not authorized: Not derived from master')
    const method = /^\/v1\/([a-z_-]+)$/.exec(path)?.[1]
    if (req.method !== 'POST' || !method) return rpcError(res, 404, -32601, `Unknown command '${path}'`)
    const p = (body ?? {}) as Record<string, unknown>

    switch (method) {
      case 'invoice': {
        const label = String(p.label)
        if (labels.has(label)) return rpcError(res, 500, 900, `Duplicate label '${label}'`)
        const description = String(p.description ?? '')
        const created = await node.createInvoice({
          amountMsats: Number(p.amount_msat),
          ...(p.deschashonly ? { description, descriptionHash: sha256Hex(description) } : { description }),
          ...(p.expiry !== undefined && { expirySeconds: Number(p.expiry) }),
        })
        labels.add(label)
        invoices.set(created.paymentHash, { label, bolt11: created.bolt11, description, createdIndex: ++createdIndex })
        return json(res, 201, {
          payment_hash: created.paymentHash,
          expires_at: created.expiresAt,
          bolt11: created.bolt11,
          payment_secret: decodeBolt11(created.bolt11).paymentSecret,
          created_index: createdIndex,
        })
      }
      case 'listinvoices': {
        const hash = String(p.payment_hash ?? '')
        const stored = invoices.get(hash)
        if (!stored) return json(res, 201, { invoices: [] })
        const status = await node.lookupInvoice(hash)
        const base = {
          label: stored.label,
          bolt11: stored.bolt11,
          payment_hash: hash,
          amount_msat: decodeBolt11(stored.bolt11).amountMsats,
          status: status.state === 'settled' ? 'paid' : status.state === 'canceled' ? 'expired' : 'unpaid',
          description: stored.description,
          expires_at: status.expiresAt,
          created_index: stored.createdIndex,
        }
        if (status.state !== 'settled') return json(res, 201, { invoices: [base] })
        return json(res, 201, {
          invoices: [{ ...base, pay_index: 1, amount_received_msat: status.amountMsats, paid_at: status.settledAt, payment_preimage: status.preimage, updated_index: 1 }],
        })
      }
      case 'pay': {
        const bolt11 = String(p.bolt11)
        let decoded
        try {
          decoded = decodeBolt11(bolt11)
        } catch (err) {
          return rpcError(res, 500, -32602, `Invalid bolt11: ${(err as Error).message}`)
        }
        if (decoded.expiresAt <= network.nowSeconds()) return rpcError(res, 500, 207, 'Invoice expired', { now: network.nowSeconds(), expiry: decoded.expiresAt })
        pays.set(decoded.paymentHash, { bolt11, createdAt: network.nowSeconds() })
        try {
          const paid = await node.payInvoice(bolt11, { maxFeeMsats: Number(p.maxfee ?? 0), timeoutSeconds: Number(p.retry_for ?? 60) })
          return json(res, 201, {
            destination: decoded.payeeNodeKey,
            payment_hash: paid.paymentHash,
            created_at: network.nowSeconds(),
            parts: 1,
            amount_msat: decoded.amountMsats,
            amount_sent_msat: decoded.amountMsats! + paid.feeMsats,
            payment_preimage: paid.preimage,
            status: 'complete',
          })
        } catch (err) {
          return rpcError(res, 500, 205, `Ran out of routes to try after 1 attempt: ${(err as Error).message}`)
        }
      }
      case 'listpays': {
        const hash = String(p.payment_hash ?? '')
        const pay = pays.get(hash)
        const payment = network.payments().filter((x) => x.paymentHash === hash && x.payer === node.name).at(-1)
        if (!pay || !payment) return json(res, 201, { pays: [] })
        return json(res, 201, {
          pays: [{
            payment_hash: hash,
            status: payment.state === 'succeeded' ? 'complete' : payment.state,
            destination: decodeBolt11(pay.bolt11).payeeNodeKey,
            created_at: pay.createdAt,
            bolt11: pay.bolt11,
            amount_msat: payment.amountMsats,
            amount_sent_msat: payment.amountMsats + payment.feeMsats,
            ...(payment.preimage && { preimage: payment.preimage }),
          }],
        })
      }
      case 'listfunds': {
        const { balanceMsats } = await node.balance()
        return json(res, 201, {
          outputs: [],
          channels: [
            { peer_id: '02'.padEnd(66, '1'), connected: true, state: 'CHANNELD_NORMAL', channel_id: 'a'.repeat(64), short_channel_id: '103x1x0', our_amount_msat: balanceMsats, amount_msat: balanceMsats + 1_000_000, funding_txid: 'b'.repeat(64), funding_output: 0 },
            { peer_id: '03'.padEnd(66, '2'), connected: false, state: 'ONCHAIN', channel_id: 'c'.repeat(64), our_amount_msat: 5_000_000, amount_msat: 5_000_000, funding_txid: 'd'.repeat(64), funding_output: 1 },
          ],
        })
      }
      case 'offer': {
        const amount = String(p.amount)
        const offer = await node.createOffer({ description: String(p.description ?? ''), ...(amount !== 'any' && { amountMsats: Number(amount.replace('msat', '')) }) })
        return json(res, 201, { offer_id: offer.offerId, active: true, single_use: false, bolt12: offer.bolt12, used: false, created: true })
      }
      default:
        return rpcError(res, 404, -32601, `Unknown command '${method}'`)
    }
  }
  return listen(handler, [])
}
