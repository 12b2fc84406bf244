// `timmy job --wallet`: how the command line pays what a DVM asks for.
import { connectNwcWallet, type NwcWallet } from '../lightning/nwc.js'
import type { EventCrypto } from '../crypto.js'
import { RelayPool } from '../pool.js'
import { createPaymentResponder, fakeHostPayer, walletPayer, type InvoicePayer, type PaymentRequest } from './requester.js'

export const FAKE_HOST_WALLET = 'fake-host'

export async function jobPaymentResponder(options: { wallet?: string; httpPort: number; crypto: EventCrypto; maxMsats?: number; say: (line: string) => void }): Promise<{ respond: (request: PaymentRequest & { from: string }) => Promise<number>; close(): void }> {
  let payer: InvoicePayer | undefined
  let nwc: { wallet: NwcWallet; pool: RelayPool } | undefined
  if (options.wallet === FAKE_HOST_WALLET) {
    payer = fakeHostPayer(`http://127.0.0.1:${options.httpPort}`)
  } else if (options.wallet) {
    if (!options.wallet.startsWith('nostr+walletconnect://')) throw new Error(`--wallet must be a nostr+walletconnect:// URI or '${FAKE_HOST_WALLET}'`)
    const pool = new RelayPool({ verify: (e) => options.crypto.verify(e) })
    nwc = { wallet: await connectNwcWallet({ uri: options.wallet, relays: pool }), pool }
    payer = walletPayer(nwc.wallet, { maxFeeMsats: Math.max(1000, Math.ceil((options.maxMsats ?? 0) / 100)) })
  }
  return {
    respond: createPaymentResponder({ ...(payer && { payer }), ...(options.maxMsats !== undefined && { maxMsats: options.maxMsats }), say: options.say }),
    close: () => {
      nwc?.wallet.close()
      nwc?.pool.close()
    },
  }
}
