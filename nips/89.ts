// NIP-89: recommended application handlers. A DVM announces the job kinds it serves with a kind
// 31990 handler information event (one `k` tag per kind, profile-like JSON content with the
// DVM-specific `encryptionSupported` and `nip90Params`); users recommend handlers with kind 31989.
// Pure: no I/O, no clock. Parse errors throw NostrProtocolError('invalid', reason).
import { eventShapeError, getDTag, NostrProtocolError, type EventTemplate, type NostrEvent } from './01.js'
import { normalizeRelayUrl } from './relay-url.js'

export const HANDLER_KIND = 31990
export const RECOMMENDATION_KIND = 31989

/** How a DVM describes one job parameter in `nip90Params` (the shape DVMs in the wild publish). */
export interface Nip90ParamInfo {
  required: boolean
  values: string[]
  description?: string
}

export interface HandlerContent {
  name: string
  about: string
  picture?: string
  encryptionSupported?: boolean
  nip90Params?: Record<string, Nip90ParamInfo>
}

export interface HandlerInformation {
  id: string
  pubkey: string
  d: string
  /** `31990:pubkey:d`, what a kind 31989 recommendation points at. */
  address: string
  kinds: number[]
  /** Empty content means "use the author's kind 0 profile", so every field may be missing. */
  content: Partial<HandlerContent>
  event: NostrEvent
}

const invalid = (reason: string): never => {
  throw new NostrProtocolError('invalid', reason)
}

const KIND_TEXT = /^[0-9]{1,5}$/

function checkEvent(value: unknown, kind: number, what: string): NostrEvent {
  const shape = eventShapeError(value)
  if (shape) invalid(`${what}: ${shape}`)
  const event = value as NostrEvent
  if (event.kind !== kind) invalid(`${what} must be kind ${kind}, not ${event.kind}`)
  return event
}

function parseKindText(text: string | undefined, what: string): number {
  if (text === undefined || !KIND_TEXT.test(text) || Number(text) > 65535) return invalid(`${what} must be an event kind (0-65535)`)
  return Number(text)
}

export interface BuildHandlerInformationOptions {
  d: string
  kinds: number[]
  content: HandlerContent
  /** Extra tags, e.g. ['t', 'bitcoin'] to advertise a speciality. */
  tags?: string[][]
  createdAt: number
}

export function buildHandlerInformation(options: BuildHandlerInformationOptions): EventTemplate {
  if (options.d === '') throw new Error('handler information needs a non-empty d tag')
  if (options.kinds.length === 0) throw new Error('handler information needs at least one kind')
  for (const kind of options.kinds) if (!Number.isInteger(kind) || kind < 0 || kind > 65535) throw new RangeError(`kind ${kind} is not an event kind`)
  const { picture, ...rest } = options.content
  // kind 0 profiles call it `picture`; the DVM registry's examples and several DVM clients read `image`.
  const content = picture === undefined ? rest : { ...rest, picture, image: picture }
  return {
    kind: HANDLER_KIND,
    created_at: options.createdAt,
    tags: [['d', options.d], ...[...new Set(options.kinds)].map((kind) => ['k', String(kind)]), ...(options.tags ?? [])],
    content: JSON.stringify(content),
  }
}

function parseNip90Params(value: unknown): Record<string, Nip90ParamInfo> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('nip90Params must be an object')
  const params: Record<string, Nip90ParamInfo> = {}
  for (const [name, raw] of Object.entries(value)) {
    const where = `nip90Params ${JSON.stringify(name.slice(0, 32))}`
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return invalid(`${where} must be an object`)
    const spec = raw as Record<string, unknown>
    if (spec.required !== undefined && typeof spec.required !== 'boolean') invalid(`${where}.required must be a boolean`)
    if (spec.values !== undefined && !(Array.isArray(spec.values) && spec.values.every((v) => typeof v === 'string'))) invalid(`${where}.values must be an array of strings`)
    if (spec.description !== undefined && typeof spec.description !== 'string') invalid(`${where}.description must be a string`)
    const info: Nip90ParamInfo = { required: spec.required === true, values: (spec.values as string[] | undefined) ?? [] }
    if (spec.description !== undefined) info.description = spec.description as string
    Object.defineProperty(params, name, { value: info, enumerable: true, writable: true, configurable: true })
  }
  return params
}

