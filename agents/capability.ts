// The one shape every capability has: the runtime, the market (auctions, payments, reputation) and
// the NIP-89 announcement treat all of them alike through this interface.
import type { Filter, NostrEvent } from '../nips/01.js'
import type { Nip90ParamInfo } from '../nips/89.js'
import type { JobRequestInput } from '../nips/90.js'

/** A job input as the request gave it, plus the text the runtime resolved for url/event/job inputs. */
export interface JobInput extends JobRequestInput {
  resolved?: string
}

export interface JobContext {
  /** `param` tags of the request: every value given for a key, in request order. */
  params: Record<string, string[]>
  inputs: JobInput[]
  /** MIME type the requester asked for (`output` tag). */
  output?: string
  signal: AbortSignal
  /** Unix seconds. */
  now: () => number
  log: (msg: string, extra?: object) => void
  /** Queries the agent's relays. */
  queryEvents: (filters: Filter[]) => Promise<NostrEvent[]>
  /** Publishes a `partial` feedback event carrying this content. */
  partial: (content: string) => Promise<void>
}

export interface JobOutput {
  content: string
  mimeType?: string
}

/** One job parameter, announced in the NIP-89 `nip90Params` and checked by the runtime. */
export interface ParamSpec {
  name: string
  description: string
  required?: boolean
  values?: string[]
  default?: string
}

export type Availability = { ok: true } | { ok: false; reason: string }

export interface Capability {
  /** Job request kind (5000-5999). */
  kind: number
  /** Stable identifier, e.g. 'summarize'. */
  id: string
  name: string
  about: string
  params: ParamSpec[]
  /** Asking price in millisats for this job. */
  price(inputs: JobInput[], params: Record<string, string[]>): number
  /** A capability that is not available is not announced; the runtime logs the reason. */
  availability(): Promise<Availability>
  run(ctx: JobContext): Promise<JobOutput>
}

/** The text a capability works on for one input: what the runtime resolved, or the value itself for text inputs. */
export function inputText(input: JobInput): string | undefined {
  if (input.resolved !== undefined) return input.resolved
  return input.type === 'text' ? input.value : undefined
}

/** The text of all inputs, in request order, separated by blank lines; throws for an input without text. */
export function inputsText(inputs: JobInput[]): string {
  if (inputs.length === 0) throw new Error('no input: give the text to work on in an i tag')
  return inputs
    .map((input, i) => {
      const text = inputText(input)
      if (text === undefined) throw new Error(`input ${i + 1} (${input.type}) has no text`)
      return text
    })
    .join('\n\n')
}

/** The `nip90Params` of a NIP-89 announcement for these parameters. */
export function announcedParams(params: ParamSpec[]): Record<string, Nip90ParamInfo> {
  return Object.fromEntries(
    params.map((p) => [p.name, { required: p.required === true, values: p.values ?? [], description: p.default === undefined ? p.description : `${p.description} (default ${p.default})` }]),
  )
}
