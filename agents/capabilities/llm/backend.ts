// What the text capabilities need from a language model, whichever server or library runs it.
import type { Availability } from '../../capability.js'

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant'
  content: string
}

export interface GenerationOptions {
  maxTokens: number
  temperature?: number
  topP?: number
  topK?: number
  frequencyPenalty?: number
}

export interface LlmBackend {
  /** 'ollama', 'openai' or 'llama-cpp', for logs and the announcement. */
  name: string
  model: string
  /** Reachable, and serving the configured model? */
  availability(): Promise<Availability>
  chat(messages: ChatMessage[], options: GenerationOptions, signal: AbortSignal): Promise<string>
}

export type Fetch = typeof fetch

/** One HTTP exchange with a JSON API, turning every failure into an error that says what went wrong. */
export async function requestJson(
  fetchImpl: Fetch,
  what: string,
  url: string,
  init: { method?: 'GET' | 'POST'; body?: unknown; headers?: Record<string, string>; signal?: AbortSignal },
): Promise<unknown> {
  let response: Response
  try {
    response = await fetchImpl(url, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers: { accept: 'application/json', ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    })
  } catch (err) {
    if (init.signal?.aborted) throw init.signal.reason
    const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause
    throw new Error(`${what} is unreachable at ${new URL(url).origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`)
  }
  const text = await response.text()
  if (!response.ok) {
    throw new Error(`${what} answered HTTP ${response.status}${text ? `: ${errorDetail(text)}` : ''}`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`${what} answered with something that is not JSON`)
  }
}

/** The message of a JSON error body ({error: "..."} or {error: {message}}), else the body, shortened. */
function errorDetail(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: string | { message?: string } }
    const message = typeof json.error === 'string' ? json.error : json.error?.message
    if (message) return message.slice(0, 300)
  } catch {
    // not JSON: show the text
  }
  return body.slice(0, 300)
}
