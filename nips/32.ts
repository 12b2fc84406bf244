// NIP-32: labels (kind 1985) — the generic `L`/`l` form, and the job-outcome vocabulary the market's
// reputation is computed from (nips/reputation.md): our `timmy.dvm` namespace, plus the `ai.wot`
// attestations other agent networks publish, which we read and can also emit.
// Pure: no I/O, no clock. Parse errors throw NostrProtocolError('invalid', reason).
import { eventShapeError, isHex64, NostrProtocolError, type EventTemplate, type NostrEvent } from './01.js'
import { isJobRequestKind } from './90.js'
import { normalizeRelayUrl } from './relay-url.js'

export const LABEL_KIND = 1985
/** Tags a label event may point at: events, pubkeys, addresses, relays/URLs, topics. */
export const LABEL_TARGET_TAGS = ['e', 'p', 'a', 'r', 't'] as const

export interface Label {
  value: string
  namespace: string
}

export interface LabelEvent {
  id: string
  labeller: string
  namespaces: string[]
  labels: Label[]
  /** The target tags (`e`, `p`, `a`, `r`, `t`) as they appear in the event. */
  targets: string[][]
  content: string
  createdAt: number
  event: NostrEvent
}

function invalid(reason: string): never {
  throw new NostrProtocolError('invalid', reason)
}

const isTargetTag = (name: string | undefined) => (LABEL_TARGET_TAGS as readonly (string | undefined)[]).includes(name)

export interface BuildLabelOptions {
  namespace: string
  labels: string[]
  /** Target tags, e.g. ['p', pubkey, relay]; at least one. */
  targets: string[][]
  /** Further tags, after the targets. */
  tags?: string[][]
  content?: string
  createdAt: number
}

/** A kind-1985 label template in one namespace (NIP-32 asks publishers to keep to one per event). */
export function buildLabel({ namespace, labels, targets, tags = [], content = '', createdAt }: BuildLabelOptions): EventTemplate {
  if (typeof namespace !== 'string' || namespace === '') throw new TypeError('namespace must be a non-empty string')
  if (!Array.isArray(labels) || labels.length === 0) throw new TypeError('a label event needs at least one label')
  for (const label of labels) if (typeof label !== 'string' || label === '') throw new TypeError('labels must be non-empty strings')
  if (!Array.isArray(targets) || targets.length === 0) throw new TypeError('a label event needs at least one target (e, p, a, r or t tag)')
  for (const target of targets) {
    if (!Array.isArray(target) || !isTargetTag(target[0]) || typeof target[1] !== 'string' || target[1] === '') {
      throw new TypeError(`target ${JSON.stringify(target)} must be an e, p, a, r or t tag with a value`)
    }
  }
  if (typeof content !== 'string') throw new TypeError('content must be a string')
  if (!Number.isSafeInteger(createdAt) || createdAt < 0) throw new TypeError('createdAt must be a non-negative integer (unix seconds)')
  return {
    kind: LABEL_KIND,
    created_at: createdAt,
    tags: [['L', namespace], ...[...new Set(labels)].map((label) => ['l', label, namespace]), ...targets.map((t) => [...t]), ...tags.map((t) => [...t])],
    content,
  }
}

/** Reads a kind-1985 event strictly: every `l` must carry a mark naming one of the event's `L` namespaces. */
export function parseLabel(value: unknown): LabelEvent {
  const shape = eventShapeError(value)
  if (shape) invalid(shape)
  const event = value as NostrEvent
  if (event.kind !== LABEL_KIND) invalid(`a label must be kind ${LABEL_KIND}, got ${event.kind}`)
  const namespaces: string[] = []
  const marked: [string, string | undefined][] = []
  const targets: string[][] = []
  for (const tag of event.tags) {
    if (tag[0] === 'L') {
      if (tag[1] === undefined || tag[1] === '') invalid('an L tag needs a namespace')
      if (!namespaces.includes(tag[1])) namespaces.push(tag[1])
    } else if (tag[0] === 'l') {
      if (tag[1] === undefined || tag[1] === '') invalid('an l tag needs a label value')
      marked.push([tag[1], tag[2]])
    } else if (isTargetTag(tag[0])) {
      if (tag[1] === undefined || tag[1] === '') invalid(`a ${tag[0]} target tag needs a value`)
      targets.push(tag)
    }
  }
  if (marked.length === 0) invalid('a label event needs at least one l tag')
  if (targets.length === 0) invalid('a label event needs at least one target: an e, p, a, r or t tag')
  const labels: Label[] = []
  for (const [label, mark] of marked) {
    if (mark === undefined) invalid(`label ${JSON.stringify(label.slice(0, 64))} has no namespace mark (NIP-32: a label must carry a mark matching an L tag)`)
    if (!namespaces.includes(mark)) invalid(`label ${JSON.stringify(label.slice(0, 64))} is marked ${JSON.stringify(mark.slice(0, 64))}, which no L tag declares`)
    labels.push({ value: label, namespace: mark })
  }
  return { id: event.id, labeller: event.pubkey, namespaces, labels, targets, content: event.content, createdAt: event.created_at, event }
}

