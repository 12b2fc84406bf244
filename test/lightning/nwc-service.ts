// A minimal NIP-47 wallet service for tests: answers one client's requests over real relays with a
// FAKE network node behind it, built only from nips/47.ts (the same module the client uses, but the
// other side of every function), with NIP-44 or NIP-04 as configured.
import { finalizeEvent, getPublicKey, type NostrEvent } from '../../nips/01.js'
import {
  buildNwcInfo,
  buildNwcResponse,
  NWC_REQUEST_KIND,
  NwcError,
  parseNwcRequest,
  type NwcEncryption,
  type NwcResponse,
} from '../../nips/47.js'
import { decodeBolt11 } from '../../agents/lightning/bolt11.js'
import type { FakeLightningNode } from '../../agents/lightning/fake-network.js'
import type { NwcRelayClient } from '../../agents/lightning/nwc.js'
import { WalletError } from '../../agents/lightning/wallet.js'

export interface NwcServiceOptions {
  node: FakeLightningNode
  relays: NwcRelayClient
  relayUrls: string[]
  serviceSecretKey: Uint8Array
  clientPubkey: string
  /** What the info event advertises; undefined: no `encryption` tag (a NIP-04-only legacy service). */
  encryptions?: NwcEncryption[]
  methods: string[]
  /** Unix seconds. */
  now: () => number
}

export interface RunningNwcService {
  /** Requests seen, decrypted. */
  requests: { method: string; encryption: NwcEncryption; params: Record<string, unknown> }[]
  close(): void
}

const NWC_ERRORS: Record<string, string> = {
  'insufficient-balance': 'INSUFFICIENT_BALANCE',
  'not-found': 'NOT_FOUND',
  'payment-failed': 'PAYMENT_FAILED',
  expired: 'PAYMENT_FAILED',
}

