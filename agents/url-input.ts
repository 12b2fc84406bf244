// Fetching `url` job inputs without becoming a proxy into the operator's network (SSRF). Anyone can
// post a job whose input is a URL, so every hop is checked before a connection is made:
//   - only http and https;
//   - the host is parsed the WHATWG way (new URL), so 127.1, 0x7f.0.0.1, 2130706433, 0177.0.0.1,
//     [::1] and [::ffff:127.0.0.1] all read as the loopback addresses they are;
//   - names are resolved first and the connection goes to the very address that was checked (no
//     second lookup, so DNS rebinding between check and connect cannot happen);
//   - loopback, private, shared (CGNAT), link-local, cloud metadata, unspecified, multicast and
//     reserved ranges are refused, IPv4-mapped / NAT64 / 6to4 IPv6 forms of them too;
//   - redirects are followed by hand, each hop checked again, at most MAX_REDIRECTS;
//   - the body is streamed with a byte cap, the whole fetch has a deadline.
// Every refusal is a UrlInputError saying why. Resolver and connector are injectable so tests
// never send a packet anywhere but loopback.
import { lookup } from 'node:dns/promises'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP } from 'node:net'
import { abortable } from './abortable.js'

export type UrlFetcher = (url: string, options: { signal: AbortSignal; maxBytes: number }) => Promise<string>

export class UrlInputError extends Error {
  override readonly name = 'UrlInputError'
}

/** Why an address is not public; undefined for a public unicast address. */
export type AddressCategory = 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved'

/** What `allowPrivateAddresses` opens up; the rest stays refused whatever the configuration. */
const PRIVATE_CATEGORIES: ReadonlySet<AddressCategory> = new Set(['loopback', 'private', 'link-local'])

interface Range {
  base: bigint
  bits: number
  category: AddressCategory
  what: string
}

function v4(cidr: string, category: AddressCategory, what: string): Range {
  const [ip, bits] = cidr.split('/')
  return { base: parseIPv4(ip)!, bits: Number(bits), category, what }
}

function v6(cidr: string, category: AddressCategory, what: string): Range {
  const [ip, bits] = cidr.split('/')
  return { base: parseIPv6(ip)!, bits: Number(bits), category, what }
}

// Most specific first: the first match names the range.
const IPV4_RANGES: Range[] = [
  v4('169.254.169.254/32', 'metadata', 'the cloud metadata service'),
  v4('0.0.0.0/8', 'unspecified', 'an unspecified ("this network") address'),
  v4('10.0.0.0/8', 'private', 'a private address'),
  v4('100.64.0.0/10', 'private', 'a shared (carrier-grade NAT) address'),
  v4('127.0.0.0/8', 'loopback', 'a loopback address'),
  v4('169.254.0.0/16', 'link-local', 'a link-local address'),
  v4('172.16.0.0/12', 'private', 'a private address'),
  v4('192.0.0.0/24', 'reserved', 'an IETF protocol address'),
  v4('192.0.2.0/24', 'reserved', 'a documentation address'),
  v4('192.168.0.0/16', 'private', 'a private address'),
  v4('198.18.0.0/15', 'reserved', 'a benchmarking address'),
  v4('198.51.100.0/24', 'reserved', 'a documentation address'),
  v4('203.0.113.0/24', 'reserved', 'a documentation address'),
  v4('224.0.0.0/4', 'multicast', 'a multicast address'),
  v4('240.0.0.0/4', 'reserved', 'a reserved or broadcast address'),
]

const IPV6_RANGES: Range[] = [
  v6('fd00:ec2::254/128', 'metadata', 'the cloud metadata service'),
  v6('::/128', 'unspecified', 'the unspecified address'),
  v6('::1/128', 'loopback', 'a loopback address'),
  v6('::/96', 'reserved', 'an IPv4-compatible (deprecated) address'),
  v6('64:ff9b:1::/48', 'reserved', 'a local-use NAT64 address'),
  v6('100::/64', 'reserved', 'a discard-only address'),
  v6('2001::/32', 'reserved', 'a Teredo address'),
  v6('2001:db8::/32', 'reserved', 'a documentation address'),
  v6('fc00::/7', 'private', 'a unique local (private) address'),
  v6('fe80::/10', 'link-local', 'a link-local address'),
  v6('fec0::/10', 'private', 'a site-local (private) address'),
  v6('ff00::/8', 'multicast', 'a multicast address'),
]

