import { describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey } from '../nips/01.js'
import { buildHeartbeat, HEARTBEAT_KIND, isDead, orphanedClaims, parseHeartbeat, type JobAnswer } from './heartbeat.js'

describe('heartbeats', () => {
  const sk = generateSecretKey()
  const beat = (status: 'online' | 'offline', createdAt: number) => parseHeartbeat(finalizeEvent(buildHeartbeat({ status, intervalSeconds: 60, kinds: [5001, 5001, 5050], activeJobs: 2, createdAt }), sk))!

  it('round-trips and lists each kind once', () => {
    const parsed = beat('online', 1000)
    expect(parsed).toMatchObject({ status: 'online', intervalSeconds: 60, kinds: [5001, 5050], activeJobs: 2, createdAt: 1000 })
  })

  it('ignores events of the kind that are not our heartbeats', () => {
    const other = finalizeEvent({ kind: HEARTBEAT_KIND, created_at: 1, tags: [], content: 'hello' }, sk)
    expect(parseHeartbeat(other)).toBeUndefined()
    expect(parseHeartbeat(finalizeEvent({ kind: HEARTBEAT_KIND, created_at: 1, tags: [], content: '{"status":"online","interval":0}' }, sk))).toBeUndefined()
  })

  it('calls an agent dead after 3 of its intervals of silence, or at once when it said goodbye', () => {
    expect(isDead(beat('online', 1000), 1180, 3)).toBe(false)
    expect(isDead(beat('online', 1000), 1181, 3)).toBe(true)
    expect(isDead(beat('offline', 1000), 1001, 3)).toBe(true)
  })
})

describe('orphanedClaims', () => {
  const dead = new Set(['dead'])
  const claim = { requestId: 'job', claimer: 'dead', claimedAt: 100 }

  it('returns a dead agent’s claim nobody answered', () => {
    expect(orphanedClaims([claim], [], dead)).toEqual([claim])
  })

  it('leaves claims of live agents alone', () => {
    expect(orphanedClaims([{ ...claim, claimer: 'alive' }], [], dead)).toEqual([])
  })

  it.each<JobAnswer['type']>(['result', 'error', 'success', 'deletion'])('leaves a job settled by a %s', (type) => {
    expect(orphanedClaims([claim], [{ requestId: 'job', pubkey: 'someone', type, createdAt: 101 }], dead)).toEqual([])
  })

  it('leaves a job another live agent claimed since, but not one claimed earlier', () => {
    expect(orphanedClaims([claim], [{ requestId: 'job', pubkey: 'alive', type: 'processing', createdAt: 150 }], dead)).toEqual([])
    expect(orphanedClaims([claim], [{ requestId: 'job', pubkey: 'alive', type: 'processing', createdAt: 50 }], dead)).toEqual([claim])
  })
})
