import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { expectValidAgainstSchema } from '../test/helpers/schemata.js'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from './01.js'
import {
  AI_WOT_NAMESPACE,
  aiWotTypeFor,
  buildAiWotAttestation,
  buildJobOutcomeLabel,
  buildLabel,
  JOB_OUTCOMES,
  LABEL_KIND,
  parseJobOutcomeLabel,
  parseLabel,
  readJobOutcomeLabel,
  TIMMY_LABEL_NAMESPACE,
  type JobOutcomeLabelOptions,
} from './32.js'

const requesterSk = generateSecretKey()
const requester = getPublicKey(requesterSk)
const agentSk = generateSecretKey()
const agent = getPublicKey(agentSk)
const job = 'ab'.repeat(32)
const T = 1_700_000_000

const sign = (tags: string[][], content = '', sk = requesterSk): NostrEvent => finalizeEvent({ kind: LABEL_KIND, created_at: T, tags, content }, sk)

const outcomeOptions = (over: Partial<JobOutcomeLabelOptions> = {}): JobOutcomeLabelOptions => ({
  agent,
  job,
  kind: 5001,
  outcome: 'success',
  quality: 4,
  amountMsats: 21_000,
  createdAt: T,
  ...over,
})

/** A well-formed timmy.dvm label's tags, for tests that break one thing. */
const goodTags = (): string[][] => [
  ['L', TIMMY_LABEL_NAMESPACE],
  ['l', 'success', TIMMY_LABEL_NAMESPACE],
  ['p', agent],
  ['e', job],
  ['k', '5001'],
]

