// NIP-90: Data Vending Machines — job requests (5000-5999), results (request kind + 1000) and
// feedback (7000), including encrypted params: the requester moves its `i`/`param`/`output` tags
// into encrypted content addressed to one service provider, and the provider encrypts its answers back.
// NIP-44 is what we send; NIP-04 is still read (and answered in kind) for older clients.
// Pure: no I/O, no clock. Parse errors throw NostrProtocolError('invalid', reason).
import { decrypt as nip04Decrypt, encrypt as nip04Encrypt } from 'nostr-tools/nip04'
import { eventShapeError, getPublicKey, isHex64, NostrProtocolError, type EventTemplate, type NostrEvent } from './01.js'
import * as nip44 from './44.js'
import { normalizeRelayUrl } from './relay-url.js'

export const JOB_REQUEST_KINDS = { min: 5000, max: 5999 } as const
export const FEEDBACK_KIND = 7000
export const RESULT_KIND_OFFSET = 1000

export const isJobRequestKind = (kind: number) => Number.isInteger(kind) && kind >= JOB_REQUEST_KINDS.min && kind <= JOB_REQUEST_KINDS.max
export const isJobResultKind = (kind: number) => isJobRequestKind(kind - RESULT_KIND_OFFSET)

export function resultKindFor(requestKind: number): number {
  if (!isJobRequestKind(requestKind)) throw new RangeError(`kind ${requestKind} is not a job request kind (5000-5999)`)
  return requestKind + RESULT_KIND_OFFSET
}

export const INPUT_TYPES = ['text', 'url', 'event', 'job'] as const
export type InputType = (typeof INPUT_TYPES)[number]

export const FEEDBACK_STATUSES = ['payment-required', 'processing', 'error', 'success', 'partial'] as const
export type FeedbackStatus = (typeof FEEDBACK_STATUSES)[number]

export type EncryptionScheme = 'nip44' | 'nip04'

/** One `i` tag of a job request. */
export interface JobRequestInput {
  type: InputType
  value: string
  relay?: string
  marker?: string
}

export interface JobRequest {
  id: string
  kind: number
  pubkey: string
  inputs: JobRequestInput[]
  output?: string
  params: Record<string, string[]>
  bidMsats?: number
  relays: string[]
  /** Service providers the requester addressed (`p` tags); empty for an open request. */
  targets: string[]
  /** The request carried encrypted params. Until decryptJobRequest runs, inputs and params are empty. */
  encrypted: boolean
  /** How the params were encrypted, once decrypted; answers are encrypted the same way. */
  encryption?: EncryptionScheme
  event: NostrEvent
}

export interface JobResult {
  id: string
  kind: number
  pubkey: string
  requestId: string
  requestRelay?: string
  customer: string
  /** The job request embedded in the `request` tag, when present. */
  request?: NostrEvent
  inputs: JobRequestInput[]
  amountMsats?: number
  bolt11?: string
  content: string
  encrypted: boolean
  event: NostrEvent
}

export interface JobFeedback {
  id: string
  pubkey: string
  requestId: string
  requestRelay?: string
  customer: string
  status: FeedbackStatus
  extraInfo?: string
  amountMsats?: number
  bolt11?: string
  content: string
  encrypted: boolean
  event: NostrEvent
}

const invalid = (reason: string): never => {
  throw new NostrProtocolError('invalid', reason)
}

const MIME_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?$/
const DIGITS = /^[0-9]+$/

function parseMsats(value: string | undefined, what: string): number {
  if (value === undefined || !DIGITS.test(value)) return invalid(`${what} must be a whole number of millisats`)
  const n = Number(value)
  if (!Number.isSafeInteger(n)) return invalid(`${what} is too large`)
  return n
}

function checkEvent(value: unknown, what: string): NostrEvent {
  const shape = eventShapeError(value)
  if (shape) invalid(`${what}: ${shape}`)
  return value as NostrEvent
}

