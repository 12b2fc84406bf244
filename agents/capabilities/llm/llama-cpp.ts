// A local GGUF model run in-process by node-llama-cpp (prebuilt llama.cpp binaries). The package is
// an optional dependency loaded on first use, so everything else works without it.
import { open } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Availability } from '../../capability.js'
import type { ChatMessage, GenerationOptions, LlmBackend } from './backend.js'

// The few parts of node-llama-cpp used here, typed locally so that type-checking does not need the
// optional package installed.
interface LlamaContextSequence {
  readonly __sequence: unique symbol
}
interface LlamaContext {
  getSequence(): LlamaContextSequence
  dispose(): Promise<void>
}
interface LlamaModel {
  readonly trainContextSize: number
  createContext(options: { contextSize: { max: number } }): Promise<LlamaContext>
}
interface LlamaChatSession {
  prompt(text: string, options: Record<string, unknown>): Promise<string>
}
interface NodeLlamaCpp {
  getLlama(options: { build: 'never'; progressLogs: boolean; logLevel: string; maxThreads?: number }): Promise<{ loadModel(options: { modelPath: string }): Promise<LlamaModel> }>
  LlamaChatSession: new (options: { contextSequence: LlamaContextSequence; systemPrompt?: string }) => LlamaChatSession
}

const GGUF_MAGIC = 'GGUF'
const MAX_CONTEXT = 4096
/** node-llama-cpp samples greedily unless told otherwise; servers such as Ollama default to 0.8. */
const DEFAULT_TEMPERATURE = 0.8

async function importNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  const specifier = 'node-llama-cpp'
  try {
    return (await import(specifier)) as NodeLlamaCpp
  } catch (err) {
    throw new Error(`node-llama-cpp could not be loaded (install it with \`npm install node-llama-cpp\`): ${(err as Error).message}`)
  }
}

/** Why this path is not a GGUF model file, or null. */
export async function ggufFileProblem(path: string): Promise<string | null> {
  let file
  try {
    file = await open(path, 'r')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return `TIMMY_LLM_GGUF ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`
  }
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4), 0, 4, 0)
    if (bytesRead < 4 || buffer.toString('latin1') !== GGUF_MAGIC) return `TIMMY_LLM_GGUF ${path}: not a GGUF model file`
    return null
  } finally {
    await file.close()
  }
}

export function createLlamaCppBackend(options: {
  gguf: string
  model?: string
  /** CPU threads for llama.cpp; its default uses every core, which crawls on a machine shared with other work. */
  threads?: number
}): LlmBackend {
  let loading: Promise<{ module: NodeLlamaCpp; model: LlamaModel }> | undefined
  const load = () =>
    (loading ??= (async () => {
      const problem = await ggufFileProblem(options.gguf)
      if (problem) throw new Error(problem)
      const module = await importNodeLlamaCpp()
      // build: 'never' — compiling llama.cpp would download its sources; use the prebuilt binaries or fail.
      const llama = await module.getLlama({ build: 'never', progressLogs: false, logLevel: 'error', ...(options.threads ? { maxThreads: options.threads } : {}) })
      try {
        return { module, model: await llama.loadModel({ modelPath: options.gguf }) }
      } catch (err) {
        throw new Error(`llama.cpp could not load ${options.gguf}: ${(err as Error).message}`)
      }
    })())

  return {
    name: 'llama-cpp',
    model: options.model ?? basename(options.gguf).replace(/\.gguf$/i, ''),
    async availability(): Promise<Availability> {
      try {
        await load()
        return { ok: true }
      } catch (err) {
        return { ok: false, reason: (err as Error).message }
      }
    },
    async chat(messages: ChatMessage[], generation: GenerationOptions, signal: AbortSignal): Promise<string> {
      const { module, model } = await load()
      const system = messages.filter((m) => m.role === 'system').map((m) => m.content)
      const user = messages.filter((m) => m.role === 'user').map((m) => m.content)
      // One context per job: jobs run side by side and must not see each other's tokens.
      const context = await model.createContext({ contextSize: { max: Math.min(MAX_CONTEXT, model.trainContextSize) } })
      try {
        const session = new module.LlamaChatSession({
          contextSequence: context.getSequence(),
          ...(system.length > 0 ? { systemPrompt: system.join('\n\n') } : {}),
        })
        return await session.prompt(user.join('\n\n'), {
          maxTokens: generation.maxTokens,
          temperature: generation.temperature ?? DEFAULT_TEMPERATURE,
          ...(generation.topP !== undefined ? { topP: generation.topP } : {}),
          ...(generation.topK !== undefined ? { topK: generation.topK } : {}),
          ...(generation.frequencyPenalty !== undefined && generation.frequencyPenalty > 0 ? { repeatPenalty: { frequencyPenalty: generation.frequencyPenalty } } : {}),
          signal,
        })
      } finally {
        await context.dispose()
      }
    },
  }
}
