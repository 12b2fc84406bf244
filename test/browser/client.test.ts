// The web client in a real browser against a real relay, real agents and the host's real HTTP API
// serving it: log in with a NIP-07 extension (faked with a test key) or a NIP-46 bunker, find the
// agent in the directory, hire it for a summary, watch the feedback, read the result, rate it
// (NIP-32), zap it (NIP-57 through its LNURL endpoint, paid by a fake WebLN wallet on the FAKE
// Lightning network); approve a job as the host's operator (NIP-98); plus the states a user must
// be able to read (no extension, extension refused, no relay reachable, not an operator), the swarm
// graph and auction verification.
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey, verifyEvent, type EventTemplate } from '../../nips/01.js'
import { npubEncode } from '../../nips/19.js'
import { parseJobOutcomeLabel } from '../../nips/32.js'
import { buildZapReceipt, ZAP_RECEIPT_KIND } from '../../nips/57.js'
import { buildNwcUri } from '../../nips/47.js'
import { buildJobFeedback, buildJobRequest, parseJobRequest } from '../../nips/90.js'
import { startRelay, type RunningRelay } from '../../relay/index.js'
import { createSummarizeCapability } from '../../agents/capabilities/summarize.js'
import { startHttpApi, type RunningHttpApi } from '../../agents/http.js'
import { RelayPool as AgentRelayPool } from '../../agents/pool.js'
import { FakeLightningNetwork, type FakeLightningNode } from '../../agents/lightning/fake-network.js'
import { createLnurlHandler, lnurlHttpListener, type LnurlHandler } from '../../agents/lightning/lnurl.js'
import { silentLogger } from '../../agents/logger.js'
import { createJobMetrics } from '../../agents/metrics.js'
import { createClientHandler } from '../../client/serve.js'
import { ECHO_KIND, echoCapability, startTestAgent, type TestAgent } from '../agents/helpers.js'
import { startNwcService } from '../lightning/nwc-service.js'
import { auctionFixture, collectErrors, installFakeExtension, installFakeWebln, launchBrowser, publishAll, queryRelay, screenshotDir, skipReason, startBunker, startClientServer, swarmFixture } from './harness.js'

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

const operatorKey = generateSecretKey()

