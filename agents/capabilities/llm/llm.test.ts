import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Capability, JobContext, JobInput } from '../../capability.js'
import { builtinCapabilities } from '../index.js'
import { createOllamaBackend } from './ollama.js'
import { createOpenAiBackend } from './openai.js'
import { NO_BACKEND_REASON, parseLlmConfig } from './config.js'
import { createTextGenerationCapability, createTranslationCapability, languageName, parseGenerationParams } from './text.js'

type Handler = (req: IncomingMessage, body: unknown, res: ServerResponse) => void

interface FakeServer {
  url: string
  requests: { method: string; path: string; headers: IncomingMessage['headers']; body: unknown }[]
  close(): Promise<void>
}

/** A real HTTP server on 127.0.0.1 with an ephemeral port, answering with the given routes. */
async function startServer(routes: Record<string, Handler>): Promise<FakeServer> {
  const requests: FakeServer['requests'] = []
  const server: Server = createServer(async (req, res) => {
    let raw = ''
    for await (const chunk of req) raw += chunk
    const body = raw ? JSON.parse(raw) : undefined
    const path = new URL(req.url ?? '/', 'http://x').pathname
    requests.push({ method: req.method ?? '', path, headers: req.headers, body })
    const route = routes[`${req.method} ${path}`]
    if (!route) return json(res, 404, { error: `no route ${req.method} ${path}` })
    route(req, body, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

function ctx(inputs: JobInput[], params: Record<string, string[]> = {}, signal = new AbortController().signal): JobContext {
  return { inputs, params, signal, now: () => 1_700_000_000, log: () => {}, queryEvents: async () => [], partial: async () => {} }
}

const lastUserMessage = (body: unknown) => ((body as { messages: { role: string; content: string }[] }).messages.filter((m) => m.role === 'user').pop()?.content ?? '')

describe('OpenAI-compatible backend', () => {
  const API_KEY = 'sk-test-123'
  let server: FakeServer
  beforeAll(async () => {
    server = await startServer({
      'GET /v1/models': (req, _body, res) =>
        req.headers.authorization === `Bearer ${API_KEY}` ? json(res, 200, { object: 'list', data: [{ id: 'tiny-model' }] }) : json(res, 401, { error: { message: 'Incorrect API key provided' } }),
      'POST /v1/chat/completions': (req, body, res) => {
        if (req.headers.authorization !== `Bearer ${API_KEY}`) return json(res, 401, { error: { message: 'Incorrect API key provided' } })
        const prompt = lastUserMessage(body)
        if (prompt === 'slow') return setTimeout(() => json(res, 200, { choices: [{ message: { content: 'late' } }] }), 2000)
        json(res, 200, { id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: ` reply to: ${prompt} ` }, finish_reason: 'stop' }] })
      },
    })
  })
  afterAll(() => server.close())

  const env = () => ({ TIMMY_LLM_BACKEND: 'openai', TIMMY_LLM_URL: `${server.url}/v1/`, TIMMY_LLM_MODEL: 'tiny-model', TIMMY_LLM_API_KEY: API_KEY })
  const capability = (id: string, overrides: Record<string, string> = {}): Capability => builtinCapabilities({ env: { ...env(), ...overrides } }).find((c) => c.id === id)!

  it('generates text over HTTP with the key and the params of the request', async () => {
    const generation = capability('text-generation')
    expect(await generation.availability()).toEqual({ ok: true })
    const output = await generation.run(
      ctx([{ type: 'text', value: 'What is the capital of France?' }], { model: ['tiny-model'], max_tokens: ['100'], temperature: ['0.5'], 'top-p': ['0.9'], frequency_penalty: ['1'] }),
    )
    expect(output).toEqual({ content: ' reply to: What is the capital of France? ', mimeType: 'text/plain' })
    const request = server.requests.filter((r) => r.path === '/v1/chat/completions').pop()!
    expect(request.headers.authorization).toBe(`Bearer ${API_KEY}`)
    expect(request.body).toEqual({
      model: 'tiny-model',
      messages: [{ role: 'user', content: 'What is the capital of France?' }],
      max_tokens: 100,
      temperature: 0.5,
      top_p: 0.9,
      frequency_penalty: 1,
      stream: false,
    })
  })

  it('translates with a system prompt naming the language', async () => {
    const output = await capability('translation').run(ctx([{ type: 'event', value: 'a'.repeat(64), resolved: 'Good morning' }], { language: ['es'] }))
    expect(output).toEqual({ content: 'reply to: Good morning', mimeType: 'text/plain' })
    const body = server.requests.filter((r) => r.path === '/v1/chat/completions').pop()!.body as { messages: { role: string; content: string }[]; temperature: number }
    expect(body.messages[0].role).toBe('system')
    expect(body.messages[0].content).toContain('into Spanish')
    expect(body.temperature).toBe(0)
  })

  it('says why it is unavailable: wrong key, unknown model, server down', async () => {
    expect(await capability('text-generation', { TIMMY_LLM_API_KEY: 'sk-wrong' }).availability()).toEqual({
      ok: false,
      reason: `OpenAI-compatible API (${server.url}/v1) answered HTTP 401: Incorrect API key provided`,
    })
    const unknown = await capability('text-generation', { TIMMY_LLM_MODEL: 'gpt-9' }).availability()
    expect(unknown).toEqual({ ok: false, reason: expect.stringContaining('does not serve model gpt-9 (it lists tiny-model)') })
    const down = await startServer({})
    await down.close()
    const unreachable = await createOpenAiBackend({ url: `${down.url}/v1`, model: 'm' }).availability()
    expect(unreachable).toEqual({ ok: false, reason: expect.stringMatching(/unreachable at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/) })
  })

  it('treats a server without /models as available', async () => {
    const bare = await startServer({})
    try {
      expect(await createOpenAiBackend({ url: `${bare.url}/v1`, model: 'm' }).availability()).toEqual({ ok: true })
    } finally {
      await bare.close()
    }
  })

  it('refuses another model, bad params and a rejected key with a reason', async () => {
    const generation = capability('text-generation')
    await expect(generation.run(ctx([{ type: 'text', value: 'hi' }], { model: ['LLaMA-2'] }))).rejects.toThrow('this service runs model tiny-model, not LLaMA-2')
    await expect(generation.run(ctx([{ type: 'text', value: 'hi' }], { temperature: ['hot'] }))).rejects.toThrow(/temperature must be a number from 0 to 2/)
    await expect(capability('text-generation', { TIMMY_LLM_API_KEY: 'sk-wrong' }).run(ctx([{ type: 'text', value: 'hi' }]))).rejects.toThrow(/HTTP 401: Incorrect API key/)
  })

  it('stops waiting when the job is aborted', async () => {
    const controller = new AbortController()
    const running = capability('text-generation').run(ctx([{ type: 'text', value: 'slow' }], {}, controller.signal))
    setTimeout(() => controller.abort(new Error('job deadline passed')), 50)
    await expect(running).rejects.toThrow('job deadline passed')
  })
})

describe('Ollama backend', () => {
  let server: FakeServer
  beforeAll(async () => {
    server = await startServer({
      'GET /api/tags': (_req, _body, res) => json(res, 200, { models: [{ name: 'llama3:latest', model: 'llama3:latest' }, { name: 'qwen2.5:0.5b', model: 'qwen2.5:0.5b' }] }),
      'POST /api/chat': (_req, body, res) => {
        const model = (body as { model: string }).model
        if (model !== 'llama3' && model !== 'qwen2.5:0.5b') return json(res, 404, { error: `model "${model}" not found, try pulling it first` })
        json(res, 200, { model, message: { role: 'assistant', content: `ollama says: ${lastUserMessage(body)}` }, done: true })
      },
    })
  })
  afterAll(() => server.close())

  it('checks the model is pulled, with or without its tag', async () => {
    expect(await createOllamaBackend({ url: server.url, model: 'llama3' }).availability()).toEqual({ ok: true })
    expect(await createOllamaBackend({ url: server.url, model: 'qwen2.5:0.5b' }).availability()).toEqual({ ok: true })
    expect(await createOllamaBackend({ url: server.url, model: 'mistral' }).availability()).toEqual({
      ok: false,
      reason: `Ollama (${server.url}) does not have model mistral: run \`ollama pull mistral\``,
    })
  })

  it('generates through /api/chat with the options mapped to Ollama names', async () => {
    const [, , generation] = builtinCapabilities({ env: { TIMMY_LLM_BACKEND: 'ollama', TIMMY_LLM_URL: server.url, TIMMY_LLM_MODEL: 'llama3' } })
    expect(generation.about).toContain('Model: llama3.')
    const output = await generation.run(ctx([{ type: 'text', value: 'Tell me about sats' }], { max_tokens: ['64'], top_k: ['40'], temperature: ['0'] }))
    expect(output.content).toBe('ollama says: Tell me about sats')
    expect(server.requests.filter((r) => r.path === '/api/chat').pop()!.body).toEqual({
      model: 'llama3',
      messages: [{ role: 'user', content: 'Tell me about sats' }],
      stream: false,
      options: { num_predict: 64, temperature: 0, top_k: 40 },
    })
  })

  it('passes the server error on', async () => {
    const generation = createTextGenerationCapability({ backend: createOllamaBackend({ url: server.url, model: 'gone' }) })
    await expect(generation.run(ctx([{ type: 'text', value: 'hi' }]))).rejects.toThrow(`Ollama (${server.url}) answered HTTP 404: model "gone" not found, try pulling it first`)
  })
})

describe('LLM configuration', () => {
  it('reads every backend from the environment', () => {
    expect(parseLlmConfig({})).toEqual({ backend: 'none' })
    expect(parseLlmConfig({ TIMMY_LLM_BACKEND: 'ollama', TIMMY_LLM_MODEL: 'llama3' })).toEqual({ backend: 'ollama', url: 'http://127.0.0.1:11434', model: 'llama3' })
    expect(parseLlmConfig({ TIMMY_LLM_BACKEND: 'openai', TIMMY_LLM_MODEL: 'gpt-4o-mini', TIMMY_LLM_API_KEY: 'k' })).toEqual({
      backend: 'openai',
      url: 'https://api.openai.com/v1',
      model: 'gpt-4o-mini',
      apiKey: 'k',
    })
    expect(parseLlmConfig({ TIMMY_LLM_BACKEND: 'llama-cpp', TIMMY_LLM_GGUF: 'models/tiny.gguf' })).toEqual({ backend: 'llama-cpp', gguf: 'models/tiny.gguf' })
    expect(parseLlmConfig({ TIMMY_LLM_BACKEND: 'llama-cpp', TIMMY_LLM_GGUF: 'm.gguf', TIMMY_LLM_MODEL: 'phi', TIMMY_LLM_THREADS: '4' })).toEqual({
      backend: 'llama-cpp',
      gguf: 'm.gguf',
      model: 'phi',
      threads: 4,
    })
  })

  it.each([
    [{ TIMMY_LLM_BACKEND: 'gpt' }, 'TIMMY_LLM_BACKEND must be one of ollama, openai, llama-cpp, not "gpt"'],
    [{ TIMMY_LLM_BACKEND: 'openai' }, 'TIMMY_LLM_MODEL is required'],
    [{ TIMMY_LLM_BACKEND: 'ollama', TIMMY_LLM_MODEL: 'x', TIMMY_LLM_URL: 'ftp://host' }, 'TIMMY_LLM_URL must be an http or https URL'],
    [{ TIMMY_LLM_BACKEND: 'ollama', TIMMY_LLM_MODEL: 'x', TIMMY_LLM_URL: 'localhost' }, 'TIMMY_LLM_URL must be an absolute URL'],
    [{ TIMMY_LLM_BACKEND: 'llama-cpp' }, 'TIMMY_LLM_GGUF is required'],
    [{ TIMMY_LLM_BACKEND: 'llama-cpp', TIMMY_LLM_GGUF: 'm.gguf', TIMMY_LLM_THREADS: '0' }, 'TIMMY_LLM_THREADS must be a positive number of CPU threads'],
  ])('rejects %j', (env, reason) => {
    expect(() => parseLlmConfig(env)).toThrow(reason)
    expect(() => builtinCapabilities({ env })).toThrow(reason)
  })

  it('without a backend keeps the LLM capabilities unannounced and says how to configure one', async () => {
    const capabilities = builtinCapabilities({ env: {} })
    expect(capabilities.map((c) => [c.id, c.kind])).toEqual([
      ['summarize', 5001],
      ['discovery', 5300],
      ['text-generation', 5050],
      ['translation', 5002],
    ])
    for (const c of capabilities.slice(2)) {
      expect(await c.availability()).toEqual({ ok: false, reason: NO_BACKEND_REASON })
      await expect(c.run(ctx([{ type: 'text', value: 'hi' }]))).rejects.toThrow(NO_BACKEND_REASON)
    }
    expect(NO_BACKEND_REASON).toMatch(/^no LLM backend configured: set TIMMY_LLM_BACKEND/)
  })

  it('applies configured prices', () => {
    const [summarize, discovery, generation] = builtinCapabilities({ env: {}, prices: { summarize: 5, discovery: 6, 'text-generation': 7000 } })
    expect(summarize.price([], {})).toBe(5)
    expect(discovery.price([], {})).toBe(6)
    // base + 1000 msats for each started 1000 characters of text
    expect(generation.price([{ type: 'text', value: 'x'.repeat(1500) }, { type: 'url', value: 'https://example.com' }], {})).toBe(7000 + 2000)
  })
})

describe('params', () => {
  it('reads the 5050 params in both spellings and bounds them', () => {
    expect(parseGenerationParams({})).toEqual({ maxTokens: 512 })
    expect(parseGenerationParams({ 'max-tokens': ['10'], 'top-k': ['50'], 'top-p': ['0.7'], 'frequency-penalty': ['1'], temperature: ['1.2'] })).toEqual({
      maxTokens: 10,
      topK: 50,
      topP: 0.7,
      frequencyPenalty: 1,
      temperature: 1.2,
    })
    expect(() => parseGenerationParams({ max_tokens: ['100000'] })).toThrow('max_tokens must be a whole number from 1 to 4096')
    expect(() => parseGenerationParams({ max_tokens: ['1.5'] })).toThrow(/whole number/)
    expect(() => parseGenerationParams({ top_p: ['2'] })).toThrow('top_p must be a number from 0 to 1')
    expect(() => parseGenerationParams({ temperature: [''] })).toThrow(/temperature/)
  })

  it('names target languages', () => {
    expect(languageName('es')).toBe('Spanish')
    expect(languageName('pt-BR')).toBe('Brazilian Portuguese')
    expect(languageName('Klingon')).toBe('Klingon')
    expect(() => languageName('12$')).toThrow(/neither a language code/)
  })

  it('requires the language param for translation', async () => {
    const translation = createTranslationCapability({ backend: createOllamaBackend({ url: 'http://127.0.0.1:1', model: 'm' }) })
    expect(translation.params.find((p) => p.name === 'language')?.required).toBe(true)
    await expect(translation.run(ctx([{ type: 'text', value: 'hola' }]))).rejects.toThrow(/language param is required/)
  })
})
