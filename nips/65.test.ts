import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { buildRelayList, parseRelayList, RELAY_LIST_KIND, type RelayListEntry } from './65.js'

describe('NIP-65 parseRelayList', () => {
  it('reads the spec example', () => {
    const event = {
      kind: 10002,
      tags: [
        ['r', 'wss://alicerelay.example.com'],
        ['r', 'wss://brando-relay.com'],
        ['r', 'wss://expensive-relay.example2.com', 'write'],
        ['r', 'wss://nostr-relay.example.com', 'read'],
      ],
    }
    expect(parseRelayList(event)).toEqual([
      { url: 'wss://alicerelay.example.com', read: true, write: true },
      { url: 'wss://brando-relay.com', read: true, write: true },
      { url: 'wss://expensive-relay.example2.com', read: false, write: true },
      { url: 'wss://nostr-relay.example.com', read: true, write: false },
    ])
  })
  it('ignores malformed URLs, unknown markers and other tags; normalizes and merges duplicates', () => {
    const event = {
      kind: 10002,
      tags: [
        ['r', 'https://web.example.com'],
        ['r', 'not a url'],
        ['r'],
        ['r', 'wss://odd.example.com', 'sometimes'],
        ['p', 'wss://not-a-relay-tag.example.com'],
        ['r', 'WSS://A.example.com/', 'read'],
        ['r', 'wss://a.example.com:443', 'write'],
        ['r', 'wss://b.example.com', ''],
      ],
    }
    expect(parseRelayList(event)).toEqual([
      { url: 'wss://a.example.com', read: true, write: true },
      { url: 'wss://b.example.com', read: true, write: true },
    ])
  })
  it('refuses other kinds', () => {
    expect(() => parseRelayList({ kind: 3, tags: [] })).toThrow(/not a relay list: kind is 3/)
  })
})

describe('NIP-65 buildRelayList', () => {
  it('writes markers only where a relay is not both', () => {
    expect(buildRelayList([
      { url: 'wss://both.example.com/', read: true, write: true },
      { url: 'wss://in.example.com', read: true, write: false },
      { url: 'wss://out.example.com', read: false, write: true },
      { url: 'WSS://OUT.example.com', read: true, write: false },
    ], 123)).toEqual({
      kind: RELAY_LIST_KIND,
      created_at: 123,
      tags: [['r', 'wss://both.example.com'], ['r', 'wss://in.example.com', 'read'], ['r', 'wss://out.example.com']],
      content: '',
    })
  })
  it('rejects bad entries with the reason', () => {
    expect(() => buildRelayList([{ url: 'https://x.example', read: true, write: true }], 1)).toThrow(/scheme must be ws or wss/)
    expect(() => buildRelayList([{ url: 'wss://x.example', read: false, write: false }], 1)).toThrow(/read, write or both/)
    expect(() => buildRelayList([{ url: 'wss://x.example' } as RelayListEntry], 1)).toThrow(/boolean read and write/)
    expect(() => buildRelayList([null as unknown as RelayListEntry], 1)).toThrow(/boolean read and write/)
    expect(() => buildRelayList('wss://x' as unknown as RelayListEntry[], 1)).toThrow(/entries must be an array/)
    expect(() => buildRelayList([], -1)).toThrow(/createdAt/)
  })
  it('round-trips through parseRelayList', () => {
    const entry = fc.record({
      url: fc.domain().map((d) => `wss://${d}`),
      read: fc.boolean(),
      write: fc.boolean(),
    }).filter((e) => e.read || e.write)
    fc.assert(fc.property(fc.uniqueArray(entry, { selector: (e) => e.url, maxLength: 8 }), (entries) => {
      expect(parseRelayList(buildRelayList(entries, 1))).toEqual(entries)
    }))
  })
})
