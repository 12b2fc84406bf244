import { bytesToHex } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { encrypt as nip04Encrypt } from 'nostr-tools/nip04'
import { describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey } from './01.js'
import {
  buildNwcInfo,
  buildNwcRequest,
  buildNwcResponse,
  buildNwcUri,
  chooseEncryption,
  encryptNwc,
  NWC_REQUEST_KIND,
  NWC_RESPONSE_KIND,
  NwcError,
  parseNwcInfo,
  parseNwcRequest,
  parseNwcResponse,
  parseNwcTransaction,
  parseNwcUri,
  responseRequestId,
  type NwcEncryption,
} from './47.js'

const walletSk = generateSecretKey()
const walletPubkey = getPublicKey(walletSk)
const clientSk = generateSecretKey()
const clientPubkey = getPublicKey(clientSk)

// The example from NIP-47.
const SPEC_URI =
  'nostr+walletconnect://b889ff5b1513b641e2a139f661a661364979c5beee91842f8f0ef42ab558e9d4?relay=wss%3A%2F%2Frelay.damus.io&secret=71a8c14c1407c113601079c4302dab36460f0ccd0ad506f1f2dc73b5100e4f3c'

describe('NWC connection URI', () => {
  it('parses the NIP example', () => {
    const parsed = parseNwcUri(SPEC_URI)
    expect(parsed.walletPubkey).toBe('b889ff5b1513b641e2a139f661a661364979c5beee91842f8f0ef42ab558e9d4')
    expect(parsed.relays).toEqual(['wss://relay.damus.io'])
    expect(bytesToHex(parsed.secret)).toBe('71a8c14c1407c113601079c4302dab36460f0ccd0ad506f1f2dc73b5100e4f3c')
  })

  it('round-trips several relays and a lud16', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.webUrl({ validSchemes: ['wss'] }), { minLength: 1, maxLength: 4 }), (relays) => {
        const connection = { walletPubkey, relays, secret: clientSk, lud16: 'agent@example.com' }
        const parsed = parseNwcUri(buildNwcUri(connection))
        expect(parsed).toEqual(connection)
      }),
      { numRuns: 50 },
    )
  })

  it('rejects what is not a connection URI, with the reason', () => {
    expect(() => parseNwcUri('nostr+walletconnect://abc?relay=wss://r&secret=' + '1'.repeat(64))).toThrow(/pubkey/)
    expect(() => parseNwcUri(`nostr+walletconnect://${walletPubkey}?secret=${'1'.repeat(64)}`)).toThrow(/relay parameter/)
    expect(() => parseNwcUri(`nostr+walletconnect://${walletPubkey}?relay=https://r&secret=${'1'.repeat(64)}`)).toThrow(/ws:\/\//)
    expect(() => parseNwcUri(`nostr+walletconnect://${walletPubkey}?relay=wss://r&secret=12`)).toThrow(/secret/)
    expect(() => parseNwcUri(`nostr+walletconnect://${walletPubkey}?relay=wss://r&secret=${'0'.repeat(64)}`)).toThrow()
    expect(() => parseNwcUri('lightning:lnbc1')).toThrow(/must start with/)
  })
})

describe('NWC info event', () => {
  it('reads methods and encryption schemes; no encryption tag means NIP-04 only', () => {
    const info = parseNwcInfo(buildNwcInfo({ methods: ['pay_invoice', 'make_invoice'], encryptions: ['nip44_v2', 'nip04'], notifications: ['payment_received'] }, 1))
    expect(info).toEqual({ methods: ['pay_invoice', 'make_invoice'], encryptions: ['nip44_v2', 'nip04'], notifications: ['payment_received'] })
    expect(chooseEncryption(info)).toBe('nip44_v2')
    const legacy = parseNwcInfo({ kind: 13194, content: 'pay_invoice get_balance', tags: [] })
    expect(legacy.encryptions).toEqual(['nip04'])
    expect(chooseEncryption(legacy)).toBe('nip04')
    expect(() => chooseEncryption(parseNwcInfo({ kind: 13194, content: '', tags: [['encryption', 'nip99']] }))).toThrow(NwcError)
  })
})

