// Id and signature checking for the relay, off the event loop (relay/verify-worker.ts) or, with
// `threads: 0`, in-process. Backends, fastest first (measured in test/bench, one core):
//   native  — libsecp256k1 through bcrypto's N-API addon (optional dependency, built at install):
//             ~4x nostr-wasm, ~25x noble;
//   wasm    — libsecp256k1 compiled to WASM (nostr-wasm), ~7x noble;
// noble remains the last resort for what the others cannot take.
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { initNostrWasm } from 'nostr-wasm'
import { eventShapeError, serializeEvent, verifyEvent, type NostrEvent } from '../nips/01.js'

// nostr-wasm reports a failed check by throwing one of these; anything else is the library itself failing.
const VERDICTS = new Set(['id is invalid', 'pubkey is invalid', 'signature is invalid'])

/** True when the event is well formed, its id is the hash of its serialization and its signature is valid. */
export type EventCheck = (event: NostrEvent) => boolean

export type EventCheckBackend = 'native' | 'wasm'

interface NativeSchnorr {
  native: number
  verify(msg: Buffer, sig: Buffer, key: Buffer): boolean
}

/** bcrypto's schnorr module when its native addon is built (bcrypto.native === 2), else null. */
function loadNativeSchnorr(): NativeSchnorr | null {
  try {
    const schnorr = createRequire(import.meta.url)('bcrypto/lib/schnorr') as NativeSchnorr
    return schnorr.native === 2 ? schnorr : null
  } catch {
    return null
  }
}

export function nativeCheck(schnorr: NativeSchnorr): EventCheck {
  return (event) => {
    if (eventShapeError(event) !== null) return false
    const hash = createHash('sha256').update(serializeEvent(event)).digest()
    if (hash.toString('hex') !== event.id) return false
    try {
      return schnorr.verify(hash, Buffer.from(event.sig, 'hex'), Buffer.from(event.pubkey, 'hex'))
    } catch {
      return false // a pubkey that is not on the curve
    }
  }
}

export async function wasmCheck(): Promise<EventCheck> {
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

/** The fastest backend available here, unless one is asked for. */
export async function loadEventCheck(prefer?: EventCheckBackend): Promise<{ check: EventCheck; backend: EventCheckBackend }> {
  const native = prefer === 'wasm' ? null : loadNativeSchnorr()
  if (native) return { check: nativeCheck(native), backend: 'native' }
  if (prefer === 'native') throw new Error('native signature backend unavailable: the optional dependency bcrypto did not build')
  return { check: await wasmCheck(), backend: 'wasm' }
}
