// Requesters written with other people's libraries: NDK's DVM classes and raw nostr-tools, against
// a real agent serving the built-in summarize capability (kind 5001).
import NDK, { NDKDVMJobResult, NDKDVMRequest, NDKEvent, type NDKKind, NDKPrivateKeySigner, NDKRelayAuthPolicies, NDKUser } from '@nostr-dev-kit/ndk'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningRelay } from '../../relay/index.js'
import { createSummarizeCapability } from '../../agents/capabilities/summarize.js'
import { startTestAgent, startTestRelay, type TestAgent } from './helpers.js'

const TEXT = 'Relays store events. Clients publish and read them. Data vending machines sell work for sats. The weather was nice.'

describe('interoperability with other requesters', () => {
  let relay: RunningRelay
  let dvm: TestAgent

  beforeAll(async () => {
    ;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket
    useWebSocketImplementation(WebSocket)
    relay = await startTestRelay()
    dvm = await startTestAgent(relay.url, [createSummarizeCapability()], { name: 'summarize' })
  })

  afterAll(async () => {
    await dvm?.agent.stop()
    await relay?.close()
  })

  it('serves a raw nostr-tools requester', async () => {
    const sk = generateSecretKey()
    const client = await Relay.connect(relay.url)
    const request = finalizeEvent({ kind: 5001, created_at: Math.floor(Date.now() / 1000), tags: [['i', TEXT, 'text'], ['param', 'length', '1']], content: '' }, sk)
    const result = new Promise<{ content: string; tags: string[][] }>((resolve) => {
      const sub = client.subscribe([{ kinds: [6001], '#e': [request.id] }], {
        onevent: (event) => {
          sub.close()
          resolve(event)
        },
      })
    })
    await client.publish(request)
    const answer = await result
    expect(answer.content.split(/(?<=\.)\s+/)).toHaveLength(1)
    expect(TEXT).toContain(answer.content)
    expect(answer.tags).toContainEqual(['e', request.id])
    client.close()
  })

  describe('NDK 3 DVM classes', () => {
    let ndk: NDK

    beforeAll(async () => {
      // Outbox model off: NDK would otherwise dial its default public relays (tests stay on loopback).
      ndk = new NDK({ explicitRelayUrls: [relay.url], enableOutboxModel: false, outboxRelayUrls: [], autoConnectUserRelays: false, signer: NDKPrivateKeySigner.generate() })
      ndk.relayAuthDefaultPolicy = NDKRelayAuthPolicies.signIn({ ndk })
      await ndk.connect(2000)
    })

    afterAll(() => {
      for (const r of ndk.pool.relays.values()) r.disconnect()
    })

    async function awaitResult(request: NDKDVMRequest): Promise<NDKDVMJobResult> {
      return new Promise((resolve) => {
        const sub = ndk.subscribe({ kinds: [6001 as NDKKind], '#e': [request.id] }, { closeOnEose: false })
        sub.on('event', (event: NDKEvent) => {
          sub.stop()
          resolve(NDKDVMJobResult.from(event))
        })
      })
    }

    it('takes an NDKDVMRequest and answers with a result NDK reads', async () => {
      const request = new NDKDVMRequest(ndk)
      request.kind = 5001
      request.addInput(TEXT, 'text')
      request.addParam('length', '2')
      await request.sign()
      const result = awaitResult(request)
      await request.publish()
      const answer = await result
      expect(answer.jobRequestId).toBe(request.id)
      expect(answer.pubkey).toBe(dvm.agent.pubkey)
      expect(answer.result?.split(/(?<=\.)\s+/)).toHaveLength(2)
    })

    it('takes an NDK-encrypted request and answers so that NDK can decrypt it', async () => {
      const dvmUser = new NDKUser({ pubkey: dvm.agent.pubkey })
      const request = new NDKDVMRequest(ndk)
      request.kind = 5001
      request.addInput(TEXT, 'text')
      request.addParam('length', '1')
      await request.encryption(dvmUser)
      await request.sign()
      expect(request.content).not.toContain('Relays')
      const result = awaitResult(request)
      await request.publish()
      const answer = await result
      expect(answer.tags.some((t) => t[0] === 'encrypted')).toBe(true)
      await answer.decrypt(dvmUser, undefined, 'nip44')
      expect(TEXT).toContain(answer.content)
    })
  })
})
