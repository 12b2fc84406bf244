// Relay URL normalization, so that two spellings of one relay compare equal (NIP-42 relay tags,
// NIP-65 relay lists, de-duplicating relay sets). Pure: parsing only, no network.

/**
 * The canonical form of a relay URL: `ws:` or `wss:` only, lowercase scheme and host (IDN hosts
 * become punycode), no default port (80 for ws, 443 for wss), no trailing slash, no fragment.
 * The path and query are kept as they are, since a relay may serve several endpoints on one host.
 * Throws TypeError for a non-string and Error with the reason for anything that is not a relay URL.
 */
export function normalizeRelayUrl(url: string): string {
  if (typeof url !== 'string') throw new TypeError('relay URL must be a string')
  const text = url.trim()
  if (text === '') throw new Error('relay URL is empty')
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    throw new Error(`invalid relay URL ${JSON.stringify(text.slice(0, 100))}: not an absolute URL`)
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new Error(`invalid relay URL ${JSON.stringify(text.slice(0, 100))}: scheme must be ws or wss, not ${parsed.protocol.slice(0, -1)}`)
  }
  // Credentials would leak to everyone the URL is shared with (relay lists are public events).
  if (parsed.username !== '' || parsed.password !== '') throw new Error('invalid relay URL: must not contain a user name or password')
  // WHATWG URL parsing already lowercases the scheme and host and drops the scheme's default port.
  return `${parsed.protocol}//${parsed.host}${parsed.pathname.replace(/\/+$/, '')}${parsed.search}`
}
