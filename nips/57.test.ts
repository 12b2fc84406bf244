import bolt11 from 'bolt11'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, randomBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from './01.js'
import { buildZapReceipt, buildZapRequest, parseZapRequest, validateZapReceipt, zapRequestError, ZAP_RECEIPT_KIND } from './57.js'

const NOW = 1_750_000_000
const senderSk = generateSecretKey()
const recipientPubkey = getPublicKey(generateSecretKey())
const serverSk = generateSecretKey()
const nostrPubkey = getPublicKey(serverSk)
const nodeKey = randomBytes(32)
const zappedEvent = 'e1'.repeat(32)
const LNURL = 'lnurl1dp68gurn8ghj7um5v93kketj9ehx2amn9uh8wetvdskkkmn0wahz7mrww4excup0dajx2mrv92x9xp'

const sha256Hex = (text: string) => bytesToHex(sha256(utf8ToBytes(text)))

/** A real, signed regtest invoice. */
function invoice({ amountMsats, descriptionHash, paymentHash, timestamp = NOW, expiry = 600 }: { amountMsats?: number; descriptionHash: string; paymentHash: string; timestamp?: number; expiry?: number }): string {
  const unsigned = bolt11.encode(
    {
      network: { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
      ...(amountMsats !== undefined && { millisatoshis: String(amountMsats) }),
      timestamp,
      tags: [
        { tagName: 'payment_hash', data: paymentHash },
        { tagName: 'payment_secret', data: '11'.repeat(32) },
        { tagName: 'purpose_commit_hash', data: descriptionHash },
        { tagName: 'expire_time', data: expiry },
      ],
    },
    true,
  )
  return bolt11.sign(unsigned, Buffer.from(nodeKey)).paymentRequest!
}

function zapRequest(overrides: Partial<Parameters<typeof buildZapRequest>[0]> = {}): NostrEvent {
  return finalizeEvent(buildZapRequest({ recipientPubkey, amountMsats: 21_000, relays: ['wss://relay.example.com'], lnurl: LNURL, eventId: zappedEvent, targetKind: 1, comment: 'great summary', createdAt: NOW - 5, ...overrides }), senderSk)
}

interface ReceiptOptions {
  request?: NostrEvent
  requestJson?: string
  invoiceAmount?: number | null
  descriptionHashOf?: string
  expiry?: number
  paidAt?: number
  preimage?: string
  signer?: Uint8Array
  editTags?: (tags: string[][]) => string[][]
}

function receipt(options: ReceiptOptions = {}): NostrEvent {
  const requestJson = options.requestJson ?? JSON.stringify(options.request ?? zapRequest())
  const preimage = options.preimage ?? 'ab'.repeat(32)
  const pr = invoice({
    ...(options.invoiceAmount !== null && { amountMsats: options.invoiceAmount ?? 21_000 }),
    descriptionHash: sha256Hex(options.descriptionHashOf ?? requestJson),
    paymentHash: bytesToHex(sha256(hexToBytes('ab'.repeat(32)))),
    expiry: options.expiry ?? 600,
  })
  const template = buildZapReceipt({ zapRequestJson: requestJson, bolt11: pr, preimage, paidAt: options.paidAt ?? NOW + 10 })
  if (options.editTags) template.tags = options.editTags(template.tags)
  return finalizeEvent(template, options.signer ?? serverSk)
}

const reject = (r: unknown, reason: RegExp, extra: Partial<Parameters<typeof validateZapReceipt>[1]> = {}) => {
  const result = validateZapReceipt(r, { nostrPubkey, ...extra })
  expect(result.ok).toBe(false)
  expect(!result.ok && result.reason).toMatch(reason)
}

describe('zap requests (9734)', () => {
  it('builds the tags NIP-57 lists and passes the server-side checks', () => {
    const request = zapRequest({ address: `30023:${recipientPubkey}:post` })
    expect(request.kind).toBe(9734)
    expect(request.tags).toEqual([
      ['relays', 'wss://relay.example.com'],
      ['amount', '21000'],
      ['lnurl', LNURL],
      ['p', recipientPubkey],
      ['e', zappedEvent],
      ['a', `30023:${recipientPubkey}:post`],
      ['k', '1'],
    ])
    expect(zapRequestError(request, { amountMsats: 21_000, recipientPubkey, lnurl: LNURL.toUpperCase() })).toBeNull()
    expect(parseZapRequest(JSON.stringify(request)).id).toBe(request.id)
  })

  it('rejects each Appendix D violation with its reason', () => {
    const signed = (tags: string[][], kind = 9734) => finalizeEvent({ kind, created_at: NOW, content: '', tags }, senderSk)
    const p = ['p', recipientPubkey]
    expect(zapRequestError(signed([p], 1))).toMatch(/kind 9734/)
    expect(zapRequestError({ ...zapRequest(), content: 'edited' })).toMatch(/signature/)
    expect(zapRequestError(signed([]))).toMatch(/no tags/)
    expect(zapRequestError(signed([['relays', 'wss://r']]))).toMatch(/exactly one p tag, has 0/)
    expect(zapRequestError(signed([p, ['p', 'a'.repeat(64)]]))).toMatch(/exactly one p tag, has 2/)
    expect(zapRequestError(signed([p, ['e', 'a'.repeat(64)], ['e', 'b'.repeat(64)]]))).toMatch(/at most one e tag/)
    expect(zapRequestError(signed([p, ['a', 'not-a-coordinate']]))).toMatch(/event coordinate/)
    expect(zapRequestError(signed([p, ['P', 'a'.repeat(64)], ['P', 'b'.repeat(64)]]))).toMatch(/at most one P tag/)
    expect(zapRequestError(signed([p, ['amount', '-5']]))).toMatch(/positive integer/)
    expect(zapRequestError(zapRequest(), { amountMsats: 1000 })).toMatch(/does not match the requested amount/)
    expect(zapRequestError(zapRequest(), { recipientPubkey: 'f'.repeat(64) })).toMatch(/another recipient/)
    expect(zapRequestError(zapRequest(), { lnurl: 'lnurl1other' })).toMatch(/another LNURL/)
    expect(zapRequestError({ kind: 9734 })).toMatch(/malformed/)
    expect(() => parseZapRequest('{not json')).toThrow(/invalid: zap request is not JSON/)
  })
})

describe('zap receipts (9735)', () => {
  it('accepts a correct receipt and reports the zap', () => {
    const request = zapRequest()
    const r = receipt({ request })
    expect(r.kind).toBe(ZAP_RECEIPT_KIND)
    expect(r.created_at).toBe(NOW + 10)
    expect(r.tags.map((t) => t[0])).toEqual(['p', 'P', 'e', 'k', 'bolt11', 'description', 'preimage'])
    const result = validateZapReceipt(r, { nostrPubkey, recipientPubkey, eventId: zappedEvent, lnurl: LNURL })
    expect(result).toEqual({
      ok: true,
      zap: {
        receipt: r,
        request,
        amountMsats: 21_000,
        senderPubkey: getPublicKey(senderSk),
        recipientPubkey,
        eventId: zappedEvent,
        comment: 'great summary',
        paymentHash: bytesToHex(sha256(hexToBytes('ab'.repeat(32)))),
        paidAt: NOW + 10,
      },
    })
  })

  it('accepts a zap request without an amount tag, whatever the invoice amount', () => {
    const request = finalizeEvent(buildZapRequest({ recipientPubkey, relays: ['wss://r'], createdAt: NOW }), senderSk)
    const result = validateZapReceipt(receipt({ request, invoiceAmount: 5000 }), { nostrPubkey })
    expect(result.ok && result.zap.amountMsats).toBe(5000)
  })

  it('rejects a receipt not signed by the LNURL server', () => {
    reject(receipt({ signer: generateSecretKey() }), /not signed by the recipient's LNURL server/)
  })

  it('rejects a receipt whose signature or id was tampered with', () => {
    reject({ ...receipt(), created_at: NOW + 11 }, /id or signature is invalid/)
  })

  it('rejects an invoice amount that differs from the zap request', () => {
    reject(receipt({ invoiceAmount: 1000 }), /amount mismatch: the zap request asks 21000 msat, the invoice is for 1000 msat/)
    reject(receipt({ invoiceAmount: null }), /no amount/)
  })

  it('rejects an invoice that commits to something other than the zap request', () => {
    reject(receipt({ descriptionHashOf: 'something else' }), /not the sha256 of the zap request/)
  })

  it('rejects p, e and P tags that do not match the zap request', () => {
    reject(receipt({ editTags: (tags) => tags.map((t) => (t[0] === 'p' ? ['p', 'c'.repeat(64)] : t)) }), /p tag does not match/)
    reject(receipt({ editTags: (tags) => tags.filter((t) => t[0] !== 'e') }), /e tag does not match/)
    reject(receipt({ editTags: (tags) => tags.map((t) => (t[0] === 'e' ? ['e', 'd'.repeat(64)] : t)) }), /e tag does not match/)
    reject(receipt({ editTags: (tags) => tags.map((t) => (t[0] === 'P' ? ['P', 'd'.repeat(64)] : t)) }), /P tag is not the zap request author/)
  })

  it('rejects a forged zap request inside the receipt', () => {
    const forged = { ...zapRequest(), content: 'I paid a million' }
    reject(receipt({ request: forged }), /zap request id or signature is invalid/)
    const twoPs = finalizeEvent({ kind: 9734, created_at: NOW, content: '', tags: [['p', recipientPubkey], ['p', 'a'.repeat(64)]] }, senderSk)
    reject(receipt({ request: twoPs }), /exactly one p tag/)
    reject(receipt({ descriptionHashOf: '{"kind":9734', editTags: (tags) => tags.map((t) => (t[0] === 'description' ? ['description', '{"kind":9734'] : t)) }), /description is not JSON/)
    reject(receipt({ editTags: (tags) => tags.filter((t) => t[0] !== 'description') }), /no description tag/)
  })

  it('rejects a receipt issued after its invoice expired', () => {
    reject(receipt({ expiry: 60, paidAt: NOW + 61 }), /expired before the receipt was issued/)
  })

  it('rejects a malformed or missing bolt11', () => {
    reject(receipt({ editTags: (tags) => tags.map((t) => (t[0] === 'bolt11' ? ['bolt11', 'lnbc1garbage'] : t)) }), /bolt11 is malformed/)
    const valid = receipt()
    const pr = valid.tags.find((t) => t[0] === 'bolt11')![1]
    reject(receipt({ editTags: (tags) => tags.map((t) => (t[0] === 'bolt11' ? ['bolt11', pr.slice(0, -8) + 'qqqqqqqq'] : t)) }), /bolt11 is malformed/)
    reject(receipt({ editTags: (tags) => tags.filter((t) => t[0] !== 'bolt11') }), /no bolt11 tag/)
  })

  it('rejects a preimage that does not match the payment hash', () => {
    reject(receipt({ preimage: 'cd'.repeat(32) }), /preimage does not match/)
  })

  it('rejects zaps for another recipient, event or LNURL when the caller says which', () => {
    reject(receipt(), /another recipient/, { recipientPubkey: 'f'.repeat(64) })
    reject(receipt(), /another event/, { eventId: 'f'.repeat(64) })
    reject(receipt(), /another LNURL/, { lnurl: 'lnurl1xyz' })
  })

  it('rejects what is not a receipt', () => {
    reject({ kind: 9735 }, /malformed zap receipt/)
    reject(zapRequest(), /kind 9735, not 9734/)
  })
})