/** IPv6 prefixes that carry an IPv4 address: the embedded address decides. */
const EMBEDDED_V4: { base: bigint; bits: number; shift: bigint; form: string }[] = [
  { base: parseIPv6('::ffff:0:0')!, bits: 96, shift: 0n, form: 'IPv4-mapped' },
  { base: parseIPv6('64:ff9b::')!, bits: 96, shift: 0n, form: 'NAT64' },
  { base: parseIPv6('2002::')!, bits: 16, shift: 80n, form: '6to4' },
]

function inRange(value: bigint, width: number, base: bigint, bits: number): boolean {
  const shift = BigInt(width - bits)
  return value >> shift === base >> shift
}

function parseIPv4(text: string): bigint | undefined {
  const parts = text.split('.')
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n)
}

function parseIPv6(text: string): bigint | undefined {
  let address = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  if (isIP(address) !== 6) return undefined
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(address)
  if (tail) {
    const value = parseIPv4(tail[1])
    if (value === undefined) return undefined
    address = `${address.slice(0, -tail[1].length)}${(value >> 16n).toString(16)}:${(value & 0xffffn).toString(16)}`
  }
  const [head, rest] = address.split('::')
  const left = head ? head.split(':') : []
  const right = rest === undefined ? [] : rest ? rest.split(':') : []
  const groups = rest === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  if (groups.length !== 8) return undefined
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n)
}

function formatIPv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => Number((value >> s) & 0xffn)).join('.')
}

/** The category and a description of a non-public address, or undefined for a public one (or a non-address). */
export function classifyAddress(address: string): { category: AddressCategory; what: string } | undefined {
  const four = parseIPv4(address)
  if (four !== undefined) {
    const range = IPV4_RANGES.find((r) => inRange(four, 32, r.base, r.bits))
    return range && { category: range.category, what: range.what }
  }
  const six = parseIPv6(address)
  if (six === undefined) return undefined
  for (const embedding of EMBEDDED_V4) {
    if (!inRange(six, 128, embedding.base, embedding.bits)) continue
    const inner = formatIPv4((six >> embedding.shift) & 0xffffffffn)
    const found = classifyAddress(inner)
    return found && { category: found.category, what: `${embedding.form} ${inner}, ${found.what}` }
  }
  const range = IPV6_RANGES.find((r) => inRange(six, 128, r.base, r.bits))
  return range && { category: range.category, what: range.what }
}

export interface FetchedResponse {
  status: number
  headers: IncomingHttpHeaders
  body: AsyncIterable<Uint8Array>
  /** Stops reading (body over the cap, redirect, error answer). */
  close(): void
}

/** Addresses (IPv4 or IPv6 text) of a host name. */
export type Resolver = (hostname: string) => Promise<string[]>

/** Sends GET `url` to `address` (already checked): the Host header and TLS name come from the URL. */
export type Connector = (target: { url: URL; address: string; signal: AbortSignal }) => Promise<FetchedResponse>

export interface UrlFetcherOptions {
  /** Operators who want agents to read their own network's documents: loopback, private and link-local allowed (metadata, multicast and the rest stay refused). */
  allowPrivateAddresses?: boolean
  maxRedirects?: number
  /** Deadline for the whole fetch, redirects included. */
  timeoutMs?: number
  resolve?: Resolver
  connect?: Connector
}

export const MAX_REDIRECTS = 5
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000
const REDIRECTS = new Set([301, 302, 303, 307, 308])

export const resolveHostname: Resolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address)

export const connectAndGet: Connector = ({ url, address, signal }) =>
  new Promise((resolve, reject) => {
    const https = url.protocol === 'https:'
    const name = url.hostname.replace(/^\[|\]$/g, '')
    const request = (https ? httpsRequest : httpRequest)(
      {
        host: address,
        port: url.port || (https ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { host: url.host, accept: 'text/*, application/json, */*;q=0.5', 'accept-encoding': 'identity', 'user-agent': 'timmy-agent (NIP-90 DVM)' },
        signal,
        agent: false,
        // The certificate is checked against the name in the URL, not the address connected to.
        ...(https && isIP(name) === 0 && { servername: name }),
      },
      (response) => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: response, close: () => response.destroy() }),
    )
    request.once('error', reject)
    request.end()
  })