// ---------------------------------------------------------------------------------------------
// Job outcomes: what a requester (or an agent that saw a protocol fault) says about an agent's job.

export const TIMMY_LABEL_NAMESPACE = 'timmy.dvm'
/** ai.wot (github.com/jeletor/ai-wot): NIP-32 attestations between AI agents. */
export const AI_WOT_NAMESPACE = 'ai.wot'

export const JOB_OUTCOMES = ['success', 'failed', 'late', 'no-reveal', 'invalid-result'] as const
export type JobOutcome = (typeof JOB_OUTCOMES)[number]
export const MIN_QUALITY = 1
export const MAX_QUALITY = 5

/** How ai.wot's job-related attestation types read as outcomes; its other types are not about a job. */
const AI_WOT_OUTCOMES: ReadonlyMap<string, JobOutcome> = new Map([
  ['service-quality', 'success'],
  ['work-completed', 'success'],
  ['warning', 'failed'],
  ['dispute', 'invalid-result'],
])

export interface JobOutcomeLabelOptions {
  /** The agent (service provider) the label is about. */
  agent: string
  /** The job request's event id. */
  job: string
  /** The job request's kind: the capability (5000-5999). */
  kind: number
  outcome: JobOutcome
  /** 1 (poor) to 5 (excellent); not for `no-reveal`, where there was nothing to judge. */
  quality?: number
  /** What the labeller paid for the job, in msats. */
  amountMsats?: number
  /** Relay hint for the agent and the job. */
  relay?: string
  comment?: string
  createdAt: number
}

export interface JobOutcomeLabel {
  id: string
  labeller: string
  agent: string
  /** The job request id; an ai.wot attestation may name no job. */
  job?: string
  /** The capability (job request kind); ai.wot attestations usually name none. */
  kind?: number
  outcome: JobOutcome
  quality?: number
  amountMsats?: number
  namespace: typeof TIMMY_LABEL_NAMESPACE | typeof AI_WOT_NAMESPACE
  /** The `l` value as published (differs from `outcome` for ai.wot). */
  label: string
  comment: string
  createdAt: number
  /** NIP-40 expiration (unix seconds); a malformed one counts as absent, as in nips/40.ts. */
  expiration?: number
  event: NostrEvent
}

function checkOutcomeOptions(options: JobOutcomeLabelOptions): void {
  const { agent, job, kind, outcome, quality, amountMsats, relay, comment } = options
  if (!isHex64(agent)) throw new TypeError('agent must be a 64-character lowercase hex pubkey')
  if (!isHex64(job)) throw new TypeError('job must be the 64-character lowercase hex id of the job request')
  if (!isJobRequestKind(kind)) throw new RangeError(`kind ${kind} is not a job request kind (5000-5999)`)
  if (!(JOB_OUTCOMES as readonly string[]).includes(outcome)) throw new RangeError(`outcome must be one of ${JOB_OUTCOMES.join(', ')}`)
  if (quality !== undefined) {
    if (!Number.isInteger(quality) || quality < MIN_QUALITY || quality > MAX_QUALITY) throw new RangeError(`quality must be an integer ${MIN_QUALITY}..${MAX_QUALITY}`)
    if (outcome === 'no-reveal') throw new RangeError('a no-reveal label carries no quality: the agent delivered nothing to judge')
  }
  if (amountMsats !== undefined && (!Number.isSafeInteger(amountMsats) || amountMsats < 0)) throw new RangeError('amountMsats must be a non-negative integer')
  if (relay !== undefined) normalizeRelayUrl(relay)
  if (comment !== undefined && typeof comment !== 'string') throw new TypeError('comment must be a string')
}

