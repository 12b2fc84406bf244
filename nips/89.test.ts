import { describe, expect, it } from 'vitest'
import { expectValidAgainstSchema } from '../test/helpers/schemata.js'
import { finalizeEvent, generateSecretKey, getPublicKey } from './01.js'
import { buildHandlerInformation, buildRecommendation, HANDLER_KIND, parseHandlerInformation, parseRecommendation, RECOMMENDATION_KIND } from './89.js'

const sk = generateSecretKey()
const pubkey = getPublicKey(sk)
const T = 1_700_000_000
const sign = (kind: number, tags: string[][], content = '') => finalizeEvent({ kind, created_at: T, tags, content }, sk)

describe('handler information (kind 31990)', () => {
  it('announces job kinds with DVM metadata and parses it back', () => {
    const template = buildHandlerInformation({
      d: 'timmy-summarize',
      kinds: [5001, 5300, 5001],
      content: {
        name: 'Timmy',
        about: 'Summaries and discovery for sats',
        picture: 'https://example.com/timmy.png',
        encryptionSupported: true,
        nip90Params: { length: { required: false, values: [], description: 'sentences to keep' }, lang: { required: true, values: ['en', 'es'] } },
      },
      tags: [['t', 'bitcoin']],
      createdAt: T,
    })
    expect(template.tags).toEqual([['d', 'timmy-summarize'], ['k', '5001'], ['k', '5300'], ['t', 'bitcoin']])
    expect(JSON.parse(template.content)).toMatchObject({ picture: 'https://example.com/timmy.png', image: 'https://example.com/timmy.png' })
    const event = finalizeEvent(template, sk)
    expect(expectValidAgainstSchema(event)).toContain('nips/nip-89/kind-31990')
    const info = parseHandlerInformation(event)
    expect(info).toMatchObject({
      pubkey,
      d: 'timmy-summarize',
      address: `31990:${pubkey}:timmy-summarize`,
      kinds: [5001, 5300],
      content: {
        name: 'Timmy',
        about: 'Summaries and discovery for sats',
        picture: 'https://example.com/timmy.png',
        encryptionSupported: true,
        nip90Params: { length: { required: false, values: [], description: 'sentences to keep' }, lang: { required: true, values: ['en', 'es'] } },
      },
    })
    expect(HANDLER_KIND).toBe(31990)
  })

  it('reads what DVMs in the wild publish: image instead of picture, partial param specs, empty content', () => {
    const wild = parseHandlerInformation(
      sign(31990, [['d', 'x'], ['k', '5100']], JSON.stringify({ name: 'Dali', image: 'https://example.com/d.jpg', cashuAccepted: true, nip90Params: { size: { values: ['1024x1024'] } } })),
    )
    expect(wild.content).toEqual({ name: 'Dali', picture: 'https://example.com/d.jpg', nip90Params: { size: { required: false, values: ['1024x1024'] } } })
    expect(parseHandlerInformation(sign(31990, [['d', 'x'], ['k', '1']])).content).toEqual({})
  })

  it.each([
    [[['k', '5001']], '{}', /non-empty d tag/],
    [[['d', 'x']], '{}', /at least one k tag/],
    [[['d', 'x'], ['k', 'five']], '{}', /k tag must be an event kind/],
    [[['d', 'x'], ['k', '70000']], '{}', /k tag must be an event kind/],
    [[['d', 'x'], ['k', '5001']], 'not json', /content must be JSON/],
    [[['d', 'x'], ['k', '5001']], '[]', /content must be a JSON object/],
    [[['d', 'x'], ['k', '5001']], '{"name":5}', /name must be a string/],
    [[['d', 'x'], ['k', '5001']], '{"encryptionSupported":"True"}', /encryptionSupported must be a boolean/],
    [[['d', 'x'], ['k', '5001']], '{"nip90Params":[]}', /nip90Params must be an object/],
    [[['d', 'x'], ['k', '5001']], '{"nip90Params":{"a":{"values":[1]}}}', /nip90Params "a".values must be an array of strings/],
    [[['d', 'x'], ['k', '5001']], '{"nip90Params":{"a":{"required":"no"}}}', /"a".required must be a boolean/],
  ])('rejects tags %j with content %s', (tags, content, reason) => {
    expect(() => parseHandlerInformation(sign(31990, tags, content))).toThrow(reason)
  })

  it('rejects other kinds and bad input to the builder', () => {
    expect(() => parseHandlerInformation(sign(31989, [['d', 'x'], ['k', '1']]))).toThrow(/must be kind 31990/)
    expect(() => buildHandlerInformation({ d: '', kinds: [1], content: { name: 'a', about: 'b' }, createdAt: T })).toThrow(/d tag/)
    expect(() => buildHandlerInformation({ d: 'x', kinds: [], content: { name: 'a', about: 'b' }, createdAt: T })).toThrow(/at least one kind/)
    expect(() => buildHandlerInformation({ d: 'x', kinds: [1.5], content: { name: 'a', about: 'b' }, createdAt: T })).toThrow(/not an event kind/)
  })
})

describe('recommendations (kind 31989)', () => {
  const address = `31990:${pubkey}:timmy-summarize`

  it('builds and parses a recommendation', () => {
    const event = finalizeEvent(
      buildRecommendation({ kind: 5001, handlers: [{ address, relay: 'wss://relay.example.com', platform: 'web' }, { address: `31990:${pubkey}:other` }], createdAt: T }),
      sk,
    )
    expect(expectValidAgainstSchema(event)).toContain('nips/nip-89/kind-31989')
    expect(parseRecommendation(event)).toMatchObject({
      kind: 5001,
      handlers: [{ address, relay: 'wss://relay.example.com', platform: 'web' }, { address: `31990:${pubkey}:other` }],
    })
    expect(RECOMMENDATION_KIND).toBe(31989)
  })

  it('rejects malformed recommendations', () => {
    expect(() => parseRecommendation(sign(31989, [['d', 'abc'], ['a', address]]))).toThrow(/d tag must be an event kind/)
    expect(() => parseRecommendation(sign(31989, [['d', '1']]))).toThrow(/at least one a tag/)
    expect(() => parseRecommendation(sign(31989, [['d', '1'], ['a', `30023:${pubkey}:x`]]))).toThrow(/must point at a handler/)
    expect(() => buildRecommendation({ kind: 1, handlers: [{ address: 'nope' }], createdAt: T })).toThrow(/not 31990/)
    expect(() => buildRecommendation({ kind: 1, handlers: [{ address, platform: 'web' }], createdAt: T })).toThrow(/needs a relay hint/)
  })
})
