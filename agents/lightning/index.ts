// Payments for agents: one LightningWallet interface over the FAKE in-process network (the
// zero-config default), LND REST, Core Lightning REST and Nostr Wallet Connect; LNURL-pay with
// NIP-57 zaps; hold-invoice escrow; a double-entry treasury. BOLT12 lives in ./bolt12.
import { createClnRestWallet } from './cln-rest.js'
import { FakeLightningNetwork } from './fake-network.js'
import { createLndRestWallet } from './lnd-rest.js'
import { connectNwcWallet, type NwcRelayClient } from './nwc.js'
import type { FetchLike, LightningWallet } from './wallet.js'
import { walletCredential, type WalletConfig } from './wallet-config.js'

export * from './wallet.js'
export { maskWalletConfig, WALLET_SECRET_FIELDS, WALLET_SECRETS, walletConfigSchema, walletCredential, withWalletCredential, type WalletConfig } from './wallet-config.js'
export { decodeBolt11, signBolt11, DEFAULT_BOLT11_EXPIRY_SECONDS, type Bolt11Fields, type Bolt11Network, type DecodedBolt11 } from './bolt11.js'
export { FakeLightningNetwork, FakeLightningNode, seededRandom, type FakeNetworkOptions, type FakePayment } from './fake-network.js'
export { LndRestWallet, createLndRestWallet, type LndRestOptions } from './lnd-rest.js'
export { ClnRestWallet, createClnRestWallet, type ClnRestOptions } from './cln-rest.js'
export { NwcWallet, connectNwcWallet, type NwcRelayClient, type NwcWalletOptions } from './nwc.js'
export {
  createLnurlHandler, encodeLnurl, lnurlHttpListener, memoryZapStore, sqliteZapStore, type LnurlAgent, type LnurlHandler,
  type LnurlHandlerOptions, type LnurlResponse, type PendingZap, type ZapReceiptToPublish, type ZapSigner, type ZapStore,
} from './lnurl.js'
export { Escrow, EscrowError, type EscrowOptions, type EscrowRecord, type EscrowState } from './escrow.js'
export {
  ACCOUNTS, registerTreasuryCommands, Treasury, TreasuryError, treasuryPath, type Account, type AgentBalance, type EarningsSummary,
  type LedgerEntry, type LedgerTransaction, type TreasuryOptions, type Withdrawal, type WithdrawalState,
} from './treasury.js'

export interface WalletDependencies {
  /** Shared by every agent of a host using the fake wallet, so that they can pay each other. */
  fakeNetwork?: FakeLightningNetwork
  /** The fake node's name (the agent's name). */
  name: string
  /** For NWC. */
  relays?: NwcRelayClient
  fetch?: FetchLike
  log?: (line: string) => void
}

/** The wallet a configuration describes. The fake wallet logs that its sats are not real. */
export async function createWallet(config: WalletConfig, deps: WalletDependencies): Promise<LightningWallet> {
  switch (config.kind) {
    case 'fake': {
      const network = deps.fakeNetwork ?? new FakeLightningNetwork({ ...(deps.log && { log: deps.log }) })
      deps.log?.(`FAKE lightning: agent ${deps.name} uses the in-process FAKE network; its sats are not real. Configure wallet.kind lnd, cln or nwc to be paid for real.`)
      return network.node(deps.name) ?? network.createNode(deps.name)
    }
    case 'lnd':
      return createLndRestWallet({ url: config.url, macaroonHex: walletCredential(config), ...(deps.fetch && { fetch: deps.fetch }) })
    case 'cln':
      return createClnRestWallet({ url: config.url, rune: walletCredential(config), ...(deps.fetch && { fetch: deps.fetch }) })
    case 'nwc':
      if (!deps.relays) throw new Error('an NWC wallet needs a relay pool')
      return connectNwcWallet({ uri: walletCredential(config), relays: deps.relays })
  }
}