function withRelay(tag: string[], relay: string | undefined): string[] {
  return relay === undefined ? tag : [...tag, normalizeRelayUrl(relay)]
}

/** A `timmy.dvm` job-outcome label template; the labeller signs it. */
export function buildJobOutcomeLabel(options: JobOutcomeLabelOptions): EventTemplate {
  checkOutcomeOptions(options)
  const { agent, job, kind, outcome, quality, amountMsats, relay, comment = '', createdAt } = options
  const tags: string[][] = [['k', String(kind)]]
  if (quality !== undefined) tags.push(['quality', String(quality)])
  if (amountMsats !== undefined) tags.push(['amount', String(amountMsats)])
  return buildLabel({
    namespace: TIMMY_LABEL_NAMESPACE,
    labels: [outcome],
    targets: [withRelay(['p', agent], relay), withRelay(['e', job], relay)],
    tags,
    content: comment,
    createdAt,
  })
}

/** The ai.wot type a job outcome publishes as. */
export function aiWotTypeFor(outcome: JobOutcome, quality: number | undefined): string {
  if (outcome === 'success') return quality !== undefined && quality >= 4 ? 'service-quality' : 'work-completed'
  if (outcome === 'late') return 'work-completed'
  return 'warning'
}

/**
 * The same outcome as an ai.wot attestation, for agents and explorers that read only that
 * vocabulary. A separate event, because NIP-32 asks for one namespace per label event.
 */
export function buildAiWotAttestation(options: JobOutcomeLabelOptions): EventTemplate {
  checkOutcomeOptions(options)
  const { agent, job, kind, outcome, quality, amountMsats, relay, comment, createdAt } = options
  const type = aiWotTypeFor(outcome, quality)
  // ai.wot requires an explanation on negative attestations, and reads `work-completed` content as
  // "Work completed | <description> | <amount> sats".
  let content = comment ?? ''
  if (content === '') {
    if (type === 'work-completed') content = `Work completed | NIP-90 job kind ${kind} (${outcome})${amountMsats !== undefined ? ` | ${Math.floor(amountMsats / 1000)} sats` : ''}`
    else if (type === 'warning') content = `NIP-90 job kind ${kind}: ${outcome}`
  }
  return buildLabel({
    namespace: AI_WOT_NAMESPACE,
    labels: [type],
    targets: [withRelay(['p', agent], relay), withRelay(['e', job], relay)],
    tags: [['k', String(kind)]],
    content,
    createdAt,
  })
}

// Reputation reads the tags of up to hundreds of thousands of labels: no regular expressions and no
// allocation per label beyond the result (and none at all through readJobOutcomeFields).
function isDigits(value: string): boolean {
  if (value.length === 0) return false
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c < 48 || c > 57) return false
  }
  return true
}

/** A plain decimal: digits only, no sign, no leading zero (but "0"). */
function isDecimal(value: string): boolean {
  return isDigits(value) && (value.length === 1 || value.charCodeAt(0) !== 48)
}

function hexValue(value: string | undefined, name: string): string {
  if (value === undefined || !isHex64(value)) invalid(`the ${name} tag must hold 64 lowercase hex characters`)
  return value
}

/** A job request kind (5000-5999) written as a plain decimal: four digits, the first a 5. */
function jobKind(value: string | undefined): number {
  if (value === undefined) return invalid('the k tag needs a value: the job request kind')
  if (value.length === 4 && value.charCodeAt(0) === 53) {
    let kind = 0
    for (let i = 0; i < 4; i++) {
      const digit = value.charCodeAt(i) - 48
      if (digit < 0 || digit > 9) break
      kind = kind * 10 + digit
      if (i === 3) return kind
    }
  }
  return invalid(`the k tag must be a job request kind (5000-5999), got ${JSON.stringify(value.slice(0, 16))}`)
}

