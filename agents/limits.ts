// Per-requester limits: anyone can post job requests, so one pubkey must not be able to take all of
// an agent. Three limits, checked when a request is admitted:
//   rate         a token bucket per requester (burst, then ratePerMinute);
//   input size   bytes of the request's inputs and params;
//   concurrency  the requester's jobs admitted and not finished yet (queued or running).
// A request over a limit is refused with an `error` feedback naming the limit. Past the rate limit
// a requester is told once a minute, not once per request: feedback must not amplify a flood
// (the other refusals each spend a token, so the rate bounds them too).
// (Jobs that run too long are stopped by the runtime's jobTimeoutSeconds.) Pure: time is passed in.
import type { JobRequest } from '../nips/90.js'

export interface RequesterLimitSettings {
  /** Jobs one requester may have admitted and unfinished at once. */
  maxConcurrentJobs: number
  /** Bytes of inputs and params in one request. */
  maxInputBytes: number
  /** Requests admitted per minute once the burst is spent. */
  ratePerMinute: number
  /** Requests admitted at once from a full bucket. */
  burst: number
}

export const DEFAULT_REQUESTER_LIMITS: RequesterLimitSettings = {
  maxConcurrentJobs: 10,
  maxInputBytes: 100_000,
  ratePerMinute: 60,
  burst: 20,
}

export type LimitName = 'rate' | 'input size' | 'concurrent jobs'

export interface LimitRefusal {
  limit: LimitName
  /** For the requester, in the error feedback. */
  reason: string
  /** False for a rate refusal when this requester was told less than a minute ago: drop silently. */
  notify: boolean
}

interface Requester {
  tokens: number
  refilledAt: number
  active: Set<string>
  notifiedAt: number
}

const NOTIFY_EVERY_MS = 60_000

/** Bytes of a request's inputs (values and relay hints) and params, as UTF-8. */
export function requestInputBytes(request: Pick<JobRequest, 'inputs' | 'params'>): number {
  let bytes = 0
  for (const input of request.inputs) bytes += Buffer.byteLength(input.value) + Buffer.byteLength(input.relay ?? '') + Buffer.byteLength(input.marker ?? '')
  for (const [name, values] of Object.entries(request.params)) for (const value of values) bytes += Buffer.byteLength(name) + Buffer.byteLength(value)
  return bytes
}

export class RequesterLimits {
  readonly settings: RequesterLimitSettings
  private readonly requesters = new Map<string, Requester>()

  /**
   * isActive tells whether an admitted job is still unfinished (the job log knows): finished jobs,
   * and admitted requests that were never stored, stop counting without anyone having to say so.
   * maxTracked bounds memory under a flood of fresh pubkeys: idle requesters are forgotten first.
   */
  constructor(
    settings: Partial<RequesterLimitSettings>,
    private readonly isActive: (jobId: string) => boolean,
    private readonly maxTracked = 10_000,
  ) {
    this.settings = { ...DEFAULT_REQUESTER_LIMITS, ...settings }
  }

  /** Refuses the request, or admits it and counts the job against its requester while isActive says so. */
  admit(requester: string, jobId: string, inputBytes: number, nowMs: number): LimitRefusal | undefined {
    const { maxConcurrentJobs, maxInputBytes, ratePerMinute, burst } = this.settings
    const state = this.requesterState(requester, nowMs)
    state.tokens = Math.min(burst, state.tokens + ((nowMs - state.refilledAt) / 60_000) * ratePerMinute)
    state.refilledAt = nowMs
    if (state.tokens < 1) {
      const notify = nowMs - state.notifiedAt >= NOTIFY_EVERY_MS
      if (notify) state.notifiedAt = nowMs
      return { limit: 'rate', reason: `rate limit: at most ${burst} requests at once and ${ratePerMinute} a minute per requester; try again later`, notify }
    }
    state.tokens -= 1
    const refuse = (limit: LimitName, reason: string): LimitRefusal => ({ limit, reason, notify: true })
    if (inputBytes > maxInputBytes) return refuse('input size', `input size limit: the inputs and params are ${inputBytes} bytes, more than the ${maxInputBytes} allowed`)
    this.prune(state)
    if (state.active.size >= maxConcurrentJobs) return refuse('concurrent jobs', `concurrent jobs limit: you already have ${state.active.size} jobs here, at most ${maxConcurrentJobs} at once; wait for one to finish`)
    state.active.add(jobId)
    return undefined
  }

  activeJobs(requester: string): number {
    const state = this.requesters.get(requester)
    if (!state) return 0
    this.prune(state)
    return state.active.size
  }

  private prune(state: Requester): void {
    for (const id of state.active) if (!this.isActive(id)) state.active.delete(id)
  }

  get tracked(): number {
    return this.requesters.size
  }

  private requesterState(requester: string, nowMs: number): Requester {
    let state = this.requesters.get(requester)
    if (state) return state
    if (this.requesters.size >= this.maxTracked) this.forgetIdle(nowMs)
    state = { tokens: this.settings.burst, refilledAt: nowMs, active: new Set(), notifiedAt: -Infinity }
    this.requesters.set(requester, state)
    return state
  }

  private forgetIdle(nowMs: number): void {
    const { burst, ratePerMinute } = this.settings
    for (const [pubkey, state] of this.requesters) {
      this.prune(state)
      const refilled = state.tokens + ((nowMs - state.refilledAt) / 60_000) * ratePerMinute >= burst
      if (refilled && state.active.size === 0) this.requesters.delete(pubkey)
    }
    // Still full: the oldest idle entries go, even half-spent (a flood of fresh keys can evade a bucket anyway).
    for (const [pubkey, state] of this.requesters) {
      if (this.requesters.size < this.maxTracked) break
      if (state.active.size === 0) this.requesters.delete(pubkey)
    }
  }
}
