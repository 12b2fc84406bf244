// The requester's side, for `timmy job`, `timmy label` and `timmy agents`: send a NIP-90 request,
// follow its feedback, take the first result; label the agent that did it (NIP-32, nips/reputation.md);
// list the DVMs that announce themselves (NIP-89).
import type { Filter, NostrEvent } from '../nips/01.js'
import { npubEncode } from '../nips/19.js'
import { buildJobOutcomeLabel, type JobOutcomeLabelOptions } from '../nips/32.js'
import { HANDLER_KIND, parseHandlerInformation, type Nip90ParamInfo } from '../nips/89.js'
import {
  buildJobRequest,
  decryptJobContent,
  encryptJobRequest,
  FEEDBACK_KIND,
  parseJobFeedback,
  parseJobResult,
  resultKindFor,
  type FeedbackStatus,
  type JobRequestInput,
} from '../nips/90.js'
import type { EventCrypto } from './crypto.js'
import { HEARTBEAT_KIND, isDead, parseHeartbeat } from './heartbeat.js'
import { RelayPool } from './pool.js'

export interface FeedbackUpdate {
  from: string
  status: FeedbackStatus
  extraInfo?: string
  content?: string
  amountMsats?: number
  bolt11?: string
  event: NostrEvent
}

export interface ReceivedResult {
  from: string
  content: string
  amountMsats?: number
  bolt11?: string
  event: NostrEvent
}

export interface SendJobOptions {
  kind: number
  inputs: JobRequestInput[]
  params?: Record<string, string[]>
  output?: string
  bidMsats?: number
  /** DVMs asked for (p tags); with `encrypt`, exactly one. */
  targets?: string[]
  encrypt?: boolean
  relays: string[]
  secretKey: Uint8Array
  crypto: EventCrypto
  /** Unix milliseconds. */
  clock?: () => number
  timeoutMs: number
  onFeedback?: (update: FeedbackUpdate) => void
  /** Called once the request is accepted by a relay. */
  onSent?: (request: NostrEvent) => void
}

export class JobTimeoutError extends Error {}

/**
 * Publishes the request and resolves with the first verified result. An error feedback from the
 * one DVM the request was addressed to ends the wait; errors from others on an open request do
 * not (another DVM may still answer).
 */
export async function sendJob(options: SendJobOptions): Promise<{ request: NostrEvent; result: ReceivedResult }> {
  const clock = options.clock ?? Date.now
  const targets = options.targets ?? []
  if (options.encrypt && targets.length !== 1) throw new Error('an encrypted request needs exactly one DVM (--to npub)')
  let template = buildJobRequest({
    kind: options.kind,
    inputs: options.inputs,
    params: options.params ?? {},
    ...(options.output && { output: options.output }),
    ...(options.bidMsats !== undefined && { bidMsats: options.bidMsats }),
    relays: options.relays,
    targets,
    createdAt: Math.floor(clock() / 1000),
  })
  if (options.encrypt) template = encryptJobRequest(template, options.secretKey, targets[0])
  const request = options.crypto.sign(template, options.secretKey)
  const pool = new RelayPool({ verify: (e) => options.crypto.verify(e), signAuth: (t) => options.crypto.sign(t, options.secretKey), clock })
  try {
    const result = new Promise<ReceivedResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new JobTimeoutError(`no result within ${Math.round(options.timeoutMs / 1000)} s`)), options.timeoutMs)
      const done = (fn: () => void) => {
        clearTimeout(timer)
        fn()
      }
      pool.subscribe(options.relays, [{ kinds: [FEEDBACK_KIND, resultKindFor(options.kind)], '#e': [request.id] }], {
        onevent: (event) => {
          try {
            if (event.kind === FEEDBACK_KIND) {
              const feedback = parseJobFeedback(event)
              const content = feedback.content ? decryptJobContent(event, options.secretKey) : undefined
              options.onFeedback?.({
                from: event.pubkey,
                status: feedback.status,
                ...(feedback.extraInfo && { extraInfo: feedback.extraInfo }),
                ...(content && { content }),
                ...(feedback.amountMsats !== undefined && { amountMsats: feedback.amountMsats }),
                ...(feedback.bolt11 && { bolt11: feedback.bolt11 }),
                event,
              })
              if (feedback.status === 'error' && targets.length === 1 && event.pubkey === targets[0]) {
                done(() => reject(new Error(`the DVM answered with an error: ${feedback.extraInfo ?? (content || 'no reason given')}`)))
              }
              return
            }
            const parsed = parseJobResult(event)
            if (parsed.requestId !== request.id) return
            const content = decryptJobContent(event, options.secretKey)
            done(() =>
              resolve({
                from: event.pubkey,
                content,
                ...(parsed.amountMsats !== undefined && { amountMsats: parsed.amountMsats }),
                ...(parsed.bolt11 && { bolt11: parsed.bolt11 }),
                event,
              }),
            )
          } catch {
            // an answer we cannot read: not ours to act on
          }
        },
      })
    })
    result.catch(() => {})
    const outcomes = await pool.publish(options.relays, request)
    if (!outcomes.some((o) => o.ok)) throw new Error(`no relay accepted the request: ${outcomes.map((o) => `${o.relay}: ${o.message}`).join('; ')}`)
    options.onSent?.(request)
    return { request, result: await result }
  } finally {
    pool.close()
  }
}

