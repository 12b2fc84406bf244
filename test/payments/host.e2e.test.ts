// The host with payments on and its default FAKE wallet: profiles and announcements that say FAKE
// and carry the agent's LNURL and BOLT12 offer, a paid job the way `timmy job --wallet fake-host`
// pays it, and a NIP-57 zap to an agent whose receipt validates — while forged ones do not.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bech32 } from '@scure/base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from '../../nips/01.js'
import { buildHttpAuth, encodeAuthorizationHeader } from '../../nips/98.js'
import { addOperator } from '../../agents/operators.js'
import { buildZapRequest, validateZapReceipt, ZAP_RECEIPT_KIND } from '../../nips/57.js'
import { buildJobOutcomeLabel } from '../../nips/32.js'
import { HANDLER_KIND } from '../../nips/89.js'
import { loadConfig } from '../../agents/config.js'
import { loadEventCrypto } from '../../agents/crypto.js'
import { startHost, type RunningHost } from '../../agents/host.js'
import { decodeOffer } from '../../agents/lightning/bolt12/index.js'
import { silentLogger } from '../../agents/logger.js'
import { createPaymentResponder, fakeHostPayer } from '../../agents/payments/requester.js'
import { sendJob } from '../../agents/requester.js'
import { echoCapability, ECHO_KIND, TestRequester } from '../agents/helpers.js'

const PRICE = 3000

