// NIP-46 started by the client, end to end in Chromium: the login page shows a nostrconnect:// code,
// and the test plays the user's remote signer app (as Amber or nsec.app would): it reads the code,
// answers the client's key on the code's relay with the code's secret, then serves get_public_key
// and sign_event for a user key that is not its own transport key. The page must log in as the
// user, publish what it signs under the user's key, ignore answers without the secret, and refuse
// events signed by any other key.
import { SimplePool, useWebSocketImplementation } from 'nostr-tools/pool'
import type { Browser, Page } from 'playwright-core'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey, isHex64, verifyEvent, type EventTemplate, type NostrEvent } from '../../nips/01.js'
import { npubEncode } from '../../nips/19.js'
import * as nip44 from '../../nips/44.js'
import { normalizeRelayUrl } from '../../nips/relay-url.js'
import { startRelay, type RunningRelay } from '../../relay/index.js'
import { collectErrors, launchBrowser, queryRelay, skipReason, startClientServer } from './harness.js'

useWebSocketImplementation(WebSocket)

const TIMEOUT = 20_000
const NOSTR_CONNECT_KIND = 24133

interface ConnectCode {
  clientPubkey: string
  relays: string[]
  secret: string
  perms: string[]
  name: string | null
  url: string | null
}

/** What a signer app reads from the code: nostrconnect://<client-pubkey>?relay=...&secret=...&perms=...&name=...&url=... */
function parseConnectCode(uri: string): ConnectCode {
  const url = new URL(uri)
  expect(url.protocol).toBe('nostrconnect:')
  const secret = url.searchParams.get('secret')
  expect(secret).toBeTruthy()
  return {
    clientPubkey: url.hostname,
    relays: url.searchParams.getAll('relay'),
    secret: secret!,
    perms: (url.searchParams.get('perms') ?? '').split(',').filter(Boolean),
    name: url.searchParams.get('name'),
    url: url.searchParams.get('url'),
  }
}

interface RemoteSignerApp {
  /** The app's own transport key, which is not the user's. */
  pubkey: string
  requests: { method: string; params: string[] }[]
  /** Sends the `connect` answer to the code's key, with `result` (the code's secret, if it is honest). */
  answerConnect(result: string): Promise<void>
  close(): void
}

/**
 * The user's signer app: it listens on the code's relays for requests from the code's client key
 * only, and answers them with `signingKey` (the user's key, unless a test wants a faulty app).
 */
async function startRemoteSignerApp(code: ConnectCode, userKey: Uint8Array, signingKey = userKey): Promise<RemoteSignerApp> {
  const transportKey = generateSecretKey()
  const pubkey = getPublicKey(transportKey)
  const conversation = nip44.getConversationKey(transportKey, code.clientPubkey)
  const pool = new SimplePool()
  const requests: RemoteSignerApp['requests'] = []
  const send = async (message: { id: string; result: string; error?: string }) => {
    const event = finalizeEvent({ kind: NOSTR_CONNECT_KIND, created_at: Math.floor(Date.now() / 1000), tags: [['p', code.clientPubkey]], content: nip44.encrypt(JSON.stringify(message), conversation) }, transportKey)
    await Promise.all(pool.publish(code.relays, event))
  }
  const answer = (method: string, params: string[]): string => {
    switch (method) {
      case 'get_public_key':
        return getPublicKey(userKey)
      case 'sign_event':
        return JSON.stringify(finalizeEvent(JSON.parse(params[0]) as EventTemplate, signingKey))
      case 'nip44_encrypt':
        return nip44.encrypt(params[1], nip44.getConversationKey(userKey, params[0]))
      case 'nip44_decrypt':
        return nip44.decrypt(params[1], nip44.getConversationKey(userKey, params[0]))
      case 'ping':
        return 'pong'
    }
    throw new Error(`unsupported method ${method}`)
  }
  await new Promise<void>((resolve) => {
    pool.subscribe(
      code.relays,
      { kinds: [NOSTR_CONNECT_KIND], '#p': [pubkey], limit: 0 },
      {
        oneose: resolve,
        onevent: (event: NostrEvent) => {
          if (event.pubkey !== code.clientPubkey) return
          const request = JSON.parse(nip44.decrypt(event.content, conversation)) as { id: string; method: string; params: string[] }
          requests.push({ method: request.method, params: request.params })
          let reply: { id: string; result: string; error?: string }
          try {
            reply = { id: request.id, result: answer(request.method, request.params) }
          } catch (err) {
            reply = { id: request.id, result: '', error: (err as Error).message }
          }
          void send(reply)
        },
      },
    )
  })
  return {
    pubkey,
    requests,
    answerConnect: (result) => send({ id: Math.random().toString(36).slice(2), result }),
    close: () => pool.destroy(),
  }
}

