// The agent directory counts sats actually paid: a stranger's label (no trust path, nobody logged in)
// moves an agent's score once the page has found the agent's zap server key at the pay endpoint its
// profile names and a zap receipt signed by that key shows the stranger paid for the rated job. The
// same label and a valid receipt count nothing for an agent whose profile names no pay endpoint.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from '../../nips/01.js'
import { buildJobOutcomeLabel } from '../../nips/32.js'
import { buildHandlerInformation } from '../../nips/89.js'
import { startRelay, type RunningRelay } from '../../relay/index.js'
import { lnurlHttpListener } from '../../agents/lightning/lnurl.js'
import { zapServer } from '../helpers/zaps.js'
import { collectErrors, launchBrowser, publishAll, skipReason, startClientServer } from './harness.js'

const TIMEOUT = 20_000

describe.skipIf(skipReason !== '')(`directory reputation from zap receipts in Chromium${skipReason ? ` (${skipReason})` : ''}`, () => {
  let relay: RunningRelay
  let site: { url: string; close(): Promise<void> }
  let lnurlSite: Server
  let browser: Browser

  const paidKey = generateSecretKey()
  const unpaidKey = generateSecretKey()
  const strangerKey = generateSecretKey()
  const job = 'ab'.repeat(32)

  beforeAll(async () => {
    relay = await startRelay({ port: 0, dbPath: ':memory:', config: { verifierThreads: 0 } })
    const now = Math.floor(Date.now() / 1000)
    const paidZaps = zapServer(getPublicKey(paidKey), 'scribe')
    const unpaidZaps = zapServer(getPublicKey(unpaidKey), 'quill')
    // The paid agent's pay endpoint, on a loopback port of its own (another origin than the page's).
    const listener = lnurlHttpListener(paidZaps.handler)
    lnurlSite = createServer((req, res) => {
      if (listener(req, res)) return
      res.writeHead(404)
      res.end()
    })
    await new Promise<void>((resolve) => lnurlSite.listen(0, '127.0.0.1', resolve))
    const lud16 = `scribe@127.0.0.1:${(lnurlSite.address() as AddressInfo).port}`

    const agentEvents = (key: Uint8Array, name: string, profile: Record<string, string>): NostrEvent[] => [
      finalizeEvent(buildHandlerInformation({ d: 'summarize', kinds: [5001], content: { name: `${name} summaries`, about: 'x', nip90Params: {} }, createdAt: now - 60 }), key),
      finalizeEvent({ kind: 0, created_at: now - 60, tags: [], content: JSON.stringify({ name, ...profile }) }, key),
      finalizeEvent(buildJobOutcomeLabel({ agent: getPublicKey(key), job, kind: 5001, outcome: 'success', quality: 5, createdAt: now - 30 }), strangerKey),
    ]
    await publishAll(relay.url, [
      ...agentEvents(paidKey, 'Scribe', { lud16 }),
      ...agentEvents(unpaidKey, 'Quill', {}),
      await paidZaps.zap(strangerKey, 500_000, job),
      await unpaidZaps.zap(strangerKey, 500_000, job),
    ])
    site = await startClientServer([relay.url])
    browser = await launchBrowser()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await site?.close()
    await new Promise<void>((resolve) => (lnurlSite ? lnurlSite.close(() => resolve()) : resolve()))
    await relay?.close()
  })

  it('scores the paid stranger’s label only for the agent whose zap server signed the receipt', async () => {
    const page = await browser.newPage()
    const errors = collectErrors(page)
    await page.goto(site.url)
    const paid = page.getByTestId('agent-card').filter({ hasText: 'Scribe' })
    await paid.filter({ hasText: 'from 1 label' }).waitFor({ timeout: TIMEOUT })
    const unpaid = page.getByTestId('agent-card').filter({ hasText: 'Quill' })
    await unpaid.waitFor({ timeout: TIMEOUT })
    expect(await unpaid.textContent()).toContain('no labels from your web of trust or from paying clients yet')
    const percent = Number(/(\d+)% from 1 label/.exec((await paid.textContent()) ?? '')?.[1])
    expect(percent).toBeGreaterThan(50)
    expect(errors).toEqual([])
    await page.close()
  })
})
