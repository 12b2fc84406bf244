// Fast event signing and verification for the agent runtime. nostr-wasm signs in ~0.6 ms and
// verifies in ~0.4 ms against noble's 4.5 / 3.0 ms (shared/ANCHORS.md), which is most of a DVM's
// own share of a job round trip. The WASM module loads once per process.
import { initNostrWasm, type Nostr } from 'nostr-wasm'
import { eventShapeError, type EventTemplate, type NostrEvent } from '../nips/01.js'

export interface EventCrypto {
  sign(template: EventTemplate, secretKey: Uint8Array): NostrEvent
  /** Shape, id and signature are all checked. */
  verify(event: NostrEvent): boolean
}

let loading: Promise<Nostr> | undefined

export async function loadEventCrypto(): Promise<EventCrypto> {
  loading ??= initNostrWasm()
  const wasm = await loading
  return {
    sign(template, secretKey) {
      const event = { ...template, tags: template.tags.map((t) => [...t]), pubkey: '', id: '', sig: '' }
      wasm.finalizeEvent(event, secretKey)
      return event
    },
    verify(event) {
      if (eventShapeError(event) !== null) return false
      try {
        wasm.verifyEvent(event)
        return true
      } catch {
        return false
      }
    },
  }
}