/** NIP-32: every label's mark names a namespace an `L` tag declares. */
function checkDeclared(mark: string, namespace: string | undefined, moreNamespaces: string[] | undefined): void {
  if (mark !== namespace && !moreNamespaces?.includes(mark)) invalid(`a label is marked ${JSON.stringify(mark.slice(0, 64))}, which no L tag declares`)
}

function countError(name: string, what: string, count: number, required: boolean): string | undefined {
  if (count > 1 || (required && count === 0)) return `a job-outcome label needs ${required ? 'exactly' : 'at most'} one ${name} tag (${what}), found ${count}`
  return undefined
}

/**
 * Reads a job-outcome label: a `timmy.dvm` label (strict: outcome, agent, job and capability are
 * required), or an ai.wot attestation whose type is about delivered work.
 */
export function parseJobOutcomeLabel(value: unknown): JobOutcomeLabel {
  const shape = eventShapeError(value)
  if (shape) invalid(shape)
  return readJobOutcomeLabel(value as NostrEvent)
}

/**
 * parseJobOutcomeLabel for an event whose shape is already known good (one that passed signature
 * verification): the same checks but the NIP-01 shape. A `p` tag equal to `knownAgent` (a pubkey
 * the caller has validated) skips the hex check.
 */
export function readJobOutcomeLabel(event: NostrEvent, knownAgent?: string): JobOutcomeLabel {
  const fields = newJobOutcomeFields()
  readJobOutcomeFields(event, knownAgent, fields)
  const { agent, job, kind, outcome, quality, amountMsats, namespace, label, expiration } = fields
  return { id: event.id, labeller: event.pubkey, agent, job, kind, outcome, quality, amountMsats, namespace, label, comment: event.content, createdAt: event.created_at, expiration, event }
}

/** What a job-outcome label says, beyond its event's id, author, content and time. */
export type JobOutcomeFields = Pick<JobOutcomeLabel, 'agent' | 'job' | 'kind' | 'outcome' | 'quality' | 'amountMsats' | 'namespace' | 'label' | 'expiration'>

/** A record for readJobOutcomeFields to fill. */
export function newJobOutcomeFields(): JobOutcomeFields {
  return { agent: '', job: undefined, kind: undefined, outcome: 'success', quality: undefined, amountMsats: undefined, namespace: TIMMY_LABEL_NAMESPACE, label: '', expiration: undefined }
}

/**
 * readJobOutcomeLabel into a record the caller reuses: reputation reads labels by the hundred
 * thousand and keeps few of them, so it allocates nothing for the others. Every field is written;
 * throws NostrProtocolError('invalid', reason) like readJobOutcomeLabel, and then leaves `into` as it was.
 */
