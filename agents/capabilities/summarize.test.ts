import { describe, expect, it } from 'vitest'
import type { JobContext, JobInput } from '../capability.js'
import { createSummarizeCapability, parseSummaryLength, rankSentences, splitSentences, summarizeText } from './summarize.js'

const LIGHTNING = `The Lightning Network is a payment network built on top of Bitcoin.
Payments on the Lightning Network travel through channels that two parties open with a Bitcoin transaction.
Once a channel is open, both parties can send Bitcoin payments back and forth without touching the blockchain.
Each payment updates the balance of the channel, and only the final balance is settled on Bitcoin.
Because most payments never reach the blockchain, Lightning payments are fast and cost very little.
The weather in Lisbon was pleasant during the conference where many developers met.
Payments can also cross several channels, so two people without a direct channel can still pay each other over the network.
Routing nodes forward these payments and earn small fees for the liquidity their channels provide.
Invoices, written in the BOLT11 format, tell the payer the amount and the destination of a payment.
Many wallets now hide channels entirely and let users pay a Lightning invoice by scanning a QR code.`

function ctx(inputs: JobInput[], params: Record<string, string[]> = {}): JobContext {
  return {
    inputs,
    params,
    signal: new AbortController().signal,
    now: () => 1_700_000_000,
    log: () => {},
    queryEvents: async () => [],
    partial: async () => {},
  }
}

describe('sentence splitting', () => {
  it('splits on sentence ends, blank lines and list items but not on abbreviations or decimals', () => {
    expect(splitSentences('Dr. Smith paid 3.5 sats to Mr. Jones, e.g. for coffee. It worked! Did it?\n\nTitle line\n- item one\n- item two')).toEqual([
      'Dr. Smith paid 3.5 sats to Mr. Jones, e.g. for coffee.',
      'It worked!',
      'Did it?',
      'Title line',
      '- item one',
      '- item two',
    ])
  })

  it('joins hard-wrapped lines of one sentence', () => {
    expect(splitSentences('A sentence that was\nwrapped by an editor. Another one.')).toEqual(['A sentence that was wrapped by an editor.', 'Another one.'])
  })
})

describe('TextRank', () => {
  const sentences = splitSentences(LIGHTNING)

  it('ranks the off-topic sentence last and the central ones first', () => {
    expect(sentences).toHaveLength(10)
    const scores = rankSentences(sentences)
    const offTopic = sentences.findIndex((s) => s.startsWith('The weather'))
    expect(Math.min(...scores)).toBe(scores[offTopic])
    // It shares no content word with any other sentence: nothing links to it, so it keeps only 1 - d.
    expect(scores[offTopic]).toBeCloseTo(0.15, 9)
    expect(scores.every((s, i) => i === offTopic || s > 0.15)).toBe(true)
    const best = sentences[scores.indexOf(Math.max(...scores))]
    expect(best).toMatch(/payments?/i)
  })

  it('keeps the requested number of sentences, verbatim and in the original order', () => {
    const summary = summarizeText(LIGHTNING, { sentences: 3 })
    expect(summary).toHaveLength(3)
    const positions = summary.map((s) => sentences.indexOf(s))
    expect(positions.every((p) => p >= 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(summary.join(' ')).not.toContain('weather')
    expect(summary.join(' ')).toMatch(/channel/)
  })

  it('is deterministic', () => {
    expect(summarizeText(LIGHTNING, { sentences: 4 })).toEqual(summarizeText(LIGHTNING, { sentences: 4 }))
  })

  it('honours a word budget and a ratio', () => {
    const byWords = summarizeText(LIGHTNING, { words: 40 })
    expect(byWords.join(' ').split(/\s+/).length).toBeLessThanOrEqual(40)
    expect(byWords.length).toBeGreaterThan(0)
    expect(summarizeText(LIGHTNING, { ratio: 0.5 })).toHaveLength(5)
    expect(summarizeText(LIGHTNING, { ratio: 0.01 })).toHaveLength(1)
  })

  it('returns a short text whole and an empty text as nothing', () => {
    expect(summarizeText('Only one sentence here.', { sentences: 3 })).toEqual(['Only one sentence here.'])
    expect(summarizeText('   ', { sentences: 3 })).toEqual([])
  })
})

describe('length params', () => {
  it.each([
    [{}, { length: { sentences: 3 }, paragraphs: false }],
    [{ length: ['5'] }, { length: { sentences: 5 }, paragraphs: false }],
    [{ length: ['2 sentences'] }, { length: { sentences: 2 }, paragraphs: false }],
    [{ length: ['100 words'] }, { length: { words: 100 }, paragraphs: false }],
    [{ length: ['10 paragraphs'] }, { length: { sentences: 10 }, paragraphs: true }],
    [{ ratio: ['0.25'] }, { length: { ratio: 0.25 }, paragraphs: false }],
  ])('reads %j', (params, expected) => {
    expect(parseSummaryLength(params)).toEqual(expected)
  })

  it.each([
    [{ length: ['0'] }, /positive number/],
    [{ length: ['short'] }, /positive number/],
    [{ ratio: ['1.5'] }, /ratio must be/],
    [{ ratio: ['abc'] }, /ratio must be/],
    [{ length: ['3'], ratio: ['0.5'] }, /either the length or the ratio/],
  ])('rejects %j', (params, reason) => {
    expect(() => parseSummaryLength(params)).toThrow(reason)
  })
})

describe('summarize capability (kind 5001)', () => {
  const capability = createSummarizeCapability({ priceMsats: 2000 })

  it('summarizes text and resolved inputs together', async () => {
    const [first, ...rest] = LIGHTNING.split('\n')
    const output = await capability.run(
      ctx([{ type: 'text', value: first }, { type: 'event', value: 'a'.repeat(64), resolved: rest.join('\n') }], { length: ['2'] }),
    )
    expect(output.mimeType).toBe('text/plain')
    expect(splitSentences(output.content)).toHaveLength(2)
    expect(output.content).toBe(summarizeText(LIGHTNING, { sentences: 2 }).join(' '))
  })

  it('puts each sentence in its own paragraph when asked for paragraphs', async () => {
    const output = await capability.run(ctx([{ type: 'text', value: LIGHTNING }], { length: ['2 paragraphs'] }))
    expect(output.content.split('\n\n')).toHaveLength(2)
  })

  it('explains what is wrong with the input', async () => {
    await expect(capability.run(ctx([]))).rejects.toThrow(/no input/)
    await expect(capability.run(ctx([{ type: 'url', value: 'https://example.com/a.txt' }]))).rejects.toThrow(/input 1 \(url\) has no text/)
    await expect(capability.run(ctx([{ type: 'text', value: ' ' }]))).rejects.toThrow(/no sentences/)
  })

  it('describes itself for the announcement and the market', async () => {
    expect(capability).toMatchObject({ kind: 5001, id: 'summarize' })
    expect(capability.params.map((p) => p.name)).toEqual(['length', 'ratio'])
    expect(capability.price([], {})).toBe(2000)
    expect(await capability.availability()).toEqual({ ok: true })
  })
})
