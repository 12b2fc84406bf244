// Any server speaking the OpenAI chat completions API (OpenAI, vLLM, llama.cpp's server, LM Studio,
// OpenRouter, ...). The configured URL is the API base, e.g. https://api.openai.com/v1.
import type { Availability } from '../../capability.js'
import { requestJson, type ChatMessage, type Fetch, type GenerationOptions, type LlmBackend } from './backend.js'

interface ModelList {
  data?: { id?: string }[]
}

interface ChatCompletion {
  choices?: { message?: { content?: unknown } }[]
}

export function createOpenAiBackend(options: { url: string; model: string; apiKey?: string; fetch?: Fetch }): LlmBackend {
  const fetchImpl = options.fetch ?? fetch
  const what = `OpenAI-compatible API (${options.url})`
  const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}
  return {
    name: 'openai',
    model: options.model,
    async availability(): Promise<Availability> {
      try {
        const list = (await requestJson(fetchImpl, what, `${options.url}/models`, { headers })) as ModelList
        const ids = (list.data ?? []).map((m) => m.id)
        // Some servers list nothing (or only an alias) yet serve whatever model they were started with.
        if (ids.length > 0 && !ids.includes(options.model)) return { ok: false, reason: `${what} does not serve model ${options.model} (it lists ${ids.slice(0, 10).join(', ')})` }
        return { ok: true }
      } catch (err) {
        const message = (err as Error).message
        // /models is optional for compatible servers; only a refused key or a dead server means unavailable.
        if (/HTTP 404/.test(message)) return { ok: true }
        return { ok: false, reason: message }
      }
    },
    async chat(messages: ChatMessage[], generation: GenerationOptions, signal: AbortSignal): Promise<string> {
      const body = {
        model: options.model,
        messages,
        max_tokens: generation.maxTokens,
        temperature: generation.temperature,
        top_p: generation.topP,
        frequency_penalty: generation.frequencyPenalty,
        stream: false,
      }
      const completion = (await requestJson(fetchImpl, what, `${options.url}/chat/completions`, { body, headers, signal })) as ChatCompletion
      const content = completion.choices?.[0]?.message?.content
      if (typeof content !== 'string') throw new Error(`${what} answered without choices[0].message.content`)
      return content
    },
  }
}