function parseInputTag(tag: string[]): JobRequestInput {
  const [, value, rawType, relay, marker] = tag
  if (value === undefined) return invalid('i tag needs a value')
  // The kind 5050 page of the DVM kinds registry shows inputs typed "prompt"; they are text.
  const type = rawType === 'prompt' ? 'text' : rawType
  if (type === undefined || type === '') return invalid(`i tag needs an input type (${INPUT_TYPES.join(', ')})`)
  if (!(INPUT_TYPES as readonly string[]).includes(type)) return invalid(`i tag has unknown input type ${JSON.stringify(type.slice(0, 32))}; expected ${INPUT_TYPES.join(', ')}`)
  if ((type === 'event' || type === 'job') && !isHex64(value)) return invalid(`i tag of type ${type} needs a 64-character lowercase hex event id`)
  if (type === 'url') {
    try {
      new URL(value)
    } catch {
      return invalid('i tag of type url needs an absolute URL')
    }
  }
  const input: JobRequestInput = { type: type as InputType, value }
  if (relay) input.relay = relay
  if (marker) input.marker = marker
  return input
}

interface RequestTags {
  inputs: JobRequestInput[]
  output?: string
  params: Record<string, string[]>
  bidMsats?: number
  relays: string[]
  targets: string[]
  encrypted: boolean
}

function parseRequestTags(tags: string[][]): RequestTags {
  const parsed: RequestTags = { inputs: [], params: {}, relays: [], targets: [], encrypted: false }
  const params = new Map<string, string[]>()
  for (const tag of tags) {
    switch (tag[0]) {
      case 'i':
        parsed.inputs.push(parseInputTag(tag))
        break
      case 'output':
        if (parsed.output !== undefined) invalid('more than one output tag')
        if (tag[1] === undefined || !MIME_TYPE.test(tag[1])) invalid('output tag needs a MIME type such as text/plain')
        parsed.output = tag[1]
        break
      case 'param': {
        const [, key, ...values] = tag
        if (!key) invalid('param tag needs a name')
        if (values.length === 0) invalid(`param ${JSON.stringify(key.slice(0, 32))} needs a value`)
        params.set(key, [...(params.get(key) ?? []), ...values])
        break
      }
      case 'bid':
        if (parsed.bidMsats !== undefined) invalid('more than one bid tag')
        parsed.bidMsats = parseMsats(tag[1], 'bid')
        break
      case 'relays':
        for (const url of tag.slice(1)) {
          let relay: string
          try {
            relay = normalizeRelayUrl(url)
          } catch (err) {
            return invalid(`relays tag: ${(err as Error).message}`)
          }
          if (!parsed.relays.includes(relay)) parsed.relays.push(relay)
        }
        break
      case 'p':
        if (!isHex64(tag[1])) invalid('p tag needs a 64-character lowercase hex pubkey')
        if (!parsed.targets.includes(tag[1])) parsed.targets.push(tag[1])
        break
      case 'encrypted':
        parsed.encrypted = true
        break
    }
  }
  parsed.params = Object.fromEntries(params)
  return parsed
}

/**
 * Reads a job request. An encrypted request comes back with `encrypted: true` and no inputs or
 * params: the service provider it is addressed to gets them with decryptJobRequest.
 */
export function parseJobRequest(value: unknown): JobRequest {
  const event = checkEvent(value, 'job request')
  if (!isJobRequestKind(event.kind)) invalid(`kind ${event.kind} is not a job request kind (5000-5999)`)
  const tags = parseRequestTags(event.tags)
  if (tags.encrypted) {
    if (tags.targets.length !== 1) invalid('an encrypted job request needs exactly one p tag: the service provider it is encrypted to')
    if (event.content === '') invalid('an encrypted job request needs its encrypted params in the content')
  }
  const request: JobRequest = {
    id: event.id,
    kind: event.kind,
    pubkey: event.pubkey,
    inputs: tags.inputs,
    params: tags.params,
    relays: tags.relays,
    targets: tags.targets,
    encrypted: tags.encrypted,
    event,
  }
  if (tags.output !== undefined) request.output = tags.output
  if (tags.bidMsats !== undefined) request.bidMsats = tags.bidMsats
  return request
}

// Requests, feedback and results of one job all use the same pair of keys: derive it once.
const conversationKey = nip44.conversationKeyCache()

function schemeOf(payload: string): EncryptionScheme {
  return payload.includes('?iv=') ? 'nip04' : 'nip44'
}

function encryptWith(scheme: EncryptionScheme, secretKey: Uint8Array, peerPubkey: string, plaintext: string): string {
  if (scheme === 'nip04') return nip04Encrypt(secretKey, peerPubkey, plaintext)
  return nip44.encrypt(plaintext, conversationKey(secretKey, peerPubkey))
}

