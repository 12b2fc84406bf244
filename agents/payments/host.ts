// The host's side of payments: one wallet for all its agents (the FAKE network unless configured),
// the treasury and the escrow in $TIMMY_HOME, lightning addresses (LNURL-pay + NIP-57 zaps) for
// every agent, a BOLT12 offer where the wallet can receive one, and the periodic work: zap receipts
// published, escrows moved along, approved withdrawals paid.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { finalizeEvent, getPublicKey, type EventTemplate, type NostrEvent } from '../../nips/01.js'
import { Escrow } from '../lightning/escrow.js'
import { FakeLightningNetwork, type FakeLightningNode } from '../lightning/fake-network.js'
import { createWallet, withWalletCredential } from '../lightning/index.js'
import { resolveSecret, type SecretStore } from '../secrets.js'
import { createLnurlHandler, lnurlHttpListener, sqliteZapStore, type LnurlAgent, type LnurlHandler } from '../lightning/lnurl.js'
import { Treasury, treasuryPath } from '../lightning/treasury.js'
import { LND_CANNOT_RECEIVE_BOLT12, WalletError, type LightningWallet } from '../lightning/wallet.js'
import type { TimmyConfig } from '../config.js'
import type { Logger } from '../logger.js'
import type { AgentPaymentsOptions } from '../payments.js'
import { RelayPool, relayUrls } from '../pool.js'
import { fakeLightningPayHandler } from './fake-pay.js'

export interface HostPaymentsOptions {
  config: TimmyConfig
  /** Signs zap receipts: the LNURL server's `nostrPubkey`. */
  zapSecretKey: Uint8Array
  /** The host's relays: receipts go there besides the zap request's own. */
  relays: string[]
  /** Where the HTTP API listens; the default public URL. */
  httpPort: number
  log: Logger
  /** Unix milliseconds. */
  clock?: () => number
  /** Tests share one FAKE network between the host and their payers. */
  fakeNetwork?: FakeLightningNetwork
  /** Test doubles of the REST/NWC backends. */
  wallet?: LightningWallet
  /** Encrypted credentials (agents/secrets.ts): the wallet's macaroon, rune or NWC URI. */
  secrets?: SecretStore
  /** How often zap receipts, escrows and withdrawals are looked at. Default 1000 ms. */
  tickMs?: number
}

