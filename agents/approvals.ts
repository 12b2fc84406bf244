// Human-in-the-loop: jobs priced above a threshold, or of configured kinds, wait in the job log
// as 'awaiting-approval' until an operator decides, through `timmy approvals` (which writes to the
// log of a running agent directly; the agent's outbox pump picks the effects up) or the HTTP API.
import type { EventTemplate, NostrEvent } from '../nips/01.js'
import { buildJobFeedback } from '../nips/90.js'
import type { JobLog } from './joblog.js'
import { relayUrls } from './pool.js'
import { jobRequestOf, type JobState } from './state.js'

export class ApprovalError extends Error {
  constructor(
    message: string,
    /** HTTP status that fits: 404 unknown job, 409 not waiting for approval. */
    readonly status: 404 | 409,
  ) {
    super(message)
  }
}

export interface Decider {
  /** Who decides, recorded in the log ('cli:<user>', 'http'). */
  by: string
  /** Unix milliseconds. */
  now: number
  /** The agent's key, to sign the error feedback a rejection sends. */
  secretKey: Uint8Array
  sign: (template: EventTemplate, secretKey: Uint8Array) => NostrEvent
  /** The agent's relays (the request's own `relays` are added). */
  relays: string[]
}

function waiting(jobLog: JobLog, jobId: string): JobState {
  const state = jobLog.state(jobId)
  if (!state) throw new ApprovalError(`no job ${jobId}`, 404)
  if (state.status !== 'awaiting-approval') throw new ApprovalError(`job ${jobId} is ${state.status}, not awaiting approval`, 409)
  return state
}

/** Approves: the job is assigned and a run effect is queued (its 'processing' feedback went out when it started waiting). */
export function approveJob(jobLog: JobLog, jobId: string, decider: Decider): JobState {
  waiting(jobLog, jobId)
  return jobLog.append(jobId, [{ type: 'approved', at: decider.now, by: decider.by }], [{ type: 'run' }])!
}

/** Rejects: the job fails and the requester gets an error feedback saying so. */
export function rejectJob(jobLog: JobLog, jobId: string, reason: string, decider: Decider): JobState {
  const state = waiting(jobLog, jobId)
  const feedback = decider.sign(
    buildJobFeedback({
      request: jobRequestOf(state),
      status: 'error',
      extraInfo: `rejected by the operator: ${reason}`,
      dvmSecretKey: decider.secretKey,
      createdAt: Math.floor(decider.now / 1000),
    }),
    decider.secretKey,
  )
  const relays = relayUrls([...decider.relays, ...(state.spec?.relays ?? [])])
  return jobLog.append(jobId, [{ type: 'rejected', at: decider.now, by: decider.by, reason }], [{ type: 'publish', event: feedback, relays }])!
}

export function pendingApprovals(jobLog: JobLog): JobState[] {
  return jobLog.jobs({ status: ['awaiting-approval'] })
}
