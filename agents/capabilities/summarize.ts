// Kind 5001 summarization, extractive: TextRank (Mihalcea & Tarau 2004). Sentences are the nodes of
// a graph weighted by word overlap, PageRank ranks them, and the best ones are returned in their
// original order. No model and no randomness: the same text always gives the same summary.
import type { Capability, JobContext, JobOutput } from '../capability.js'
import { inputsText } from '../capability.js'

const DAMPING = 0.85
const MAX_ITERATIONS = 100
const CONVERGENCE = 1e-6
const DEFAULT_SENTENCES = 3

// Function words carry no topic; dropping them keeps "the"/"and" from linking every sentence.
const STOPWORDS = new Set(
  `a about above after again against all am an and any are as at be because been before being below between both but by can could did do does doing down during each few for from further had has have having he her here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or other our ours ourselves out over own same she should so some such than that the their theirs them themselves then there these they this those through to too under until up very was we were what when where which while who whom why will with would you your yours yourself yourselves also may might must shall one two get got like well even much many`.split(
    /\s+/,
  ),
)

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' })
const wordSegmenter = new Intl.Segmenter('en', { granularity: 'word' })

// ICU's sentence breaker in Node does not apply its abbreviation list, so "Dr. Jones" would split.
const ABBREVIATION_END = /(?:^|\s)(?:mr|mrs|ms|dr|prof|sr|jr|st|vs|etc|inc|ltd|co|no|fig|approx|dept|est|[a-z])\.$/i

/** Sentences of a text; blank lines and list items end a sentence too. */
export function splitSentences(text: string): string[] {
  const sentences: string[] = []
  for (const block of text.split(/\n\s*\n|\r?\n(?=\s*(?:[-*•]|\d+[.)])\s)/)) {
    let pending = ''
    for (const { segment } of sentenceSegmenter.segment(block.replace(/\s+/g, ' ').trim())) {
      pending += segment
      if (ABBREVIATION_END.test(pending.trimEnd())) continue
      if (pending.trim() !== '') sentences.push(pending.trim())
      pending = ''
    }
    if (pending.trim() !== '') sentences.push(pending.trim())
  }
  return sentences
}

/** A crude English stemmer: enough for "running"/"runs"/"run" to meet, harmless elsewhere. */
function stem(word: string): string {
  for (const suffix of ['ingly', 'edly', 'ing', 'ies', 'ied', 'ly', 'es', 'ed', 's']) {
    if (word.length > suffix.length + 2 && word.endsWith(suffix)) {
      const base = word.slice(0, -suffix.length)
      return suffix === 'ies' || suffix === 'ied' ? `${base}y` : base
    }
  }
  return word
}

export function contentWords(sentence: string): string[] {
  const words: string[] = []
  for (const { segment, isWordLike } of wordSegmenter.segment(sentence.toLowerCase())) {
    if (!isWordLike || STOPWORDS.has(segment)) continue
    words.push(stem(segment))
  }
  return words
}

/** TextRank sentence similarity: shared words, normalized by sentence lengths so long sentences do not win by size. */
function similarity(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 || b.size === 0) return 0
  let shared = 0
  for (const word of a) if (b.has(word)) shared++
  if (shared === 0) return 0
  const norm = Math.log(a.size + 1) + Math.log(b.size + 1)
  return shared / norm
}

/** PageRank score of each sentence over the similarity graph. */
export function rankSentences(sentences: string[]): number[] {
  const n = sentences.length
  const words = sentences.map((s) => new Set(contentWords(s)))
  const weights: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0))
  const outWeight = new Array<number>(n).fill(0)
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const w = similarity(words[i], words[j])
      weights[i][j] = w
      weights[j][i] = w
      outWeight[i] += w
      outWeight[j] += w
    }
  }
  let scores = new Array<number>(n).fill(1)
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    const next = new Array<number>(n).fill(1 - DAMPING)
    for (let j = 0; j < n; j++) {
      if (outWeight[j] === 0) continue
      const share = (DAMPING * scores[j]) / outWeight[j]
      for (let i = 0; i < n; i++) if (weights[j][i] !== 0) next[i] += weights[j][i] * share
    }
    let delta = 0
    for (let i = 0; i < n; i++) delta = Math.max(delta, Math.abs(next[i] - scores[i]))
    scores = next
    if (delta < CONVERGENCE) break
  }
  return scores
}

