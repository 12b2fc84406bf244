// The `wallet` section of the configuration, apart from the wallets themselves so that
// agents/config.ts can import it without pulling in the treasury (which imports the config).
import { z } from 'zod'

/** The `wallet` section of an agent's configuration; absent means the FAKE network. */
export const walletConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fake') }).strict(),
  z.object({ kind: z.literal('lnd'), url: z.string().url(), macaroonHex: z.string().regex(/^[0-9a-fA-F]+$/, 'hex') }).strict(),
  z.object({ kind: z.literal('cln'), url: z.string().url(), rune: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('nwc'), uri: z.string().startsWith('nostr+walletconnect://') }).strict(),
])

export type WalletConfig = z.infer<typeof walletConfigSchema>

/** Fields of WalletConfig that are secrets (mask them when printing the configuration). */
export const WALLET_SECRET_FIELDS = ['macaroonHex', 'rune', 'uri'] as const

/** A wallet configuration fit for printing: its secret fields masked. */
export function maskWalletConfig(config: WalletConfig): Record<string, unknown> {
  const masked: Record<string, unknown> = { ...config }
  for (const field of WALLET_SECRET_FIELDS) if (field in masked) masked[field] = '********'
  return masked
}
