// The web client in a real browser against a real relay and a real agent: log in with a NIP-07
// extension (faked with a test key) or a NIP-46 bunker, find the agent in the directory, hire it
// for a summary, watch the feedback, read the result; plus the states a user must be able to read
// (no extension, extension refused, no relay reachable), the swarm graph and auction verification.
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateSecretKey, getPublicKey } from '../../nips/01.js'
import { npubEncode } from '../../nips/19.js'
import { startRelay, type RunningRelay } from '../../relay/index.js'
import { createSummarizeCapability } from '../../agents/capabilities/summarize.js'
import { startTestAgent, type TestAgent } from '../agents/helpers.js'
import { auctionFixture, collectErrors, installFakeExtension, launchBrowser, publishAll, screenshotDir, skipReason, startBunker, startClientServer, swarmFixture } from './harness.js'

const ARTICLE = [
  'Timmy agents sell work for sats over Nostr relays.',
  'Each agent announces its capabilities with a NIP-89 handler event.',
  'Clients post NIP-90 job requests and agents answer with feedback and results.',
  'Payments travel over Lightning, by zaps or by invoices.',
  'Sealed-bid auctions let several agents compete for one job.',
  'Reputation comes from NIP-32 labels written by the requesters.',
].join(' ')

const TIMEOUT = 20_000

async function shot(page: Page, name: string): Promise<void> {
  if (screenshotDir) await page.screenshot({ path: join(screenshotDir, `${name}.png`) })
}

