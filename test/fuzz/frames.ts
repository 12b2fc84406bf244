// Generators of hostile NIP-01 client frames, shared by the fuzz test and the long-run benchmark.
import fc from 'fast-check'
import type { NostrEvent } from '../../nips/01.js'

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length })
const anyJson = fc.jsonValue({ maxDepth: 4 })
const weirdString = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('', '\u0000', '\ud800', '🤖', 'a'.repeat(300)))
const weirdNumber = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 0, 2 ** 53, 1e308, -0))

/** A filter with plausible keys and hostile values. */
export const filterArbitrary = fc.dictionary(
  fc.oneof(fc.constantFrom('ids', 'authors', 'kinds', 'since', 'until', 'limit', 'search', '#e', '#p', '#t', '#d', '#', '#ee', '__proto__'), fc.string({ maxLength: 6 })),
  fc.oneof(weirdNumber, weirdString, fc.array(fc.oneof(hex(64), weirdString, weirdNumber), { maxLength: 6 }), anyJson),
  { maxKeys: 6 },
)

/** An event, valid or mutated in one field (the mutation usually breaks the id or signature). */
export function eventArbitrary(valid: NostrEvent[]) {
  const base = fc.constantFrom(...valid)
  const mutated = fc.tuple(base, fc.constantFrom('id', 'pubkey', 'created_at', 'kind', 'tags', 'content', 'sig', 'extra'), fc.oneof(weirdString, weirdNumber, anyJson, hex(64), hex(128))).map(([event, field, value]) => ({ ...event, [field]: value }))
  return fc.oneof({ weight: 1, arbitrary: base }, { weight: 4, arbitrary: mutated }, { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), anyJson, { maxKeys: 8 }) })
}

/** One WebSocket text message a hostile client might send, as the text sent. */
export function relayFrameArbitrary(valid: NostrEvent[], corpus: string[]): fc.Arbitrary<string> {
  const subId = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), weirdString, weirdNumber, anyJson)
  const structured = fc.oneof(
    fc.tuple(fc.constant('EVENT'), eventArbitrary(valid)),
    fc.tuple(fc.constant('REQ'), subId, fc.array(fc.oneof(filterArbitrary, anyJson), { maxLength: 4 })).map(([t, id, filters]) => [t, id, ...filters]),
    fc.tuple(fc.constant('COUNT'), subId, filterArbitrary),
    fc.tuple(fc.constant('CLOSE'), subId),
    fc.tuple(fc.constant('AUTH'), eventArbitrary(valid)),
    fc.tuple(fc.oneof(fc.constantFrom('EVENT', 'REQ', 'CLOSE', 'AUTH', 'COUNT', 'NEG-OPEN', 'event', ''), weirdString), fc.array(anyJson, { maxLength: 4 })).map(([t, rest]) => [t, ...rest]),
    anyJson,
  )
  return fc.oneof(
    { weight: 6, arbitrary: structured.map((value) => JSON.stringify(value) ?? 'null') },
    { weight: 2, arbitrary: fc.constantFrom(...corpus) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...corpus), fc.nat(), fc.string({ maxLength: 4 })).map(([text, at, insert]) => text.slice(0, at % (text.length + 1)) + insert + text.slice(at % (text.length + 1))) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  )
}
