// Agent heartbeats (kind 11998) and the take-over rule built on them. Pure: times are passed in.
//
// 11998 is in the replaceable range, so a relay keeps only each agent's newest heartbeat: exactly
// what liveness needs. The content says how often the agent beats, so that others judge it by its
// own interval; `k` tags list the job kinds it serves, so that a live agent can find the dead ones
// whose jobs it could take over with one filter.
import type { EventTemplate, NostrEvent } from '../nips/01.js'

export const HEARTBEAT_KIND = 11998

export interface Heartbeat {
  pubkey: string
  /** 'offline' is sent on a graceful stop: its claimed jobs may be taken over at once. */
  status: 'online' | 'offline'
  intervalSeconds: number
  kinds: number[]
  activeJobs: number
  createdAt: number
}

export function buildHeartbeat(options: { status: Heartbeat['status']; intervalSeconds: number; kinds: number[]; activeJobs: number; createdAt: number }): EventTemplate {
  return {
    kind: HEARTBEAT_KIND,
    created_at: options.createdAt,
    tags: [...new Set(options.kinds)].map((kind) => ['k', String(kind)]),
    content: JSON.stringify({ status: options.status, interval: options.intervalSeconds, active_jobs: options.activeJobs }),
  }
}

/** The heartbeat in an event, or undefined for anything malformed (other software may use the kind). */
export function parseHeartbeat(event: NostrEvent): Heartbeat | undefined {
  if (event.kind !== HEARTBEAT_KIND) return undefined
  let body: unknown
  try {
    body = JSON.parse(event.content)
  } catch {
    return undefined
  }
  if (typeof body !== 'object' || body === null) return undefined
  const { status, interval, active_jobs } = body as Record<string, unknown>
  if ((status !== 'online' && status !== 'offline') || typeof interval !== 'number' || !(interval > 0)) return undefined
  return {
    pubkey: event.pubkey,
    status,
    intervalSeconds: interval,
    kinds: event.tags.filter((t) => t[0] === 'k' && /^[0-9]{1,5}$/.test(t[1] ?? '')).map((t) => Number(t[1])),
    activeJobs: typeof active_jobs === 'number' ? active_jobs : 0,
    createdAt: event.created_at,
  }
}

/** Dead: said goodbye, or silent for more than `deadAfterIntervals` of its own intervals. */
export function isDead(heartbeat: Heartbeat, nowSeconds: number, deadAfterIntervals: number): boolean {
  if (heartbeat.status === 'offline') return true
  return nowSeconds - heartbeat.createdAt > heartbeat.intervalSeconds * deadAfterIntervals
}

export interface Claim {
  requestId: string
  /** The agent whose 'processing' feedback claimed the job. */
  claimer: string
  claimedAt: number
}

export interface JobAnswer {
  requestId: string
  pubkey: string
  type: 'result' | 'error' | 'success' | 'processing' | 'deletion'
  createdAt: number
}

/**
 * Of the jobs claimed by dead agents, those nobody has finished and no live agent has claimed
 * since: a result, an error or success feedback, or the requester's deletion settles a job; a
 * newer 'processing' from an agent that is not dead means someone already took it over.
 */
export function orphanedClaims(claims: Claim[], answers: JobAnswer[], deadAgents: ReadonlySet<string>): Claim[] {
  const newest = new Map<string, Claim>()
  for (const claim of claims) {
    const existing = newest.get(claim.requestId)
    if (!existing || claim.claimedAt > existing.claimedAt) newest.set(claim.requestId, claim)
  }
  return [...newest.values()].filter((claim) => {
    if (!deadAgents.has(claim.claimer)) return false
    return !answers.some(
      (a) =>
        a.requestId === claim.requestId &&
        (a.type === 'result' || a.type === 'error' || a.type === 'success' || a.type === 'deletion' || (a.type === 'processing' && !deadAgents.has(a.pubkey) && a.createdAt >= claim.claimedAt)),
    )
  })
}
