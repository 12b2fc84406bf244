import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { requestInputBytes, RequesterLimits } from './limits.js'

const ALICE = 'a'.repeat(64)
const BOB = 'b'.repeat(64)

function limits(settings: ConstructorParameters<typeof RequesterLimits>[0], maxTracked?: number) {
  const active = new Set<string>()
  const l = new RequesterLimits(settings, (id) => active.has(id), maxTracked)
  const admit = (who: string, id: string, now: number, bytes = 10) => {
    const refusal = l.admit(who, id, bytes, now)
    if (!refusal) active.add(id)
    return refusal
  }
  return { l, admit, finish: (id: string) => active.delete(id) }
}

describe('per-requester limits', () => {
  it('rate: a burst, then ratePerMinute, per requester', () => {
    const { admit, finish } = limits({ burst: 3, ratePerMinute: 6, maxConcurrentJobs: 100 })
    for (let i = 0; i < 3; i++) expect(admit(ALICE, `a${i}`, 0)).toBeUndefined()
    expect(admit(ALICE, 'a3', 0)).toMatchObject({ limit: 'rate', reason: expect.stringMatching(/^rate limit: at most 3 requests at once and 6 a minute/), notify: true })
    expect(admit(BOB, 'b0', 0)).toBeUndefined()
    expect(admit(ALICE, 'a4', 9_999)).toMatchObject({ limit: 'rate' })
    expect(admit(ALICE, 'a5', 20_000)).toBeUndefined()
    finish('a0')
  })

  it('tells a flooding requester once a minute, and drops the rest silently', () => {
    const { admit } = limits({ burst: 1, ratePerMinute: 1 })
    admit(ALICE, 'x', 0)
    expect(admit(ALICE, 'y', 1)?.notify).toBe(true)
    expect(admit(ALICE, 'z', 2)?.notify).toBe(false)
    expect(admit(ALICE, 'w', 59_000)?.notify).toBe(false)
    expect(admit(ALICE, 'v', 60_001)?.notify ?? 'admitted').toBe('admitted')
    expect(admit(ALICE, 'u', 60_002)?.notify).toBe(true)
  })

  it('input size: bytes of inputs and params, UTF-8', () => {
    expect(requestInputBytes({ inputs: [{ type: 'text', value: 'héllo' }, { type: 'url', value: 'http://x/', relay: 'wss://r' }], params: { lang: ['fr', 'de'] } })).toBe(6 + 9 + 7 + 12)
    const { admit } = limits({ maxInputBytes: 100 })
    expect(admit(ALICE, 'ok', 0, 100)).toBeUndefined()
    expect(admit(ALICE, 'big', 0, 101)).toMatchObject({ limit: 'input size', reason: 'input size limit: the inputs and params are 101 bytes, more than the 100 allowed' })
  })

  it('concurrency: unfinished jobs count until the log says they are done', () => {
    const { l, admit, finish } = limits({ maxConcurrentJobs: 2, burst: 100 })
    expect(admit(ALICE, 'j1', 0)).toBeUndefined()
    expect(admit(ALICE, 'j2', 0)).toBeUndefined()
    expect(admit(ALICE, 'j3', 0)).toMatchObject({ limit: 'concurrent jobs', reason: expect.stringMatching(/already have 2 jobs here, at most 2/) })
    expect(admit(BOB, 'k1', 0)).toBeUndefined()
    finish('j1')
    expect(l.activeJobs(ALICE)).toBe(1)
    expect(admit(ALICE, 'j4', 0)).toBeUndefined()
  })

  it('forgets idle requesters under a flood of fresh pubkeys (bounded memory)', () => {
    const { l, admit, finish } = limits({ burst: 1, ratePerMinute: 60 }, 100)
    for (let i = 0; i < 1000; i++) {
      admit(i.toString(16).padStart(64, '0'), `j${i}`, i * 10_000)
      if (i % 2) finish(`j${i}`)
    }
    // Requesters with unfinished jobs are kept (their jobs still count); the idle ones were forgotten.
    expect(l.tracked).toBeLessThanOrEqual(100 + 500)
    expect(l.tracked).toBeGreaterThanOrEqual(500)
    expect(l.activeJobs('0'.padStart(64, '0'))).toBe(1)
  })

  it('never admits more than burst + elapsed × rate (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 120 }), fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: 1, maxLength: 200 }), (burst, ratePerMinute, gaps) => {
        const { admit } = limits({ burst, ratePerMinute, maxConcurrentJobs: 1e9, maxInputBytes: 1e9 })
        let now = 0
        let admitted = 0
        gaps.forEach((gap, i) => {
          now += gap
          if (!admit(ALICE, `j${i}`, now)) admitted++
        })
        expect(admitted).toBeLessThanOrEqual(burst + Math.floor((now / 60_000) * ratePerMinute))
      }),
      { numRuns: 200 },
    )
  })
})
