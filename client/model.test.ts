import { describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey } from '../nips/01.js'
import { buildDeletion } from '../nips/09.js'
import { buildJobOutcomeLabel } from '../nips/32.js'
import { buildHandlerInformation } from '../nips/89.js'
import { buildJobFeedback, buildJobRequest, buildJobResult, parseJobRequest } from '../nips/90.js'
import { jobPhase, liveness, SwarmModel } from './model.js'

const NOW = 1_767_225_600
const agentKey = generateSecretKey()
const agent = getPublicKey(agentKey)
const userKey = generateSecretKey()

const announcement = (createdAt: number, name = 'Summarize') =>
  finalizeEvent(buildHandlerInformation({ d: 'summarize', kinds: [5001], content: { name, about: 'x', nip90Params: { length: { required: false, values: [] } } }, createdAt }), agentKey)

describe('SwarmModel', () => {
  it('keeps the newest announcement per address and forgets deleted ones', () => {
    const model = new SwarmModel()
    expect(model.apply(announcement(NOW, 'new'))).toBe(true)
    expect(model.apply(announcement(NOW - 10, 'old'))).toBe(false)
    expect(model.directory().map((a) => [...a.handlers.values()][0].content.name)).toEqual(['new'])
    expect(model.announcedKinds()).toEqual([5001])
    const deletion = finalizeEvent(buildDeletion({ addresses: [`31990:${agent}:summarize`], kinds: [31990], createdAt: NOW + 1 }), agentKey)
    expect(model.apply(deletion)).toBe(true)
    expect(model.directory()).toEqual([])
    expect(model.apply(announcement(NOW - 5))).toBe(false)
  })

  it('ignores a deletion by someone else', () => {
    const model = new SwarmModel()
    model.apply(announcement(NOW))
    const forged = finalizeEvent(buildDeletion({ addresses: [`31990:${agent}:summarize`], createdAt: NOW + 1 }), userKey)
    expect(model.apply(forged)).toBe(false)
    expect(model.directory()).toHaveLength(1)
  })

  it('folds profiles that arrive before or after the announcement', () => {
    const model = new SwarmModel()
    model.apply(finalizeEvent({ kind: 0, created_at: NOW, tags: [], content: JSON.stringify({ display_name: 'Scribe' }) }, agentKey))
    model.apply(announcement(NOW))
    expect(model.agents.get(agent)?.profile?.displayName).toBe('Scribe')
    model.apply(finalizeEvent({ kind: 0, created_at: NOW + 1, tags: [], content: JSON.stringify({ name: 'scribe2' }) }, agentKey))
    expect(model.agents.get(agent)?.profile?.name).toBe('scribe2')
  })

  it('follows a job from request to result, even when answers arrive first, and records the price', () => {
    const model = new SwarmModel()
    const request = finalizeEvent(buildJobRequest({ kind: 5001, inputs: [{ type: 'text', value: 'hi' }], targets: [agent], createdAt: NOW }), userKey)
    const parsed = parseJobRequest(request)
    const processing = finalizeEvent(buildJobFeedback({ request: parsed, status: 'processing', createdAt: NOW + 1 }), agentKey)
    const result = finalizeEvent(buildJobResult({ request: parsed, content: 'done', amountMsats: 2000, createdAt: NOW + 2 }), agentKey)
    expect(model.apply(processing)).toBe(false)
    expect(model.apply(request)).toBe(true)
    const job = model.jobs.get(request.id)!
    expect(jobPhase(job)).toBe('processing')
    model.apply(result)
    expect(jobPhase(job)).toBe('success')
    expect(model.apply(result)).toBe(false)
    expect(model.agents.get(agent)?.pricesMsats.get(5001)).toBe(2000)
  })

  it('scores agents from job-outcome labels, counting trusted labellers', () => {
    const model = new SwarmModel()
    model.apply(announcement(NOW))
    const job = 'ab'.repeat(32)
    model.apply(finalizeEvent(buildJobOutcomeLabel({ agent, job, kind: 5001, outcome: 'success', quality: 5, createdAt: NOW }), userKey))
    model.refreshReputation(undefined, NOW)
    const untrusted = model.agents.get(agent)!.reputation!
    model.refreshReputation(getPublicKey(userKey), NOW)
    const trusted = model.agents.get(agent)!.reputation!
    expect(trusted.labels).toBe(1)
    expect(trusted.value).toBeGreaterThan(untrusted.value)
  })
})

describe('liveness', () => {
  const beat = (createdAt: number, status: 'online' | 'offline' = 'online') => ({ status, intervalSeconds: 60, activeJobs: 0, createdAt })
  it('reads the heartbeat age against the agent’s own interval', () => {
    expect(liveness(undefined, NOW)).toBe('unknown')
    expect(liveness(beat(NOW - 30), NOW)).toBe('online')
    expect(liveness(beat(NOW - 120), NOW)).toBe('late')
    expect(liveness(beat(NOW - 200), NOW)).toBe('offline')
    expect(liveness(beat(NOW, 'offline'), NOW)).toBe('offline')
  })
})
