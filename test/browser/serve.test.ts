// The client's static handler: routes, content types, caching, and no way out of its folders.
import { existsSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClientHandler, safeJoin } from '../../client/serve.js'

const rootDir = fileURLToPath(new URL('../..', import.meta.url))
const built = existsSync(new URL('../../dist/client/main.js', import.meta.url))

describe('safeJoin', () => {
  it('keeps paths inside the base folder', () => {
    expect(safeJoin('/srv/app', 'a/b.js')).toBe('/srv/app/a/b.js')
    for (const bad of ['../x.js', 'a/../../x.js', '%2e%2e/x.js', 'a%2f..%2f..%2fx.js', 'a\\..\\x.js', '', 'a//b.js', './a.js', 'a/%00.js', '%E0%A4%A']) {
      expect(safeJoin('/srv/app', bad), bad).toBeUndefined()
    }
  })
})

describe('createClientHandler', () => {
  let server: Server
  let base: string

  beforeAll(async () => {
    const handler = createClientHandler({ rootDir, relays: ['ws://127.0.0.1:7777'] })
    server = createServer((req, res) => {
      if (!handler(req, res)) {
        res.writeHead(404)
        res.end('not here')
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  // fetch() normalises `..` out of URLs, so traversal attempts go out as raw request lines.
  async function rawGet(path: string): Promise<number> {
    const { request } = await import('node:http')
    return new Promise((resolve, reject) => {
      const req = request(`${base}/`, { path, method: 'GET' }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })
  }

  it('serves the page with its import map, revalidated on every load', async () => {
    const res = await fetch(`${base}/`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(await res.text()).toContain('<script type="importmap">')
    const etag = res.headers.get('etag')!
    expect((await fetch(`${base}/`, { headers: { 'if-none-match': etag } })).status).toBe(304)
  })

  it('finds the package root by itself', async () => {
    const handler = createClientHandler()
    let status = 0
    const res = { writeHead: (code: number) => (status = code), end: () => {} } as unknown as import('node:http').ServerResponse
    expect(handler({ method: 'HEAD', url: '/', headers: {} } as import('node:http').IncomingMessage, res)).toBe(true)
    expect(status).toBe(200)
  })

  it('answers /api/config with the relays it was given', async () => {
    const res = await fetch(`${base}/api/config`)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(await res.json()).toEqual({ relays: ['ws://127.0.0.1:7777'] })
  })

  it('passes on what it does not serve', async () => {
    expect((await fetch(`${base}/api/agents`)).status).toBe(404)
    expect((await fetch(`${base}/metrics`)).status).toBe(404)
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404)
  })

  it('serves whitelisted vendor modules as JavaScript with a cache lifetime', async () => {
    const res = await fetch(`${base}/vendor/lit/index.js`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect((await fetch(`${base}/vendor/@noble/hashes/sha2.js`)).status).toBe(200)
  })

  it('refuses other node_modules files and non-module files', async () => {
    expect((await fetch(`${base}/vendor/ws/index.js`)).status).toBe(404)
    expect((await fetch(`${base}/vendor/better-sqlite3/package.json`)).status).toBe(404)
    expect((await fetch(`${base}/vendor/lit/package.json`)).status).toBe(404)
    expect((await fetch(`${base}/vendor/lit`)).status).toBe(404)
  })

  it('does not step out of its folders', async () => {
    for (const path of ['/vendor/lit/../ws/index.js', '/vendor/lit/%2e%2e/ws/index.js', '/app/../../package.json', '/app/%2e%2e/%2e%2e/package.json', '/nips/..%2f..%2fpackage.json', '/vendor/lit/..%5c..%5cws/index.js', '/app/..%2fagents%2fhost.js']) {
      expect(await rawGet(path), path).toBe(404)
    }
  })

  it('maps every import-map entry of the page onto a file it serves', async () => {
    const page = readFileSync(new URL('../../client/index.html', import.meta.url), 'utf8')
    const map = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(page)![1]) as { imports: Record<string, string> }
    for (const [specifier, target] of Object.entries(map.imports)) {
      const probe = target.endsWith('/') ? `${target}${{ 'lit/': 'index.js', 'lit-html/': 'lit-html.js', 'lit-element/': 'lit-element.js', '@lit/reactive-element/': 'css-tag.js', '@noble/curves/': 'secp256k1.js', '@noble/hashes/': 'sha2.js', '@noble/ciphers/': 'chacha.js' }[specifier]}` : target
      expect((await fetch(`${base}${probe}`)).status, specifier).toBe(200)
    }
  })

  it.skipIf(!built)('serves the compiled client and nips modules, but not the server module', async () => {
    const app = await fetch(`${base}/app/main.js`)
    expect(app.status).toBe(200)
    expect(app.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect((await fetch(`${base}/app/ui/job-view.js`)).status).toBe(200)
    expect((await fetch(`${base}/nips/90.js`)).status).toBe(200)
    expect((await fetch(`${base}/app/serve.js`)).status).toBe(404)
    const head = await fetch(`${base}/nips/01.js`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0)
    expect(await head.text()).toBe('')
  })
})