/** Signs a job-outcome label on an agent and publishes it; throws when no relay accepts it. */
export async function publishJobLabel(options: { relays: string[]; secretKey: Uint8Array; crypto: EventCrypto; label: JobOutcomeLabelOptions }): Promise<NostrEvent> {
  const label = options.crypto.sign(buildJobOutcomeLabel(options.label), options.secretKey)
  const pool = new RelayPool({ verify: (e) => options.crypto.verify(e), signAuth: (t) => options.crypto.sign(t, options.secretKey) })
  try {
    const outcomes = await pool.publish(options.relays, label)
    if (!outcomes.some((o) => o.ok)) throw new Error(`no relay accepted the label: ${outcomes.map((o) => `${o.relay}: ${o.message}`).join('; ')}`)
    return label
  } finally {
    pool.close()
  }
}

export interface DiscoveredDvm {
  pubkey: string
  npub: string
  /** The announcement's `d` tag. */
  id: string
  kinds: number[]
  name?: string
  about?: string
  encryptionSupported: boolean
  params: Record<string, Nip90ParamInfo>
  announcedAt: number
  /** From the newest heartbeat (kind 11998), when the DVM sends them. */
  heartbeat?: { status: 'online' | 'offline'; alive: boolean; lastSeen: number }
}

/** DVM announcements (kind 31990) on the relays, newest version of each, with liveness. */
export async function discoverDvms(options: { relays: string[]; crypto: EventCrypto; kind?: number; nowSeconds: number; timeoutMs?: number; deadAfterIntervals?: number }): Promise<DiscoveredDvm[]> {
  const pool = new RelayPool({ verify: (e) => options.crypto.verify(e) })
  try {
    const filter: Filter = { kinds: [HANDLER_KIND], ...(options.kind !== undefined && { '#k': [String(options.kind)] }) }
    const announcements = await pool.query(options.relays, [filter], { timeoutMs: options.timeoutMs ?? 5000 })
    const newest = new Map<string, NostrEvent>()
    for (const event of announcements) {
      const key = `${event.pubkey}:${event.tags.find((t) => t[0] === 'd')?.[1] ?? ''}`
      const existing = newest.get(key)
      if (!existing || event.created_at > existing.created_at) newest.set(key, event)
    }
    const dvms: DiscoveredDvm[] = []
    for (const event of newest.values()) {
      try {
        const info = parseHandlerInformation(event)
        dvms.push({
          pubkey: info.pubkey,
          npub: npubEncode(info.pubkey),
          id: info.d,
          kinds: info.kinds,
          ...(info.content.name && { name: info.content.name }),
          ...(info.content.about && { about: info.content.about }),
          encryptionSupported: info.content.encryptionSupported ?? false,
          params: info.content.nip90Params ?? {},
          announcedAt: event.created_at,
        })
      } catch {
        // a malformed announcement is somebody else's problem
      }
    }
    if (dvms.length) {
      const beats = await pool.query(options.relays, [{ kinds: [HEARTBEAT_KIND], authors: [...new Set(dvms.map((d) => d.pubkey))] }], { timeoutMs: options.timeoutMs ?? 5000 })
      for (const beat of beats.map(parseHeartbeat)) {
        if (!beat) continue
        for (const dvm of dvms) {
          if (dvm.pubkey !== beat.pubkey || (dvm.heartbeat && dvm.heartbeat.lastSeen >= beat.createdAt)) continue
          dvm.heartbeat = { status: beat.status, alive: !isDead(beat, options.nowSeconds, options.deadAfterIntervals ?? 3), lastSeen: beat.createdAt }
        }
      }
    }
    return dvms.sort((a, b) => a.kinds[0] - b.kinds[0] || (a.name ?? '').localeCompare(b.name ?? ''))
  } finally {
    pool.close()
  }
}
