import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { finalizeEvent, generateSecretKey, verifyEvent, type NostrEvent } from '../nips/01.js'
import { loadEventCheck, type EventCheckBackend } from './event-check.js'

const secretKey = generateSecretKey()
const good = finalizeEvent({ kind: 1, created_at: 1_700_000_000, tags: [['t', 'x']], content: 'hello' }, secretKey)
const nativeAvailable = await loadEventCheck('native').then(() => true, () => false)

describe.each(['native', 'wasm'] as EventCheckBackend[])('event check, %s backend', (backend) => {
  const skip = backend === 'native' && !nativeAvailable
  it.skipIf(skip)(`agrees with noble on valid and corrupted events${skip ? ' (SKIPPED: optional dependency bcrypto not built)' : ''}`, async () => {
    const { check, backend: loaded } = await loadEventCheck(backend)
    expect(loaded).toBe(backend)
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 63 }), fc.constantFrom('id', 'sig', 'content', 'pubkey', 'none'), (content, at, field) => {
        const event = finalizeEvent({ kind: 1, created_at: 1_700_000_000, tags: [], content }, secretKey)
        const corrupted: NostrEvent = { ...event }
        if (field !== 'none') {
          const value = String(corrupted[field as 'id'])
          corrupted[field as 'id'] = value.slice(0, at) + (value[at] === '0' ? '1' : '0') + value.slice(at + 1)
        }
        expect(check(corrupted)).toBe(verifyEvent(corrupted))
      }),
      { numRuns: 200 },
    )
    expect(check(good)).toBe(true)
    expect(check({ ...good, pubkey: 'f'.repeat(64) })).toBe(false)
    expect(check({ ...good, id: good.id.slice(0, 2) })).toBe(false)
  })
})
