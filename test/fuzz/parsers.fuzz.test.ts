// Every parser that reads what strangers send: generated inputs plus the corpus in test/fuzz/corpus/.
// The property everywhere: the parser returns a value or throws an Error that says why; it never
// throws a TypeError/RangeError from reading a field that is not there, never hangs, and never
// accepts what it should refuse (tampered NIP-44 payloads, unsigned auth, foreign zap receipts).
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBolt11 } from '../../agents/lightning/bolt11.js'
import { decodeInvoice, decodeInvoiceRequest, decodeOffer } from '../../agents/lightning/bolt12/index.js'
import { finalizeEvent, generateSecretKey, getPublicKey, matchFilter, parseFilter } from '../../nips/01.js'
import { decode as decodeNip19 } from '../../nips/19.js'
import { decrypt as nip44Decrypt, encrypt as nip44Encrypt, getConversationKey } from '../../nips/44.js'
import { buildZapReceipt, buildZapRequest, validateZapReceipt, zapRequestError } from '../../nips/57.js'
import { buildJobRequest, decryptJobRequest, encryptJobRequest, parseJobRequest } from '../../nips/90.js'
import { decodeAuthorizationHeader, HTTP_AUTH_KIND, httpAuthError } from '../../nips/98.js'
import { loadCorpus } from './corpus.js'
import { filterArbitrary } from './frames.js'
import { fuzzRuns } from './runs.js'

/** Runs the parser; a throw must be a deliberate Error with a message, not a crash on a missing field. */
function graceful<T>(parse: () => T): { ok: true; value: T } | { ok: false; error: Error } {
  try {
    return { ok: true, value: parse() }
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(Error)
    expect(err).not.toBeInstanceOf(TypeError)
    expect(err).not.toBeInstanceOf(RangeError)
    expect((err as Error).message.length).toBeGreaterThan(0)
    return { ok: false, error: err as Error }
  }
}

const strings = loadCorpus('strings')
const jsonCorpus = loadCorpus('json').map((line) => JSON.parse(line) as unknown)
const hostileString = fc.oneof(fc.constantFrom(...strings), fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.base64String({ maxLength: 400 }))
const hostileJson = fc.oneof(fc.constantFrom(...jsonCorpus), fc.jsonValue({ maxDepth: 5 }), fc.anything({ maxDepth: 3 }))

const dvmKey = generateSecretKey()
const DVM = getPublicKey(dvmKey)
const requesterKey = generateSecretKey()
const NOW = 1_767_225_600
const target = finalizeEvent({ kind: 1, created_at: NOW, tags: [['e', 'a'.repeat(64)], ['t', 'x']], content: 'x' }, requesterKey)

/** Tag lists as a hostile client would write them. */
const hostileTags = fc.array(fc.array(fc.oneof(fc.constantFrom('i', 'param', 'bid', 'relays', 'output', 'p', 'e', 'a', 'k', 'amount', 'lnurl', 'encrypted', 'text', 'url', 'event', 'job'), hostileString), { maxLength: 5 }), { maxLength: 12 })

describe('fuzz: relay filters', () => {
  it('parseFilter refuses with invalid: or yields a filter that matches without throwing', () => {
    fc.assert(
      fc.property(fc.oneof(filterArbitrary, hostileJson), (value) => {
        const parsed = graceful(() => parseFilter(value))
        if (parsed.ok) expect(typeof matchFilter(parsed.value, target)).toBe('boolean')
        else expect(parsed.error.message).toMatch(/^invalid: /)
      }),
      { numRuns: fuzzRuns(500) },
    )
  })
})

describe('fuzz: NIP-90 job requests', () => {
  it('plain requests: hostile events parse or are refused with a reason', () => {
    const event = fc.record({ kind: fc.oneof(fc.integer({ min: 5000, max: 5999 }), fc.integer()), tags: hostileTags, content: hostileString })
    fc.assert(
      fc.property(fc.oneof(event.map((e) => finalizeEvent({ ...e, created_at: NOW }, requesterKey) as unknown), hostileJson), (value) => {
        graceful(() => parseJobRequest(value))
      }),
      { numRuns: fuzzRuns(400) },
    )
  })

  it('encrypted requests: hostile ciphertexts and hostile decrypted params are refused with a reason', () => {
    const convKey = getConversationKey(requesterKey, DVM)
    const content = fc.oneof(
      hostileString,
      fc.oneof(hostileTags.map((t) => JSON.stringify(t)), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ minLength: 1, maxLength: 200 })).map((plaintext) => nip44Encrypt(plaintext, convKey)),
    )
    fc.assert(
      fc.property(content, hostileTags, (ciphertext, extraTags) => {
        const event = finalizeEvent({ kind: 5001, created_at: NOW, tags: [['p', DVM], ['encrypted'], ...extraTags.filter((t) => t[0] !== 'p')], content: ciphertext }, requesterKey)
        graceful(() => decryptJobRequest(event, dvmKey))
      }),
      { numRuns: fuzzRuns(300) },
    )
  })

  it('a well-formed encrypted request still round-trips (the fuzzing is not vacuous)', () => {
    const template = buildJobRequest({ kind: 5001, inputs: [{ type: 'text', value: 'secret text' }], params: { lang: ['fr'] }, createdAt: NOW })
    const event = finalizeEvent(encryptJobRequest(template, requesterKey, DVM), requesterKey)
    expect(decryptJobRequest(event, dvmKey).inputs[0].value).toBe('secret text')
  })
})