function reasonOf(value: unknown): string {
  try {
    parseJobOutcomeLabel(value)
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('expected the label to be rejected')
}

describe('generic NIP-32 labels', () => {
  it('builds a label in one namespace and parses it back', () => {
    const event = finalizeEvent(
      buildLabel({ namespace: 'ISO-3166-2', labels: ['IT-MI', 'IT-MI', 'IT-RM'], targets: [['r', 'wss://relay.example.com/'], ['t', 'italy']], content: 'where', createdAt: T }),
      requesterSk,
    )
    expect(event.tags).toEqual([
      ['L', 'ISO-3166-2'],
      ['l', 'IT-MI', 'ISO-3166-2'],
      ['l', 'IT-RM', 'ISO-3166-2'],
      ['r', 'wss://relay.example.com/'],
      ['t', 'italy'],
    ])
    expect(expectValidAgainstSchema(event)).toContain('nips/nip-32/kind-1985')
    expect(parseLabel(event)).toMatchObject({
      labeller: requester,
      namespaces: ['ISO-3166-2'],
      labels: [{ value: 'IT-MI', namespace: 'ISO-3166-2' }, { value: 'IT-RM', namespace: 'ISO-3166-2' }],
      targets: [['r', 'wss://relay.example.com/'], ['t', 'italy']],
      content: 'where',
    })
  })

  it('reads #-namespaces (labels that attach tags) like any other', () => {
    const event = sign([['L', '#t'], ['l', 'permies', '#t'], ['p', agent]])
    expect(parseLabel(event).labels).toEqual([{ value: 'permies', namespace: '#t' }])
  })

  it.each([
    ['a label without a mark', [['L', 'ugc'], ['l', 'spam'], ['p', agent]], 'has no namespace mark'],
    ['a mark no L tag declares', [['L', 'ugc'], ['l', 'spam', 'other'], ['p', agent]], 'which no L tag declares'],
    ['no l tag', [['L', 'ugc'], ['p', agent]], 'at least one l tag'],
    ['no target', [['L', 'ugc'], ['l', 'spam', 'ugc']], 'at least one target'],
    ['an empty namespace', [['L', ''], ['l', 'spam', ''], ['p', agent]], 'L tag needs a namespace'],
    ['an empty label', [['L', 'ugc'], ['l', '', 'ugc'], ['p', agent]], 'l tag needs a label value'],
  ])('rejects %s', (_, tags, reason) => {
    expect(() => parseLabel(sign(tags))).toThrow(reason)
  })

  it('rejects other kinds and malformed events', () => {
    expect(() => parseLabel(finalizeEvent({ kind: 1, created_at: T, tags: goodTags(), content: '' }, requesterSk))).toThrow('invalid: a label must be kind 1985, got 1')
    expect(() => parseLabel({ ...sign(goodTags()), id: 'nope' })).toThrow('invalid: id must be 64 lowercase hex characters')
  })

  it('refuses to build labels without labels or targets', () => {
    expect(() => buildLabel({ namespace: 'ugc', labels: [], targets: [['p', agent]], createdAt: T })).toThrow('at least one label')
    expect(() => buildLabel({ namespace: 'ugc', labels: ['x'], targets: [], createdAt: T })).toThrow('at least one target')
    expect(() => buildLabel({ namespace: 'ugc', labels: ['x'], targets: [['x', 'y']], createdAt: T })).toThrow('must be an e, p, a, r or t tag')
    expect(() => buildLabel({ namespace: '', labels: ['x'], targets: [['p', agent]], createdAt: T })).toThrow('namespace')
  })
})

describe('timmy.dvm job-outcome labels', () => {
  it('builds the documented tags, validates against the NIP-32 schema and parses back', () => {
    const template = buildJobOutcomeLabel(outcomeOptions({ relay: 'wss://relay.example.com', comment: 'fast and right' }))
    expect(template.tags).toEqual([
      ['L', 'timmy.dvm'],
      ['l', 'success', 'timmy.dvm'],
      ['p', agent, 'wss://relay.example.com'],
      ['e', job, 'wss://relay.example.com'],
      ['k', '5001'],
      ['quality', '4'],
      ['amount', '21000'],
    ])
    const event = finalizeEvent(template, requesterSk)
    expect(expectValidAgainstSchema(event)).toContain('nips/nip-32/kind-1985')
    expect(parseJobOutcomeLabel(event)).toEqual({
      id: event.id,
      labeller: requester,
      agent,
      job,
      kind: 5001,
      outcome: 'success',
      quality: 4,
      amountMsats: 21_000,
      namespace: 'timmy.dvm',
      label: 'success',
      comment: 'fast and right',
      createdAt: T,
      expiration: undefined,
      event,
    })
  })

  it('labels a protocol fault an agent observed: no-reveal, without quality or amount', () => {
    const observer = generateSecretKey()
    const event = finalizeEvent(buildJobOutcomeLabel({ agent, job, kind: 5001, outcome: 'no-reveal', createdAt: T }), observer)
    expectValidAgainstSchema(event)
    expect(parseJobOutcomeLabel(event)).toMatchObject({ labeller: getPublicKey(observer), outcome: 'no-reveal', quality: undefined, amountMsats: undefined })
  })

  it('round-trips every valid combination', () => {
    const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'))
    fc.assert(
      fc.property(
        hex64,
        fc.integer({ min: 5000, max: 5999 }),
        fc.constantFrom(...JOB_OUTCOMES),
        fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
        fc.integer({ min: 0, max: 2 ** 32 }),
        (jobId, kind, outcome, quality, amountMsats, createdAt) => {
          const options = { agent, job: jobId, kind, outcome, quality: outcome === 'no-reveal' ? undefined : quality, amountMsats, createdAt }
          const event = { ...buildJobOutcomeLabel(options), pubkey: requester, id: 'cd'.repeat(32), sig: 'ef'.repeat(64) }
          const label = parseJobOutcomeLabel(event)
          expect(label).toMatchObject({ agent, job: jobId, kind, outcome, quality: options.quality, amountMsats, createdAt, labeller: requester })
        },
      ),
      { numRuns: 300 },
    )
  })

  it('refuses to build what it would not accept', () => {
    expect(() => buildJobOutcomeLabel(outcomeOptions({ agent: 'npub1...' }))).toThrow('agent must be')
    expect(() => buildJobOutcomeLabel(outcomeOptions({ job: 'xyz' }))).toThrow('job must be')
    expect(() => buildJobOutcomeLabel(outcomeOptions({ kind: 1 }))).toThrow('not a job request kind')
    expect(() => buildJobOutcomeLabel(outcomeOptions({ outcome: 'great' as never }))).toThrow('outcome must be one of')
    expect(() => buildJobOutcomeLabel(outcomeOptions({ quality: 6 }))).toThrow('quality must be an integer 1..5')
    expect(() => buildJobOutcomeLabel(outcomeOptions({ quality: 2.5 }))).toThrow('quality must be an integer 1..5')
    expect(() => buildJobOutcomeLabel(outcomeOptions({ outcome: 'no-reveal' }))).toThrow('no-reveal label carries no quality')
    expect(() => buildJobOutcomeLabel(outcomeOptions({ amountMsats: -1 }))).toThrow('amountMsats')
    expect(() => buildJobOutcomeLabel(outcomeOptions({ relay: 'https://example.com' }))).toThrow()
  })

  const without = (name: string) => goodTags().filter((t) => t[0] !== name)
  it.each([
    ['an unknown outcome', [...without('l'), ['l', 'great', 'timmy.dvm']], 'unknown outcome "great"'],
    ['two outcomes', [...goodTags(), ['l', 'late', 'timmy.dvm']], 'exactly one timmy.dvm label, found 2'],
    ['no agent', without('p'), 'exactly one p tag (the agent), found 0'],
    ['two agents', [...goodTags(), ['p', requester]], 'exactly one p tag (the agent), found 2'],
    ['a malformed agent', [...without('p'), ['p', 'AB'.repeat(32)]], 'the p tag must hold 64 lowercase hex characters'],
    ['no job', without('e'), 'exactly one e tag (the job request), found 0'],
    ['a malformed job', [...without('e'), ['e', 'zz']], 'the e tag must hold 64 lowercase hex characters'],
    ['no capability', without('k'), 'exactly one k tag (the job kind), found 0'],
    ['a non-job capability', [...without('k'), ['k', '1']], 'the k tag must be a job request kind (5000-5999), got "1"'],
    ['quality 0', [...goodTags(), ['quality', '0']], 'quality must be a whole number 1..5, got "0"'],
    ['quality 4.5', [...goodTags(), ['quality', '4.5']], 'quality must be a whole number 1..5'],
    ['two qualities', [...goodTags(), ['quality', '4'], ['quality', '5']], 'at most one quality tag'],
    ['a quality on no-reveal', [...without('l'), ['l', 'no-reveal', 'timmy.dvm'], ['quality', '3']], 'a no-reveal label carries no quality'],
    ['a negative amount', [...goodTags(), ['amount', '-5']], 'amount must be a whole number of msats'],
    ['an amount with a leading zero', [...goodTags(), ['amount', '021']], 'amount must be a whole number of msats'],
    ['an amount past 2^53', [...goodTags(), ['amount', '9007199254740993']], 'amount must be a whole number of msats'],
    ['a label of another vocabulary only', [['L', 'ugc'], ['l', 'good', 'ugc'], ['p', agent]], 'not a job-outcome label'],
  ])('rejects %s, saying why', (_, tags, reason) => {
    const message = reasonOf(sign(tags))
    expect(message.startsWith('invalid: ')).toBe(true)
    expect(message).toContain(reason)
  })

  it('reads a NIP-40 expiration in the same pass, ignoring a malformed one like nips/40.ts', () => {
    expect(parseJobOutcomeLabel(sign([...goodTags(), ['expiration', '1700000123']])).expiration).toBe(1_700_000_123)
    expect(parseJobOutcomeLabel(sign([...goodTags(), ['expiration', 'soon']])).expiration).toBeUndefined()
    expect(parseJobOutcomeLabel(sign([...goodTags(), ['expiration', '12'], ['expiration', '34']])).expiration).toBe(12)
  })

  it('rejects an agent labelling its own job', () => {
    expect(reasonOf(sign(goodTags(), '', agentSk))).toBe('invalid: an agent cannot label its own jobs')
  })

  it('rejects a broken event before reading its tags, unless told it is verified', () => {
    const event = { ...sign(goodTags()), sig: 'short' }
    expect(reasonOf(event)).toBe('invalid: sig must be 128 lowercase hex characters')
    expect(readJobOutcomeLabel(event).outcome).toBe('success')
  })
})

describe('ai.wot interoperability', () => {
  it('emits each outcome as the ai.wot type it means, valid against the schema', () => {
    expect(aiWotTypeFor('success', 5)).toBe('service-quality')
    expect(aiWotTypeFor('success', 3)).toBe('work-completed')
    expect(aiWotTypeFor('success', undefined)).toBe('work-completed')
    expect(aiWotTypeFor('late', 5)).toBe('work-completed')
    for (const outcome of ['failed', 'no-reveal', 'invalid-result'] as const) expect(aiWotTypeFor(outcome, undefined)).toBe('warning')

    const paid = finalizeEvent(buildAiWotAttestation(outcomeOptions({ quality: 3 })), requesterSk)
    expectValidAgainstSchema(paid)
    expect(paid.tags).toEqual([['L', 'ai.wot'], ['l', 'work-completed', 'ai.wot'], ['p', agent], ['e', job], ['k', '5001']])
    expect(paid.content).toBe('Work completed | NIP-90 job kind 5001 (success) | 21 sats')

    const failed = finalizeEvent(buildAiWotAttestation(outcomeOptions({ outcome: 'failed', quality: undefined, amountMsats: undefined })), requesterSk)
    expectValidAgainstSchema(failed)
    expect(failed.content).toBe('NIP-90 job kind 5001: failed')
    expect(parseJobOutcomeLabel(failed)).toMatchObject({ namespace: AI_WOT_NAMESPACE, label: 'warning', outcome: 'failed', job, kind: 5001 })
  })

  it('reads third-party ai.wot attestations about work, which may name no job or kind', () => {
    const attestation = sign([['L', 'ai.wot'], ['l', 'service-quality', 'ai.wot'], ['p', agent]], 'Excellent image generation')
    expect(parseJobOutcomeLabel(attestation)).toMatchObject({ outcome: 'success', label: 'service-quality', job: undefined, kind: undefined, quality: undefined })
    const dispute = sign([['L', 'ai.wot'], ['l', 'dispute', 'ai.wot'], ['p', agent], ['e', job, 'wss://relay.example.com']], 'random text, not a translation')
    expect(parseJobOutcomeLabel(dispute)).toMatchObject({ outcome: 'invalid-result', job })
  })

  it('rejects ai.wot types that are not about work, and unexplained negatives', () => {
    expect(reasonOf(sign([['L', 'ai.wot'], ['l', 'general-trust', 'ai.wot'], ['p', agent]]))).toBe('invalid: ai.wot "general-trust" is not about a job outcome')
    expect(reasonOf(sign([['L', 'ai.wot'], ['l', 'constructor', 'ai.wot'], ['p', agent]]))).toBe('invalid: ai.wot "constructor" is not about a job outcome')
    expect(reasonOf(sign([['L', 'ai.wot'], ['l', 'warning', 'ai.wot'], ['p', agent]], ' '))).toBe('invalid: an ai.wot warning must explain itself in its content')
  })

  it('prefers our vocabulary when an event carries both', () => {
    const both = sign([...goodTags(), ['L', 'ai.wot'], ['l', 'warning', 'ai.wot']], 'mixed')
    expect(parseJobOutcomeLabel(both)).toMatchObject({ namespace: 'timmy.dvm', outcome: 'success' })
  })
})
