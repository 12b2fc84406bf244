// The `wallet` section of the configuration, apart from the wallets themselves so that
// agents/config.ts can import it without pulling in the treasury (which imports the config).
import { z } from 'zod'

/**
 * The `wallet` section of an agent's configuration; absent means the FAKE network. The credential
 * (macaroon, rune, NWC URI) belongs in the encrypted secret store (`timmy secrets set <name>`, see
 * WALLET_SECRETS); given here it sits in config.json in clear, and the host warns about it.
 */
export const walletConfigSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('fake') }).strict(),
  z.object({ kind: z.literal('lnd'), url: z.string().url(), macaroonHex: z.string().regex(/^[0-9a-fA-F]+$/, 'hex').optional() }).strict(),
  z.object({ kind: z.literal('cln'), url: z.string().url(), rune: z.string().min(1).optional() }).strict(),
  z.object({ kind: z.literal('nwc'), uri: z.string().startsWith('nostr+walletconnect://').optional() }).strict(),
])

/** Where each backend's credential lives: its field, its name in the secret store, its environment variable. */
export const WALLET_SECRETS = {
  lnd: { field: 'macaroonHex', secret: 'lnd-macaroon', variable: 'TIMMY_LND_MACAROON' },
  cln: { field: 'rune', secret: 'cln-rune', variable: 'TIMMY_CLN_RUNE' },
  nwc: { field: 'uri', secret: 'nwc-uri', variable: 'TIMMY_NWC_URI' },
} as const

export type WalletConfig = z.infer<typeof walletConfigSchema>

/** Fields of WalletConfig that are secrets (mask them when printing the configuration). */
export const WALLET_SECRET_FIELDS = ['macaroonHex', 'rune', 'uri'] as const

/** A wallet configuration fit for printing: its secret fields masked. */
export function maskWalletConfig(config: WalletConfig): Record<string, unknown> {
  const masked: Record<string, unknown> = { ...config }
  for (const field of WALLET_SECRET_FIELDS) if (field in masked) masked[field] = '********'
  return masked
}

/** The configured credential of a wallet, or a clear error saying where to put it. */
export function walletCredential(config: Exclude<WalletConfig, { kind: 'fake' }>): string {
  const where = WALLET_SECRETS[config.kind]
  const value = (config as Record<string, string | undefined>)[where.field]
  if (!value) throw new Error(`the ${config.kind} wallet has no credential: store it with \`timmy secrets set ${where.secret}\` (or set ${where.variable})`)
  return value
}

/**
 * The configuration with its credential taken from `lookup` (the secret store, or an environment
 * variable) when config.json carries none. `inClear` says the credential came from config.json.
 */
export function withWalletCredential(config: WalletConfig, lookup: (secret: string, variable: string) => string | undefined): { config: WalletConfig; inClear: boolean } {
  if (config.kind === 'fake') return { config, inClear: false }
  const where = WALLET_SECRETS[config.kind]
  if ((config as Record<string, unknown>)[where.field]) return { config, inClear: true }
  const value = lookup(where.secret, where.variable)
  return { config: value ? ({ ...config, [where.field]: value } as WalletConfig) : config, inClear: false }
}