describe('fuzz: NIP-44 payloads', () => {
  const convKey = getConversationKey(requesterKey, DVM)

  it('hostile payloads are refused', () => {
    fc.assert(
      fc.property(hostileString, (payload) => {
        const result = graceful(() => nip44Decrypt(payload, convKey))
        expect(result.ok).toBe(false)
      }),
      { numRuns: fuzzRuns(400) },
    )
  })

  it('any one-character change to a real payload is refused, never decrypted to something else', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 100 }), fc.nat(), fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), (plaintext, at, replacement) => {
        const payload = nip44Encrypt(plaintext, convKey)
        const index = at % payload.length
        fc.pre(payload[index] !== replacement && payload[index] !== '=')
        const tampered = payload.slice(0, index) + replacement + payload.slice(index + 1)
        const result = graceful(() => nip44Decrypt(tampered, convKey))
        if (result.ok) expect(result.value).toBe(plaintext)
      }),
      { numRuns: fuzzRuns(300) },
    )
  })
})

describe('fuzz: Lightning strings', () => {
  const invoice = strings.find((s) => s.startsWith('lnbc2500u1'))!
  const offer = strings.find((s) => s.startsWith('lno1pqps'))!
  const mutate = (base: string) =>
    fc.tuple(fc.nat(), fc.nat(4), fc.string({ unit: fc.constantFrom(...'qpzry9x8gf2tvdw0s3jn54khce6mua7l'), maxLength: 3 })).map(([at, cut, insert]) => {
      const i = at % base.length
      return base.slice(0, i) + insert + base.slice(i + cut)
    })

  it('bolt11: hostile and mutated invoices decode or are refused', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, mutate(invoice), hostileString.map((s) => `lnbc${s}`)), (text) => {
        graceful(() => decodeBolt11(text))
      }),
      { numRuns: fuzzRuns(400) },
    )
  })

  it('bolt12: hostile and mutated offers, invoice requests and invoices decode or are refused', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, mutate(offer), hostileString.map((s) => `lno1${s}`), hostileString.map((s) => `lnr1${s}`), hostileString.map((s) => `lni1${s}`)), (text) => {
        graceful(() => decodeOffer(text))
        graceful(() => decodeInvoiceRequest(text))
        graceful(() => decodeInvoice(text))
      }),
      { numRuns: fuzzRuns(400) },
    )
  })
})

describe('fuzz: zaps (NIP-57)', () => {
  const serverKey = generateSecretKey()
  const SERVER = getPublicKey(serverKey)

  it('zap requests: hostile values and hostile signed tag sets give a reason or null, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(hostileJson, fc.tuple(hostileTags, hostileString).map(([tags, content]) => finalizeEvent({ kind: 9734, created_at: NOW, tags, content }, requesterKey) as unknown)), (value) => {
        const problem = zapRequestError(value, { recipientPubkey: DVM })
        expect(problem === null || typeof problem === 'string').toBe(true)
      }),
      { numRuns: fuzzRuns(300) },
    )
  })

  it('zap receipts: hostile receipts, even signed by the right server, are never valid', () => {
    const request = JSON.stringify(finalizeEvent(buildZapRequest({ recipientPubkey: DVM, amountMsats: 1000, relays: ['wss://r.example'], createdAt: NOW }), requesterKey))
    const receipt = fc.tuple(hostileString, fc.oneof(fc.constant(request), hostileString), hostileTags).map(([bolt11, description, extra]) => {
      const template = buildZapReceipt({ zapRequestJson: request, bolt11, paidAt: NOW })
      return finalizeEvent({ ...template, tags: [...template.tags.filter((t) => t[0] !== 'description'), ['description', description], ...extra] }, serverKey) as unknown
    })
    fc.assert(
      fc.property(fc.oneof(hostileJson, receipt), (value) => {
        const result = validateZapReceipt(value, { nostrPubkey: SERVER, recipientPubkey: DVM })
        expect(result.ok).toBe(false)
        if (!result.ok) expect(result.reason.length).toBeGreaterThan(0)
      }),
      { numRuns: fuzzRuns(300) },
    )
  })
})

describe('fuzz: NIP-98 and NIP-19', () => {
  it('hostile Authorization headers never authorize', () => {
    const check = { url: 'http://127.0.0.1:8080/api/x', method: 'POST', body: new Uint8Array([1]), now: NOW }
    const forged = fc.tuple(hostileTags, fc.integer({ min: NOW - 30, max: NOW + 30 })).map(([tags, createdAt]) => {
      const event = finalizeEvent({ kind: HTTP_AUTH_KIND, created_at: createdAt, tags, content: '' }, requesterKey)
      return `Nostr ${Buffer.from(JSON.stringify({ ...event, sig: event.sig.replace(/./, 'f') })).toString('base64')}`
    })
    fc.assert(
      fc.property(fc.oneof(hostileString, hostileString.map((s) => `Nostr ${s}`), hostileJson.map((v) => `Nostr ${Buffer.from(JSON.stringify(v) ?? '').toString('base64')}`), forged), (header) => {
        const decoded = decodeAuthorizationHeader(header)
        if ('event' in decoded) expect(httpAuthError(decoded.event, check)).not.toBeNull()
      }),
      { numRuns: fuzzRuns(400) },
    )
  })

  it('NIP-19 strings decode or are refused', () => {
    fc.assert(
      fc.property(fc.oneof(hostileString, hostileString.map((s) => `nprofile1${s}`), hostileString.map((s) => `naddr1${s}`)), (text) => {
        graceful(() => decodeNip19(text))
      }),
      { numRuns: fuzzRuns(300) },
    )
  })
})

