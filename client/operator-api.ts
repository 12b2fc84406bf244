// The host's HTTP API (agents/http.ts) as the operator pages use it: public GETs as they are, and
// operator requests signed per request with NIP-98 (a kind 27235 event over this exact URL, method
// and body, in `Authorization: Nostr <base64>`) by the logged-in signer. The page holds no
// credential of its own: each approval or rejection is a fresh signature.
import type { NostrEvent } from '../nips/01.js'
import { buildHttpAuth, encodeAuthorizationHeader } from '../nips/98.js'
import type { Signer } from './signer.js'
import type { EarningsSummary } from '../agents/lightning/treasury.js'

/** An HTTP answer other than 2xx, with the host's reason (its JSON `error`). */
export class HostApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export interface AgentHealth {
  name: string
  pubkey: string
  npub: string
  running: boolean
  capabilities: { id: string; kind: number; name: string; available: boolean; reason?: string }[]
  relays: { url: string; connected: boolean; authenticated: boolean }[]
  jobs: Record<string, number>
  runningJobs: number
  outboxPending: number
  /** Unix seconds. */
  lastHeartbeatAt?: number
}

export interface JobSummary {
  id: string
  agent: string
  agentPubkey: string
  kind: number
  status: string
  requester: string
  encrypted: boolean
  priceMsats?: number
  bidMsats?: number
  postedAt: number
  updatedAt: number
  approval?: { reason: string; decision?: string; by?: string }
  error?: string
}

/** One agent's money as the host's treasury counts it: the `/api/treasury` answer's own type (type-only, erased at build). */
export type { EarningsSummary }

export interface Healthz {
  ok: boolean
  agents: { name: string; running: boolean }[]
}

async function readError(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: unknown }
    if (typeof body.error === 'string') return body.error
  } catch {
    // Not JSON: the status says it.
  }
  return `HTTP ${response.status} ${response.statusText}`.trim()
}

export class HostApi {
  constructor(
    /** Where the host answers, e.g. `location.origin`. */
    readonly origin: string,
    private readonly fetchFn: (url: string, init?: RequestInit) => Promise<Response> = (url, init) => fetch(url, init),
    /** Unix seconds, for the auth event's created_at. */
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  private async parse<T>(response: Response): Promise<T> {
    if (!response.ok) throw new HostApiError(response.status, await readError(response))
    return (await response.json()) as T
  }

  private async get<T>(path: string): Promise<T> {
    let response: Response
    try {
      response = await this.fetchFn(`${this.origin}${path}`, { headers: { accept: 'application/json' } })
    } catch (err) {
      throw new HostApiError(0, `the host did not answer (${(err as Error).message})`)
    }
    return this.parse<T>(response)
  }

  /** /healthz answers 503 with the same body when an agent is down: both are answers. */
  async health(): Promise<Healthz> {
    let response: Response
    try {
      response = await this.fetchFn(`${this.origin}/healthz`, { headers: { accept: 'application/json' } })
    } catch (err) {
      throw new HostApiError(0, `the host did not answer (${(err as Error).message})`)
    }
    if (response.status === 503) return (await response.json()) as Healthz
    return this.parse<Healthz>(response)
  }

  async agents(): Promise<AgentHealth[]> {
    return (await this.get<{ agents: AgentHealth[] }>('/api/agents')).agents
  }

  async approvals(): Promise<JobSummary[]> {
    return (await this.get<{ approvals: JobSummary[] }>('/api/approvals')).approvals
  }

  async jobs(query: { status?: string; limit?: number } = {}): Promise<JobSummary[]> {
    const params = new URLSearchParams()
    if (query.status) params.set('status', query.status)
    if (query.limit) params.set('limit', String(query.limit))
    const search = params.toString()
    return (await this.get<{ jobs: JobSummary[] }>(`/api/jobs${search ? `?${search}` : ''}`)).jobs
  }

  /** A NIP-98 signed request; POSTs carry a JSON body, covered by the signature's payload hash. */
  private async operatorRequest<T>(signer: Signer | undefined, method: 'GET' | 'POST', path: string, body?: Record<string, unknown>): Promise<T> {
    if (!signer?.canSign) throw new HostApiError(401, 'log in with a signer (extension or remote signer) holding an operator key')
    const url = `${this.origin}${path}`
    const json = body === undefined ? undefined : JSON.stringify(body)
    const auth: NostrEvent = await signer.signEvent(buildHttpAuth({ url, method, ...(json !== undefined && { body: json }), createdAt: this.now() }))
    const headers: Record<string, string> = { accept: 'application/json', authorization: encodeAuthorizationHeader(auth) }
    if (json !== undefined) headers['content-type'] = 'application/json'
    let response: Response
    try {
      response = await this.fetchFn(url, { method, headers, ...(json !== undefined && { body: json }) })
    } catch (err) {
      throw new HostApiError(0, `the host did not answer (${(err as Error).message})`)
    }
    return this.parse<T>(response)
  }

  /** Operators only; 503 when the host runs without payments. */
  async treasury(signer: Signer | undefined): Promise<EarningsSummary[]> {
    return (await this.operatorRequest<{ agents: EarningsSummary[] }>(signer, 'GET', '/api/treasury')).agents
  }

  async approve(signer: Signer | undefined, jobId: string): Promise<JobSummary> {
    return (await this.operatorRequest<{ job: JobSummary }>(signer, 'POST', `/api/approvals/${jobId}/approve`, {})).job
  }

  async reject(signer: Signer | undefined, jobId: string, reason: string): Promise<JobSummary> {
    return (await this.operatorRequest<{ job: JobSummary }>(signer, 'POST', `/api/approvals/${jobId}/reject`, { reason })).job
  }
}
