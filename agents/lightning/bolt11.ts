// BOLT11 through the `bolt11` package (encode, sign, decode with signature recovery). It signs
// with the `secp256k1` package: its prebuilt native addon where one ships for the platform, else
// its pure-JS elliptic fallback; both work on Node 20.
import bolt11 from 'bolt11'
import { WalletError } from './wallet.js'

export type Bolt11Network = 'bitcoin' | 'testnet' | 'signet' | 'regtest'

const NETWORKS: Record<Bolt11Network, { bech32: string; pubKeyHash: number; scriptHash: number; validWitnessVersions: number[] }> = {
  bitcoin: { bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, validWitnessVersions: [0, 1] },
  testnet: { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  signet: { bech32: 'tbs', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
  regtest: { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] },
}

/** BOLT11: an invoice without an `x` field expires an hour after its timestamp. */
export const DEFAULT_BOLT11_EXPIRY_SECONDS = 3600

export interface DecodedBolt11 {
  network: Bolt11Network
  /** Absent for "any amount" invoices. */
  amountMsats?: number
  paymentHash: string
  paymentSecret?: string
  description?: string
  descriptionHash?: string
  /** Unix seconds. */
  timestamp: number
  /** Unix seconds. */
  expiresAt: number
  /** The node that signed it (recovered from the signature, or the `n` field it was checked against). */
  payeeNodeKey: string
}

const HEX64 = /^[0-9a-f]{64}$/

function networkOf(invoice: string): Bolt11Network {
  const lower = invoice.toLowerCase()
  // Longest prefixes first: lnbcrt before lnbc, lntbs before lntb.
  if (lower.startsWith('lnbcrt')) return 'regtest'
  if (lower.startsWith('lntbs')) return 'signet'
  if (lower.startsWith('lntb')) return 'testnet'
  if (lower.startsWith('lnbc')) return 'bitcoin'
  throw new WalletError('invalid', 'not a BOLT11 invoice: it must start with lnbc, lntb, lntbs or lnbcrt')
}

/** Decodes and checks the signature; throws WalletError('invalid', reason) for anything malformed. */
export function decodeBolt11(invoice: string): DecodedBolt11 {
  if (typeof invoice !== 'string' || invoice.length === 0) throw new WalletError('invalid', 'invoice must be a non-empty string')
  const network = networkOf(invoice)
  let decoded: ReturnType<typeof bolt11.decode>
  try {
    decoded = bolt11.decode(invoice, NETWORKS[network])
  } catch (err) {
    throw new WalletError('invalid', `malformed BOLT11 invoice: ${(err as Error).message}`)
  }
  const tags = decoded.tagsObject
  if (typeof tags.payment_hash !== 'string' || !HEX64.test(tags.payment_hash)) throw new WalletError('invalid', 'BOLT11 invoice has no valid payment hash')
  if (tags.purpose_commit_hash !== undefined && !HEX64.test(tags.purpose_commit_hash)) throw new WalletError('invalid', 'BOLT11 description hash is malformed')
  const timestamp = decoded.timestamp ?? 0
  let amountMsats: number | undefined
  if (decoded.millisatoshis) {
    amountMsats = Number(decoded.millisatoshis)
    if (!Number.isSafeInteger(amountMsats) || amountMsats <= 0) throw new WalletError('invalid', `BOLT11 amount out of range: ${decoded.millisatoshis} msat`)
  }
  return {
    network,
    ...(amountMsats !== undefined && { amountMsats }),
    paymentHash: tags.payment_hash,
    ...(tags.payment_secret && { paymentSecret: tags.payment_secret }),
    ...(tags.description !== undefined && { description: tags.description }),
    ...(tags.purpose_commit_hash && { descriptionHash: tags.purpose_commit_hash }),
    timestamp,
    expiresAt: timestamp + (tags.expire_time ?? DEFAULT_BOLT11_EXPIRY_SECONDS),
    payeeNodeKey: decoded.payeeNodeKey ?? '',
  }
}

export interface Bolt11Fields {
  network: Bolt11Network
  amountMsats: number
  paymentHash: string
  paymentSecret: string
  /** Exactly one of description and descriptionHash. */
  description?: string
  descriptionHash?: string
  /** Unix seconds. */
  timestamp: number
  expirySeconds: number
  minFinalCltvExpiry?: number
}

/** Encodes and signs an invoice with the node's secret key (32 bytes). */
export function signBolt11(fields: Bolt11Fields, nodeSecretKey: Uint8Array): string {
  const tags: { tagName: string; data: string | number }[] = [
    { tagName: 'payment_hash', data: fields.paymentHash },
    { tagName: 'payment_secret', data: fields.paymentSecret },
    fields.descriptionHash !== undefined
      ? { tagName: 'purpose_commit_hash', data: fields.descriptionHash }
      : { tagName: 'description', data: fields.description ?? '' },
    { tagName: 'expire_time', data: fields.expirySeconds },
    { tagName: 'min_final_cltv_expiry', data: fields.minFinalCltvExpiry ?? 80 },
  ]
  const unsigned = bolt11.encode(
    { network: NETWORKS[fields.network], millisatoshis: String(fields.amountMsats), timestamp: fields.timestamp, tags },
    // The package adds the feature bits a payer needs (var_onion_optin, payment_secret).
    true,
  )
  const signed = bolt11.sign(unsigned, Buffer.from(nodeSecretKey))
  if (!signed.paymentRequest) throw new Error('bolt11 did not produce a payment request')
  return signed.paymentRequest
}
