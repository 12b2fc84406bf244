import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, type NostrEvent } from '../nips/01.js'
import { JobLog } from './joblog.js'
import { IllegalTransitionError, type JobFact } from './state.js'

const sk = generateSecretKey()
const request: NostrEvent = finalizeEvent({ kind: 5001, created_at: 1, tags: [['i', 'hi', 'text']], content: '' }, sk)
const feedback: NostrEvent = finalizeEvent({ kind: 7000, created_at: 1, tags: [['status', 'processing'], ['e', request.id]], content: '' }, sk)
const posted: JobFact = { type: 'posted', at: 1000, request, agent: 'a'.repeat(64) }

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-joblog-'))
  dirs.push(dir)
  return join(dir, 'jobs.db')
}

describe('JobLog', () => {
  it('writes facts and their effects together and keeps the projection equal to the fold', () => {
    const log = JobLog.open(':memory:')
    const state = log.append(request.id, [posted, { type: 'quoted', at: 1001, priceMsats: 0 }, { type: 'assigned', at: 1002 }], [
      { type: 'publish', event: feedback, relays: ['ws://127.0.0.1:1'] },
      { type: 'run' },
    ])
    expect(state?.status).toBe('assigned')
    expect(log.state(request.id)).toEqual(log.foldFromLog(request.id))
    expect(log.dueEffects(2000).map((e) => e.type)).toEqual(['publish', 'run'])
    expect(log.jobs({ active: true }).map((j) => j.id)).toEqual([request.id])
  })

  it('is idempotent for a request seen twice', () => {
    const log = JobLog.open(':memory:')
    expect(log.append(request.id, [posted], [{ type: 'run' }], { ifNew: true })).toBeDefined()
    expect(log.append(request.id, [posted], [{ type: 'run' }], { ifNew: true })).toBeUndefined()
    expect(log.facts(request.id)).toHaveLength(1)
    expect(log.pendingEffectCount()).toBe(1)
  })

  it('writes nothing when a fact cannot follow', () => {
    const log = JobLog.open(':memory:')
    log.append(request.id, [posted])
    expect(() => log.append(request.id, [{ type: 'completed', at: 2000, resultEventId: 'x', content: '' }], [{ type: 'run' }])).toThrow(IllegalTransitionError)
    expect(log.facts(request.id)).toHaveLength(1)
    expect(log.pendingEffectCount()).toBe(0)
  })

  it('marks the producing effect done in the same transaction and drops pending effects on cancel', () => {
    const log = JobLog.open(':memory:')
    log.append(request.id, [posted, { type: 'quoted', at: 1, priceMsats: 0 }, { type: 'assigned', at: 2 }], [{ type: 'run' }, { type: 'publish', event: feedback, relays: [] }])
    const [run] = log.dueEffects(10).filter((e) => e.type === 'run')
    log.append(request.id, [{ type: 'started', at: 3, attempt: 1 }, { type: 'completed', at: 4, resultEventId: 'r', content: 'c' }], [], { completesEffect: run.id })
    expect(log.dueEffects(10).map((e) => e.type)).toEqual(['publish'])

    const other = finalizeEvent({ kind: 5001, created_at: 2, tags: [], content: '' }, sk)
    log.append(other.id, [{ ...posted, request: other }], [{ type: 'run' }])
    log.append(other.id, [{ type: 'cancelled', at: 5, reason: 'deleted' }], [], { dropPending: true })
    expect(log.effectsOf(other.id).map((e) => e.status)).toEqual(['dropped'])
  })

  it('schedules retries and reports when the next effect is due', () => {
    const log = JobLog.open(':memory:')
    log.append(request.id, [posted], [{ type: 'publish', event: feedback, relays: [] }])
    const [effect] = log.dueEffects(0)
    log.retryEffect(effect.id, 5000, 'relay down')
    expect(log.dueEffects(4999)).toEqual([])
    expect(log.nextEffectDue()).toBe(5000)
    expect(log.dueEffects(5000)[0]).toMatchObject({ id: effect.id, attempts: 1 })
    log.completeEffect(effect.id, 5001)
    expect(log.nextEffectDue()).toBeUndefined()
  })

  it('keeps everything across reopening the file', () => {
    const path = tempPath()
    const first = JobLog.open(path)
    first.append(request.id, [posted], [{ type: 'publish', event: feedback, relays: ['ws://127.0.0.1:1'] }])
    first.setValue('k', 'v')
    first.close()
    const second = JobLog.open(path)
    expect(second.state(request.id)?.status).toBe('posted')
    expect((second.effect(second.dueEffects(Date.now())[0].id)!.spec as { event: NostrEvent }).event).toEqual(feedback)
    expect(second.getValue('k')).toBe('v')
    second.close()
  })
})
