import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { normalizeRelayUrl } from './relay-url.js'

describe('normalizeRelayUrl', () => {
  it('puts equivalent spellings into one canonical form', () => {
    expect(normalizeRelayUrl('wss://relay.example.com')).toBe('wss://relay.example.com')
    expect(normalizeRelayUrl('WSS://Relay.Example.COM:443/')).toBe('wss://relay.example.com')
    expect(normalizeRelayUrl('  ws://relay.example.com:80  ')).toBe('ws://relay.example.com')
    expect(normalizeRelayUrl('wss://relay.example.com:80/')).toBe('wss://relay.example.com:80')
    expect(normalizeRelayUrl('ws://127.0.0.1:7777/')).toBe('ws://127.0.0.1:7777')
    expect(normalizeRelayUrl('wss://[::1]:7777/')).toBe('wss://[::1]:7777')
    expect(normalizeRelayUrl('wss://bücher.example')).toBe('wss://xn--bcher-kva.example')
  })
  it('keeps the path and query but drops trailing slashes and the fragment', () => {
    expect(normalizeRelayUrl('wss://host.example/nostr/')).toBe('wss://host.example/nostr')
    expect(normalizeRelayUrl('wss://host.example/a//')).toBe('wss://host.example/a')
    expect(normalizeRelayUrl('wss://host.example/Path?token=A#frag')).toBe('wss://host.example/Path?token=A')
    expect(normalizeRelayUrl('wss://host.example?x=1')).toBe('wss://host.example?x=1')
  })
  it('rejects what is not a ws/wss URL, saying why', () => {
    expect(() => normalizeRelayUrl('https://relay.example.com')).toThrow(/scheme must be ws or wss, not https/)
    expect(() => normalizeRelayUrl('relay.example.com')).toThrow(/not an absolute URL/)
    expect(() => normalizeRelayUrl('wss://')).toThrow(/not an absolute URL/)
    expect(() => normalizeRelayUrl('')).toThrow(/empty/)
    expect(() => normalizeRelayUrl('   ')).toThrow(/empty/)
    expect(() => normalizeRelayUrl('wss://me:secret@relay.example.com')).toThrow(/user name or password/)
    expect(() => normalizeRelayUrl(42 as unknown as string)).toThrow(TypeError)
  })
  it('is idempotent on every URL it accepts', () => {
    const parts = fc.record({
      scheme: fc.constantFrom('ws', 'wss'),
      upper: fc.boolean(),
      host: fc.domain(),
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      path: fc.webPath(),
      slash: fc.boolean(),
    })
    fc.assert(fc.property(parts, ({ scheme, upper, host, port, path, slash }) => {
      const portPart = port === undefined ? '' : `:${port}`
      const spelled = `${upper ? scheme.toUpperCase() : scheme}://${upper ? host.toUpperCase() : host}${portPart}${path}${slash ? '/' : ''}`
      const once = normalizeRelayUrl(spelled)
      expect(normalizeRelayUrl(once)).toBe(once)
      expect(normalizeRelayUrl(`${scheme}://${host}${portPart}${path}`)).toBe(once)
      const defaultPort = scheme === 'ws' ? 80 : 443
      expect(once.startsWith(`${scheme}://${host}${port === undefined || port === defaultPort ? '' : portPart}`)).toBe(true)
      expect(once.endsWith('/')).toBe(false)
    }))
  })
})
