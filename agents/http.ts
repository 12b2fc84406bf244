// The host's HTTP API (node:http, bound to loopback by default):
//   GET  /healthz                       liveness: every agent running
//   GET  /metrics                       Prometheus
//   GET  /api/agents                    agents, their capabilities and relays
//   GET  /api/jobs?status=&agent=&limit= jobs, newest first
//   GET  /api/jobs/:id                  one job with its facts (the log) and outbox
//   GET  /api/approvals                 jobs waiting for an operator
//   POST /api/approvals/:id/approve     {"by"?}                 operator
//   POST /api/approvals/:id/reject      {"reason", "by"?}       operator
//   GET  /api/reputation/:pubkey?trust_root=&kind=&half_life_days=&evidence=  NIP-32 score with evidence
//   GET  /api/treasury                  earnings summary per agent          operator
// Anything else goes to the static handler (the web client) when one is given, else 404.
//
// Operator routes (and the details of encrypted jobs, which hold the decrypted request) need a
// NIP-98 `Authorization: Nostr <base64 event>` signed by an npub on the operators allowlist
// (agents/operators.ts). Everything else is public: it is what the relays show anyway.
//
// CSRF: operator requests carry no ambient credential (no cookie, no session, no source-address
// trust); their authority is a signature over this exact URL, method and body made within the
// last minute, which a cross-site page cannot produce without the operator's key. So a forged
// cross-site request is just an unauthenticated one. Public GETs answer any origin (CORS `*`);
// operator routes send no CORS headers, so browsers keep other origins' scripts away from them.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Registry } from 'prom-client'
import { npubEncode } from '../nips/19.js'
import type { NostrEvent } from '../nips/01.js'
import { ApprovalError } from './approvals.js'
import type { Logger } from './logger.js'
import { createOperatorAuth, type OperatorAuth } from './operators.js'
import type { Agent } from './runtime.js'
import type { Treasury } from './lightning/treasury.js'
import { ReputationCache } from './reputation/gather.js'
import type { ZapperOf } from './reputation/zaps.js'
import { reputationApi } from './reputation/http.js'
import type { JobState, JobStatus } from './state.js'

/** Serves a request it recognises and returns true; false passes it on (to a 404). */
export type StaticHandler = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>

export interface HttpApiOptions {
  host: string
  port: number
  agents: Agent[]
  registry: Registry
  log: Logger
  /** The web client's files (served later by the client work). */
  staticHandler?: StaticHandler
  /** Tried before the API's own routes (LNURL, the FAKE-only pay endpoint: agents/payments/host.ts); read per request. */
  preHandlers?: readonly StaticHandler[]
  /** Hex pubkeys allowed on operator routes (read per request); none: operator routes answer 403. */
  operators?: () => ReadonlySet<string>
  /** Unix milliseconds (NIP-98 time window). */
  clock?: () => number
  /** The agents' shared treasury, once payments have started. */
  treasury?: () => Treasury | undefined
  /** Reputation's trust root and half-life when a request names none (config `reputation`). */
  reputation?: { trustRoot?: string; halfLifeDays: number }
  /** Reputation: the key that signs an agent's zap receipts, and a fast signature check for them. */
  zappers?: ZapperOf
  verify?: (event: NostrEvent) => boolean
}

export interface RunningHttpApi {
  url: string
  port: number
  close(): Promise<void>
}

const MAX_BODY_BYTES = 16_384
const JOB_STATUSES: JobStatus[] = ['posted', 'bidding', 'awaiting-approval', 'assigned', 'payment-required', 'executing', 'completed', 'failed', 'cancelled']

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message)
  }
}

const PUBLIC_GET = [/^\/healthz$/, /^\/metrics$/, /^\/api\/agents$/, /^\/api\/jobs$/, /^\/api\/jobs\/[0-9a-f]{64}$/, /^\/api\/approvals$/, /^\/api\/reputation\/[^/]+$/]
const ANY_ORIGIN = { 'access-control-allow-origin': '*' }

export function jobSummary(agent: Pick<Agent, 'name' | 'pubkey'>, state: JobState): Record<string, unknown> {
  return {
    id: state.id,
    agent: agent.name,
    agentPubkey: agent.pubkey,
    kind: state.request.kind,
    status: state.status,
    requester: state.request.pubkey,
    encrypted: state.spec?.encryption !== undefined,
    priceMsats: state.priceMsats,
    bidMsats: state.spec?.bidMsats,
    attempts: state.attempts,
    postedAt: state.postedAt,
    updatedAt: state.updatedAt,
    ...(state.takeoverFrom && { takeoverFrom: state.takeoverFrom }),
    ...(state.approval && { approval: state.approval }),
    ...(state.error && { error: state.error }),
    ...(state.cancelReason && { cancelReason: state.cancelReason }),
    ...(state.result && { resultEventId: state.result.eventId }),
    ...(state.payment && { payment: { amountMsats: state.payment.amountMsats, state: state.payment.state, paymentHash: state.payment.paymentHash, bolt11: state.payment.bolt11, escrow: state.payment.escrow } }),
  }
}