describe.skipIf(skipReason !== '')(`web client in Chromium${skipReason ? ` (${skipReason})` : ''}`, () => {
  let relay: RunningRelay
  let dvm: TestAgent
  let gatekeeper: TestAgent
  let site: RunningHttpApi
  let browser: Browser
  let auctionJob: string
  let lightning: FakeLightningNetwork
  let wallet: FakeLightningNode
  let lnurl: LnurlHandler
  const zapperKey = generateSecretKey()

  beforeAll(async () => {
    relay = await startRelay({ port: 0, dbPath: ':memory:', config: { verifierThreads: 0 } })
    dvm = await startTestAgent(relay.url, [createSummarizeCapability()], { name: 'summarizer' })
    // Every kind 5900 job waits for an operator.
    gatekeeper = await startTestAgent(relay.url, [echoCapability()], { name: 'gatekeeper', settings: { heartbeatSeconds: 30, approval: { kinds: [ECHO_KIND] } } })
    lightning = new FakeLightningNetwork()
    wallet = lightning.createNode('user wallet', { balanceMsats: 1_000_000 })
    const agentNode = lightning.createNode('summarizer')
    const clientHandler = createClientHandler({ relays: [relay.url] })
    let zapListener: ReturnType<typeof lnurlHttpListener> = () => false
    // The page is served by the host's HTTP API, as `timmy start` serves it: /api/* and /healthz are the host's.
    site = await startHttpApi({
      host: '127.0.0.1',
      port: 0,
      agents: [dvm.agent, gatekeeper.agent],
      registry: createJobMetrics().registry,
      log: silentLogger,
      operators: () => new Set([getPublicKey(operatorKey)]),
      staticHandler: (req, res) => zapListener(req, res) || clientHandler(req, res),
    })
    lnurl = createLnurlHandler({ wallet: agentNode, agents: { summarizer: { pubkey: dvm.agent.pubkey, zapSigner: { pubkey: getPublicKey(zapperKey), sign: (t: EventTemplate) => finalizeEvent(t, zapperKey) } } }, baseUrl: site.url })
    zapListener = lnurlHttpListener(lnurl)
    const now = Math.floor(Date.now() / 1000)
    const auction = auctionFixture(now)
    auctionJob = auction.jobId
    // The summarizer's profile, newer than the one it published, with its lightning address on this host.
    const profile = finalizeEvent({ kind: 0, created_at: now + 1, tags: [], content: JSON.stringify({ name: 'summarizer', display_name: 'Timmy summarizer', about: 'Summaries for sats.', lud16: lnurl.lightningAddress('summarizer') }) }, dvm.secretKey)
    await publishAll(relay.url, [profile, ...swarmFixture({ agents: 4, requesters: 24, jobs: 110, now }), ...auction.events])
    browser = await launchBrowser()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await site?.close()
    for (const agent of [dvm, gatekeeper]) {
      await agent?.agent.stop()
      agent?.jobLog.close()
    }
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

    // Rate it: a NIP-32 job-outcome label signed by the extension, on the relay.
    const form = page.getByTestId('rate-form')
    await form.getByLabel('Outcome').selectOption('success')
    await form.getByRole('radio', { name: /^4/ }).check()
    await form.getByLabel(/Comment/).fill('Short and right.')
    await shot(page, 'rate')
    await form.getByTestId('rate-send').click()
    const rating = page.getByTestId('rating').filter({ hasText: 'by you' })
    await rating.waitFor({ timeout: TIMEOUT })
    expect(await rating.textContent()).toContain('Success')
    expect(await rating.getByRole('img').getAttribute('aria-label')).toBe('quality 4 of 5')
    expect(await page.getByTestId('rate-form').count()).toBe(0)
    const [label] = await queryRelay(relay.url, { kinds: [1985], authors: [getPublicKey(userKey)] })
    expect(parseJobOutcomeLabel(label)).toMatchObject({ agent: dvm.agent.pubkey, job: jobId, kind: 5001, outcome: 'success', quality: 4, comment: 'Short and right.' })
    expect(errors).toEqual([])
    await page.close()
  })

  it('zaps an agent through its lightning address and shows the validated receipt', async () => {
    const { page, errors } = await openPage()
    const userKey = generateSecretKey()
    await installFakeExtension(page, userKey)
    const paid = await installFakeWebln(page, wallet)
    // A receipt signed by someone other than the agent's zap server: shown as ignored, never counted.
    const forged = finalizeEvent(
      buildZapReceipt({ zapRequestJson: JSON.stringify(finalizeEvent({ kind: 9734, created_at: 1, tags: [['p', dvm.agent.pubkey], ['amount', '5000000'], ['relays', relay.url]], content: '' }, userKey)), bolt11: 'lnbcrt1forged', paidAt: Math.floor(Date.now() / 1000) }),
      generateSecretKey(),
    )
    await publishAll(relay.url, [forged])
    await page.goto(`${site.url}/#/login`)
    await page.getByTestId('login-extension').click()
    await page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
    await page.getByTestId('agent-card').filter({ hasText: 'Timmy summarizer' }).getByTestId('zap-link').click()
    await page.getByLabel('Amount (sats)').fill('21')
    await page.getByLabel(/Comment/).fill('for the summary')
    await page.getByTestId('zap-send').click()
    // The fake WebLN wallet pays the checked invoice; the host (here the test) publishes the receipt.
    await page.getByTestId('zap-status').filter({ hasText: 'Paid' }).waitFor({ timeout: TIMEOUT })
    expect(paid).toHaveLength(1)
    const [receipt] = await lnurl.collectReceipts()
    await publishAll(relay.url, [receipt.receipt])
    lnurl.acknowledge(receipt.paymentHash)
    await page.getByTestId('zap-status').filter({ hasText: 'confirmed' }).waitFor({ timeout: TIMEOUT })
    expect(await page.getByTestId('zap-total').textContent()).toMatch(/21 sats from 1 zap\b/)
    expect(await page.getByTestId('zap-receipt').first().textContent()).toContain('for the summary')
    expect(await page.getByText('1 receipt ignored').count()).toBe(1)
    const request = JSON.parse(receipt.receipt.tags.find((t) => t[0] === 'description')![1]) as { pubkey: string }
    expect(request.pubkey).toBe(getPublicKey(userKey))
    expect((await queryRelay(relay.url, { kinds: [ZAP_RECEIPT_KIND], '#p': [dvm.agent.pubkey] })).length).toBe(2)
    await shot(page, 'zap')
    expect(errors).toEqual([])
    await page.close()
  })

  it('zaps the agent for a job from the job view: the zap request names the job', async () => {
    const { page, errors } = await openPage()
    const userKey = generateSecretKey()
    await installFakeExtension(page, userKey)
    await installFakeWebln(page, wallet)
    const request = finalizeEvent(buildJobRequest({ kind: 5001, inputs: [{ type: 'text', value: ARTICLE }], params: { length: ['1'] }, targets: [dvm.agent.pubkey], createdAt: Math.floor(Date.now() / 1000) }), userKey)
    await publishAll(relay.url, [request])
    await page.goto(`${site.url}/#/login`)
    await page.getByTestId('login-extension').click()
    await page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
    await page.goto(`${site.url}/#/jobs/${request.id}`)
    await page.getByTestId('result-text').waitFor({ timeout: TIMEOUT })
    await page.getByTestId('zap-for-job-link').click()
    await page.waitForURL(new RegExp(`#/agent/${dvm.agent.pubkey}\\?job=${request.id}$`), { timeout: TIMEOUT })
    expect(await page.getByTestId('zap-for-job').textContent()).toContain(request.id.slice(0, 12))
    await page.getByLabel('Amount (sats)').fill('50')
    await page.getByTestId('zap-send').click()
    await page.getByTestId('zap-status').filter({ hasText: 'Paid' }).waitFor({ timeout: TIMEOUT })
    const [receipt] = await lnurl.collectReceipts()
    lnurl.acknowledge(receipt.paymentHash)
    const zapRequest = JSON.parse(receipt.receipt.tags.find((t) => t[0] === 'description')![1]) as { pubkey: string; tags: string[][] }
    expect(zapRequest.pubkey).toBe(getPublicKey(userKey))
    expect(zapRequest.tags).toContainEqual(['e', request.id])
    expect(receipt.receipt.tags).toContainEqual(['e', request.id])
    expect(errors).toEqual([])
    await page.close()
  })

  it('shows the invoice and QR code to pay when the browser has no wallet', async () => {
    const { page, errors } = await openPage()
    await installFakeExtension(page, generateSecretKey())
    await page.goto(`${site.url}/#/login`)
    await page.getByTestId('login-extension').click()
    await page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
    await page.goto(`${site.url}/#/agent/${dvm.agent.pubkey}`)
    await page.getByRole('button', { name: '210 sats', exact: true }).click()
    await page.getByTestId('zap-send').click()
    const invoice = page.getByTestId('zap-invoice')
    await invoice.waitFor({ timeout: TIMEOUT })
    expect(await invoice.textContent()).toContain('210 sats')
    expect(await invoice.locator('.qr svg').count()).toBe(1)
    expect(await invoice.getByRole('link', { name: 'Open in wallet' }).getAttribute('href')).toMatch(/^lightning:lnbcrt2100n1/)
    expect(errors).toEqual([])
    await page.close()
  })

  it('pays a payment-required job through a Nostr Wallet Connect URI kept for the tab', async () => {
    const agentKey = generateSecretKey()
    const now = Math.floor(Date.now() / 1000)
    const requester = generateSecretKey()
    // Addressed to an agent of its own, so the gatekeeper leaves it alone (it would queue it for approval).
    const request = finalizeEvent(buildJobRequest({ kind: ECHO_KIND, inputs: [{ type: 'text', value: 'pay me first' }], targets: [getPublicKey(agentKey)], createdAt: now }), requester)
    const payee = lightning.createNode('nwc payee')
    const invoice = await payee.createInvoice({ amountMsats: 5_000, description: 'job', expirySeconds: 600 })
    const feedback = finalizeEvent(buildJobFeedback({ request: parseJobRequest(request), status: 'payment-required', amountMsats: 5_000, bolt11: invoice.bolt11, createdAt: now }), agentKey)
    await publishAll(relay.url, [request, feedback])
    const serviceKey = generateSecretKey()
    const clientKey = generateSecretKey()
    const servicePool = new AgentRelayPool({ verify: verifyEvent })
    const service = await startNwcService({ node: wallet, relays: servicePool, relayUrls: [relay.url], serviceSecretKey: serviceKey, clientPubkey: getPublicKey(clientKey), encryptions: ['nip44_v2', 'nip04'], methods: ['pay_invoice'], now: () => Math.floor(Date.now() / 1000) })
    const uri = buildNwcUri({ walletPubkey: getPublicKey(serviceKey), relays: [relay.url], secret: clientKey })

    const { page, errors } = await openPage()
    await page.goto(`${site.url}/#/jobs/${request.id}`)
    const connect = page.getByTestId('nwc-connect')
    await connect.waitFor({ timeout: TIMEOUT })
    await connect.getByLabel('Connect wallet (NWC)').fill('nostr+walletconnect://not-a-key?relay=ws://x')
    await connect.getByRole('button', { name: 'Connect' }).click()
    expect(await page.getByTestId('nwc-problem').textContent()).toContain('wallet pubkey must be 64 hex characters')
    await connect.getByLabel('Connect wallet (NWC)').fill(uri)
    await connect.getByRole('button', { name: 'Connect' }).click()
    expect(await page.evaluate(() => [sessionStorage.getItem('timmy.nwc'), Object.keys(localStorage).some((k) => localStorage.getItem(k)?.includes('walletconnect'))])).toEqual([uri, false])
    await page.getByTestId('pay-nwc').click()
    const paid = page.getByTestId('paid')
    await paid.waitFor({ timeout: TIMEOUT })
    expect(await paid.textContent()).toContain('Paid with NWC')
    expect((await payee.lookupInvoice(invoice.paymentHash)).state).toBe('settled')
    expect(service.requests).toEqual([{ method: 'pay_invoice', encryption: 'nip44_v2', params: { invoice: invoice.bolt11 } }])
    expect(errors).toEqual([])
    await page.close()
    service.close()
    servicePool.close()
  })

  it('lets the operator approve a waiting job, signed with NIP-98, and tells others they are not operators', async () => {
    const requester = generateSecretKey()
    const job = finalizeEvent(buildJobRequest({ kind: ECHO_KIND, inputs: [{ type: 'text', value: 'needs a human' }], targets: [gatekeeper.agent.pubkey], createdAt: Math.floor(Date.now() / 1000) }), requester)
    await publishAll(relay.url, [job])

    const stranger = await openPage()
    await installFakeExtension(stranger.page, generateSecretKey())
    await stranger.page.goto(`${site.url}/#/login`)
    await stranger.page.getByTestId('login-extension').click()
    await stranger.page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
    await stranger.page.getByRole('link', { name: 'Operator' }).click()
    const waiting = stranger.page.getByTestId('approval').filter({ hasText: job.id.slice(0, 8) })
    await waiting.waitFor({ timeout: TIMEOUT })
    await waiting.getByRole('button', { name: /^Approve/ }).click()
    const refused = stranger.page.getByTestId('approval-error')
    await refused.waitFor({ timeout: TIMEOUT })
    expect(await refused.textContent()).toContain('is not an operator of this host')
    expect(gatekeeper.jobLog.state(job.id)?.status).toBe('awaiting-approval')
    await stranger.page.close()

    const { page, errors } = await openPage()
    await installFakeExtension(page, operatorKey)
    await page.goto(`${site.url}/#/login`)
    await page.getByTestId('login-extension').click()
    await page.getByTestId('logged-in-as').waitFor({ timeout: TIMEOUT })
    await page.goto(`${site.url}/#/operator`)
    const health = page.getByTestId('host-health')
    await health.waitFor({ timeout: TIMEOUT })
    expect(await health.textContent()).toContain('all agents running')
    expect(await page.getByTestId('operator-agent').count()).toBe(2)
    expect(await page.getByTestId('earnings').textContent()).toContain('summarizer')
    const item = page.getByTestId('approval').filter({ hasText: job.id.slice(0, 8) })
    await item.waitFor({ timeout: TIMEOUT })
    expect(await item.textContent()).toContain('need operator approval')
    await shot(page, 'operator')
    await item.getByRole('button', { name: /^Approve/ }).click()
    await item.waitFor({ state: 'detached', timeout: TIMEOUT })
    await page.getByTestId('approvals-empty').waitFor({ timeout: TIMEOUT })
    await expect.poll(() => gatekeeper.jobLog.state(job.id)?.status, { timeout: TIMEOUT }).toBe('completed')
    expect(gatekeeper.jobLog.state(job.id)?.approval).toMatchObject({ decision: 'approved', by: `http:${npubEncode(getPublicKey(operatorKey))}` })
    // The treasury is read with a signed GET; this host runs without payments, and the page says so.
    await page.getByTestId('treasury-load').click()
    const treasury = page.getByTestId('treasury-error')
    await treasury.waitFor({ timeout: TIMEOUT })
    expect(await treasury.textContent()).toContain('payments are not running on this host')
    // Chromium logs every non-2xx fetch to the console; that 503 is the answer shown above.
    expect(errors.filter((e) => !e.includes('status of 503'))).toEqual([])
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
      // The rating is signed by the bunker too.
      await page.getByTestId('rate-form').getByRole('radio', { name: /^5/ }).check()
      await page.getByTestId('rate-send').click()
      await page.getByTestId('rating').filter({ hasText: 'by you' }).waitFor({ timeout: TIMEOUT })
      const [label] = await queryRelay(relay.url, { kinds: [1985], authors: [getPublicKey(userKey)] })
      expect(parseJobOutcomeLabel(label)).toMatchObject({ job: jobId, outcome: 'success', quality: 5 })
      expect(bunker.requests.filter((m) => m === 'sign_event').length).toBeGreaterThanOrEqual(2)
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
    await page.goto(`${site.url}/#/jobs/${auctionJob}`)
    await page.getByRole('link', { name: 'Auction for this job' }).click()
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