describe('a host with payments on the FAKE network', () => {
  let home: string
  let host: RunningHost
  let requester: TestRequester

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'timmy-payments-host-'))
    const config = loadConfig({ env: {}, overrides: { home, relayPort: 0, httpPort: 0, keyLogN: 4, payments: { enabled: true, pollMs: 50 } } })
    host = await startHost({ config, passphrase: 'payments test', capabilities: [echoCapability({ price: PRICE })], log: silentLogger })
    requester = await TestRequester.create([host.relay.url])
  })

  afterAll(async () => {
    requester?.close()
    await host?.close()
    if (home) rmSync(home, { recursive: true, force: true })
  })

  const agent = () => host.agents[0]

  it('labels the FAKE wallet and publishes the LNURL and BOLT12 offer in the profile and the announcement', async () => {
    const [profile] = await requester.query([{ kinds: [0], authors: [agent().pubkey] }])
    const metadata = JSON.parse(profile.content) as Record<string, string>
    expect(metadata.about).toMatch(/FAKE Lightning \(test sats, not real\)/)
    // The loopback default URL has a port, which a lightning address cannot carry: the LNURL stands in.
    expect(metadata.lud16).toBeUndefined()
    expect(metadata.lud06).toBe(host.payments.lnurl.lnurl('echo-5900'))
    expect(decodeOffer(metadata.lno).offerIssuer).toBe('FAKE host')
    const [announcement] = await requester.query([{ kinds: [HANDLER_KIND], authors: [agent().pubkey] }])
    expect(JSON.parse(announcement.content)).toMatchObject({ lud06: metadata.lud06, lno: metadata.lno, about: expect.stringMatching(/FAKE/) })
  })

  it('a job is paid through the FAKE-only pay endpoint, as `timmy job --wallet fake-host` does', async () => {
    const said: string[] = []
    const respond = createPaymentResponder({ payer: fakeHostPayer(host.http.url), maxMsats: PRICE, say: (line) => said.push(line) })
    const payments: Promise<number>[] = []
    const { result } = await sendJob({
      kind: ECHO_KIND,
      inputs: [{ type: 'text', value: 'paid with FAKE sats' }],
      relays: [host.relay.url],
      secretKey: generateSecretKey(),
      crypto: await loadEventCrypto(),
      timeoutMs: 10_000,
      onFeedback: (update) => update.status === 'payment-required' && payments.push(respond(update)),
    })
    expect(await Promise.all(payments)).toEqual([PRICE])
    expect(result).toMatchObject({ content: 'echo: paid with FAKE sats', amountMsats: PRICE })
    expect(said.join('\n')).toMatch(/paid 3000 msats with FAKE lightning via .*: settled/)
    await expect.poll(() => host.payments.treasury.summary('echo-5900')).toMatchObject({ earnedMsats: PRICE, payments: 1 })
  })

  it('the FAKE pay endpoint refuses bad input with a reason', async () => {
    const post = (body: unknown) => fetch(`${host.http.url}/api/fake-lightning/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    const malformed = await post({ bolt11: 'lnbcrt1notaninvoice' })
    expect(malformed.status).toBe(400)
    expect(((await malformed.json()) as { error: string }).error).toMatch(/malformed BOLT11/)
    expect((await post({})).status).toBe(400)
    expect((await fetch(`${host.http.url}/api/fake-lightning/pay`)).status).toBe(405)
  })

  it('a zap to an agent yields a receipt that validates; forged receipts do not', async () => {
    const lnurl = host.payments.lnurl.lnurl('echo-5900')
    const url = new TextDecoder().decode(bech32.decodeToBytes(lnurl).bytes)
    const pay = (await (await fetch(url)).json()) as { callback: string; allowsNostr: boolean; nostrPubkey: string }
    expect(pay.allowsNostr).toBe(true)
    const zapRequest = requester.sign(buildZapRequest({ recipientPubkey: agent().pubkey, amountMsats: 5000, relays: [host.relay.url], lnurl, comment: 'thanks', createdAt: Math.floor(Date.now() / 1000) }))
    const invoice = (await (await fetch(`${pay.callback}?amount=5000&nostr=${encodeURIComponent(JSON.stringify(zapRequest))}`)).json()) as { pr: string }
    const receiptSeen = requester.waitFor([{ kinds: [ZAP_RECEIPT_KIND], '#p': [agent().pubkey] }])
    expect((await fakeHostPayer(host.http.url).pay(invoice.pr)).state).toBe('succeeded')
    await host.payments.tick()
    const receipt = await receiptSeen

    const expected = { nostrPubkey: pay.nostrPubkey, recipientPubkey: agent().pubkey, lnurl }
    const valid = validateZapReceipt(receipt, expected)
    expect(valid).toMatchObject({ ok: true, zap: { amountMsats: 5000, senderPubkey: requester.pubkey, comment: 'thanks' } })

    const { id: _id, sig: _sig, pubkey: _pubkey, ...template } = receipt
    const forger = generateSecretKey()
    expect(validateZapReceipt(finalizeEvent(template, forger), expected)).toEqual({ ok: false, reason: "zap receipt is not signed by the recipient's LNURL server (nostrPubkey)" })
    const otherAmount = JSON.stringify({ ...zapRequest, tags: zapRequest.tags.map((t) => (t[0] === 'amount' ? ['amount', '9000'] : t)) })
    const tampered: NostrEvent = { ...receipt, tags: receipt.tags.map((t) => (t[0] === 'description' ? ['description', otherAmount] : t)) }
    expect(validateZapReceipt(tampered, expected)).toMatchObject({ ok: false, reason: expect.stringMatching(/invalid/) })
  })

  it('serves the treasury to an operator only, and reputation to anyone', async () => {
    const url = `${host.http.url}/api/treasury`
    const operator = generateSecretKey()
    addOperator(home, getPublicKey(operator))
    const unsigned = await fetch(url)
    expect(unsigned.status).toBe(401)
    const auth = encodeAuthorizationHeader(finalizeEvent(buildHttpAuth({ url, method: 'GET', createdAt: Math.floor(Date.now() / 1000) }), operator))
    const signed = await fetch(url, { headers: { authorization: auth } })
    expect(signed.status).toBe(200)
    const { agents } = (await signed.json()) as { agents: { agent: string; earnedMsats: number }[] }
    expect(agents.find((a) => a.agent === 'echo-5900')?.earnedMsats).toBe(PRICE)

    const reputation = await fetch(`${host.http.url}/api/reputation/${agent().pubkey}`)
    expect(reputation.status).toBe(200)
    const summary = (await reputation.json()) as { agent: string; overall: { value: number } }
    expect(summary.agent).toBe(agent().pubkey)
    expect(summary.overall.value).toBeGreaterThan(0)
    const bad = await fetch(`${host.http.url}/api/reputation/not-a-key`)
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: string }).error).toMatch(/pubkey/)
  })

  it('counts a zap for a job as the labeller’s payment in the agent’s reputation', async () => {
    const lnurl = host.payments.lnurl.lnurl('echo-5900')
    const url = new TextDecoder().decode(bech32.decodeToBytes(lnurl).bytes)
    const pay = (await (await fetch(url)).json()) as { callback: string; nostrPubkey: string }
    const job = 'a1'.repeat(32)
    const zapRequest = requester.sign(buildZapRequest({ recipientPubkey: agent().pubkey, amountMsats: 2_000_000, relays: [host.relay.url], lnurl, eventId: job, createdAt: Math.floor(Date.now() / 1000) }))
    const invoice = (await (await fetch(`${pay.callback}?amount=2000000&nostr=${encodeURIComponent(JSON.stringify(zapRequest))}`)).json()) as { pr: string }
    const receiptSeen = requester.waitFor([{ kinds: [ZAP_RECEIPT_KIND], '#e': [job] }])
    expect((await fakeHostPayer(host.http.url).pay(invoice.pr)).state).toBe('succeeded')
    await host.payments.tick()
    await receiptSeen
    await requester.publish(buildJobOutcomeLabel({ agent: agent().pubkey, job, kind: ECHO_KIND, outcome: 'success', quality: 5, amountMsats: 2_000_000, createdAt: Math.floor(Date.now() / 1000) }))

    const response = await fetch(`${host.http.url}/api/reputation/${agent().pubkey}?evidence=500`)
    const summary = (await response.json()) as { zaps: { zapper: string; payments: number }; evidence: { job: string; paidMsats: number; standing: number }[]; overall: { untrustedWeight: number } }
    // The host knows its own agents' zap server key; the requester has no trust path, so only the payment gives its label weight.
    expect(summary.zaps).toMatchObject({ zapper: pay.nostrPubkey, payments: 1 })
    expect(summary.evidence.find((e) => e.job === job)).toMatchObject({ paidMsats: 2_000_000, standing: 0 })
    expect(summary.overall.untrustedWeight).toBeCloseTo(2 / 3, 2)
  })
})