export async function startHttpApi(options: HttpApiOptions): Promise<RunningHttpApi> {
  const { agents, registry, log } = options
  const clock = options.clock ?? Date.now
  const operatorAuth: OperatorAuth = createOperatorAuth({ operators: options.operators ?? (() => new Set()), now: () => Math.floor(clock() / 1000) })
  // Each agent's labels and zap receipts, fetched and checked once across reputation requests.
  const reputationCache = new ReputationCache({ clock })

  /** The operator's pubkey, or an HttpError (401 with a WWW-Authenticate challenge, or 403). */
  const requireOperator = (req: IncomingMessage, body: Uint8Array): string => {
    const decision = operatorAuth.authorize({ host: req.headers.host ?? '', path: req.url ?? '/', method: req.method ?? 'GET', authorization: req.headers.authorization, body })
    if (decision.ok) return decision.pubkey
    throw new HttpError(decision.status, decision.reason, decision.status === 401 ? { 'www-authenticate': 'Nostr' } : {})
  }

  const findJob = (id: string): { agent: Agent; state: JobState } => {
    for (const agent of agents) {
      const state = agent.jobLog.state(id)
      if (state) return { agent, state }
    }
    throw new HttpError(404, `no job ${id}`)
  }

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const path = url.pathname
    if (req.method === 'OPTIONS' && (path.startsWith('/api/') || path === '/healthz' || path === '/metrics')) {
      // Preflights succeed for public GETs only; operator routes get no CORS grant.
      const isPublic = PUBLIC_GET.some((p) => p.test(path))
      res.writeHead(204, isPublic ? { ...ANY_ORIGIN, 'access-control-allow-methods': 'GET', 'access-control-max-age': '600' } : {})
      res.end()
      return true
    }
    if (req.method === 'GET' && PUBLIC_GET.some((p) => p.test(path))) res.setHeader('access-control-allow-origin', '*')
    if (req.method === 'GET' && path === '/healthz') {
      const running = agents.every((a) => a.status().running)
      json(res, running ? 200 : 503, { ok: running, agents: agents.map((a) => ({ name: a.name, running: a.status().running })) })
      return true
    }
    if (req.method === 'GET' && path === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType })
      res.end(await registry.metrics())
      return true
    }
    if (req.method === 'GET' && path === '/api/agents') {
      json(res, 200, { agents: agents.map((a) => a.status()) })
      return true
    }
    if (req.method === 'GET' && path === '/api/jobs') {
      const status = url.searchParams.getAll('status')
      const bad = status.find((s) => !JOB_STATUSES.includes(s as JobStatus))
      if (bad) throw new HttpError(400, `unknown status ${JSON.stringify(bad)}; one of ${JOB_STATUSES.join(', ')}`)
      const limit = Number(url.searchParams.get('limit') ?? 100)
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new HttpError(400, 'limit must be an integer 1..1000')
      const agentName = url.searchParams.get('agent')
      const jobs = agents
        .filter((a) => !agentName || a.name === agentName)
        .flatMap((a) => a.jobLog.jobs({ status: status as JobStatus[], limit }).map((s) => jobSummary(a, s)))
        .sort((x, y) => (y.updatedAt as number) - (x.updatedAt as number))
        .slice(0, limit)
      json(res, 200, { jobs })
      return true
    }
    const jobMatch = /^\/api\/jobs\/([0-9a-f]{64})$/.exec(path)
    if (req.method === 'GET' && jobMatch) {
      const { agent, state } = findJob(jobMatch[1])
      if (state.spec?.encryption !== undefined) {
        res.removeHeader('access-control-allow-origin')
        requireOperator(req, new Uint8Array())
      }
      json(res, 200, {
        job: { ...jobSummary(agent, state), request: state.request, spec: state.spec, result: state.result, partials: state.partials },
        facts: agent.jobLog.facts(state.id),
        outbox: agent.jobLog.effectsOf(state.id).map(({ id, type, status, attempts, note, spec }) => ({ id, type, status, attempts, note, ...(spec.type === 'publish' && { eventId: spec.event.id, kind: spec.event.kind }) })),
      })
      return true
    }
    if (req.method === 'GET' && path === '/api/approvals') {
      json(res, 200, { approvals: agents.flatMap((a) => a.jobLog.jobs({ status: ['awaiting-approval'] }).map((s) => jobSummary(a, s))) })
      return true
    }
    const reputationMatch = /^\/api\/reputation\/([^/]+)$/.exec(path)
    if (req.method === 'GET' && reputationMatch) {
      const reader = agents.find((a) => a.status().running)
      if (!reader) throw new HttpError(503, 'no running agent to read the relays with')
      const answer = await reputationApi((filters) => reader.queryRelays(filters), {
        pubkey: decodeURIComponent(reputationMatch[1]),
        query: url.searchParams,
        now: Math.floor(clock() / 1000),
        cache: reputationCache,
        ...(options.reputation?.trustRoot && { defaultTrustRoot: options.reputation.trustRoot }),
        ...(options.reputation && { defaultHalfLifeDays: options.reputation.halfLifeDays }),
        ...(options.zappers && { zappers: options.zappers }),
        ...(options.verify && { verify: options.verify }),
      })
      json(res, answer.status, answer.body)
      return true
    }
    if (req.method === 'GET' && path === '/api/treasury') {
      requireOperator(req, new Uint8Array())
      const treasury = options.treasury?.()
      if (!treasury) throw new HttpError(503, 'payments are not running on this host')
      json(res, 200, { agents: treasury.agents().map((agent) => treasury.summary(agent)) })
      return true
    }
    const decision = /^\/api\/approvals\/([0-9a-f]{64})\/(approve|reject)$/.exec(path)
    if (decision) {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST')
      const raw = await readBody(req)
      const operator = requireOperator(req, raw)
      // Besides NIP-98: a JSON content type forces a CORS preflight, which operator routes never grant.
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'send Content-Type: application/json')
      const body = parseJsonObject(raw)
      const { agent } = findJob(decision[1])
      const by = typeof body.by === 'string' && body.by ? `http:${npubEncode(operator)}:${body.by.slice(0, 64)}` : `http:${npubEncode(operator)}`
      try {
        if (decision[2] === 'approve') {
          json(res, 200, { job: jobSummary(agent, agent.approve(decision[1], by)) })
        } else {
          if (typeof body.reason !== 'string' || body.reason.trim() === '') throw new HttpError(400, 'a rejection needs a "reason"')
          json(res, 200, { job: jobSummary(agent, agent.reject(decision[1], by, body.reason.slice(0, 500))) })
        }
      } catch (err) {
        if (err instanceof ApprovalError) throw new HttpError(err.status, err.message)
        throw err
      }
      return true
    }
    return false
  }

  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (!isLocalHost(req.headers.host, options.host)) throw new HttpError(421, 'unexpected Host header')
        const target = req.url ?? '/'
        // Origin-form only ('/path?query'); '//x' would otherwise parse as a host, and a proxy's absolute form is not for us.
        if (!target.startsWith('/') || target.startsWith('//')) throw new HttpError(400, 'the request target must be a path starting with a single /')
        const url = new URL(target, 'http://localhost')
        for (const handler of options.preHandlers ?? []) if (await handler(req, res)) return
        if (await routes(req, res, url)) return
        if (options.staticHandler && (await options.staticHandler(req, res))) return
        throw new HttpError(404, `nothing at ${url.pathname}`)
      } catch (err) {
        if (err instanceof HttpError) {
          for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value)
          json(res, err.status, { error: err.message })
        } else {
          log.error({ err: (err as Error).message, url: req.url }, 'HTTP request failed')
          json(res, 500, { error: 'internal error' })
        }
      }
    })()
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/**
 * DNS rebinding guard: a loopback-bound API answers only requests addressed to a loopback name,
 * so a hostile page whose domain resolves to 127.0.0.1 cannot read it.
 */
function isLocalHost(hostHeader: string | undefined, bound: string): boolean {
  if (!hostHeader) return false
  const name = hostHeader.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase()
  if (!['127.0.0.1', '::1', 'localhost'].includes(bound)) return true
  return name === '127.0.0.1' || name === 'localhost' || name === '::1'
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(JSON.stringify(body))
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `body larger than ${MAX_BODY_BYTES} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function parseJsonObject(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {}
  try {
    const value = JSON.parse(raw.toString('utf8')) as unknown
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error()
    return value as Record<string, unknown>
  } catch {
    throw new HttpError(400, 'body must be a JSON object')
  }
}