function parseHandlerContent(text: string): Partial<HandlerContent> {
  if (text.trim() === '') return {}
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return invalid('handler information content must be JSON')
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return invalid('handler information content must be a JSON object')
  const raw = json as Record<string, unknown>
  const content: Partial<HandlerContent> = {}
  for (const field of ['name', 'about'] as const) {
    if (raw[field] === undefined) continue
    if (typeof raw[field] !== 'string') invalid(`handler information ${field} must be a string`)
    content[field] = raw[field] as string
  }
  const picture = raw.picture ?? raw.image
  if (picture !== undefined) {
    if (typeof picture !== 'string') invalid('handler information picture must be a string')
    content.picture = picture as string
  }
  if (raw.encryptionSupported !== undefined) {
    if (typeof raw.encryptionSupported !== 'boolean') invalid('handler information encryptionSupported must be a boolean')
    content.encryptionSupported = raw.encryptionSupported as boolean
  }
  if (raw.nip90Params !== undefined) content.nip90Params = parseNip90Params(raw.nip90Params)
  return content
}

export function parseHandlerInformation(value: unknown): HandlerInformation {
  const event = checkEvent(value, HANDLER_KIND, 'handler information')
  const dTag = event.tags.find((tag) => tag[0] === 'd')
  if (!dTag || !dTag[1]) invalid('handler information needs a non-empty d tag')
  const kinds: number[] = []
  for (const tag of event.tags) {
    if (tag[0] !== 'k') continue
    const kind = parseKindText(tag[1], 'k tag')
    if (!kinds.includes(kind)) kinds.push(kind)
  }
  if (kinds.length === 0) invalid('handler information needs at least one k tag')
  const d = getDTag(event)
  return { id: event.id, pubkey: event.pubkey, d, address: `${HANDLER_KIND}:${event.pubkey}:${d}`, kinds, content: parseHandlerContent(event.content), event }
}

export interface RecommendedHandler {
  /** `31990:pubkey:d` */
  address: string
  relay?: string
  platform?: string
}

export interface Recommendation {
  id: string
  pubkey: string
  /** The event kind the handlers are recommended for (the `d` tag). */
  kind: number
  handlers: RecommendedHandler[]
  event: NostrEvent
}

const HANDLER_ADDRESS = /^31990:([0-9a-f]{64}):(.+)$/

export function buildRecommendation(options: { kind: number; handlers: RecommendedHandler[]; createdAt: number }): EventTemplate {
  parseKindText(String(options.kind), 'recommended kind')
  if (options.handlers.length === 0) throw new Error('a recommendation needs at least one handler')
  const tags: string[][] = [['d', String(options.kind)]]
  for (const handler of options.handlers) {
    if (!HANDLER_ADDRESS.test(handler.address)) throw new Error(`handler address ${JSON.stringify(handler.address)} is not 31990:<pubkey>:<d>`)
    const tag = ['a', handler.address]
    // Tag positions are fixed (relay, then platform), and an empty relay hint is not a relay URL.
    if (handler.platform !== undefined && handler.relay === undefined) throw new Error('a handler platform needs a relay hint before it')
    if (handler.relay !== undefined) tag.push(normalizeRelayUrl(handler.relay))
    if (handler.platform !== undefined) tag.push(handler.platform)
    tags.push(tag)
  }
  return { kind: RECOMMENDATION_KIND, created_at: options.createdAt, tags, content: '' }
}

export function parseRecommendation(value: unknown): Recommendation {
  const event = checkEvent(value, RECOMMENDATION_KIND, 'recommendation')
  const kind = parseKindText(getDTag(event), 'recommendation d tag')
  const handlers: RecommendedHandler[] = []
  for (const tag of event.tags) {
    if (tag[0] !== 'a') continue
    if (!HANDLER_ADDRESS.test(tag[1] ?? '')) invalid('recommendation a tag must point at a handler: 31990:<pubkey>:<d>')
    const handler: RecommendedHandler = { address: tag[1] }
    if (tag[2]) handler.relay = tag[2]
    if (tag[3]) handler.platform = tag[3]
    handlers.push(handler)
  }
  if (handlers.length === 0) invalid('recommendation needs at least one a tag')
  return { id: event.id, pubkey: event.pubkey, kind, handlers, event }
}
