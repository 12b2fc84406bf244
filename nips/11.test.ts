import { describe, expect, it } from 'vitest'
import { parseRelayInformation, RELAY_INFO_MEDIA_TYPE } from './11.js'

// The example document in NIP-11 ("Examples"), minus its trailing comma, which is not valid JSON.
const EDEN = {
  description: 'nostr.land family of relays (us-or-01)',
  name: 'nostr.land',
  pubkey: '52b4a076bcbbbdc3a1aefa3735816cf74993b1b8db202b01c883c58be7fad8bd',
  software: 'custom',
  supported_nips: [1, 2, 4, 9, 11, 12, 16, 20, 22, 28, 33, 40],
  version: '1.0.1',
  limitation: { payment_required: true, max_message_length: 65535, max_event_tags: 2000, max_subscriptions: 20, auth_required: false },
  payments_url: 'https://eden.nostr.land',
  fees: { subscription: [{ amount: 2500000, unit: 'msats', period: 2592000 }] },
}

describe('NIP-11 parseRelayInformation', () => {
  it('uses the nostr+json media type', () => {
    expect(RELAY_INFO_MEDIA_TYPE).toBe('application/nostr+json')
  })
  it('accepts the spec example document unchanged', () => {
    expect(parseRelayInformation(JSON.parse(JSON.stringify(EDEN)))).toEqual(EDEN)
  })
  it('accepts every documented field, including the spec snippets for limitation, retention, fees and community', () => {
    const doc = {
      contact: 'mailto:admin@example.com',
      supported_nips_at: 1690848000,
      limitation: {
        max_message_length: 16384, max_subscriptions: 20, max_filters: 100, max_limit: 5000, max_subid_length: 100,
        max_event_tags: 100, max_content_length: 8196, min_pow_difficulty: 30, auth_required: true, payment_required: true,
        restricted_writes: true, created_at_lower_limit: 31536000, created_at_upper_limit: 3, default_limit: 500,
      },
      retention: [
        { kinds: [0, 1, [5, 7], [40, 49]], time: 3600 },
        { kinds: [[40000, 49999]], time: 100 },
        { kinds: [[30000, 39999]], count: 1000 },
        { time: 3600, count: 10000 },
        { kinds: [4], time: null },
      ],
      relay_countries: ['CA', 'US'],
      language_tags: ['en', 'en-419'],
      tags: ['sfw-only', 'bitcoin-only', 'anime'],
      posting_policy: 'https://example.com/posting-policy.html',
      payments_url: 'https://my-relay/payments',
      fees: {
        admission: [{ amount: 1000000, unit: 'msats' }],
        subscription: [{ amount: 5000000, unit: 'msats', period: 2592000 }],
        publication: [{ kinds: [4], amount: 100, unit: 'msats' }],
      },
      icon: 'https://nostr.build/i/icon.jpg',
      banner: 'https://example.com/banner.jpg',
      privacy_policy: 'https://example.com/privacy',
      terms_of_service: 'https://example.com/tos',
    }
    expect(parseRelayInformation(doc)).toEqual(doc)
  })
  it('drops unknown fields and treats null as absent', () => {
    expect(parseRelayInformation({ name: 'r', x_custom: 1, contact: null, limitation: { max_limit: null, vendor_thing: 'x' }, fees: { admission: null, other: [] } }))
      .toEqual({ name: 'r', limitation: {}, fees: {} })
    expect(parseRelayInformation({})).toEqual({})
  })
  it('names the field that has the wrong type', () => {
    const cases: [unknown, RegExp][] = [
      [null, /document must be a JSON object/],
      ['{"name":"r"}', /document must be a JSON object/],
      [[], /document must be a JSON object/],
      [{ name: 5 }, /name must be a string/],
      [{ pubkey: 'npub1xyz' }, /pubkey must be 64 lowercase hex/],
      [{ supported_nips: '1,11' }, /supported_nips must be an array/],
      [{ supported_nips: [1, '11'] }, /supported_nips\[1\] must be a non-negative integer/],
      [{ supported_nips_at: -1 }, /supported_nips_at must be a non-negative integer/],
      [{ relay_countries: ['CA', 1] }, /relay_countries\[1\] must be a string/],
      [{ limitation: [] }, /limitation must be an object/],
      [{ limitation: { max_limit: 1.5 } }, /limitation.max_limit must be a non-negative integer/],
      [{ limitation: { auth_required: 'yes' } }, /limitation.auth_required must be a boolean/],
      [{ retention: {} }, /retention must be an array/],
      [{ retention: [5] }, /retention\[0\] must be an object/],
      [{ retention: [{ kinds: [[7, 5]] }] }, /retention\[0\].kinds\[0\] must be a kind or a \[from, to\] range/],
      [{ retention: [{ kinds: ['1'] }] }, /retention\[0\].kinds\[0\]/],
      [{ retention: [{ time: 'forever' }] }, /retention\[0\].time must be a non-negative integer/],
      [{ retention: [{ count: -3 }] }, /retention\[0\].count/],
      [{ fees: 'free' }, /fees must be an object/],
      [{ fees: { admission: [7] } }, /fees.admission\[0\] must be an object/],
      [{ fees: { admission: [{ amount: 1 }] } }, /fees.admission\[0\].unit must be a string/],
      [{ fees: { subscription: [{ amount: '1', unit: 'sats' }] } }, /fees.subscription\[0\].amount/],
      [{ fees: { subscription: [{ amount: 1, unit: 'sats', period: 'month' }] } }, /fees.subscription\[0\].period/],
      [{ fees: { publication: [{ amount: 1, unit: 'sats', kinds: [-4] }] } }, /fees.publication\[0\].kinds\[0\]/],
    ]
    for (const [doc, reason] of cases) expect(() => parseRelayInformation(doc), JSON.stringify(doc)).toThrow(reason)
  })
})