/** A fetcher for url inputs; see the top of this file for what it refuses. */
export function createUrlFetcher(options: UrlFetcherOptions = {}): UrlFetcher {
  const resolve = options.resolve ?? resolveHostname
  const connect = options.connect ?? connectAndGet
  const maxRedirects = options.maxRedirects ?? MAX_REDIRECTS
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS
  const allowed = (category: AddressCategory) => options.allowPrivateAddresses === true && PRIVATE_CATEGORIES.has(category)

  /** The checked address to connect to for this URL; throws UrlInputError before any connection. */
  const addressFor = async (url: URL): Promise<string> => {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UrlInputError(`only http and https URLs are fetched, not ${url.protocol}`)
    const host = url.hostname.replace(/^\[|\]$/g, '')
    const refuse = (address: string) => {
      const found = classifyAddress(address)
      if (found && !allowed(found.category)) {
        const via = address === host ? '' : ` (${host} resolves to ${address})`
        throw new UrlInputError(`${url.host} is ${found.what}${via}; agents fetch only public addresses`)
      }
    }
    if (isIP(host)) {
      refuse(host)
      return host
    }
    // RFC 6761: *.localhost is loopback whatever DNS says.
    if (/(^|\.)localhost\.?$/i.test(host) && !allowed('loopback')) throw new UrlInputError(`${url.host} is a loopback name; agents fetch only public addresses`)
    let addresses: string[]
    try {
      addresses = await resolve(host)
    } catch (err) {
      throw new UrlInputError(`cannot resolve ${host}: ${(err as Error).message}`)
    }
    if (addresses.length === 0) throw new UrlInputError(`${host} has no address`)
    // Every address is checked, not just the one used: a name that also points inside is refused.
    for (const address of addresses) refuse(address)
    return addresses[0]
  }

  return async (input, { signal, maxBytes }) => {
    const deadline = AbortSignal.timeout(timeoutMs)
    const combined = AbortSignal.any([signal, deadline])
    let url: URL
    try {
      url = new URL(input)
    } catch {
      throw new UrlInputError('not a valid URL')
    }
    try {
      for (let hop = 0; ; hop++) {
        const address = await addressFor(url)
        const response = await abortable(connect({ url, address, signal: combined }), combined) // the deadline does not depend on the connector listening
        if (REDIRECTS.has(response.status)) {
          response.close()
          const location = response.headers.location
          if (!location) throw new UrlInputError(`${url.href} answered HTTP ${response.status} without a Location`)
          if (hop >= maxRedirects) throw new UrlInputError(`more than ${maxRedirects} redirects`)
          try {
            url = new URL(location, url)
          } catch {
            throw new UrlInputError(`${url.href} redirects to an invalid URL`)
          }
          continue
        }
        return await readText(url, response, maxBytes)
      }
    } catch (err) {
      if (signal.aborted) throw signal.reason
      if (deadline.aborted) throw new UrlInputError(`fetching took longer than ${timeoutMs / 1000} s`)
      throw err
    }
  }
}

async function readText(url: URL, response: FetchedResponse, maxBytes: number): Promise<string> {
  if (response.status < 200 || response.status > 299) {
    response.close()
    throw new UrlInputError(`fetching ${url.href} answered HTTP ${response.status}`)
  }
  const declared = Number(response.headers['content-length'])
  if (declared > maxBytes) {
    response.close()
    throw new UrlInputError(`${url.href} is ${declared} bytes, more than the ${maxBytes} allowed`)
  }
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of response.body) {
    size += chunk.byteLength
    if (size > maxBytes) {
      response.close()
      throw new UrlInputError(`${url.href} is more than the ${maxBytes} bytes allowed`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The default fetcher: public addresses only. */
export const fetchUrlText: UrlFetcher = createUrlFetcher()