describe.skipIf(skipReason !== '')(`web client in Chromium${skipReason ? ` (${skipReason})` : ''}`, () => {
  let relay: RunningRelay
  let dvm: TestAgent
  let site: { url: string; close(): Promise<void> }
  let browser: Browser
  let auctionJob: string

  beforeAll(async () => {
    relay = await startRelay({ port: 0, dbPath: ':memory:', config: { verifierThreads: 0 } })
    dvm = await startTestAgent(relay.url, [createSummarizeCapability()], { name: 'summarizer' })
    const now = Math.floor(Date.now() / 1000)
    const auction = auctionFixture(now)
    auctionJob = auction.jobId
    await publishAll(relay.url, [...swarmFixture({ agents: 4, requesters: 24, jobs: 110, now }), ...auction.events])
    site = await startClientServer([relay.url])
    browser = await launchBrowser()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await site?.close()
    await dvm?.agent.stop()
    dvm?.jobLog.close()
    await relay?.close()
  })

  async function openPage(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } })
    return { page, errors: collectErrors(page) }
  }

  it('logs in with a NIP-07 extension, hires the summarizer and shows its result', async () => {
    const { page, errors } = await openPage()
    const userKey = generateSecretKey()
    await installFakeExtension(page, userKey)
    await page.goto(site.url)

    const card = page.getByTestId('agent-card').filter({ hasText: 'Timmy summarizer' })
    await card.waitFor({ timeout: TIMEOUT })
    expect(await card.textContent()).toContain('Summarize')
    expect(await card.textContent()).toContain('online')
    await page.getByTestId('agent-card').nth(4).waitFor({ timeout: TIMEOUT })
    await shot(page, 'directory')

    await page.getByRole('link', { name: 'Log in' }).click()
    await shot(page, 'login')
    await page.getByTestId('login-extension').click()
    await page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
    expect(await page.getByTestId('logged-in-as').textContent()).toContain('extension')

    await card.getByTestId('hire').click()
    await page.getByLabel('Input', { exact: true }).fill(ARTICLE)
    await page.getByLabel(/^length/).fill('2')
    await shot(page, 'hire')
    await page.getByTestId('post-job').click()

    await page.waitForURL(/#\/jobs\/[0-9a-f]{64}$/, { timeout: TIMEOUT })
    const jobId = page.url().split('/').at(-1)!
    await page.locator('[data-testid="feedback"][data-status="processing"]').waitFor({ timeout: TIMEOUT })
    const result = page.getByTestId('result-text')
    await result.waitFor({ timeout: TIMEOUT })
    const summary = (await result.textContent())!.trim()
    const sentences = summary.split(/(?<=\.)\s+/)
    expect(sentences).toHaveLength(2)
    for (const sentence of sentences) expect(ARTICLE).toContain(sentence)
    expect(await page.getByTestId('job-phase').textContent()).toContain('done')
    await shot(page, 'job')

    // The agent really got it from this user, through the relay.
    const state = dvm.jobLog.state(jobId)
    expect(state?.request.pubkey).toBe(getPublicKey(userKey))
    expect(state?.status).toBe('completed')
    expect(errors).toEqual([])
    await page.close()
  })

  it('sends an encrypted job through the extension and decrypts the answer', async () => {
    const { page, errors } = await openPage()
    await installFakeExtension(page, generateSecretKey())
    await page.goto(`${site.url}/#/login`)
    await page.getByTestId('login-extension').click()
    await page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
    await page.goto(`${site.url}/#/agents`)
    await page.getByTestId('agent-card').filter({ hasText: 'Timmy summarizer' }).getByTestId('hire').click()
    await page.getByLabel('Input', { exact: true }).fill(ARTICLE)
    await page.getByLabel(/Encrypt the input/).check()
    await page.getByTestId('post-job').click()
    await page.waitForURL(/#\/jobs\/[0-9a-f]{64}$/, { timeout: TIMEOUT })
    const jobId = page.url().split('/').at(-1)!
    // The relay shows encrypted jobs only to their parties: the client authenticated (NIP-42) to read
    // the answer, and the extension decrypted it.
    const result = page.getByTestId('result-text').filter({ hasText: /\w+\./ })
    await result.waitFor({ timeout: TIMEOUT })
    for (const sentence of (await result.textContent())!.trim().split(/(?<=\.)\s+/)) expect(ARTICLE).toContain(sentence)
    expect(dvm.jobLog.state(jobId)?.request.tags.some((t) => t[0] === 'encrypted')).toBe(true)
    expect(errors).toEqual([])
    await page.close()
  })

  it('says so when there is no extension, and when the extension refuses', async () => {
    const bare = await openPage()
    await bare.page.goto(`${site.url}/#/login`)
    await bare.page.getByTestId('login-extension').click()
    const missing = bare.page.getByTestId('login-error')
    await missing.waitFor({ timeout: TIMEOUT })
    expect(await missing.textContent()).toContain('No extension found')
    await bare.page.close()

    const refusing = await openPage()
    await installFakeExtension(refusing.page, generateSecretKey(), { refuse: true })
    await refusing.page.goto(`${site.url}/#/login`)
    await refusing.page.getByTestId('login-extension').click()
    const refused = refusing.page.getByTestId('login-error')
    await refused.waitFor({ timeout: TIMEOUT })
    expect(await refused.textContent()).toContain('The signer refused')
    expect(await refusing.page.getByTestId('logged-in-as').count()).toBe(0)
    await refusing.page.close()
  })

  it('logs in with a NIP-46 bunker and posts a job signed remotely', async () => {
    const userKey = generateSecretKey()
    const bunker = await startBunker(relay.url, userKey)
    try {
      const { page, errors } = await openPage()
      await page.goto(`${site.url}/#/login`)
      await page.getByLabel('Bunker URI').fill(bunker.uri)
      await page.getByRole('button', { name: 'Connect', exact: true }).click()
      await page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
      expect(await page.getByTestId('logged-in-as').textContent()).toContain('remote signer')

      await page.getByTestId('agent-card').filter({ hasText: 'Timmy summarizer' }).getByTestId('hire').click()
      await page.getByLabel('Input', { exact: true }).fill(ARTICLE)
      await page.getByTestId('post-job').click()
      await page.waitForURL(/#\/jobs\/[0-9a-f]{64}$/, { timeout: TIMEOUT })
      await page.getByTestId('result-text').waitFor({ timeout: TIMEOUT })
      const jobId = page.url().split('/').at(-1)!
      expect(dvm.jobLog.state(jobId)?.request.pubkey).toBe(getPublicKey(userKey))
      expect(bunker.requests).toContain('sign_event')
      expect(errors).toEqual([])
      await page.close()
    } finally {
      bunker.close()
    }
  })

  it('shows a nostrconnect:// code to scan', async () => {
    const { page } = await openPage()
    await page.goto(`${site.url}/#/login`)
    await page.getByRole('button', { name: /nostrconnect/ }).click()
    const uri = page.getByTestId('nostrconnect-uri')
    await uri.waitFor({ timeout: TIMEOUT })
    expect(await uri.textContent()).toMatch(/^nostrconnect:\/\/[0-9a-f]{64}\?/)
    expect(await page.locator('.qr svg').count()).toBe(1)
    await page.close()
  })

  it('watches read-only by npub, and cannot post', async () => {
    const { page, errors } = await openPage()
    await page.goto(`${site.url}/#/login`)
    await page.getByLabel('Your npub').fill(npubEncode(getPublicKey(generateSecretKey())))
    await page.getByRole('button', { name: 'Watch' }).click()
    await page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
    await page.getByTestId('agent-card').filter({ hasText: 'Timmy summarizer' }).getByTestId('hire').click()
    await page.getByText('Read-only login').waitFor({ timeout: TIMEOUT })
    if (screenshotDir) {
      await page.setViewportSize({ width: 390, height: 844 })
      await page.goto(`${site.url}/#/agents`)
      await page.getByTestId('agent-card').first().waitFor({ timeout: TIMEOUT })
      await shot(page, 'mobile')
      await page.goto(`${site.url}/#/hire`)
    }
    expect(await page.getByTestId('post-job').isDisabled()).toBe(true)
    expect(errors).toEqual([])
    await page.close()
  })

  it('draws the swarm with its agents, requesters and jobs', async () => {
    const { page, errors } = await openPage()
    await page.goto(`${site.url}/#/swarm`)
    const summary = page.getByTestId('swarm-summary')
    await summary.filter({ hasText: /\b(1[1-9]\d|[2-9]\d\d) jobs/ }).waitFor({ timeout: TIMEOUT })
    const text = (await summary.textContent())!
    expect(Number(/(\d+) agents/.exec(text)![1])).toBeGreaterThanOrEqual(5)
    expect(Number(/(\d+) requesters/.exec(text)![1])).toBeGreaterThanOrEqual(24)
    // Keyboard: focus the canvas, step to a node, and it is announced.
    await page.getByTestId('swarm-canvas').focus()
    await page.keyboard.press('ArrowRight')
    await summary.filter({ hasText: 'selected' }).waitFor({ timeout: TIMEOUT })
    // Let the layout settle before the picture is taken.
    if (screenshotDir) await page.waitForTimeout(2000)
    await shot(page, 'swarm')
    expect(errors).toEqual([])
    await page.close()
  })

  it('verifies a sealed-bid auction in the browser', async () => {
    const { page, errors } = await openPage()
    await page.goto(`${site.url}/#/auction/${auctionJob}`)
    const outcome = page.getByTestId('auction-outcome')
    await outcome.waitFor({ timeout: TIMEOUT })
    expect(await outcome.textContent()).toContain('30 sats')
    await page.getByTestId('verify-auction').click()
    const verdict = page.getByTestId('verify-result')
    await verdict.waitFor({ timeout: TIMEOUT })
    expect(await verdict.textContent()).toContain('Verified')
    await shot(page, 'auction')
    expect(errors).toEqual([])
    await page.close()
  })

  it('says when no relay is reachable', async () => {
    const down = await startClientServer(['ws://127.0.0.1:9'])
    try {
      const { page } = await openPage()
      await page.goto(down.url)
      const banner = page.getByRole('alert').filter({ hasText: 'No relay reachable' })
      await banner.waitFor({ timeout: TIMEOUT })
      expect(await banner.textContent()).toContain('ws://127.0.0.1:9')
      expect(await page.getByTestId('directory-empty').count()).toBe(1)
      await shot(page, 'no-relay')
      await page.close()
    } finally {
      await down.close()
    }
  })
})
