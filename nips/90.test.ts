import fc from 'fast-check'
import { encrypt as nip04Encrypt } from 'nostr-tools/nip04'
import { describe, expect, it } from 'vitest'
import { expectValidAgainstSchema } from '../test/helpers/schemata.js'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from './01.js'
import {
  buildJobFeedback,
  buildJobRequest,
  buildJobResult,
  decryptJobContent,
  decryptJobRequest,
  encryptJobRequest,
  FEEDBACK_KIND,
  FEEDBACK_STATUSES,
  isJobRequestKind,
  isJobResultKind,
  parseJobFeedback,
  parseJobRequest,
  parseJobResult,
  resultKindFor,
} from './90.js'

const customerSk = generateSecretKey()
const customer = getPublicKey(customerSk)
const dvmSk = generateSecretKey()
const dvm = getPublicKey(dvmSk)
const otherSk = generateSecretKey()
const noteId = 'a'.repeat(64)
const T = 1_700_000_000
// The example invoice of BOLT 11 (2500 µBTC, mainnet), a well-formed bolt11 string.
const BOLT11 =
  'lnbc2500u1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpuaztrnwngzn3kdzw5hydlzf03qdgm2hdq27cqv3agm2awhz5se903vruatfhq77w3ls4evs3ch9zw97j25emudupq63nyw24cg27h2rspfj9srp'

function signedRequest(tags: string[][], kind = 5001, content = ''): NostrEvent {
  return finalizeEvent({ kind, created_at: T, tags, content }, customerSk)
}

describe('kinds', () => {
  it('results are the request kind + 1000, feedback is 7000', () => {
    expect(resultKindFor(5001)).toBe(6001)
    expect(resultKindFor(5999)).toBe(6999)
    expect(() => resultKindFor(4999)).toThrow(/not a job request kind/)
    expect(isJobRequestKind(5000) && isJobRequestKind(5999) && !isJobRequestKind(6000)).toBe(true)
    expect(isJobResultKind(6050) && !isJobResultKind(7000)).toBe(true)
    expect(FEEDBACK_KIND).toBe(7000)
  })
})

