// The backend the configuration names, and the LLM capabilities on top of it.
import type { Fetch, LlmBackend } from './backend.js'
import { NO_BACKEND_REASON, type LlmConfig } from './config.js'
import { createLlamaCppBackend } from './llama-cpp.js'
import { createOllamaBackend } from './ollama.js'
import { createOpenAiBackend } from './openai.js'
import type { BackendOrReason } from './text.js'

export function createLlmBackend(config: LlmConfig, deps: { fetch?: Fetch } = {}): BackendOrReason {
  let backend: LlmBackend
  switch (config.backend) {
    case 'none':
      return { reason: NO_BACKEND_REASON }
    case 'ollama':
      backend = createOllamaBackend({ url: config.url, model: config.model, fetch: deps.fetch })
      break
    case 'openai':
      backend = createOpenAiBackend({ url: config.url, model: config.model, apiKey: config.apiKey, fetch: deps.fetch })
      break
    case 'llama-cpp':
      backend = createLlamaCppBackend({ gguf: config.gguf, model: config.model, threads: config.threads })
      break
  }
  return { backend }
}
