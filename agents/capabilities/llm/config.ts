// Which LLM backend the text capabilities use, read from the environment and validated once at start.
// Leaving TIMMY_LLM_BACKEND unset is valid: the LLM capabilities then report themselves unavailable.
import { z } from 'zod'

export const LLM_BACKENDS = ['ollama', 'openai', 'llama-cpp'] as const
export type LlmBackendName = (typeof LLM_BACKENDS)[number]

export const DEFAULT_OLLAMA_URL = 'http://127.0.0.1:11434'
export const DEFAULT_OPENAI_URL = 'https://api.openai.com/v1'

export const NO_BACKEND_REASON =
  'no LLM backend configured: set TIMMY_LLM_BACKEND=ollama|openai|llama-cpp, with TIMMY_LLM_MODEL (ollama, openai), ' +
  'TIMMY_LLM_URL (optional), TIMMY_LLM_API_KEY (openai, if the server needs one) or TIMMY_LLM_GGUF and TIMMY_LLM_THREADS (llama-cpp)'

const httpUrl = z
  .string()
  .refine((u) => URL.canParse(u), 'must be an absolute URL')
  .refine((u) => !URL.canParse(u) || /^https?:$/.test(new URL(u).protocol), 'must be an http or https URL')
  .transform((u) => u.replace(/\/+$/, ''))
const model = z.string({ error: 'is required: the name of the model to use' }).trim().min(1, 'must name the model')

const llmConfigSchema = z.discriminatedUnion('backend', [
  z.object({ backend: z.literal('none') }),
  z.object({ backend: z.literal('ollama'), url: httpUrl.default(DEFAULT_OLLAMA_URL), model }),
  z.object({ backend: z.literal('openai'), url: httpUrl.default(DEFAULT_OPENAI_URL), model, apiKey: z.string().min(1).optional() }),
  z.object({
    backend: z.literal('llama-cpp'),
    gguf: z.string({ error: 'is required: the path of a .gguf model file' }).min(1),
    model: model.optional(),
    threads: z.coerce.number().int('must be a whole number').positive('must be a positive number of CPU threads').optional(),
  }),
])

export type LlmConfig = z.infer<typeof llmConfigSchema>

const ENV_NAMES: Record<string, string> = {
  backend: 'TIMMY_LLM_BACKEND',
  url: 'TIMMY_LLM_URL',
  model: 'TIMMY_LLM_MODEL',
  apiKey: 'TIMMY_LLM_API_KEY',
  gguf: 'TIMMY_LLM_GGUF',
  threads: 'TIMMY_LLM_THREADS',
}

/** Reads TIMMY_LLM_*; throws one error naming every bad or missing variable. */
export function parseLlmConfig(env: Record<string, string | undefined>): LlmConfig {
  const value = (name: string) => (env[name]?.trim() ? env[name]!.trim() : undefined)
  const backend = value('TIMMY_LLM_BACKEND') ?? 'none'
  if (backend !== 'none' && !(LLM_BACKENDS as readonly string[]).includes(backend)) {
    throw new Error(`TIMMY_LLM_BACKEND must be one of ${LLM_BACKENDS.join(', ')}, not ${JSON.stringify(backend)}`)
  }
  const result = llmConfigSchema.safeParse({
    backend,
    url: value('TIMMY_LLM_URL'),
    model: value('TIMMY_LLM_MODEL'),
    apiKey: value('TIMMY_LLM_API_KEY'),
    gguf: value('TIMMY_LLM_GGUF'),
    threads: value('TIMMY_LLM_THREADS'),
  })
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${ENV_NAMES[String(issue.path[0])] ?? String(issue.path[0])} ${issue.message}`)
    throw new Error(`invalid LLM configuration (TIMMY_LLM_BACKEND=${backend}): ${problems.join('; ')}`)
  }
  return result.data
}
