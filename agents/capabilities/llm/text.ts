// Kind 5050 text generation and kind 5002 translation, on whichever LLM backend is configured.
import type { Availability, Capability, JobContext, JobInput, JobOutput, ParamSpec } from '../../capability.js'
import { inputsText } from '../../capability.js'
import type { GenerationOptions, LlmBackend } from './backend.js'

const DEFAULT_MAX_TOKENS = 512
const MAX_TOKENS = 4096

/** A backend, or why there is none; capabilities without one are never announced. */
export type BackendOrReason = { backend: LlmBackend } | { reason: string }

export interface LlmPricing {
  /** Asking price per job, in millisats. */
  priceMsats?: number
  /** Added per started 1000 characters of text input. */
  perKiloCharMsats?: number
}

function pricer(pricing: LlmPricing) {
  const base = pricing.priceMsats ?? 10_000
  const perKiloChar = pricing.perKiloCharMsats ?? 1_000
  return (inputs: JobInput[]) => {
    const chars = inputs.reduce((sum, input) => sum + (input.resolved ?? (input.type === 'text' ? input.value : '')).length, 0)
    return base + perKiloChar * Math.ceil(chars / 1000)
  }
}

function firstParam(params: Record<string, string[]>, ...names: string[]): string | undefined {
  for (const name of names) if (params[name]?.[0] !== undefined) return params[name][0]
  return undefined
}

function numberParam(params: Record<string, string[]>, names: string[], min: number, max: number, integer = false): number | undefined {
  const raw = firstParam(params, ...names)
  if (raw === undefined) return undefined
  const value = Number(raw)
  if (raw.trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new Error(`${names[0]} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`)
  }
  return value
}

/** The 5050 params (the kind page writes them both with `_` and with `-`). */
export function parseGenerationParams(params: Record<string, string[]>): GenerationOptions {
  const options: GenerationOptions = { maxTokens: numberParam(params, ['max_tokens', 'max-tokens'], 1, MAX_TOKENS, true) ?? DEFAULT_MAX_TOKENS }
  const temperature = numberParam(params, ['temperature'], 0, 2)
  const topP = numberParam(params, ['top_p', 'top-p'], 0, 1)
  const topK = numberParam(params, ['top_k', 'top-k'], 1, 1000, true)
  const frequencyPenalty = numberParam(params, ['frequency_penalty', 'frequency-penalty'], -2, 2)
  if (temperature !== undefined) options.temperature = temperature
  if (topP !== undefined) options.topP = topP
  if (topK !== undefined) options.topK = topK
  if (frequencyPenalty !== undefined) options.frequencyPenalty = frequencyPenalty
  return options
}

function checkModel(params: Record<string, string[]>, backend: LlmBackend): void {
  const requested = params.model?.[0]
  // A buyer who names a model pays for that model; answering with another one would be a swindle.
  if (requested !== undefined && requested !== backend.model) throw new Error(`this service runs model ${backend.model}, not ${requested}`)
}

interface LlmCapabilitySpec {
  kind: number
  id: string
  name: string
  about: string
  params: (backend: LlmBackend | undefined) => ParamSpec[]
  run: (backend: LlmBackend, ctx: JobContext) => Promise<JobOutput>
}

function llmCapability(spec: LlmCapabilitySpec, source: BackendOrReason, pricing: LlmPricing): Capability {
  const backend = 'backend' in source ? source.backend : undefined
  return {
    kind: spec.kind,
    id: spec.id,
    name: spec.name,
    about: backend ? `${spec.about} Model: ${backend.model}.` : spec.about,
    params: spec.params(backend),
    price: pricer(pricing),
    availability: (): Promise<Availability> => (backend ? backend.availability() : Promise.resolve({ ok: false, reason: (source as { reason: string }).reason })),
    async run(ctx: JobContext): Promise<JobOutput> {
      if (!backend) throw new Error((source as { reason: string }).reason)
      return spec.run(backend, ctx)
    },
  }
}

const modelParam = (backend: LlmBackend | undefined): ParamSpec => ({
  name: 'model',
  description: 'The model to use; only the one this service runs is accepted',
  values: backend ? [backend.model] : [],
})

export function createTextGenerationCapability(source: BackendOrReason, pricing: LlmPricing = {}): Capability {
  return llmCapability(
    {
      kind: 5050,
      id: 'text-generation',
      name: 'Text generation',
      about: 'Answers or continues the prompt given as input with a language model.',
      params: (backend) => [
        modelParam(backend),
        { name: 'max_tokens', description: `Most tokens to generate (at most ${MAX_TOKENS})`, default: String(DEFAULT_MAX_TOKENS) },
        { name: 'temperature', description: 'Randomness, 0 to 2' },
        { name: 'top_p', description: 'Nucleus sampling threshold, 0 to 1' },
        { name: 'top_k', description: 'Sample only among the k likeliest tokens' },
        { name: 'frequency_penalty', description: 'Penalty for repeated tokens, -2 to 2' },
      ],
      async run(backend, ctx) {
        checkModel(ctx.params, backend)
        const options = parseGenerationParams(ctx.params)
        const prompt = inputsText(ctx.inputs)
        const content = await backend.chat([{ role: 'user', content: prompt }], options, ctx.signal)
        return { content, mimeType: ctx.output === 'text/markdown' ? 'text/markdown' : 'text/plain' }
      },
    },
    source,
    pricing,
  )
}

const languageNames = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' })

/** "es" → "Spanish"; a language written out ("Brazilian Portuguese") is used as it is. */
export function languageName(param: string): string {
  const text = param.trim()
  try {
    const [canonical] = Intl.getCanonicalLocales(text)
    const name = languageNames.of(canonical)
    if (name) return name
  } catch {
    // not a language tag: maybe a name
  }
  if (/^[\p{L}][\p{L} ()'-]{1,39}$/u.test(text)) return text
  throw new Error(`language ${JSON.stringify(text.slice(0, 40))} is neither a language code (e.g. es, pt-BR) nor a language name`)
}

export function createTranslationCapability(source: BackendOrReason, pricing: LlmPricing = {}): Capability {
  return llmCapability(
    {
      kind: 5002,
      id: 'translation',
      name: 'Translation',
      about: 'Translates the input into the language given by the language param.',
      params: (backend) => [{ name: 'language', description: 'Target language: a code such as es or pt-BR, or its name', required: true }, modelParam(backend)],
      async run(backend, ctx) {
        checkModel(ctx.params, backend)
        const language = ctx.params.language?.[0]
        if (language === undefined) throw new Error('the language param is required, e.g. ["param", "language", "es"]')
        const target = languageName(language)
        const text = inputsText(ctx.inputs)
        const instructions =
          `Translate the text the user sends into ${target}. Keep its meaning, tone and formatting: line breaks, Markdown, ` +
          'links, nostr: references and hashtags stay as they are. Reply with the translation only, without notes or quotes.'
        const maxTokens = Math.min(MAX_TOKENS, Math.ceil(text.length / 2) + 64)
        const content = await backend.chat(
          [
            { role: 'system', content: instructions },
            { role: 'user', content: text },
          ],
          { maxTokens, temperature: 0 },
          ctx.signal,
        )
        return { content: content.trim(), mimeType: 'text/plain' }
      },
    },
    source,
    pricing,
  )
}
