// Wallets for the payment end-to-end tests: every backend's test double, each on a node of one FAKE
// Lightning network, so that an agent paid through one backend and a requester paying through
// another meet on the same (fake) network.
import { generateSecretKey, getPublicKey, verifyEvent } from '../../nips/01.js'
import { buildNwcUri } from '../../nips/47.js'
import { createClnRestWallet } from '../../agents/lightning/cln-rest.js'
import type { FakeLightningNetwork } from '../../agents/lightning/fake-network.js'
import { createLndRestWallet } from '../../agents/lightning/lnd-rest.js'
import { connectNwcWallet } from '../../agents/lightning/nwc.js'
import type { LightningWallet } from '../../agents/lightning/wallet.js'
import { RelayPool } from '../../agents/pool.js'
import { startFakeCln, startFakeLnd } from '../lightning/fake-servers.js'
import { startNwcService } from '../lightning/nwc-service.js'

export type Backend = 'fake' | 'lnd' | 'cln' | 'nwc'
export const BACKENDS: Backend[] = ['fake', 'lnd', 'cln', 'nwc']

const NWC_METHODS = ['pay_invoice', 'get_balance', 'make_invoice', 'lookup_invoice', 'make_hold_invoice', 'settle_hold_invoice', 'cancel_hold_invoice']

/** A wallet of this backend over a new node of the network; close() stops its test server. */
export async function walletOn(backend: Backend, network: FakeLightningNetwork, name: string, relayUrl: string, balanceMsats = 0): Promise<{ wallet: LightningWallet; close: () => Promise<void> }> {
  const node = network.createNode(name, { balanceMsats })
  switch (backend) {
    case 'fake':
      return { wallet: node, close: async () => {} }
    case 'lnd': {
      const macaroonHex = '0201036c6e6402f801030a10'
      const server = await startFakeLnd(network, node, macaroonHex)
      return { wallet: createLndRestWallet({ url: server.url, macaroonHex }), close: () => server.close() }
    }
    case 'cln': {
      const rune = 'test-rune-for-' + name
      const server = await startFakeCln(network, node, rune)
      return { wallet: createClnRestWallet({ url: server.url, rune }), close: () => server.close() }
    }
    case 'nwc': {
      const pool = new RelayPool({ verify: verifyEvent })
      const serviceSk = generateSecretKey()
      const clientSk = generateSecretKey()
      const service = await startNwcService({ node, relays: pool, relayUrls: [relayUrl], serviceSecretKey: serviceSk, clientPubkey: getPublicKey(clientSk), encryptions: ['nip44_v2'], methods: NWC_METHODS, now: () => Math.floor(Date.now() / 1000) })
      const wallet = await connectNwcWallet({ uri: buildNwcUri({ walletPubkey: getPublicKey(serviceSk), relays: [relayUrl], secret: clientSk }), relays: pool, requestTimeoutMs: 5000 })
      return {
        wallet,
        close: async () => {
          wallet.close()
          service.close()
          pool.close()
        },
      }
    }
  }
}