describe('job requests', () => {
  it('builds and parses every tag', () => {
    const template = buildJobRequest({
      kind: 5001,
      inputs: [
        { type: 'text', value: 'Some long text' },
        { type: 'event', value: noteId, relay: 'wss://relay.example.com' },
        { type: 'job', value: 'b'.repeat(64), relay: 'wss://relay.example.com', marker: 'source' },
        { type: 'url', value: 'https://example.com/article.txt', marker: 'background' },
      ],
      params: { length: ['3'], lang: ['en', 'es'] },
      output: 'text/plain',
      bidMsats: 21_000,
      relays: ['wss://Relay.Example.com/', 'ws://127.0.0.1:7777'],
      targets: [dvm],
      createdAt: T,
    })
    const event = finalizeEvent(template, customerSk)
    expect(event.tags).toContainEqual(['i', 'https://example.com/article.txt', 'url', '', 'background'])
    expect(event.tags).toContainEqual(['param', 'lang', 'en'])
    expect(event.tags).toContainEqual(['param', 'lang', 'es'])
    const request = parseJobRequest(event)
    expect(request).toMatchObject({
      id: event.id,
      kind: 5001,
      pubkey: customer,
      inputs: [
        { type: 'text', value: 'Some long text' },
        { type: 'event', value: noteId, relay: 'wss://relay.example.com' },
        { type: 'job', value: 'b'.repeat(64), relay: 'wss://relay.example.com', marker: 'source' },
        { type: 'url', value: 'https://example.com/article.txt', marker: 'background' },
      ],
      output: 'text/plain',
      params: { length: ['3'], lang: ['en', 'es'] },
      bidMsats: 21_000,
      relays: ['wss://relay.example.com', 'ws://127.0.0.1:7777'],
      targets: [dvm],
      encrypted: false,
    })
    expect(request.inputs[3]).not.toHaveProperty('relay')
    expect(expectValidAgainstSchema(event)).toEqual(expect.arrayContaining(['nips/nip-90/tag/i', 'nips/nip-90/tag/bid', 'nips/nip-90/tag/param']))
  })

  it('validates against the kind 5000 and 5300 schemas', () => {
    for (const kind of [5000, 5300]) {
      const event = finalizeEvent(buildJobRequest({ kind, inputs: [{ type: 'text', value: 'philosophy' }], output: 'text/plain', createdAt: T }), customerSk)
      expect(expectValidAgainstSchema(event)).toContain(`nips/nip-90/kind-${kind}`)
    }
  })

  it('collects repeated and multi-valued params, and reads "prompt" inputs as text', () => {
    const request = parseJobRequest(
      signedRequest([
        ['i', 'what is the capital of France?', 'prompt'],
        ['param', 'stop', 'a', 'b'],
        ['param', 'stop', 'c'],
        ['param', '__proto__', 'x'],
      ], 5050),
    )
    expect(request.inputs).toEqual([{ type: 'text', value: 'what is the capital of France?' }])
    expect(request.params.stop).toEqual(['a', 'b', 'c'])
    expect(Object.getPrototypeOf(request.params)).toBe(Object.prototype)
    expect(request.params['__proto__']).toEqual(['x'])
    expect(request.targets).toEqual([])
    expect(request.bidMsats).toBeUndefined()
  })

  it.each([
    [[['i', 'x', 'blob']], /unknown input type "blob"/],
    [[['i', 'x']], /needs an input type/],
    [[['i']], /i tag needs a value/],
    [[['i', 'nothex', 'event']], /type event needs a 64-character/],
    [[['i', 'not a url', 'url']], /absolute URL/],
    [[['param', 'model']], /param "model" needs a value/],
    [[['param', '', 'x']], /param tag needs a name/],
    [[['bid', '-5']], /bid must be a whole number of millisats/],
    [[['bid', '1e3']], /bid must be a whole number/],
    [[['bid', '99999999999999999999']], /bid is too large/],
    [[['bid', '1'], ['bid', '2']], /more than one bid/],
    [[['relays', 'https://relay.example.com']], /relays tag: .*scheme must be ws or wss/],
    [[['p', 'NOTHEX']], /p tag needs a 64-character/],
    [[['output', 'text/plain'], ['output', 'text/markdown']], /more than one output/],
    [[['output', 'plain']], /output tag needs a MIME type/],
    [[['encrypted']], /exactly one p tag/],
  ])('rejects %j', (tags, reason) => {
    expect(() => parseJobRequest(signedRequest(tags as string[][]))).toThrow(reason)
  })

  it('rejects what is not a job request', () => {
    expect(() => parseJobRequest(signedRequest([], 1))).toThrow(/^invalid: kind 1 is not a job request kind/)
    expect(() => parseJobRequest({ kind: 5001 })).toThrow(/^invalid: job request: id must be/)
    expect(() => buildJobRequest({ kind: 6001, inputs: [], createdAt: T })).toThrow(/not a job request kind/)
    expect(() => buildJobRequest({ kind: 5001, inputs: [{ type: 'event', value: 'x' }], createdAt: T })).toThrow(/64-character/)
  })

  it('round-trips any inputs and params (property)', () => {
    const tagText = fc.string({ minLength: 1, maxLength: 20 })
    const input = fc.oneof(
      fc.record({ type: fc.constant('text' as const), value: fc.string({ maxLength: 40 }) }),
      fc.record({ type: fc.constantFrom('event' as const, 'job' as const), value: fc.stringMatching(/^[0-9a-f]{64}$/) }, { requiredKeys: ['type', 'value'] }),
    )
    fc.assert(
      fc.property(
        fc.array(input, { maxLength: 5 }),
        fc.dictionary(tagText, fc.array(fc.string({ maxLength: 10 }), { minLength: 1, maxLength: 3 }), { maxKeys: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        (inputs, params, bidMsats) => {
          const request = parseJobRequest(finalizeEvent(buildJobRequest({ kind: 5050, inputs, params, bidMsats, createdAt: T }), customerSk))
          expect(request.inputs).toEqual(inputs)
          expect(request.params).toEqual(params)
          expect(request.bidMsats).toBe(bidMsats)
        },
      ),
      { numRuns: 50 },
    )
  })
})

describe('encrypted job requests', () => {
  const plain = buildJobRequest({
    kind: 5050,
    inputs: [{ type: 'text', value: 'my secret prompt' }],
    params: { model: ['llama3'] },
    output: 'text/plain',
    bidMsats: 5000,
    relays: ['wss://relay.example.com'],
    createdAt: T,
  })

  it('moves i, param and output into NIP-44 content for one provider', () => {
    const event = finalizeEvent(encryptJobRequest(plain, customerSk, dvm), customerSk)
    expect(event.content).not.toContain('secret')
    expect(event.tags.map((t) => t[0]).sort()).toEqual(['bid', 'encrypted', 'p', 'relays'])
    expect(event.tags).toContainEqual(['p', dvm])
    expectValidAgainstSchema(event)

    const seenByAll = parseJobRequest(event)
    expect(seenByAll).toMatchObject({ encrypted: true, inputs: [], params: {}, targets: [dvm], bidMsats: 5000 })
    expect(seenByAll.output).toBeUndefined()

    const seenByDvm = decryptJobRequest(event, dvmSk)
    expect(seenByDvm).toMatchObject({
      encrypted: true,
      encryption: 'nip44',
      inputs: [{ type: 'text', value: 'my secret prompt' }],
      params: { model: ['llama3'] },
      output: 'text/plain',
      bidMsats: 5000,
      relays: ['wss://relay.example.com'],
    })
  })

  it('only the addressed provider can decrypt', () => {
    const event = finalizeEvent(encryptJobRequest(plain, customerSk, dvm), customerSk)
    expect(() => decryptJobRequest(event, otherSk)).toThrow(/addressed to another service provider/)
    const tampered = finalizeEvent({ ...event, content: event.content.slice(0, -8) + 'AAAAAAAA' }, customerSk)
    expect(() => decryptJobRequest(tampered, dvmSk)).toThrow(/^invalid: cannot decrypt encrypted params \(NIP-44\)/)
    expect(() => decryptJobRequest(finalizeEvent(plain, customerSk), dvmSk)).toThrow(/not encrypted/)
  })

  it('refuses to encrypt to one provider while targeting another', () => {
    const targeted = buildJobRequest({ kind: 5050, inputs: [], targets: [getPublicKey(otherSk)], createdAt: T })
    expect(() => encryptJobRequest(targeted, customerSk, dvm)).toThrow(/only be addressed to the service provider/)
  })

  it('reads NIP-04 encrypted params from older clients and answers with NIP-04', () => {
    const privateTags = [['i', 'legacy question', 'text'], ['param', 'language', 'es']]
    const event = signedRequest([['p', dvm], ['encrypted']], 5002, nip04Encrypt(customerSk, dvm, JSON.stringify(privateTags)))
    const request = decryptJobRequest(event, dvmSk)
    expect(request).toMatchObject({ encryption: 'nip04', inputs: [{ type: 'text', value: 'legacy question' }], params: { language: ['es'] } })

    const result = finalizeEvent(buildJobResult({ request, content: 'pregunta heredada', dvmSecretKey: dvmSk, createdAt: T + 5 }), dvmSk)
    expect(result.content).toContain('?iv=')
    expect(decryptJobContent(result, customerSk)).toBe('pregunta heredada')
  })

  it('rejects decrypted params that are not a tag array', () => {
    for (const [plaintext, reason] of [
      ['not json', /decrypted params is not JSON/],
      ['{"i":"x"}', /must be a JSON array of tags/],
      ['[["p","' + dvm + '"]]', /must not contain p or encrypted/],
    ] as const) {
      const event = signedRequest([['p', dvm], ['encrypted']], 5050, nip04Encrypt(customerSk, dvm, plaintext))
      expect(() => decryptJobRequest(event, dvmSk)).toThrow(reason)
    }
  })
})

describe('job results', () => {
  const requestEvent = signedRequest([['i', 'Some text', 'text'], ['param', 'length', '2'], ['p', dvm]])
  const request = parseJobRequest(requestEvent)

  it('builds a result that tags the request, the customer, the inputs and the amount', () => {
    const event = finalizeEvent(buildJobResult({ request, content: 'Summary.', amountMsats: 2000, bolt11: BOLT11, relayHint: 'wss://relay.example.com', createdAt: T + 10 }), dvmSk)
    expect(event.kind).toBe(6001)
    expect(event.tags).toEqual([
      ['request', JSON.stringify(requestEvent)],
      ['e', request.id, 'wss://relay.example.com'],
      ['i', 'Some text', 'text'],
      ['p', customer],
      ['amount', '2000', BOLT11],
    ])
    expectValidAgainstSchema(event)
    const parsed = parseJobResult(event)
    expect(parsed).toMatchObject({
      kind: 6001,
      pubkey: dvm,
      requestId: request.id,
      requestRelay: 'wss://relay.example.com',
      customer,
      request: requestEvent,
      inputs: [{ type: 'text', value: 'Some text' }],
      amountMsats: 2000,
      bolt11: BOLT11,
      content: 'Summary.',
      encrypted: false,
    })
  })

  it('marks free work with amount 0 and validates against the kind 6000 and 6300 schemas', () => {
    for (const kind of [5000, 5300]) {
      const req = parseJobRequest(signedRequest([['i', 'x', 'text']], kind))
      const event = finalizeEvent(buildJobResult({ request: req, content: JSON.stringify([['e', noteId]]), createdAt: T }), dvmSk)
      expect(event.tags).toContainEqual(['amount', '0'])
      expect(expectValidAgainstSchema(event)).toContain(`nips/nip-90/kind-${kind + 1000}`)
      expect(parseJobResult(event).amountMsats).toBe(0)
    }
  })

  it('encrypts the result of an encrypted request and leaves the inputs out', () => {
    const encryptedRequest = finalizeEvent(
      encryptJobRequest(buildJobRequest({ kind: 5050, inputs: [{ type: 'text', value: 'private' }], createdAt: T }), customerSk, dvm),
      customerSk,
    )
    const req = decryptJobRequest(encryptedRequest, dvmSk)
    expect(() => buildJobResult({ request: req, content: 'answer', createdAt: T })).toThrow(/pass dvmSecretKey/)
    expect(() => buildJobResult({ request: parseJobRequest(encryptedRequest), content: 'answer', dvmSecretKey: dvmSk, createdAt: T })).toThrow(
      /decrypt the job request/,
    )
    const event = finalizeEvent(buildJobResult({ request: req, content: 'private answer', dvmSecretKey: dvmSk, createdAt: T }), dvmSk)
    expect(event.content).not.toContain('private')
    expect(event.tags.some((t) => t[0] === 'i')).toBe(false)
    expect(event.tags).toContainEqual(['encrypted'])
    expectValidAgainstSchema(event)
    expect(parseJobResult(event).encrypted).toBe(true)
    expect(decryptJobContent(event, customerSk)).toBe('private answer')
    expect(() => decryptJobContent(event, otherSk)).toThrow(/cannot decrypt job answer/)
  })

  it('rejects malformed results', () => {
    const sign = (tags: string[][], kind = 6001) => finalizeEvent({ kind, created_at: T, tags, content: '' }, dvmSk)
    expect(() => parseJobResult(sign([['p', customer]]))).toThrow(/needs an e tag/)
    expect(() => parseJobResult(sign([['e', request.id]]))).toThrow(/needs a p tag/)
    expect(() => parseJobResult(sign([['e', request.id], ['p', customer], ['amount', 'lots']]))).toThrow(/amount must be a whole number/)
    expect(() => parseJobResult(sign([['e', request.id], ['p', customer], ['request', '{']]))).toThrow(/request tag is not JSON/)
    expect(() => parseJobResult(sign([['e', noteId], ['p', customer], ['request', JSON.stringify(requestEvent)]]))).toThrow(/does not match its e tag/)
    expect(() => parseJobResult(sign([['e', request.id], ['p', customer], ['request', JSON.stringify(requestEvent)]], 6002))).toThrow(
      /kind 6002 does not answer a kind 5001 request/,
    )
    expect(() => parseJobResult(sign([['e', request.id], ['p', customer]], 7000))).toThrow(/not a job result kind/)
    expect(() => buildJobResult({ request, content: '', bolt11: BOLT11, createdAt: T })).toThrow(/needs amountMsats/)
  })
})

describe('job feedback', () => {
  const request = parseJobRequest(signedRequest([['i', 'Some text', 'text']]))

  it.each(FEEDBACK_STATUSES)('builds and parses %s feedback', (status) => {
    const amount = status === 'payment-required' ? { amountMsats: 1000, bolt11: BOLT11 } : {}
    const event = finalizeEvent(buildJobFeedback({ request, status, extraInfo: `now ${status}`, ...amount, createdAt: T }), dvmSk)
    expect(expectValidAgainstSchema(event)).toContain('nips/nip-90/kind-7000')
    expect(parseJobFeedback(event)).toMatchObject({ status, extraInfo: `now ${status}`, requestId: request.id, customer, content: '', encrypted: false, ...amount })
  })

  it('carries a partial sample and requires an amount for payment-required', () => {
    const event = finalizeEvent(buildJobFeedback({ request, status: 'partial', content: 'First sentence…', createdAt: T }), dvmSk)
    expect(parseJobFeedback(event)).toMatchObject({ status: 'partial', content: 'First sentence…' })
    expect(parseJobFeedback(event).extraInfo).toBeUndefined()
    expect(() => buildJobFeedback({ request, status: 'payment-required', createdAt: T })).toThrow(/needs amountMsats/)
    expect(() => buildJobFeedback({ request, status: 'done' as 'success', createdAt: T })).toThrow(/unknown feedback status/)
  })

  it('encrypts feedback content for encrypted requests', () => {
    const encrypted = finalizeEvent(encryptJobRequest(buildJobRequest({ kind: 5001, inputs: [{ type: 'text', value: 'x' }], createdAt: T }), customerSk, dvm), customerSk)
    const req = decryptJobRequest(encrypted, dvmSk)
    const event = finalizeEvent(buildJobFeedback({ request: req, status: 'partial', content: 'sample', dvmSecretKey: dvmSk, createdAt: T }), dvmSk)
    expect(event.tags).toContainEqual(['encrypted'])
    expectValidAgainstSchema(event)
    expect(decryptJobContent(event, customerSk)).toBe('sample')
    const processing = finalizeEvent(buildJobFeedback({ request: req, status: 'processing', createdAt: T }), dvmSk)
    expect(processing.content).toBe('')
    expect(decryptJobContent(processing, customerSk)).toBe('')
  })

  it('rejects malformed feedback', () => {
    const sign = (tags: string[][]) => finalizeEvent({ kind: 7000, created_at: T, tags, content: '' }, dvmSk)
    expect(() => parseJobFeedback(sign([['e', request.id], ['p', customer]]))).toThrow(/needs a status tag/)
    expect(() => parseJobFeedback(sign([['status', 'done'], ['e', request.id], ['p', customer]]))).toThrow(/status must be one of/)
    expect(() => parseJobFeedback(sign([['status', 'error'], ['p', customer]]))).toThrow(/needs an e tag/)
    expect(() => parseJobFeedback(finalizeEvent({ kind: 6001, created_at: T, tags: [], content: '' }, dvmSk))).toThrow(/not job feedback/)
  })
})
