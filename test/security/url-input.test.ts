// SSRF: url job inputs. Every test but the last group injects the resolver and the connector, so no
// packet leaves this process; the refusals are proven to happen before any connection.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { classifyAddress, createUrlFetcher, UrlInputError, type Connector, type FetchedResponse, type Resolver } from '../../agents/url-input.js'
import { fuzzRuns } from '../fuzz/runs.js'

const PUBLIC_IP = '93.184.215.14'

function answer(status: number, body = '', headers: Record<string, string> = {}): FetchedResponse & { closed: boolean } {
  const response = {
    status,
    headers,
    body: Readable.from([Buffer.from(body)]),
    closed: false,
    close() {
      response.closed = true
    },
  }
  return response
}

/** A fetcher whose network is two spies: a resolver with fixed answers and a connector with scripted responses. */
function harness(options: { dns?: Record<string, string[]>; responses?: ((url: URL, address: string) => FetchedResponse)[]; allowPrivateAddresses?: boolean; timeoutMs?: number } = {}) {
  const resolve = vi.fn<Resolver>(async (host) => {
    const found = options.dns?.[host]
    if (!found) throw new Error(`ENOTFOUND ${host}`)
    return found
  })
  const script = [...(options.responses ?? [])]
  const connect = vi.fn<Connector>(async ({ url, address }) => {
    const next = script.shift()
    if (!next) throw new Error('unexpected connection')
    return next(url, address)
  })
  const fetch = createUrlFetcher({ resolve, connect, ...(options.allowPrivateAddresses && { allowPrivateAddresses: true }), ...(options.timeoutMs && { timeoutMs: options.timeoutMs }) })
  const run = (url: string, maxBytes = 1000) => fetch(url, { signal: new AbortController().signal, maxBytes })
  return { resolve, connect, run }
}

