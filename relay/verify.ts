// Signature verification off the event loop: a small pool of worker threads, each running libsecp256k1 (WASM).
// A Schnorr check costs ~0.3-0.5 ms even in WASM, so verifying on the event loop would cap the relay at a few
// thousand events/s on one core and stall every connection meanwhile; the workers use the other cores.
import { availableParallelism } from 'node:os'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { NostrEvent } from '../nips/01.js'
import { loadEventCheck, type EventCheckBackend } from './event-check.js'
import type { VerifyRequest, VerifyWorkerMessage } from './verify-worker.js'

export interface SignatureVerifier {
  /** For each event, in order: is it well formed, with an id matching its content and a valid signature? */
  verify(events: NostrEvent[]): Promise<boolean[]>
  close(): Promise<void>
  /** Which implementation checks signatures (relay/event-check.ts). */
  readonly backend: EventCheckBackend
}

export interface VerifierOptions {
  /** Worker threads; 0 verifies in-process on the caller's thread. Default: os.availableParallelism(). */
  threads?: number
}

export async function createVerifier(options: VerifierOptions = {}): Promise<SignatureVerifier> {
  const threads = options.threads ?? availableParallelism()
  if (!Number.isInteger(threads) || threads < 0) throw new RangeError(`threads must be a non-negative integer, got ${threads}`)
  if (threads === 0) return createInProcessVerifier()
  const pool = new VerifierPool(threads)
  await pool.ready()
  return pool
}

async function createInProcessVerifier(): Promise<SignatureVerifier> {
  const { check, backend } = await loadEventCheck()
  let closed = false
  return {
    backend,
    async verify(events) {
      if (closed) throw new Error('signature verifier is closed')
      return events.map(check)
    },
    async close() {
      closed = true
    },
  }
}

// Splitting a batch costs a message round trip per piece (tens of µs); below this many events per piece
// it is cheaper to let one worker do it all.
const MIN_EVENTS_PER_PIECE = 8

interface PendingPiece {
  size: number
  resolve: (results: boolean[]) => void
  reject: (error: Error) => void
}

interface PoolWorker {
  thread: Worker
  pending: Map<number, PendingPiece>
  queuedEvents: number
  ready: Promise<void>
  failed: boolean
}

class VerifierPool implements SignatureVerifier {
  private readonly workers: PoolWorker[] = []
  private nextRequestId = 1
  private closed = false
  backend: EventCheckBackend = 'wasm'

  constructor(threads: number) {
    for (let i = 0; i < threads; i++) this.workers.push(this.spawn())
  }

  /** Resolves once every worker has loaded its WASM module; rejects (and closes the pool) if one could not. */
  async ready(): Promise<void> {
    try {
      await Promise.all(this.workers.map((w) => w.ready))
    } catch (err) {
      await this.close()
      throw err
    }
  }

  async verify(events: NostrEvent[]): Promise<boolean[]> {
    if (this.closed) throw new Error('signature verifier is closed')
    if (events.length === 0) return []
    const pieces = Math.max(1, Math.min(this.workers.length, Math.floor(events.length / MIN_EVENTS_PER_PIECE)))
    const pieceSize = Math.ceil(events.length / pieces)
    const results: Promise<boolean[]>[] = []
    for (let start = 0; start < events.length; start += pieceSize) {
      results.push(this.send(this.leastBusy(), events.slice(start, start + pieceSize)))
    }
    return (await Promise.all(results)).flat()
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const closing = new Error('signature verifier is closed')
    await Promise.all(
      this.workers.map(async (w) => {
        this.rejectPending(w, closing)
        await w.thread.terminate()
      }),
    )
  }

  private leastBusy(): PoolWorker {
    let best: PoolWorker | undefined
    for (const w of this.workers) if (!w.failed && (!best || w.queuedEvents < best.queuedEvents)) best = w
    if (!best) throw new Error('signature verification workers failed to start; no worker is left')
    return best
  }

  private send(worker: PoolWorker, events: NostrEvent[]): Promise<boolean[]> {
    const id = this.nextRequestId++
    return new Promise((resolve, reject) => {
      // Throws (DataCloneError) for something that is not plain data; nothing is pending then.
      worker.thread.postMessage({ id, events } satisfies VerifyRequest)
      worker.pending.set(id, { size: events.length, resolve, reject })
      worker.queuedEvents += events.length
    })
  }

  private spawn(): PoolWorker {
    const thread = startWorkerThread()
    let markReady!: () => void
    let markFailed!: (error: Error) => void
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve
      markFailed = reject
    })
    // Don't let a startup failure of a replacement worker surface as an unhandled rejection; verify() reports it.
    ready.catch(() => {})
    const worker: PoolWorker = { thread, pending: new Map(), queuedEvents: 0, ready, failed: false }
    let started = false

    thread.on('message', (message: VerifyWorkerMessage) => {
      if (message.type === 'ready') {
        this.backend = message.backend
        started = true
        markReady()
        return
      }
      const piece = worker.pending.get(message.id)
      if (!piece) return
      worker.pending.delete(message.id)
      worker.queuedEvents -= piece.size
      piece.resolve(message.results)
    })

    const fail = (reason: string) => {
      if (worker.failed) return
      worker.failed = true
      if (this.closed) return
      const error = new Error(`signature verification worker crashed (${reason}); its batch was not verified`)
      markFailed(error)
      this.rejectPending(worker, error)
      // A worker that dies before it ever became ready would die again: replacing it would spin forever.
      if (!started) return
      const index = this.workers.indexOf(worker)
      if (index >= 0) this.workers[index] = this.spawn()
    }
    thread.on('error', (err) => fail(err.message))
    thread.on('exit', (code) => fail(`exit code ${code}`))
    thread.on('messageerror', (err) => fail(`undecodable message: ${err.message}`))
    return worker
  }

  private rejectPending(worker: PoolWorker, error: Error): void {
    for (const piece of worker.pending.values()) piece.reject(error)
    worker.pending.clear()
    worker.queuedEvents = 0
  }
}

function startWorkerThread(): Worker {
  const runningFromSource = import.meta.url.endsWith('.ts')
  const entry = new URL(runningFromSource ? './verify-worker.ts' : './verify-worker.js', import.meta.url)
  if (!runningFromSource) return new Worker(entry)
  // Running from TypeScript source (vitest). Node 20 cannot load .ts files and does not apply module hooks
  // inside worker threads, so the worker registers tsx's CommonJS hook (a dev dependency) and then requires
  // its entry; dist/ runs the compiled .js directly and never takes this path.
  const tsxApi = createRequire(import.meta.url).resolve('tsx/cjs/api')
  return new Worker(`require(${JSON.stringify(tsxApi)}).register(); require(${JSON.stringify(fileURLToPath(entry))})`, { eval: true })
}
