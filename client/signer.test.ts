// The client-initiated NIP-46 login (startNostrConnect) in Node against a real relay, the browser's
// WebSocket being `ws` here: the nostrconnect:// code follows NIP-46, answers without the code's
// secret are ignored, the right one logs in as the user that get_public_key names (not as the
// signer's transport key), and a timeout or an abort ends the wait. The browser side of the same
// flow is test/browser/nostrconnect.test.ts.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { finalizeEvent, generateSecretKey, getPublicKey, isHex64, type NostrEvent } from '../nips/01.js'
import * as nip44 from '../nips/44.js'
import { startRelay, type RunningRelay } from '../relay/index.js'
import type { NostrConnectProgress } from './signer.js'

/** `ws` as the browser's WebSocket: a failed or aborted connection is an event, never an uncaught error. */
class BrowserWebSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args)
    this.on('error', () => {})
  }
}
vi.stubGlobal('WebSocket', BrowserWebSocket)
// nostr-tools' nip46 module picks its WebSocket when it loads: after the stub.
const { SignerError, startNostrConnect } = await import('./signer.js')

let relay: RunningRelay

beforeAll(async () => {
  relay = await startRelay({ port: 0, dbPath: ':memory:', config: { verifierThreads: 0 } })
})

afterAll(async () => {
  await relay?.close()
})

/** A signer app on a bare connection: answers the code's client key, serves get_public_key for `userKey`. */
async function signerApp(relayUrl: string, clientPubkey: string, userKey: Uint8Array): Promise<{ answerConnect(result: string): void; methods: string[]; close(): void }> {
  const transportKey = generateSecretKey()
  const conversation = nip44.getConversationKey(transportKey, clientPubkey)
  const methods: string[] = []
  const ws = new WebSocket(relayUrl)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const send = (message: object) =>
    ws.send(JSON.stringify(['EVENT', finalizeEvent({ kind: 24133, created_at: Math.floor(Date.now() / 1000), tags: [['p', clientPubkey]], content: nip44.encrypt(JSON.stringify(message), conversation) }, transportKey)]))
  ws.on('message', (data) => {
    const [type, , event] = JSON.parse(data.toString()) as [string, string, NostrEvent]
    if (type !== 'EVENT' || event.pubkey !== clientPubkey) return
    const request = JSON.parse(nip44.decrypt(event.content, conversation)) as { id: string; method: string }
    methods.push(request.method)
    send(request.method === 'get_public_key' ? { id: request.id, result: getPublicKey(userKey) } : { id: request.id, result: '', error: 'unsupported' })
  })
  await new Promise<void>((resolve) => {
    ws.on('message', (data) => (JSON.parse(data.toString()) as unknown[])[0] === 'EOSE' && resolve())
    ws.send(JSON.stringify(['REQ', 'requests', { kinds: [24133], '#p': [getPublicKey(transportKey)], limit: 0 }]))
  })
  return { answerConnect: (result) => send({ id: 'connect-1', result }), methods, close: () => ws.close() }
}

function waitFor(progress: NostrConnectProgress[], match: (p: NostrConnectProgress) => boolean): Promise<void> {
  return vi.waitFor(() => expect(progress.some(match)).toBe(true), { timeout: 5000 })
}

describe('startNostrConnect', () => {
  it('makes a NIP-46 nostrconnect:// code: client key, relays, secret, per-kind permissions, name and url', async () => {
    // Nothing listens on port 1: the code names both relays all the same.
    const session = startNostrConnect([relay.url, 'ws://127.0.0.1:1'], { url: 'https://timmy.example' })
    const uri = new URL(session.uri)
    expect(uri.protocol).toBe('nostrconnect:')
    expect(isHex64(uri.hostname)).toBe(true)
    expect(uri.searchParams.getAll('relay')).toEqual([relay.url, 'ws://127.0.0.1:1'])
    expect(uri.searchParams.get('secret')).toMatch(/^[0-9a-f]{16}$/)
    const perms = uri.searchParams.get('perms')!.split(',')
    for (const perm of perms) expect(perm).toMatch(/^(sign_event:\d+|nip44_encrypt|nip44_decrypt)$/)
    expect(perms).toEqual(expect.arrayContaining(['sign_event:5001', 'sign_event:1985', 'sign_event:9734', 'sign_event:27235', 'sign_event:22242']))
    expect(uri.searchParams.get('name')).toBe('Timmy')
    expect(uri.searchParams.get('url')).toBe('https://timmy.example')
    // Every code has its own client key and secret.
    const otherSession = startNostrConnect([relay.url])
    const other = new URL(otherSession.uri)
    expect(other.hostname).not.toBe(uri.hostname)
    expect(other.searchParams.get('secret')).not.toBe(uri.searchParams.get('secret'))
    for (const code of [session, otherSession]) {
      code.abort()
      await expect(code.signer).rejects.toBeInstanceOf(SignerError)
    }
  })

  it('needs a relay', () => {
    expect(() => startNostrConnect([])).toThrow(SignerError)
  })

  it('ignores answers without the secret, then logs in as the user that get_public_key names', async () => {
    const progress: NostrConnectProgress[] = []
    const session = startNostrConnect([relay.url], { onProgress: (p) => progress.push(p) })
    const uri = new URL(session.uri)
    await waitFor(progress, (p) => p.phase === 'listening')
    const userKey = generateSecretKey()
    const app = await signerApp(relay.url, uri.hostname, userKey)
    try {
      app.answerConnect('ack')
      await waitFor(progress, (p) => p.ignored === 1)
      expect(app.methods).toEqual([])
      app.answerConnect(uri.searchParams.get('secret')!)
      const signer = await session.signer
      expect(signer).toMatchObject({ method: 'nip46', pubkey: getPublicKey(userKey), canSign: true })
      expect(app.methods).toEqual(['get_public_key'])
      expect(progress.at(-1)).toEqual({ phase: 'confirming', ignored: 1 })
      await signer.close()
    } finally {
      app.close()
    }
  })

  it('stops waiting when no signer connects in time, or when aborted', async () => {
    const late = startNostrConnect([relay.url], { timeoutMs: 50 })
    await expect(late.signer).rejects.toMatchObject({ problem: 'timeout' })
    const aborted = startNostrConnect([relay.url])
    aborted.abort()
    await expect(aborted.signer).rejects.toBeInstanceOf(SignerError)
  })
})