describe('url inputs: refused before any connection', () => {
  it.each([
    ['http://127.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://127.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://0x7f.0.0.1/', /loopback/],
    ['http://2130706433/', /loopback/],
    ['http://0177.0.0.1/', /loopback/],
    ['http://0x7f000001:8080/admin', /loopback/],
    ['http://[::1]/', /\[::1\] is a loopback address/],
    ['http://[::ffff:127.0.0.1]/', /IPv4-mapped 127\.0\.0\.1, a loopback address/],
    ['http://[0:0:0:0:0:ffff:7f00:1]/', /IPv4-mapped 127\.0\.0\.1/],
    ['http://[::ffff:a9fe:a9fe]/', /IPv4-mapped 169\.254\.169\.254, the cloud metadata service/],
    ['http://169.254.169.254/latest/meta-data/', /the cloud metadata service/],
    ['http://[fd00:ec2::254]/', /the cloud metadata service/],
    ['http://10.1.2.3/', /a private address/],
    ['http://172.16.0.1/', /a private address/],
    ['http://172.31.255.255/', /a private address/],
    ['http://192.168.1.1/', /a private address/],
    ['http://100.64.0.1/', /carrier-grade NAT/],
    ['http://169.254.1.1/', /link-local/],
    ['http://[fe80::1]/', /link-local/],
    ['http://[fc00::1]/', /unique local/],
    ['http://[fd12:3456::1]/', /unique local/],
    ['http://0.0.0.0/', /unspecified/],
    ['http://0/', /unspecified/],
    ['http://[::]/', /unspecified/],
    ['http://224.0.0.1/', /multicast/],
    ['http://[ff02::1]/', /multicast/],
    ['http://255.255.255.255/', /reserved or broadcast/],
    ['http://[64:ff9b::a00:1]/', /NAT64 10\.0\.0\.1, a private address/],
    ['http://[2002:7f00:1::]/', /6to4 127\.0\.0\.1/],
    ['https://１２７.0.0.1/', /loopback/],
    ['http://localhost/', /loopback name/],
    ['http://LOCALHOST./', /loopback name/],
    ['http://api.localhost:3000/', /loopback name/],
  ])('%s', async (url, reason) => {
    const { resolve, connect, run } = harness()
    await expect(run(url)).rejects.toThrow(reason)
    expect(resolve).not.toHaveBeenCalled()
    expect(connect).not.toHaveBeenCalled()
  })

  it.each(['file:///etc/passwd', 'ftp://example.com/x', 'gopher://example.com:70/', 'data:text/plain,hello', 'javascript:alert(1)', 'ws://example.com/'])('refuses the scheme of %s', async (url) => {
    const { resolve, connect, run } = harness()
    await expect(run(url)).rejects.toThrow(/only http and https URLs are fetched/)
    expect(resolve).not.toHaveBeenCalled()
    expect(connect).not.toHaveBeenCalled()
  })

  it('refuses what is not a URL', async () => {
    await expect(harness().run('not a url')).rejects.toThrow(new UrlInputError('not a valid URL'))
  })

  it('checks the resolved addresses: a name pointing at loopback or private space is refused', async () => {
    const { resolve, connect, run } = harness({ dns: { 'rebind.example': ['127.0.0.1'], 'split.example': [PUBLIC_IP, '10.0.0.7'], 'mapped.example': ['::ffff:192.168.0.1'] } })
    await expect(run('http://rebind.example/')).rejects.toThrow('rebind.example is a loopback address (rebind.example resolves to 127.0.0.1)')
    await expect(run('http://split.example/')).rejects.toThrow(/resolves to 10\.0\.0\.7/)
    await expect(run('http://mapped.example/')).rejects.toThrow(/IPv4-mapped 192\.168\.0\.1/)
    expect(resolve).toHaveBeenCalledTimes(3)
    expect(connect).not.toHaveBeenCalled()
  })

  it('connects to the address it checked, resolving once: DNS rebinding after the check has nothing to race', async () => {
    const answers = [[PUBLIC_IP], ['127.0.0.1']]
    const resolve = vi.fn<Resolver>(async () => answers.shift()!)
    const connect = vi.fn<Connector>(async () => answer(200, 'hello'))
    const fetch = createUrlFetcher({ resolve, connect })
    expect(await fetch('http://flip.example:8080/doc?q=1', { signal: new AbortController().signal, maxBytes: 100 })).toBe('hello')
    expect(resolve).toHaveBeenCalledTimes(1)
    expect(connect).toHaveBeenCalledTimes(1)
    const [{ url, address }] = connect.mock.calls[0]
    expect(address).toBe(PUBLIC_IP)
    expect(url.host).toBe('flip.example:8080')
  })

  it('re-checks every redirect hop and stops at the first bad one', async () => {
    const toLoopback = harness({ dns: { 'a.example': [PUBLIC_IP] }, responses: [() => answer(302, '', { location: 'http://127.0.0.1:6379/' })] })
    await expect(toLoopback.run('http://a.example/')).rejects.toThrow(/127\.0\.0\.1:6379 is a loopback address/)
    expect(toLoopback.connect).toHaveBeenCalledTimes(1)

    const toMetadata = harness({ dns: { 'a.example': [PUBLIC_IP], 'b.example': ['169.254.169.254'] }, responses: [() => answer(301, '', { location: 'http://b.example/latest/meta-data/' })] })
    await expect(toMetadata.run('http://a.example/')).rejects.toThrow(/cloud metadata/)
    expect(toMetadata.connect).toHaveBeenCalledTimes(1)

    const toFile = harness({ dns: { 'a.example': [PUBLIC_IP] }, responses: [() => answer(307, '', { location: 'file:///etc/passwd' })] })
    await expect(toFile.run('http://a.example/')).rejects.toThrow(/not file:/)

    const relative = harness({ dns: { 'a.example': [PUBLIC_IP] }, responses: [() => answer(303, '', { location: '/next' }), (url) => answer(200, url.pathname)] })
    expect(await relative.run('http://a.example/start')).toBe('/next')
  })

  it('caps the number of redirects', async () => {
    const loop = harness({ dns: { 'a.example': [PUBLIC_IP] }, responses: Array.from({ length: 10 }, (_, i) => () => answer(302, '', { location: `/hop${i}` })) })
    await expect(loop.run('http://a.example/')).rejects.toThrow('more than 5 redirects')
    expect(loop.connect).toHaveBeenCalledTimes(6)
  })

  it('caps the size, by Content-Length and while streaming, and stops reading', async () => {
    const declared = answer(200, 'x', { 'content-length': '5000' })
    const big = harness({ dns: { 'a.example': [PUBLIC_IP] }, responses: [() => declared] })
    await expect(big.run('http://a.example/', 1000)).rejects.toThrow('http://a.example/ is 5000 bytes, more than the 1000 allowed')
    expect(declared.closed).toBe(true)

    const streamed = answer(200, 'y'.repeat(1500))
    const sneaky = harness({ dns: { 'a.example': [PUBLIC_IP] }, responses: [() => streamed] })
    await expect(sneaky.run('http://a.example/', 1000)).rejects.toThrow('is more than the 1000 bytes allowed')
    expect(streamed.closed).toBe(true)
  })

  it('refuses error answers and stops at the deadline', async () => {
    const notFound = harness({ dns: { 'a.example': [PUBLIC_IP] }, responses: [() => answer(404)] })
    await expect(notFound.run('http://a.example/')).rejects.toThrow('answered HTTP 404')

    const resolve = vi.fn<Resolver>(async () => [PUBLIC_IP])
    const hanging: Connector = ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    const slow = createUrlFetcher({ resolve, connect: hanging, timeoutMs: 50 })
    await expect(slow('http://a.example/', { signal: new AbortController().signal, maxBytes: 10 })).rejects.toThrow('fetching took longer than 0.05 s')

    const job = new AbortController()
    const cancelled = createUrlFetcher({ resolve, connect: hanging })(`http://a.example/`, { signal: job.signal, maxBytes: 10 })
    job.abort(new Error('job cancelled'))
    await expect(cancelled).rejects.toThrow('job cancelled')
  })

  it('allowPrivateAddresses opens loopback and private ranges, never metadata, multicast or unspecified', async () => {
    const open = harness({ allowPrivateAddresses: true, responses: [() => answer(200, 'lan'), () => answer(200, 'lo')] })
    expect(await open.run('http://192.168.1.10/')).toBe('lan')
    expect(await open.run('http://127.0.0.1/')).toBe('lo')
    for (const url of ['http://169.254.169.254/', 'http://[fd00:ec2::254]/', 'http://224.0.0.1/', 'http://0.0.0.0/']) await expect(open.run(url)).rejects.toThrow(UrlInputError)
    expect(open.connect).toHaveBeenCalledTimes(2)
  })
})