describe.skipIf(skipReason !== '')(`nostrconnect:// login in Chromium${skipReason ? ` (${skipReason})` : ''}`, () => {
  let relay: RunningRelay
  let site: { url: string; close(): Promise<void> }
  let browser: Browser

  beforeAll(async () => {
    relay = await startRelay({ port: 0, dbPath: ':memory:', config: { verifierThreads: 0 } })
    site = await startClientServer([relay.url])
    browser = await launchBrowser()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await site?.close()
    await relay?.close()
  })

  /** Opens the login page, asks for a code and reads it once the page listens for the signer. */
  async function showCode(): Promise<{ page: Page; errors: string[]; code: ConnectCode }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
    const errors = collectErrors(page)
    await page.goto(`${site.url}/#/login`)
    await page.getByRole('button', { name: /nostrconnect/ }).click()
    await page.locator('[data-testid="nostrconnect-status"][data-phase="listening"]').waitFor({ timeout: TIMEOUT })
    const code = parseConnectCode((await page.getByTestId('nostrconnect-uri').textContent())!.trim())
    return { page, errors, code }
  }

  async function postOpenJob(page: Page, kind: number, input: string): Promise<string> {
    await page.evaluate(() => (location.hash = '#/hire'))
    await page.getByLabel('Job kind').fill(String(kind))
    await page.getByLabel('Input', { exact: true }).fill(input)
    await page.getByTestId('post-job').click()
    await page.waitForURL(/#\/jobs\/[0-9a-f]{64}$/, { timeout: TIMEOUT })
    return page.url().split('/').at(-1)!
  }

  it('logs in as the user that get_public_key names and publishes jobs signed with the user key', async () => {
    const { page, errors, code } = await showCode()
    expect(isHex64(code.clientPubkey)).toBe(true)
    expect(code.relays.map(normalizeRelayUrl)).toEqual([normalizeRelayUrl(relay.url)])
    expect(code.secret).toMatch(/^[0-9a-f]{16,}$/)
    expect(code.name).toBe('Timmy')
    expect(code.url).toBe(site.url)
    for (const perm of code.perms) expect(perm).toMatch(/^(sign_event:\d+|nip44_encrypt|nip44_decrypt)$/)
    expect(code.perms).toEqual(expect.arrayContaining(['sign_event:5050', 'sign_event:1985', 'sign_event:22242', 'nip44_encrypt', 'nip44_decrypt']))

    const userKey = generateSecretKey()
    const user = getPublicKey(userKey)
    const signerApp = await startRemoteSignerApp(code, userKey)
    try {
      expect(signerApp.pubkey).not.toBe(user)
      await signerApp.answerConnect(code.secret)
      const who = page.getByTestId('logged-in-as')
      await who.waitFor({ timeout: TIMEOUT })
      const shown = (await who.textContent())!
      expect(shown).toContain(npubEncode(user).slice(0, 12))
      expect(shown).toContain(npubEncode(user).slice(-6))
      expect(shown).not.toContain(npubEncode(signerApp.pubkey).slice(0, 12))
      expect(shown).toContain('remote signer')
      expect(signerApp.requests.map((r) => r.method)).toContain('get_public_key')

      const jobId = await postOpenJob(page, 5050, 'Write a haiku about sealed-bid auctions.')
      const [job] = await queryRelay(relay.url, { ids: [jobId] })
      expect(job).toMatchObject({ kind: 5050, pubkey: user })
      expect(verifyEvent(job)).toBe(true)
      const signRequests = signerApp.requests.filter((r) => r.method === 'sign_event').map((r) => JSON.parse(r.params[0]) as EventTemplate)
      expect(signRequests.map((t) => t.kind)).toContain(5050)
      expect(await queryRelay(relay.url, { kinds: [5050], authors: [signerApp.pubkey] })).toEqual([])
      expect(errors).toEqual([])
    } finally {
      signerApp.close()
      await page.close()
    }
  })

  it('ignores connect answers without the code secret and keeps waiting for the right one', async () => {
    const { page, errors, code } = await showCode()
    const userKey = generateSecretKey()
    const signerApp = await startRemoteSignerApp(code, userKey)
    try {
      // An out-of-date signer answers "ack"; someone who only saw the client key guesses a secret.
      await signerApp.answerConnect('ack')
      const ignored = page.getByTestId('nostrconnect-ignored')
      await ignored.waitFor({ timeout: TIMEOUT })
      expect(await ignored.textContent()).toContain("did not carry this code's secret")
      await signerApp.answerConnect('00'.repeat(8))
      await ignored.filter({ hasText: 'Ignored 2 answers' }).waitFor({ timeout: TIMEOUT })

      expect(await page.getByTestId('logged-in-as').count()).toBe(0)
      expect(await page.getByTestId('nostrconnect-status').getAttribute('data-phase')).toBe('listening')
      expect(signerApp.requests).toEqual([])
      // Waiting for a signer leaves the other ways to log in usable.
      expect(await page.getByTestId('login-extension').isEnabled()).toBe(true)

      await signerApp.answerConnect(code.secret)
      await page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
      expect(await page.getByTestId('logged-in-as').textContent()).toContain(npubEncode(getPublicKey(userKey)).slice(0, 12))
      expect(errors).toEqual([])
    } finally {
      signerApp.close()
      await page.close()
    }
  })

  it('shows a fresh code on request and withdraws it on cancel', async () => {
    const { page, errors, code } = await showCode()
    try {
      await page.getByRole('button', { name: /nostrconnect/ }).click()
      const uri = page.getByTestId('nostrconnect-uri').filter({ hasNotText: code.clientPubkey })
      await uri.waitFor({ timeout: TIMEOUT })
      expect(parseConnectCode((await uri.textContent())!.trim()).secret).not.toBe(code.secret)
      await page.locator('[data-testid="nostrconnect-status"][data-phase="listening"]').waitFor({ timeout: TIMEOUT })
      // The first code's wait ended quietly: no error under the second one.
      expect(await page.getByTestId('login-error').count()).toBe(0)
      await page.getByRole('group', { name: 'nostrconnect code' }).getByRole('button', { name: 'Cancel' }).click()
      await page.getByRole('group', { name: 'nostrconnect code' }).waitFor({ state: 'detached', timeout: TIMEOUT })
      expect(await page.getByTestId('nostrconnect-uri').count()).toBe(0)
      expect(await page.getByTestId('nostrconnect-status').count()).toBe(0)
      expect(await page.getByTestId('login-error').count()).toBe(0)
      expect(errors).toEqual([])
    } finally {
      await page.close()
    }
  })

  it('refuses an event the signer signed with another key than the logged-in user', async () => {
    const { page, errors, code } = await showCode()
    const userKey = generateSecretKey()
    const otherKey = generateSecretKey()
    const signerApp = await startRemoteSignerApp(code, userKey, otherKey)
    try {
      await signerApp.answerConnect(code.secret)
      await page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
      await page.evaluate(() => (location.hash = '#/hire'))
      await page.getByLabel('Input', { exact: true }).fill('Summarize this.')
      await page.getByTestId('post-job').click()
      const alert = page.getByRole('alert').filter({ hasText: 'Could not post the job' })
      await alert.waitFor({ timeout: TIMEOUT })
      expect(await alert.textContent()).toContain('signed with a different key')
      expect(signerApp.requests.map((r) => r.method)).toContain('sign_event')
      expect(await queryRelay(relay.url, { kinds: [5050], authors: [getPublicKey(otherKey)] })).toEqual([])
      expect(errors).toEqual([])
    } finally {
      signerApp.close()
      await page.close()
    }
  })
})
