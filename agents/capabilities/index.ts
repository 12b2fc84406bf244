// The capabilities every Timmy agent has unless configured otherwise.
import type { Capability } from '../capability.js'
import { createDiscoveryCapability } from './discovery.js'
import type { Fetch } from './llm/backend.js'
import { parseLlmConfig } from './llm/config.js'
import { createLlmBackend } from './llm/index.js'
import { createTextGenerationCapability, createTranslationCapability } from './llm/text.js'
import { createSummarizeCapability } from './summarize.js'

export type BuiltinCapabilityId = 'summarize' | 'discovery' | 'text-generation' | 'translation'

export interface BuiltinCapabilityOptions {
  /** TIMMY_LLM_* are read from here. */
  env?: Record<string, string | undefined>
  fetch?: Fetch
  /** Asking price per job in millisats, by capability id (the LLM ones add a per-1000-characters charge). */
  prices?: Partial<Record<BuiltinCapabilityId, number>>
}

/**
 * Summarize (5001), discovery (5300), text generation (5050) and translation (5002). The LLM ones
 * are always in the list; without a configured backend their availability() says why, so the
 * runtime skips announcing them. Throws when the TIMMY_LLM_* settings are present but invalid.
 */
export function builtinCapabilities(options: BuiltinCapabilityOptions = {}): Capability[] {
  const llm = createLlmBackend(parseLlmConfig(options.env ?? process.env), { fetch: options.fetch })
  const prices = options.prices ?? {}
  return [
    createSummarizeCapability({ priceMsats: prices.summarize }),
    createDiscoveryCapability({ priceMsats: prices.discovery }),
    createTextGenerationCapability(llm, { priceMsats: prices['text-generation'] }),
    createTranslationCapability(llm, { priceMsats: prices.translation }),
  ]
}
