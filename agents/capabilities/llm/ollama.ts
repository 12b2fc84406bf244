// Ollama's native API: /api/chat to generate, /api/tags to see which models are pulled.
import type { Availability } from '../../capability.js'
import { requestJson, type ChatMessage, type Fetch, type GenerationOptions, type LlmBackend } from './backend.js'

interface OllamaTags {
  models?: { name?: string; model?: string }[]
}

interface OllamaChatResponse {
  message?: { content?: unknown }
}

/** Ollama names models `name:tag` and fills in `:latest` when the tag is left out. */
const withTag = (name: string) => (name.includes(':') ? name : `${name}:latest`)

export function createOllamaBackend(options: { url: string; model: string; fetch?: Fetch }): LlmBackend {
  const fetchImpl = options.fetch ?? fetch
  const what = `Ollama (${options.url})`
  return {
    name: 'ollama',
    model: options.model,
    async availability(): Promise<Availability> {
      try {
        const tags = (await requestJson(fetchImpl, what, `${options.url}/api/tags`, {})) as OllamaTags
        const names = (tags.models ?? []).flatMap((m) => [m.name, m.model]).filter((n): n is string => typeof n === 'string')
        if (!names.some((n) => withTag(n) === withTag(options.model))) {
          return { ok: false, reason: `${what} does not have model ${options.model}: run \`ollama pull ${options.model}\`` }
        }
        return { ok: true }
      } catch (err) {
        return { ok: false, reason: (err as Error).message }
      }
    },
    async chat(messages: ChatMessage[], generation: GenerationOptions, signal: AbortSignal): Promise<string> {
      const body = {
        model: options.model,
        messages,
        stream: false,
        options: {
          num_predict: generation.maxTokens,
          temperature: generation.temperature,
          top_p: generation.topP,
          top_k: generation.topK,
          frequency_penalty: generation.frequencyPenalty,
        },
      }
      const response = (await requestJson(fetchImpl, what, `${options.url}/api/chat`, { body, signal })) as OllamaChatResponse
      const content = response.message?.content
      if (typeof content !== 'string') throw new Error(`${what} answered without message.content`)
      return content
    },
  }
}
