// Worker thread of the signature verification pool (relay/verify.ts).
// No top-level await: under vitest this file is loaded through tsx's CommonJS hook (see verify.ts).
import { parentPort } from 'node:worker_threads'
import { loadEventCheck, type EventCheckBackend } from './event-check.js'
import type { NostrEvent } from '../nips/01.js'

export interface VerifyRequest {
  id: number
  events: NostrEvent[]
}

export type VerifyWorkerMessage = { type: 'ready'; backend: EventCheckBackend } | { type: 'results'; id: number; results: boolean[] }

const port = parentPort
if (!port) throw new Error('relay/verify-worker must run in a worker thread')

void loadEventCheck().then(({ check, backend }) => {
  port.on('message', (request: VerifyRequest) => {
    const reply: VerifyWorkerMessage = { type: 'results', id: request.id, results: request.events.map(check) }
    port.postMessage(reply)
  })
  port.postMessage({ type: 'ready', backend } satisfies VerifyWorkerMessage)
})
