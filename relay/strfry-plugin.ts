// strfry write-policy plugin (strfry docs/plugins.md): one JSON request per line on stdin, one
// JSON decision per line on stdout, applying the same write policies as the embedded relay.
//   in:  {"type":"new","event":{...},"receivedAt":N,"sourceType":"IP4"|"IP6"|"Import"|"Stream"|"Sync","sourceInfo":"1.2.3.4","authed"?:"<pubkey>"}
//   out: {"id":"<event id>","action":"accept"|"reject"|"shadowReject","msg":"..."}
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { eventShapeError, isHex64, type NostrEvent } from '../nips/01.js'
import { DEFAULT_RELAY_CONFIG, silentLog, type RelayConfig, type RelayLog } from './config.js'
import { runPolicies, type PolicyDecision, type WritePolicy } from './policy.js'

export interface StrfryPluginOptions {
  config?: RelayConfig
  /** Where problems go; strfry copies the plugin's stderr into its log. Never stdout. */
  log?: RelayLog
}

interface PluginReply {
  id: string
  action: PolicyDecision['action']
  msg: string
}

const ID_IN_LINE = /"id"\s*:\s*"([0-9a-f]{64})"/

/**
 * Answers every request line read from `input` on `output` until `input` ends. A line that cannot
 * be understood is rejected when an event id can be found in it, and otherwise only logged
 * (there is nothing to answer to).
 */
export async function runStrfryPlugin(
  input: Readable,
  output: Writable,
  policies: WritePolicy[],
  clock: () => number,
  { config = DEFAULT_RELAY_CONFIG, log = silentLog }: StrfryPluginOptions = {},
): Promise<void> {
  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false })
  for await (const line of lines) {
    if (line.trim() === '') continue
    const reply = decide(line, policies, clock, config, log)
    if (reply === undefined) continue
    if (!output.write(`${JSON.stringify(reply)}\n`)) await new Promise((resolve) => output.once('drain', resolve))
  }
}

function decide(line: string, policies: WritePolicy[], clock: () => number, config: RelayConfig, log: RelayLog): PluginReply | undefined {
  const rejectLine = (reason: string): PluginReply | undefined => {
    const id = ID_IN_LINE.exec(line)?.[1]
    log.warn({ reason, line: line.slice(0, 200) }, 'unusable write-policy request')
    return id === undefined ? undefined : { id, action: 'reject', msg: reason }
  }
  let request: unknown
  try {
    request = JSON.parse(line)
  } catch {
    return rejectLine('invalid: plugin request is not valid JSON')
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) return rejectLine('invalid: plugin request must be a JSON object')
  const { type, event, sourceType, sourceInfo, authed } = request as Record<string, unknown>
  const eventId = typeof event === 'object' && event !== null ? (event as Record<string, unknown>).id : undefined
  if (type !== 'new') {
    return isHex64(eventId) ? { id: eventId, action: 'reject', msg: `error: unexpected request type ${JSON.stringify(type)}` } : rejectLine('error: unexpected request type')
  }
  const shapeError = eventShapeError(event)
  if (shapeError !== null) {
    return isHex64(eventId) ? { id: eventId, action: 'reject', msg: `invalid: ${shapeError}` } : rejectLine(`invalid: ${shapeError}`)
  }
  const fromClient = (sourceType === 'IP4' || sourceType === 'IP6') && typeof sourceInfo === 'string'
  const nostrEvent = event as NostrEvent
  try {
    const decision = runPolicies(policies, nostrEvent, {
      sourceIp: fromClient ? sourceInfo : '',
      authedPubkeys: new Set(isHex64(authed) ? [authed] : []),
      now: clock(),
      config,
    })
    return decision.action === 'accept'
      ? { id: nostrEvent.id, action: 'accept', msg: '' }
      : { id: nostrEvent.id, action: decision.action, msg: decision.reason }
  } catch (err) {
    log.error({ err, id: nostrEvent.id }, 'write policy failed')
    return { id: nostrEvent.id, action: 'reject', msg: 'error: internal error' }
  }
}
