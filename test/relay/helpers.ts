// Shared by the relay tests: a bare WebSocket client that records every message, and fast signing.
import { initNostrWasm } from 'nostr-wasm'
import WebSocket from 'ws'
import { generateSecretKey, getPublicKey, type EventTemplate, type NostrEvent } from '../../nips/01.js'

export type Message = [string, ...unknown[]]

/** A raw NIP-01 client: send frames, then wait for the first unread message that matches. */
export class RawClient {
  private readonly inbox: Message[] = []
  private readonly waiting = new Set<() => void>()
  closeCode: number | undefined

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.inbox.push(JSON.parse(data.toString()) as Message)
      for (const wake of this.waiting) wake()
    })
    ws.on('close', (code) => {
      this.closeCode = code
      for (const wake of this.waiting) wake()
    })
  }

  static async connect(url: string): Promise<RawClient> {
    const ws = new WebSocket(url)
    const client = new RawClient(ws)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return client
  }

  /** Sends a value as JSON, or a string as it is. */
  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** Resolves with (and consumes) the first unread message the predicate accepts. */
  next(predicate: (m: Message) => boolean, timeoutMs = 3000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const index = this.inbox.findIndex(predicate)
        if (index >= 0) {
          cleanup()
          resolve(this.inbox.splice(index, 1)[0])
        } else if (this.closeCode !== undefined) {
          cleanup()
          reject(new Error(`connection closed (${this.closeCode}) while waiting; unread: ${JSON.stringify(this.inbox).slice(0, 500)}`))
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`timed out waiting for a message; unread: ${JSON.stringify(this.inbox).slice(0, 500)}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        this.waiting.delete(check)
      }
      this.waiting.add(check)
      check()
    })
  }

  ok(id: string): Promise<Message> {
    return this.next((m) => m[0] === 'OK' && m[1] === id)
  }

  /** Publishes and returns [accepted, message] from the OK. */
  async publish(event: NostrEvent): Promise<[boolean, string]> {
    this.send(['EVENT', event])
    const [, , accepted, message] = await this.ok(event.id)
    return [accepted as boolean, message as string]
  }

  /** Sends a REQ and collects stored events up to EOSE, or returns the CLOSED reason. */
  async req(subId: string, ...filters: unknown[]): Promise<{ events: NostrEvent[]; closed?: string }> {
    this.send(['REQ', subId, ...filters])
    const events: NostrEvent[] = []
    for (;;) {
      const m = await this.next((x) => (x[0] === 'EVENT' || x[0] === 'EOSE' || x[0] === 'CLOSED') && x[1] === subId)
      if (m[0] === 'EOSE') return { events }
      if (m[0] === 'CLOSED') return { events, closed: m[2] as string }
      events.push(m[2] as NostrEvent)
    }
  }

  notice(): Promise<string> {
    return this.next((m) => m[0] === 'NOTICE').then((m) => m[1] as string)
  }

  /** Messages received and not consumed yet. */
  unread(): Message[] {
    return [...this.inbox]
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve())
      this.ws.close()
    })
  }
}

/** Signs with libsecp256k1 (WASM): ~10x faster than noble, for tests that publish many events. */
export async function wasmSigner(): Promise<(template: EventTemplate, secretKey: Uint8Array) => NostrEvent> {
  const wasm = await initNostrWasm()
  return (template, secretKey) => {
    const event = { ...template, pubkey: '', id: '', sig: '' }
    wasm.finalizeEvent(event, secretKey)
    return event
  }
}

export function keypair(): { sk: Uint8Array; pk: string } {
  const sk = generateSecretKey()
  return { sk, pk: getPublicKey(sk) }
}

export const nowSeconds = () => Math.floor(Date.now() / 1000)