describe.each<NwcEncryption>(['nip44_v2', 'nip04'])('NWC request and response (%s)', (encryption) => {
  it('round-trips a request to the wallet service and its response back', () => {
    const request = finalizeEvent(
      buildNwcRequest({ request: { method: 'make_invoice', params: { amount: 21000, description: 'job' } }, walletPubkey, encryption, createdAt: 100, expiration: 160 }, clientSk),
      clientSk,
    )
    expect(request.kind).toBe(NWC_REQUEST_KIND)
    expect(request.tags).toEqual([['p', walletPubkey], ['encryption', encryption], ['expiration', '160']])
    expect(request.content).not.toContain('make_invoice')
    const parsed = parseNwcRequest(request, walletSk)
    expect(parsed).toEqual({ request: { method: 'make_invoice', params: { amount: 21000, description: 'job' } }, encryption, clientPubkey, expiration: 160 })

    const response = finalizeEvent(
      buildNwcResponse({ requestEvent: request, encryption, response: { resultType: 'make_invoice', result: { invoice: 'lnbc1', payment_hash: 'a'.repeat(64) }, error: null }, createdAt: 101 }, walletSk),
      walletSk,
    )
    expect(response.kind).toBe(NWC_RESPONSE_KIND)
    expect(responseRequestId(response)).toBe(request.id)
    expect(parseNwcResponse(response, clientSk, walletPubkey, encryption)).toEqual({ resultType: 'make_invoice', result: { invoice: 'lnbc1', payment_hash: 'a'.repeat(64) }, error: null })

    const failure = finalizeEvent(
      buildNwcResponse({ requestEvent: request, encryption, response: { resultType: 'pay_invoice', result: null, error: { code: 'INSUFFICIENT_BALANCE', message: 'no' } }, createdAt: 101 }, walletSk),
      walletSk,
    )
    expect(parseNwcResponse(failure, clientSk, walletPubkey, encryption).error).toEqual({ code: 'INSUFFICIENT_BALANCE', message: 'no' })
    expect(() => parseNwcResponse(response, clientSk, clientPubkey, encryption)).toThrow(/not from the wallet service/)
  })
})

describe('NWC request checks on the service side', () => {
  it('reads a legacy request (NIP-04, no encryption tag), as the first NWC clients sent them', () => {
    const content = nip04Encrypt(clientSk, walletPubkey, JSON.stringify({ method: 'pay_invoice', params: { invoice: 'lnbc10n1xyz' } }))
    const event = finalizeEvent({ kind: NWC_REQUEST_KIND, created_at: 1, tags: [['p', walletPubkey]], content }, clientSk)
    const parsed = parseNwcRequest(event, walletSk)
    expect(parsed.encryption).toBe('nip04')
    expect(parsed.request).toEqual({ method: 'pay_invoice', params: { invoice: 'lnbc10n1xyz' } })
  })

  it('rejects unknown schemes, undecryptable content and requests without a method', () => {
    const base = buildNwcRequest({ request: { method: 'get_balance', params: {} }, walletPubkey, encryption: 'nip44_v2', createdAt: 1 }, clientSk)
    const unknownScheme = finalizeEvent({ ...base, tags: [['p', walletPubkey], ['encryption', 'nip99']] }, clientSk)
    expect(() => parseNwcRequest(unknownScheme, walletSk)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_ENCRYPTION' }))
    const otherKey = finalizeEvent(base, clientSk)
    expect(() => parseNwcRequest(otherKey, generateSecretKey())).toThrow(/cannot decrypt/)
    const noMethod = finalizeEvent({ ...base, content: encryptNwc('nip44_v2', JSON.stringify({ params: {} }), clientSk, walletPubkey) }, clientSk)
    expect(() => parseNwcRequest(noMethod, walletSk)).toThrow(/no method/)
    const arrayParams = finalizeEvent({ ...base, content: encryptNwc('nip44_v2', JSON.stringify({ method: 'x', params: [1] }), clientSk, walletPubkey) }, clientSk)
    expect(() => parseNwcRequest(arrayParams, walletSk)).toThrow(/params must be an object/)
  })
})

describe('NWC transactions', () => {
  it('reads make_invoice / lookup_invoice results and rejects malformed ones', () => {
    const tx = parseNwcTransaction({ type: 'incoming', state: 'settled', invoice: 'lnbc1', payment_hash: 'AB'.repeat(32), preimage: 'CD'.repeat(32), amount: 1000, fees_paid: 0, created_at: 5, expires_at: 65, settled_at: 10, metadata: {} })
    expect(tx).toEqual({ type: 'incoming', state: 'settled', invoice: 'lnbc1', paymentHash: 'ab'.repeat(32), preimage: 'cd'.repeat(32), amountMsats: 1000, feesPaidMsats: 0, createdAt: 5, expiresAt: 65, settledAt: 10 })
    expect(() => parseNwcTransaction({ payment_hash: 'zz' })).toThrow(/payment_hash/)
    expect(() => parseNwcTransaction({ payment_hash: 'a'.repeat(64), amount: -1 })).toThrow(/amount/)
    expect(() => parseNwcTransaction({ payment_hash: 'a'.repeat(64), state: 'weird' })).toThrow(/state/)
  })
})