function decryptWith(scheme: EncryptionScheme, secretKey: Uint8Array, peerPubkey: string, payload: string, what: string): string {
  try {
    if (scheme === 'nip04') return nip04Decrypt(secretKey, peerPubkey, payload)
    return nip44.decrypt(payload, conversationKey(secretKey, peerPubkey))
  } catch (err) {
    return invalid(`cannot decrypt ${what} (${scheme === 'nip04' ? 'NIP-04' : 'NIP-44'}): ${(err as Error).message}`)
  }
}

function parseTagArray(json: string, what: string): string[][] {
  let tags: unknown
  try {
    tags = JSON.parse(json)
  } catch {
    return invalid(`${what} is not JSON`)
  }
  if (!Array.isArray(tags) || !tags.every((tag) => Array.isArray(tag) && tag.length > 0 && tag.every((item) => typeof item === 'string'))) {
    return invalid(`${what} must be a JSON array of tags (arrays of strings)`)
  }
  return tags as string[][]
}

/**
 * The service provider's view of an encrypted request: its encrypted tags decrypted and read as if
 * they had been public. Throws unless the request is encrypted to this secret key.
 */
export function decryptJobRequest(value: unknown, secretKey: Uint8Array): JobRequest {
  const request = parseJobRequest(value)
  if (!request.encrypted) invalid('job request is not encrypted')
  if (request.targets[0] !== getPublicKey(secretKey)) invalid('encrypted job request is addressed to another service provider')
  const event = request.event
  const scheme = schemeOf(event.content)
  const privateTags = parseTagArray(decryptWith(scheme, secretKey, event.pubkey, event.content, 'encrypted params'), 'decrypted params')
  if (privateTags.some((tag) => tag[0] === 'p' || tag[0] === 'encrypted')) invalid('encrypted params must not contain p or encrypted tags')
  const tags = parseRequestTags([...event.tags, ...privateTags])
  const decrypted: JobRequest = { ...request, inputs: tags.inputs, params: tags.params, relays: tags.relays, encryption: scheme }
  if (tags.output !== undefined) decrypted.output = tags.output
  if (tags.bidMsats !== undefined) decrypted.bidMsats = tags.bidMsats
  return decrypted
}

export interface BuildJobRequestOptions {
  kind: number
  inputs: JobRequestInput[]
  params?: Record<string, string[]>
  output?: string
  bidMsats?: number
  relays?: string[]
  targets?: string[]
  createdAt: number
}

function inputTag(input: JobRequestInput): string[] {
  const tag = ['i', input.value, input.type]
  if (input.relay !== undefined || input.marker !== undefined) tag.push(input.relay ?? '')
  if (input.marker !== undefined) tag.push(input.marker)
  return tag
}

export function buildJobRequest(options: BuildJobRequestOptions): EventTemplate {
  if (!isJobRequestKind(options.kind)) throw new RangeError(`kind ${options.kind} is not a job request kind (5000-5999)`)
  const tags: string[][] = options.inputs.map(inputTag)
  if (options.output !== undefined) tags.push(['output', options.output])
  for (const [name, values] of Object.entries(options.params ?? {})) for (const v of values) tags.push(['param', name, v])
  if (options.bidMsats !== undefined) {
    if (!Number.isSafeInteger(options.bidMsats) || options.bidMsats < 0) throw new RangeError('bidMsats must be a non-negative integer')
    tags.push(['bid', String(options.bidMsats)])
  }
  if (options.relays && options.relays.length > 0) tags.push(['relays', ...options.relays.map(normalizeRelayUrl)])
  for (const target of options.targets ?? []) tags.push(['p', target])
  const template: EventTemplate = { kind: options.kind, created_at: options.createdAt, tags, content: '' }
  // Our own builder must never produce what our parser rejects.
  parseRequestTags(template.tags)
  return template
}

const PRIVATE_REQUEST_TAGS = new Set(['i', 'param', 'output'])

/**
 * Moves the `i`, `param` and `output` tags of a job request into NIP-44 content encrypted to one
 * service provider, adds its `p` tag and an `encrypted` tag.
 */