export function readJobOutcomeFields(event: NostrEvent, knownAgent: string | undefined, into: JobOutcomeFields): void {
  if (event.kind !== LABEL_KIND) invalid(`a label must be kind ${LABEL_KIND}, got ${event.kind}`)
  // Labels carry one L and one l as a rule: the first of each in a variable, any further in an array.
  let namespace: string | undefined
  let moreNamespaces: string[] | undefined
  let mark: string | undefined
  let moreMarks: string[] | undefined
  let timmyLabel: string | undefined
  let timmyLabels = 0
  let aiWotLabel: string | undefined
  let aiWotLabels = 0
  let targets = 0
  let p: string | undefined
  let ps = 0
  let e: string | undefined
  let es = 0
  let k: string | undefined
  let ks = 0
  let quality: string | undefined
  let qualities = 0
  let amount: string | undefined
  let amounts = 0
  let expiration: number | undefined
  let expirations = 0
  const tags = event.tags
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i]
    const name = tag[0]
    const v = tag[1]
    if (name === 'l') {
      if (v === undefined || v === '') invalid('an l tag needs a label value')
      const m = tag[2]
      if (m === undefined) invalid(`label ${JSON.stringify(v.slice(0, 64))} has no namespace mark (NIP-32: a label must carry a mark matching an L tag)`)
      if (mark === undefined) mark = m
      else (moreMarks ??= []).push(m)
      if (m === TIMMY_LABEL_NAMESPACE) (timmyLabel = v), timmyLabels++
      else if (m === AI_WOT_NAMESPACE) (aiWotLabel = v), aiWotLabels++
    } else if (name === 'L') {
      if (v === undefined || v === '') invalid('an L tag needs a namespace')
      if (namespace === undefined) namespace = v
      else (moreNamespaces ??= []).push(v)
    } else if (name === 'p') (p = v), ps++, targets++
    else if (name === 'e') (e = v), es++, targets++
    else if (name === 'a' || name === 'r' || name === 't') targets++
    else if (name === 'k') (k = v), ks++
    else if (name === 'quality') (quality = v), qualities++
    else if (name === 'amount') (amount = v), amounts++
    else if (name === 'expiration' && expirations++ === 0 && v !== undefined && v.length <= 16 && isDigits(v)) expiration = Number(v)
  }
  if (mark === undefined) invalid('a label event needs at least one l tag')
  if (targets === 0) invalid('a label event needs at least one target: an e, p, a, r or t tag')
  if (mark !== namespace) checkDeclared(mark, namespace, moreNamespaces)
  if (moreMarks !== undefined) for (const m of moreMarks) checkDeclared(m, namespace, moreNamespaces)
  const tagError = countError('p', 'the agent', ps, true)
  if (tagError) invalid(tagError)
  const agent = p !== undefined && p === knownAgent ? p : hexValue(p, 'p')
  if (agent === event.pubkey) invalid('an agent cannot label its own jobs')

  if (timmyLabels > 0) {
    if (timmyLabels !== 1) invalid(`a job-outcome label needs exactly one ${TIMMY_LABEL_NAMESPACE} label, found ${timmyLabels}`)
    const label = timmyLabel as string
    if (!(JOB_OUTCOMES as readonly string[]).includes(label)) invalid(`unknown outcome ${JSON.stringify(label.slice(0, 32))}; expected one of ${JOB_OUTCOMES.join(', ')}`)
    const outcome = label as JobOutcome
    const error = countError('e', 'the job request', es, true) ?? countError('k', 'the job kind', ks, true) ?? countError('quality', '1-5', qualities, false) ?? countError('amount', 'msats paid', amounts, false)
    if (error) invalid(error)
    const job = hexValue(e, 'e')
    const kind = jobKind(k)
    let qualityValue: number | undefined
    if (quality !== undefined) {
      if (quality.length !== 1 || quality < '1' || quality > '5') invalid(`quality must be a whole number ${MIN_QUALITY}..${MAX_QUALITY}, got ${JSON.stringify(quality.slice(0, 16))}`)
      if (outcome === 'no-reveal') invalid('a no-reveal label carries no quality')
      qualityValue = quality.charCodeAt(0) - 48
    }
    let amountMsats: number | undefined
    if (amount !== undefined) {
      if (!isDecimal(amount) || !Number.isSafeInteger(Number(amount))) invalid('amount must be a whole number of msats')
      amountMsats = Number(amount)
    }
    into.agent = agent
    into.job = job
    into.kind = kind
    into.outcome = outcome
    into.quality = qualityValue
    into.amountMsats = amountMsats
    into.namespace = TIMMY_LABEL_NAMESPACE
    into.label = label
    into.expiration = expiration
    return
  }

  if (aiWotLabels > 0) {
    if (aiWotLabels !== 1) invalid(`a job-outcome label needs exactly one ${AI_WOT_NAMESPACE} label, found ${aiWotLabels}`)
    const label = aiWotLabel as string
    const outcome = AI_WOT_OUTCOMES.get(label)
    if (outcome === undefined) invalid(`ai.wot ${JSON.stringify(label.slice(0, 32))} is not about a job outcome`)
    if ((label === 'warning' || label === 'dispute') && event.content.trim() === '') invalid(`an ai.wot ${label} must explain itself in its content`)
    const error = countError('e', 'the job or the rated event', es, false) ?? countError('k', 'the job kind', ks, false)
    if (error) invalid(error)
    into.agent = agent
    into.job = e === undefined ? undefined : hexValue(e, 'e')
    into.kind = k === undefined ? undefined : jobKind(k)
    into.outcome = outcome
    into.quality = undefined
    into.amountMsats = undefined
    into.namespace = AI_WOT_NAMESPACE
    into.label = label
    into.expiration = expiration
    return
  }

  return invalid(`not a job-outcome label: no ${TIMMY_LABEL_NAMESPACE} or ${AI_WOT_NAMESPACE} label`)
}