export interface HostPayments {
  wallet: LightningWallet
  treasury: Treasury
  escrow?: Escrow
  lnurl: LnurlHandler
  /** The FAKE payer behind POST /api/fake-lightning/pay (FAKE wallets only). */
  fakePayer?: FakeLightningNode
  /** What an agent needs to ask for payment and be zapped; undefined when payments are off. */
  forAgent(name: string, pubkey: string): Promise<AgentPaymentsOptions | undefined>
  /** Mounted before the API's own routes: LNURL endpoints and, for FAKE wallets, the fake pay endpoint. */
  httpHandlers: ((req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>)[]
  /** One round of the periodic work (also run by the timer). */
  tick(): Promise<void>
  close(): Promise<void>
}

const LIGHTNING_ADDRESS_NAME = /^[a-z0-9._-]+$/

export async function startHostPayments(options: HostPaymentsOptions): Promise<HostPayments> {
  const { config, log } = options
  const clock = options.clock ?? Date.now
  const settings = config.payments
  const paymentsDir = join(config.home, 'payments')
  mkdirSync(paymentsDir, { recursive: true, mode: 0o700 })
  const pool = new RelayPool({ verify: () => true, clock, log })
  const fakeNetwork = config.wallet.kind === 'fake' && !options.wallet ? (options.fakeNetwork ?? new FakeLightningNetwork({ clock, log: (line) => log.info({}, line) })) : options.fakeNetwork
  const { config: walletConfig, inClear } = withWalletCredential(config.wallet, (secret, variable) =>
    options.secrets ? resolveSecret(secret, { store: options.secrets, variable, log }) : undefined,
  )
  if (inClear) log.warn({ wallet: walletConfig.kind }, 'the wallet credential is in config.json in clear: move it to the encrypted secret store (`timmy secrets set`) and remove it from the file')
  const wallet =
    options.wallet ??
    (await createWallet(walletConfig, { name: 'host', relays: pool, log: (line) => log.warn({ wallet: config.wallet.kind }, line), ...(fakeNetwork && { fakeNetwork }) }))
  const treasury = Treasury.open(treasuryPath(config.home), { wallet, clock, log: (msg, extra) => log.info(extra ?? {}, msg) })
  const escrow = wallet.supportsHoldInvoices
    ? Escrow.open(join(paymentsDir, 'escrow.sqlite'), {
        wallet,
        clock,
        workTimeoutSeconds: settings.workTimeoutSeconds,
        disputeWindowSeconds: settings.disputeWindowSeconds,
        invoiceExpirySeconds: settings.invoiceExpirySeconds,
        log: (msg, extra) => log.info(extra ?? {}, msg),
      })
    : undefined
  const zapStore = sqliteZapStore(join(paymentsDir, 'zaps.sqlite'))
  const zapSigner = { pubkey: getPublicKey(options.zapSecretKey), sign: (t: EventTemplate): NostrEvent => finalizeEvent(t, options.zapSecretKey) }
  const lnurlAgents: Record<string, LnurlAgent> = {}
  const baseUrl = settings.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${options.httpPort}`
  const lnurl = createLnurlHandler({ wallet, agents: lnurlAgents, baseUrl, clock, store: zapStore })
  const fakePayer = wallet.fake && fakeNetwork ? (fakeNetwork.node('fake-requester') ?? fakeNetwork.createNode('fake-requester')) : undefined
  const httpHandlers: HostPayments['httpHandlers'] = [lnurlHttpListener(lnurl, (err) => log.error({ err: err.message }, 'LNURL request failed'))]
  if (fakePayer) httpHandlers.push(fakeLightningPayHandler(fakePayer, log))
  if (wallet.fake) log.warn({}, 'FAKE lightning: the host wallet is the in-process FAKE network; its sats are not real')

  const forAgent = async (name: string, pubkey: string): Promise<AgentPaymentsOptions | undefined> => {
    const own = config.agents[name]?.payments ?? {}
    const payable = LIGHTNING_ADDRESS_NAME.test(name)
    if (payable) lnurlAgents[name] = { pubkey, zapSigner, description: `Pay ${name}, a Timmy agent${wallet.fake ? ' (FAKE sats, not real)' : ''}` }
    else log.warn({ agent: name }, 'agent name is not a valid lightning address name (a-z0-9._-): it cannot be zapped')
    // A lightning address is name@domain (LUD-16); behind a URL with a port (the loopback default) the
    // profile carries the bech32 LNURL instead (lud06), which zapping clients read as well.
    const lud16 = payable && new URL(baseUrl).port === '' ? lnurl.lightningAddress(name) : undefined
    const lud06 = payable && !lud16 ? lnurl.lnurl(name) : undefined
    let bolt12Offer: string | undefined
    if (wallet.supportsBolt12) {
      bolt12Offer = (await wallet.createOffer({ description: `${wallet.fake ? 'FAKE ' : ''}Timmy agent ${name}` })).bolt12
    } else {
      log.info({ agent: name, wallet: wallet.kind }, wallet.kind === 'lnd' ? LND_CANNOT_RECEIVE_BOLT12 : `the ${wallet.kind} wallet cannot receive BOLT12: no offer published`)
    }
    if (!settings.enabled) {
      // No payment-required, but the agent can still be zapped and show its offer.
      return { wallet, treasury, terms: { payBeforeWork: true, escrow: false, invoiceExpirySeconds: settings.invoiceExpirySeconds, pollMs: settings.pollMs }, charge: false, ...(lud16 && { lud16 }), ...(lud06 && { lud06 }), ...(bolt12Offer && { bolt12Offer }) }
    }
    const terms = { payBeforeWork: own.payBeforeWork ?? settings.payBeforeWork, escrow: own.escrow ?? settings.escrow, invoiceExpirySeconds: settings.invoiceExpirySeconds, pollMs: settings.pollMs }
    if (terms.escrow && !escrow) throw new WalletError('unsupported', `agent ${name}: escrow needs hold invoices, which the ${wallet.kind} wallet does not support`)
    return { wallet, treasury, terms, ...(escrow && { escrow }), ...(lud16 && { lud16 }), ...(lud06 && { lud06 }), ...(bolt12Offer && { bolt12Offer }) }
  }

  const hostRelays = relayUrls(options.relays)
  const publishReceipts = async () => {
    for (const zap of await lnurl.collectReceipts()) {
      const outcomes = await pool.publish(relayUrls([...zap.relays, ...hostRelays]), zap.receipt).catch(() => [])
      if (outcomes.some((o) => o.ok)) {
        lnurl.acknowledge(zap.paymentHash)
        log.info({ agent: zap.agent, receipt: zap.receipt.id, paymentHash: zap.paymentHash }, 'zap receipt published')
      } else {
        log.warn({ agent: zap.agent, outcomes }, 'zap receipt not accepted yet: will retry')
      }
    }
  }
  let round: Promise<void> | undefined
  const tick = () => {
    round ??= (async () => {
      for (const [what, step] of [
        ['zap receipts', publishReceipts],
        ['escrow', async () => void (await escrow?.tick())],
        ['treasury', async () => void (await treasury.process())],
      ] as const) {
        await step().catch((err: Error) => log.warn({ err: err.message }, `payments: ${what} round failed`))
      }
    })().finally(() => (round = undefined))
    return round
  }
  const timer = setInterval(() => void tick(), options.tickMs ?? 1000)
  timer.unref()

  return {
    wallet,
    treasury,
    ...(escrow && { escrow }),
    lnurl,
    ...(fakePayer && { fakePayer }),
    forAgent,
    httpHandlers,
    tick,
    async close() {
      clearInterval(timer)
      await round
      pool.close()
      escrow?.close()
      treasury.close()
      zapStore.close()
      if ('close' in wallet && typeof wallet.close === 'function') (wallet as { close(): void }).close()
    },
  }
}