export function encryptJobRequest(template: EventTemplate, requesterSecretKey: Uint8Array, dvmPubkey: string): EventTemplate {
  if (!isHex64(dvmPubkey)) throw new TypeError('dvmPubkey must be a 64-character lowercase hex pubkey')
  if (template.content !== '') throw new Error('job request content must be empty before its params are encrypted')
  const otherTarget = template.tags.find((tag) => tag[0] === 'p' && tag[1] !== dvmPubkey)
  if (otherTarget) throw new Error('an encrypted job request can only be addressed to the service provider it is encrypted to')
  const privateTags = template.tags.filter((tag) => PRIVATE_REQUEST_TAGS.has(tag[0]))
  const publicTags = template.tags.filter((tag) => !PRIVATE_REQUEST_TAGS.has(tag[0]) && tag[0] !== 'p' && tag[0] !== 'encrypted')
  return {
    ...template,
    tags: [...publicTags, ['p', dvmPubkey], ['encrypted']],
    content: encryptWith('nip44', requesterSecretKey, dvmPubkey, JSON.stringify(privateTags)),
  }
}

function amountTag(amountMsats: number, bolt11: string | undefined): string[] {
  if (!Number.isSafeInteger(amountMsats) || amountMsats < 0) throw new RangeError('amountMsats must be a non-negative integer')
  return bolt11 ? ['amount', String(amountMsats), bolt11] : ['amount', String(amountMsats)]
}

function requestRefTag(request: JobRequest, relayHint: string | undefined): string[] {
  return relayHint ? ['e', request.id, normalizeRelayUrl(relayHint)] : ['e', request.id]
}

/** Encrypts an answer to an encrypted request with the scheme the request used. */
function encryptAnswer(request: JobRequest, content: string, dvmSecretKey: Uint8Array | undefined): string {
  if (!dvmSecretKey) throw new Error('the job request was encrypted: pass dvmSecretKey so the answer is encrypted too')
  if (!request.encryption) throw new Error('decrypt the job request (decryptJobRequest) before answering it')
  return encryptWith(request.encryption, dvmSecretKey, request.pubkey, content)
}

export interface BuildJobResultOptions {
  request: JobRequest
  content: string
  /** What the provider asks to be paid; 0 (free) when left out. */
  amountMsats?: number
  bolt11?: string
  /** Relay where the request was seen, for the `e` tag. */
  relayHint?: string
  /** Required when the request was encrypted. */
  dvmSecretKey?: Uint8Array
  createdAt: number
}

/**
 * A job result (request kind + 1000). It always carries an `amount` tag, 0 for free work, because
 * clients and the published NIP-90 schemas expect one on every result. The inputs are repeated only
 * for public requests: an encrypted request gets encrypted content and no `i` tags.
 */
export function buildJobResult(options: BuildJobResultOptions): EventTemplate {
  const { request } = options
  if (options.bolt11 && options.amountMsats === undefined) throw new Error('a bolt11 invoice needs amountMsats')
  const tags: string[][] = [['request', JSON.stringify(request.event)], requestRefTag(request, options.relayHint)]
  if (!request.encrypted) tags.push(...request.inputs.map(inputTag))
  tags.push(['p', request.pubkey], amountTag(options.amountMsats ?? 0, options.bolt11))
  let content = options.content
  if (request.encrypted) {
    content = encryptAnswer(request, content, options.dvmSecretKey)
    tags.push(['encrypted'])
  }
  return { kind: resultKindFor(request.kind), created_at: options.createdAt, tags, content }
}

export interface BuildJobFeedbackOptions {
  request: JobRequest
  status: FeedbackStatus
  /** Human-readable status detail; public even for encrypted requests, so keep job data out of it. */
  extraInfo?: string
  /** A sample of the results (e.g. for `partial`); encrypted for encrypted requests. */
  content?: string
  amountMsats?: number
  bolt11?: string
  relayHint?: string
  dvmSecretKey?: Uint8Array
  createdAt: number
}

export function buildJobFeedback(options: BuildJobFeedbackOptions): EventTemplate {
  const { request, status } = options
  if (!FEEDBACK_STATUSES.includes(status)) throw new RangeError(`unknown feedback status ${JSON.stringify(status)}`)
  if (status === 'payment-required' && options.amountMsats === undefined) throw new Error('payment-required feedback needs amountMsats')
  if (options.bolt11 && options.amountMsats === undefined) throw new Error('a bolt11 invoice needs amountMsats')
  const tags: string[][] = [options.extraInfo ? ['status', status, options.extraInfo] : ['status', status]]
  if (options.amountMsats !== undefined) tags.push(amountTag(options.amountMsats, options.bolt11))
  tags.push(requestRefTag(request, options.relayHint), ['p', request.pubkey])
  let content = options.content ?? ''
  if (request.encrypted && content !== '') {
    content = encryptAnswer(request, content, options.dvmSecretKey)
    tags.push(['encrypted'])
  }
  return { kind: FEEDBACK_KIND, created_at: options.createdAt, tags, content }
}

