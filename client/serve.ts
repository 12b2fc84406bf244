// The web client's HTTP side, mounted by the agent host: the page, its compiled modules, the pure
// nips/ modules it shares with the agents, and the few node_modules files its import map names.
// No bundler: the browser loads ES modules as tsc wrote them.
//   GET /            client/index.html (with the import map)
//   GET /app/*       dist/client/*  (the client's modules; not this file)
//   GET /nips/*      dist/nips/*
//   GET /vendor/*    node_modules/<whitelisted package>/*
//   GET /api/config  {"relays": [...]} when the host passes its relays
import { existsSync, readFileSync, statSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { dirname, extname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ClientHandlerOptions {
  /** The package root, holding client/index.html, dist/ and node_modules/. Defaults to the one this module sits in. */
  rootDir?: string
  /** The relays the client starts with (the embedded relay first), answered at GET /api/config. */
  relays?: string[]
}

export type ClientHandler = (req: IncomingMessage, res: ServerResponse) => boolean

/** Packages the import map in client/index.html points into; nothing else under node_modules is served. */
export const VENDOR_PACKAGES = ['lit', 'lit-html', 'lit-element', '@lit/reactive-element', '@noble/curves', '@noble/hashes', '@noble/ciphers', '@scure/base', 'nostr-tools', 'uqr'] as const

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
}
const MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.map'])
/** Compiled into dist/client beside the browser modules, but it is server code. */
const SERVER_ONLY = new Set(['serve.js', 'serve.js.map'])

// Vendor files change only with `npm install`: an hour of caching. The client's own modules and
// the page change with every build: the browser revalidates them (ETag) on each load.
const VENDOR_CACHE = 'public, max-age=3600'
const APP_CACHE = 'no-cache'

/** The nearest folder at or above `from` holding a package.json: the package root for dist/client and client/ alike. */
function packageRootFrom(from: string): string {
  let dir = from
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`no package.json above ${from}`)
    dir = parent
  }
  return dir
}

/**
 * The path under `base` named by URL path segments, or undefined when a segment would step out of
 * it or is not a plain file name (`..`, `.`, empty, backslashes, NUL, encoded slashes).
 */
export function safeJoin(base: string, urlPath: string): string | undefined {
  const segments = urlPath.split('/')
  const names: string[] = []
  for (const segment of segments) {
    let name: string
    try {
      name = decodeURIComponent(segment)
    } catch {
      return undefined
    }
    if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) return undefined
    names.push(name)
  }
  const root = resolve(base)
  const full = resolve(root, ...names)
  return full.startsWith(root + sep) ? full : undefined
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: string, cacheControl: string): boolean {
  let stat
  try {
    stat = statSync(file)
  } catch {
    return false
  }
  if (!stat.isFile()) return false
  const etag = `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`
  const headers = {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': cacheControl,
    etag,
    'last-modified': stat.mtime.toUTCString(),
    'x-content-type-options': 'nosniff',
  }
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers)
    res.end()
    return true
  }
  res.writeHead(200, { ...headers, 'content-length': stat.size })
  res.end(req.method === 'HEAD' ? undefined : readFileSync(file))
  return true
}

function vendorFile(nodeModules: string, rest: string): string | undefined {
  const pkg = VENDOR_PACKAGES.find((name) => rest.startsWith(`${name}/`))
  if (!pkg) return undefined
  return safeJoin(join(nodeModules, pkg), rest.slice(pkg.length + 1))
}

export function createClientHandler(options: ClientHandlerOptions = {}): ClientHandler {
  const root = resolve(options.rootDir ?? packageRootFrom(dirname(fileURLToPath(import.meta.url))))
  const page = join(root, 'client', 'index.html')
  const appDir = join(root, 'dist', 'client')
  const nipsDir = join(root, 'dist', 'nips')
  const nodeModules = join(root, 'node_modules')
  const config = options.relays && JSON.stringify({ relays: options.relays })

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/' || path === '/index.html') return sendFile(req, res, page, APP_CACHE)
    if (path === '/api/config' && config) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : config)
      return true
    }
    let file: string | undefined
    let cache = APP_CACHE
    if (path.startsWith('/app/')) {
      file = safeJoin(appDir, path.slice('/app/'.length))
      if (file && SERVER_ONLY.has(file.slice(appDir.length + 1))) file = undefined
    } else if (path.startsWith('/nips/')) {
      file = safeJoin(nipsDir, path.slice('/nips/'.length))
    } else if (path.startsWith('/vendor/')) {
      file = vendorFile(nodeModules, path.slice('/vendor/'.length))
      cache = VENDOR_CACHE
    } else {
      return false
    }
    if (!file || !MODULE_EXTENSIONS.has(extname(file))) return false
    return sendFile(req, res, file, cache)
  }
}