describe('url inputs: property over encodings of blocked IPv4 addresses', () => {
  const blockedV4 = fc.oneof(
    fc.tuple(fc.constant(127), fc.nat(255), fc.nat(255), fc.nat(255)),
    fc.tuple(fc.constant(10), fc.nat(255), fc.nat(255), fc.nat(255)),
    fc.tuple(fc.constant(192), fc.constant(168), fc.nat(255), fc.nat(255)),
    fc.tuple(fc.constant(172), fc.integer({ min: 16, max: 31 }), fc.nat(255), fc.nat(255)),
    fc.tuple(fc.constant(169), fc.constant(254), fc.nat(255), fc.nat(255)),
    fc.tuple(fc.constant(100), fc.integer({ min: 64, max: 127 }), fc.nat(255), fc.nat(255)),
    fc.tuple(fc.constant(0), fc.nat(255), fc.nat(255), fc.nat(255)),
    fc.tuple(fc.integer({ min: 224, max: 255 }), fc.nat(255), fc.nat(255), fc.nat(255)),
  )
  const spell = (o: number[], how: number): string => {
    const n = ((o[0] << 24) >>> 0) + (o[1] << 16) + (o[2] << 8) + o[3]
    const hex = (x: number) => `0x${x.toString(16)}`
    const oct = (x: number) => `0${x.toString(8)}`
    switch (how) {
      case 0:
        return o.join('.')
      case 1:
        return String(n)
      case 2:
        return hex(n)
      case 3:
        return o.map(oct).join('.')
      case 4:
        return o.map(hex).join('.')
      case 5:
        return `${o[0]}.${(o[1] << 16) + (o[2] << 8) + o[3]}`
      case 6:
        return `[::ffff:${o.join('.')}]`
      default:
        return `[::ffff:${((o[0] << 8) + o[1]).toString(16)}:${((o[2] << 8) + o[3]).toString(16)}]`
    }
  }

  it('every spelling is refused without a lookup or a connection', async () => {
    const { resolve, connect, run } = harness()
    await fc.assert(
      fc.asyncProperty(blockedV4, fc.nat(7), fc.constantFrom('http', 'https'), async (octets, how, scheme) => {
        await expect(run(`${scheme}://${spell(octets, how)}/`)).rejects.toThrow(UrlInputError)
      }),
      { numRuns: fuzzRuns(300) },
    )
    expect(resolve).not.toHaveBeenCalled()
    expect(connect).not.toHaveBeenCalled()
  })

  it('public addresses are connected to as they are', async () => {
    await fc.assert(
      fc.asyncProperty(fc.ipV4(), async (ip) => {
        fc.pre(classifyAddress(ip) === undefined)
        const { connect, run } = harness({ responses: [() => answer(200, 'ok')] })
        expect(await run(`http://${ip}/`)).toBe('ok')
        expect(connect.mock.calls[0][0].address).toBe(ip)
      }),
      { numRuns: fuzzRuns(200) },
    )
  })
})

describe('url inputs: a real server on loopback', () => {
  let server: Server
  let base: string
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(302, { location: '/doc' })
        res.end()
      } else {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        res.end('grüße from loopback')
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it('fetches through redirects when loopback is explicitly allowed (test-only allowance)', async () => {
    const fetch = createUrlFetcher({ allowPrivateAddresses: true })
    expect(await fetch(`${base}/moved`, { signal: new AbortController().signal, maxBytes: 1000 })).toBe('grüße from loopback')
  })

  it('the default fetcher refuses the same server', async () => {
    const fetch = createUrlFetcher()
    await expect(fetch(`${base}/doc`, { signal: new AbortController().signal, maxBytes: 1000 })).rejects.toThrow(/is a loopback address; agents fetch only public addresses/)
  })
})