interface AnswerTags {
  requestId: string
  requestRelay?: string
  customer: string
  amountMsats?: number
  bolt11?: string
  encrypted: boolean
}

function parseAnswerTags(tags: string[][], what: string): AnswerTags {
  let requestId: string | undefined
  let requestRelay: string | undefined
  let customer: string | undefined
  let amount: { msats: number; bolt11?: string } | undefined
  let encrypted = false
  for (const tag of tags) {
    if (tag[0] === 'e' && requestId === undefined) {
      if (!isHex64(tag[1])) invalid(`${what} e tag needs a 64-character lowercase hex event id`)
      requestId = tag[1]
      if (tag[2]) requestRelay = tag[2]
    } else if (tag[0] === 'p' && customer === undefined) {
      if (!isHex64(tag[1])) invalid(`${what} p tag needs a 64-character lowercase hex pubkey`)
      customer = tag[1]
    } else if (tag[0] === 'amount') {
      if (amount) invalid(`${what} has more than one amount tag`)
      amount = { msats: parseMsats(tag[1], 'amount') }
      if (tag[2]) amount.bolt11 = tag[2]
    } else if (tag[0] === 'encrypted') {
      encrypted = true
    }
  }
  if (requestId === undefined) return invalid(`${what} needs an e tag referencing the job request`)
  if (customer === undefined) return invalid(`${what} needs a p tag with the customer's pubkey`)
  const parsed: AnswerTags = { requestId, customer, encrypted }
  if (requestRelay !== undefined) parsed.requestRelay = requestRelay
  if (amount) {
    parsed.amountMsats = amount.msats
    if (amount.bolt11 !== undefined) parsed.bolt11 = amount.bolt11
  }
  return parsed
}

export function parseJobResult(value: unknown): JobResult {
  const event = checkEvent(value, 'job result')
  if (!isJobResultKind(event.kind)) invalid(`kind ${event.kind} is not a job result kind (6000-6999)`)
  const answer = parseAnswerTags(event.tags, 'job result')
  const result: JobResult = { id: event.id, kind: event.kind, pubkey: event.pubkey, ...answer, inputs: [], content: event.content, event }
  for (const tag of event.tags) {
    if (tag[0] === 'request') {
      if (result.request) invalid('job result has more than one request tag')
      let embedded: unknown
      try {
        embedded = JSON.parse(tag[1] ?? '')
      } catch {
        invalid('job result request tag is not JSON')
      }
      const request = checkEvent(embedded, 'job result request tag')
      if (request.id !== answer.requestId) invalid('job result request tag does not match its e tag')
      if (request.kind + RESULT_KIND_OFFSET !== event.kind) invalid(`job result kind ${event.kind} does not answer a kind ${request.kind} request`)
      result.request = request
    } else if (tag[0] === 'i' && tag.length > 2) {
      result.inputs.push(parseInputTag(tag))
    }
  }
  return result
}

export function parseJobFeedback(value: unknown): JobFeedback {
  const event = checkEvent(value, 'job feedback')
  if (event.kind !== FEEDBACK_KIND) invalid(`kind ${event.kind} is not job feedback (${FEEDBACK_KIND})`)
  const statusTag = event.tags.find((tag) => tag[0] === 'status')
  if (!statusTag) return invalid('job feedback needs a status tag')
  const status = statusTag[1]
  if (!(FEEDBACK_STATUSES as readonly string[]).includes(status ?? '')) {
    return invalid(`job feedback status must be one of ${FEEDBACK_STATUSES.join(', ')}`)
  }
  const answer = parseAnswerTags(event.tags, 'job feedback')
  const feedback: JobFeedback = { id: event.id, pubkey: event.pubkey, ...answer, status: status as FeedbackStatus, content: event.content, event }
  if (statusTag[2]) feedback.extraInfo = statusTag[2]
  return feedback
}

/** The requester's view of an encrypted result or feedback: its content decrypted. Public content is returned as is. */
export function decryptJobContent(value: unknown, requesterSecretKey: Uint8Array): string {
  const event = checkEvent(value, 'job answer')
  if (!event.tags.some((tag) => tag[0] === 'encrypted')) return event.content
  return decryptWith(schemeOf(event.content), requesterSecretKey, event.pubkey, event.content, 'job answer')
}
