import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Worker } from 'node:worker_threads'
import { finalizeEvent, generateSecretKey, type NostrEvent } from '../nips/01.js'
import { createVerifier, type SignatureVerifier } from './verify.js'

// Record every worker thread the pool starts, so a test can kill one the way a crash would.
const startedWorkers = vi.hoisted(() => [] as Worker[])
vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>()
  class RecordedWorker extends original.Worker {
    constructor(...args: ConstructorParameters<typeof original.Worker>) {
      super(...args)
      startedWorkers.push(this)
    }
  }
  return { ...original, Worker: RecordedWorker }
})

const secretKey = generateSecretKey()
const signed = (content: string, createdAt = 1_700_000_000): NostrEvent =>
  finalizeEvent({ kind: 1, created_at: createdAt, tags: [['t', 'test']], content }, secretKey)
const events = Array.from({ length: 40 }, (_, i) => signed(`note ${i}`, 1_700_000_000 + i))

function flipHexChar(hex: string, at: number): string {
  const c = hex[at] === '0' ? '1' : '0'
  return hex.slice(0, at) + c + hex.slice(at + 1)
}

const verifiers: SignatureVerifier[] = []
async function open(threads: number): Promise<SignatureVerifier> {
  const verifier = await createVerifier({ threads })
  verifiers.push(verifier)
  return verifier
}
afterEach(async () => {
  await Promise.all(verifiers.splice(0).map((v) => v.close()))
})

describe.each([0, 1, 2])('createVerifier({ threads: %i })', (threads) => {
  let verifier: SignatureVerifier
  beforeAll(async () => {
    verifier = await createVerifier({ threads })
  })
  afterAll(() => verifier.close())

  it('accepts correctly signed events', async () => {
    expect(await verifier.verify(events)).toEqual(events.map(() => true))
  })

  it('rejects a bad signature, a bad id and malformed fields, in batch order', async () => {
    const [a, b, c] = events
    const other = signed('another note')
    const batch: NostrEvent[] = [
      a,
      { ...b, sig: flipHexChar(b.sig, 10) }, // signature of something else
      { ...c, content: 'tampered' }, // id no longer the hash of the content
      { ...c, id: other.id, sig: other.sig }, // valid signature, but over a different id
      { ...a, id: a.id.toUpperCase() }, // hex must be lowercase
      { ...a, sig: a.sig.slice(0, 126) }, // short signature
      { ...a, id: a.id.slice(0, 2) }, // short id: must not be compared on its first byte only
      { ...a, pubkey: 'zz' + a.pubkey.slice(2) }, // not hex
      { ...a, pubkey: 'f'.repeat(64) }, // not a point on the curve
      { ...a, tags: [[]] }, // empty tag
      { ...a, created_at: -1 },
      null as unknown as NostrEvent,
      b,
    ]
    expect(await verifier.verify(batch)).toEqual([true, false, false, false, false, false, false, false, false, false, false, false, true])
  })

  it('keeps the order of a large mixed batch', async () => {
    const batch = events.map((e, i) => (i % 3 === 0 ? { ...e, sig: flipHexChar(e.sig, i) } : e))
    expect(await verifier.verify(batch)).toEqual(batch.map((_, i) => i % 3 !== 0))
  })

  it('answers an empty batch and many concurrent batches', async () => {
    expect(await verifier.verify([])).toEqual([])
    const batches = events.map((e, i) => (i % 2 ? [e] : [e, { ...e, content: 'x' }]))
    const results = await Promise.all(batches.map((batch) => verifier.verify(batch)))
    expect(results).toEqual(batches.map((batch) => (batch.length === 1 ? [true] : [true, false])))
  })

  it('checks events too large for the WASM heap', async () => {
    const huge = signed('x'.repeat(1_500_000))
    expect(await verifier.verify([huge, { ...huge, content: huge.content + 'y' }, events[0]])).toEqual([true, false, true])
  })
})

describe('worker pool', () => {
  it.each([0, 2])('refuses work after close (threads: %i)', async (threads) => {
    const closed = await createVerifier({ threads })
    await closed.close()
    await expect(closed.verify(events)).rejects.toThrow('signature verifier is closed')
    await closed.close()
  })

  it('rejects a batch that is not plain data, and carries on', async () => {
    const verifier = await open(1)
    const unclonable = { ...events[0], content: (() => 'x') as unknown as string }
    await expect(verifier.verify([unclonable])).rejects.toThrow(/could not be cloned/)
    expect(await verifier.verify(events.slice(0, 2))).toEqual([true, true])
  })

  it('rejects a negative thread count', async () => {
    await expect(createVerifier({ threads: -1 })).rejects.toThrow(RangeError)
  })

  it('rejects the in-flight batch when its worker dies, and replaces the worker', async () => {
    startedWorkers.length = 0
    const verifier = await open(1)
    expect(startedWorkers).toHaveLength(1)
    const inFlight = verifier.verify(events)
    await startedWorkers[0].terminate()
    await expect(inFlight).rejects.toThrow(/signature verification worker crashed \(exit code 1\)/)
    expect(startedWorkers).toHaveLength(2)
    expect(await verifier.verify(events.slice(0, 3))).toEqual([true, true, true])
  })

  it('survives an uncaught error inside a worker', async () => {
    startedWorkers.length = 0
    const verifier = await open(2)
    // Both workers get a message they cannot handle, queued ahead of the batch whichever worker takes it.
    for (const worker of startedWorkers) worker.postMessage('not a request')
    const inFlight = verifier.verify(events.slice(0, 1))
    await expect(inFlight).rejects.toThrow(/signature verification worker crashed/)
    await vi.waitFor(() => expect(startedWorkers).toHaveLength(4))
    expect(await verifier.verify(events)).toEqual(events.map(() => true))
  })
})