export async function startNwcService(options: NwcServiceOptions): Promise<RunningNwcService> {
  const { node, relays, relayUrls, serviceSecretKey } = options
  const requests: RunningNwcService['requests'] = []
  const invoices = new Map<string, { bolt11: string; description?: string; descriptionHash?: string; createdAt: number }>()

  const info = buildNwcInfo({ methods: options.methods, encryptions: options.encryptions ?? [], notifications: [] }, options.now())
  if (!options.encryptions) info.tags = info.tags.filter((t) => t[0] !== 'encryption')
  const published = await relays.publish(relayUrls, finalizeEvent(info, serviceSecretKey))
  if (!published.some((o) => o.ok)) throw new Error(`info event refused: ${JSON.stringify(published)}`)

  const incoming = async (paymentHash: string) => {
    const stored = invoices.get(paymentHash)!
    const status = await node.lookupInvoice(paymentHash)
    return {
      type: 'incoming',
      state: status.state === 'open' ? 'pending' : status.state === 'canceled' ? 'expired' : status.state,
      invoice: stored.bolt11,
      ...(stored.description && { description: stored.description }),
      ...(stored.descriptionHash && { description_hash: stored.descriptionHash }),
      ...(status.preimage && { preimage: status.preimage }),
      payment_hash: paymentHash,
      amount: status.amountMsats,
      fees_paid: 0,
      created_at: stored.createdAt,
      expires_at: status.expiresAt,
      ...(status.settledAt !== undefined && { settled_at: status.settledAt }),
    }
  }

  const perform = async (method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const invoiceParams = () => ({
      amountMsats: Number(params.amount),
      ...(typeof params.description === 'string' && { description: params.description }),
      ...(typeof params.description_hash === 'string' && { descriptionHash: params.description_hash }),
      ...(typeof params.expiry === 'number' && { expirySeconds: params.expiry }),
    })
    switch (method) {
      case 'make_invoice':
      case 'make_hold_invoice': {
        const p = invoiceParams()
        const created = method === 'make_invoice' ? await node.createInvoice(p) : await node.createHoldInvoice({ ...p, paymentHash: String(params.payment_hash) })
        invoices.set(created.paymentHash, { bolt11: created.bolt11, description: p.description, descriptionHash: p.descriptionHash, createdAt: options.now() })
        return incoming(created.paymentHash)
      }
      case 'lookup_invoice': {
        const hash = String(params.payment_hash)
        if (invoices.has(hash)) return incoming(hash)
        const outgoing = await node.lookupPayment(hash)
        if (outgoing.state === 'unknown') throw new NwcError('NOT_FOUND', `no invoice or payment ${hash}`)
        return {
          type: 'outgoing',
          state: outgoing.state === 'succeeded' ? 'settled' : outgoing.state,
          payment_hash: hash,
          ...(outgoing.preimage && { preimage: outgoing.preimage }),
          amount: 0,
          fees_paid: outgoing.feeMsats ?? 0,
          created_at: options.now(),
        }
      }
      case 'pay_invoice': {
        const bolt11 = String(params.invoice)
        decodeBolt11(bolt11)
        const paid = await node.payInvoice(bolt11, { maxFeeMsats: 10_000 })
        return { preimage: paid.preimage, fees_paid: paid.feeMsats }
      }
      case 'settle_hold_invoice':
        await node.settleHoldInvoice(String(params.preimage))
        return {}
      case 'cancel_hold_invoice':
        await node.cancelHoldInvoice(String(params.payment_hash))
        return {}
      case 'get_balance':
        return { balance: (await node.balance()).balanceMsats }
      default:
        throw new NwcError('NOT_IMPLEMENTED', `${method} is not implemented`)
    }
  }

  const respond = async (event: NostrEvent) => {
    let parsed
    try {
      parsed = parseNwcRequest(event, serviceSecretKey)
    } catch (err) {
      // Without a readable request there is no scheme to answer in but the one it claimed.
      const claimed = event.tags.find((t) => t[0] === 'encryption')?.[1]
      if (claimed !== 'nip44_v2' && claimed !== 'nip04') {
        const response: NwcResponse = { resultType: 'unknown', result: null, error: { code: (err as NwcError).code, message: (err as Error).message } }
        await relays.publish(relayUrls, finalizeEvent(buildNwcResponse({ requestEvent: event, encryption: 'nip04', response, createdAt: options.now() }, serviceSecretKey), serviceSecretKey))
      }
      return
    }
    const { request, encryption } = parsed
    requests.push({ method: request.method, encryption, params: request.params })
    let response: NwcResponse
    if (parsed.clientPubkey !== options.clientPubkey) {
      response = { resultType: request.method, result: null, error: { code: 'UNAUTHORIZED', message: 'no wallet is connected to this key' } }
    } else if (options.encryptions && !options.encryptions.includes(encryption)) {
      response = { resultType: request.method, result: null, error: { code: 'UNSUPPORTED_ENCRYPTION', message: `${encryption} is not supported` } }
    } else {
      try {
        response = { resultType: request.method, result: await perform(request.method, request.params), error: null }
      } catch (err) {
        const code = err instanceof NwcError ? err.code : err instanceof WalletError ? NWC_ERRORS[err.code] ?? 'INTERNAL' : 'INTERNAL'
        response = { resultType: request.method, result: null, error: { code, message: (err as Error).message } }
      }
    }
    await relays.publish(relayUrls, finalizeEvent(buildNwcResponse({ requestEvent: event, encryption, response, createdAt: options.now() }, serviceSecretKey), serviceSecretKey))
  }

  let live!: () => void
  const eose = new Promise<void>((resolve) => (live = resolve))
  const subscription = relays.subscribe(relayUrls, [{ kinds: [NWC_REQUEST_KIND], '#p': [getPublicKey(serviceSecretKey)] }], {
    onevent: (event) => void respond(event),
    oneose: () => live(),
  })
  await eose
  return { requests, close: () => subscription.close() }
}