export type SummaryLength = { sentences: number } | { words: number } | { ratio: number }

/** The top-ranked sentences, in the order the text has them. */
export function summarizeText(text: string, length: SummaryLength = { sentences: DEFAULT_SENTENCES }): string[] {
  const sentences = splitSentences(text)
  const scores = rankSentences(sentences)
  const byRank = sentences.map((_, i) => i).sort((a, b) => scores[b] - scores[a] || a - b)
  const chosen: number[] = []
  if ('words' in length) {
    let words = 0
    for (const i of byRank) {
      const count = sentences[i].split(/\s+/).length
      if (chosen.length > 0 && words + count > length.words) continue
      chosen.push(i)
      words += count
    }
  } else {
    const wanted = 'ratio' in length ? Math.max(1, Math.ceil(sentences.length * length.ratio)) : length.sentences
    chosen.push(...byRank.slice(0, wanted))
  }
  return chosen.sort((a, b) => a - b).map((i) => sentences[i])
}

/**
 * Reads the `length` param ("3", "3 sentences", "120 words", "2 paragraphs" — the kind 5001 page
 * speaks of words and paragraphs) or the `ratio` param (0 < ratio <= 1 of the sentences).
 */
export function parseSummaryLength(params: Record<string, string[]>): { length: SummaryLength; paragraphs: boolean } {
  const lengthParam = params.length?.[0]
  const ratioParam = params.ratio?.[0]
  if (lengthParam !== undefined && ratioParam !== undefined) throw new Error('give either the length or the ratio param, not both')
  if (ratioParam !== undefined) {
    const ratio = Number(ratioParam)
    if (!(ratio > 0 && ratio <= 1)) throw new Error('ratio must be a number greater than 0 and at most 1')
    return { length: { ratio }, paragraphs: false }
  }
  if (lengthParam === undefined) return { length: { sentences: DEFAULT_SENTENCES }, paragraphs: false }
  const match = /^\s*(\d{1,6})\s*(sentences?|words?|paragraphs?)?\s*$/i.exec(lengthParam)
  if (!match || Number(match[1]) === 0) throw new Error('length must be a positive number of sentences, words or paragraphs, e.g. "3" or "100 words"')
  const count = Number(match[1])
  const unit = (match[2] ?? 'sentences').toLowerCase()
  if (unit.startsWith('word')) return { length: { words: count }, paragraphs: false }
  // An extractive summary has no paragraphs of its own: each chosen sentence becomes one.
  return { length: { sentences: count }, paragraphs: unit.startsWith('paragraph') }
}

export interface SummarizeOptions {
  /** Asking price per job, in millisats. */
  priceMsats?: number
}

export function createSummarizeCapability(options: SummarizeOptions = {}): Capability {
  const priceMsats = options.priceMsats ?? 1000
  return {
    kind: 5001,
    id: 'summarize',
    name: 'Summarize',
    about: 'Extractive summary (TextRank): the most central sentences of the input, in their original order.',
    params: [
      { name: 'length', description: 'Summary length: a number of sentences, or "N words" / "N sentences"', default: String(DEFAULT_SENTENCES) },
      { name: 'ratio', description: 'Share of the sentences to keep, greater than 0 and at most 1 (instead of length)' },
    ],
    price: () => priceMsats,
    availability: async () => ({ ok: true }),
    async run(ctx: JobContext): Promise<JobOutput> {
      const { length, paragraphs } = parseSummaryLength(ctx.params)
      const text = inputsText(ctx.inputs)
      const summary = summarizeText(text, length)
      if (summary.length === 0) throw new Error('the input has no sentences to summarize')
      return { content: summary.join(paragraphs ? '\n\n' : ' '), mimeType: 'text/plain' }
    },
  }
}
