// Id and signature checking with libsecp256k1 compiled to WASM (nostr-wasm), ~7x faster than noble.
// Used inside the verification workers and, with `threads: 0`, in-process.
import { initNostrWasm } from 'nostr-wasm'
import { eventShapeError, verifyEvent, type NostrEvent } from '../nips/01.js'

// nostr-wasm reports a failed check by throwing one of these; anything else is the library itself failing.
const VERDICTS = new Set(['id is invalid', 'pubkey is invalid', 'signature is invalid'])

/** True when the event is well formed, its id is the hash of its serialization and its signature is valid. */
export type EventCheck = (event: NostrEvent) => boolean

export async function loadEventCheck(): Promise<EventCheck> {
  const wasm = await initNostrWasm()
  return (event) => {
    // nostr-wasm decodes hex without validating it and compares only as many id bytes as were given,
    // so a short or non-hex id/sig/pubkey must be rejected before it gets there.
    if (eventShapeError(event) !== null) return false
    try {
      wasm.verifyEvent(event)
      return true
    } catch (err) {
      if (err instanceof Error && VERDICTS.has(err.message)) return false
      // The WASM heap cannot grow: events of roughly a megabyte or more exhaust it ("Out of memory").
      // Those rare events are checked with noble instead.
      return verifyEvent(event)
    }
  }
}
