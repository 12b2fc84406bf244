// BOLT11 decoding for the browser. The `bolt11` npm package is CommonJS and needs Node's Buffer, so
// the page cannot load it; this module decodes what a zapper or a payer checks (network, amount,
// timestamp, expiry, payment hash, description hash, payee recovered from the signature) with
// @scure/base and @noble/curves, which the page already has. Its default export has the shape of
// the package's `decode` for those fields, and client/index.html maps the bare specifier `bolt11`
// here: nips/57.ts (validateZapReceipt) then runs in the browser unchanged.
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { bech32 } from '@scure/base'

export type Bolt11Network = 'bitcoin' | 'testnet' | 'signet' | 'regtest'

export interface Bolt11Invoice {
  network: Bolt11Network
  /** Absent for "any amount" invoices. */
  amountMsats?: number
  /** Unix seconds. */
  timestamp: number
  /** Seconds after the timestamp (BOLT11: 3600 when the invoice does not say). */
  expirySeconds: number
  paymentHash: string
  descriptionHash?: string
  description?: string
  /** Compressed public key (hex) recovered from the signature, or the `n` field it was checked against. */
  payeeNodeKey: string
}

const PREFIXES: [string, Bolt11Network][] = [
  // Longest first: lnbcrt before lnbc, lntbs before lntb.
  ['bcrt', 'regtest'],
  ['tbs', 'signet'],
  ['tb', 'testnet'],
  ['bc', 'bitcoin'],
]
const MSATS_PER_BTC = 100_000_000_000n
const MULTIPLIERS: Record<string, bigint> = { m: 1_000n, u: 1_000_000n, n: 1_000_000_000n, p: 1_000_000_000_000n }
const TAG_PAYMENT_HASH = 1
const TAG_DESCRIPTION = 13
const TAG_PAYEE = 19
const TAG_DESCRIPTION_HASH = 23
const TAG_EXPIRY = 6
const SIGNATURE_WORDS = 104

function invalid(reason: string): never {
  throw new Error(`malformed BOLT11 invoice: ${reason}`)
}

function wordsToInt(words: number[]): number {
  let value = 0
  for (const word of words) value = value * 32 + word
  return value
}

/** Words to bytes, dropping the padding bits of the last word (BOLT11 fields are not padded in words). */
function wordsToBytes(words: number[]): Uint8Array {
  return Uint8Array.from(convertWithPadding(words).slice(0, Math.floor((words.length * 5) / 8)))
}

function convertWithPadding(words: number[]): number[] {
  const out: number[] = []
  let acc = 0
  let bits = 0
  for (const word of words) {
    acc = (acc << 5) | word
    bits += 5
    while (bits >= 8) {
      bits -= 8
      out.push((acc >> bits) & 0xff)
    }
    acc &= (1 << bits) - 1
  }
  if (bits > 0) out.push((acc << (8 - bits)) & 0xff)
  return out
}

function parseAmount(text: string): number | undefined {
  if (text === '') return undefined
  const match = /^([1-9]\d*)([munp]?)$/.exec(text)
  if (!match) invalid(`amount ${JSON.stringify(text)} is not a number with an optional m, u, n or p multiplier`)
  const value = BigInt(match[1])
  const multiplier = match[2]
  if (multiplier === 'p' && value % 10n !== 0n) invalid('a pico-bitcoin amount must end in 0 (no fractions of a millisatoshi)')
  const msats = multiplier ? (value * MSATS_PER_BTC) / MULTIPLIERS[multiplier] : value * MSATS_PER_BTC
  if (msats > BigInt(Number.MAX_SAFE_INTEGER)) invalid('amount out of range')
  return Number(msats)
}

export function decodeBolt11(invoice: string): Bolt11Invoice {
  if (typeof invoice !== 'string' || invoice === '') invalid('not a string')
  const text = invoice.trim().replace(/^lightning:/i, '')
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) invalid('mixed case')
  let decoded: { prefix: string; words: number[] }
  try {
    decoded = bech32.decode(text.toLowerCase() as `${string}1${string}`, false)
  } catch (err) {
    invalid((err as Error).message)
  }
  const { prefix, words } = decoded
  if (!prefix.startsWith('ln')) invalid('the prefix must start with "ln"')
  const found = PREFIXES.find(([p]) => prefix.slice(2).startsWith(p))
  if (!found) invalid(`unknown network prefix ${JSON.stringify(prefix)}`)
  const [currency, network] = found
  const amountMsats = parseAmount(prefix.slice(2 + currency.length))
  if (words.length < 7 + SIGNATURE_WORDS) invalid('too short')

  const data = words.slice(0, words.length - SIGNATURE_WORDS)
  const signature = wordsToBytes(words.slice(words.length - SIGNATURE_WORDS))
  const timestamp = wordsToInt(data.slice(0, 7))
  let paymentHash: string | undefined
  let descriptionHash: string | undefined
  let description: string | undefined
  let payee: string | undefined
  let expirySeconds = 3600
  for (let at = 7; at < data.length; ) {
    if (at + 3 > data.length) invalid('truncated tagged field')
    const tag = data[at]
    const length = data[at + 1] * 32 + data[at + 2]
    const field = data.slice(at + 3, at + 3 + length)
    if (field.length !== length) invalid('truncated tagged field')
    at += 3 + length
    // BOLT11: a reader skips p, h and n fields of the wrong length (and, first of each, keeps it).
    if (tag === TAG_PAYMENT_HASH && length === 52 && paymentHash === undefined) paymentHash = bytesToHex(wordsToBytes(field))
    else if (tag === TAG_DESCRIPTION_HASH && length === 52 && descriptionHash === undefined) descriptionHash = bytesToHex(wordsToBytes(field))
    else if (tag === TAG_PAYEE && length === 53 && payee === undefined) payee = bytesToHex(wordsToBytes(field))
    else if (tag === TAG_DESCRIPTION && description === undefined) description = new TextDecoder('utf-8', { fatal: true }).decode(wordsToBytes(field))
    else if (tag === TAG_EXPIRY) expirySeconds = wordsToInt(field)
  }
  if (!paymentHash) invalid('no payment hash')

  const recovery = signature[64]
  if (signature.length !== 65 || recovery > 3) invalid('the signature is missing or malformed')
  const signed = sha256(concatBytes(utf8ToBytes(prefix), Uint8Array.from(convertWithPadding(data))))
  let recovered: string
  try {
    recovered = bytesToHex(secp256k1.recoverPublicKey(concatBytes(Uint8Array.of(recovery), signature.subarray(0, 64)), signed, { prehash: false }))
  } catch {
    invalid('the signature does not recover a public key')
  }
  if (payee !== undefined && payee !== recovered) invalid('the signature is not by the payee the invoice names')
  return {
    network,
    ...(amountMsats !== undefined && { amountMsats }),
    timestamp,
    expirySeconds,
    paymentHash,
    ...(descriptionHash !== undefined && { descriptionHash }),
    ...(description !== undefined && { description }),
    payeeNodeKey: recovered,
  }
}

/** The subset of the `bolt11` package's decode() that nips/57.ts reads. */
function decode(invoice: string): { millisatoshis?: string; timestamp: number; payeeNodeKey: string; tagsObject: { payment_hash: string; purpose_commit_hash?: string; description?: string; expire_time: number } } {
  const decoded = decodeBolt11(invoice)
  return {
    ...(decoded.amountMsats !== undefined && { millisatoshis: String(decoded.amountMsats) }),
    timestamp: decoded.timestamp,
    payeeNodeKey: decoded.payeeNodeKey,
    tagsObject: {
      payment_hash: decoded.paymentHash,
      ...(decoded.descriptionHash !== undefined && { purpose_commit_hash: decoded.descriptionHash }),
      ...(decoded.description !== undefined && { description: decoded.description }),
      expire_time: decoded.expirySeconds,
    },
  }
}

export default { decode }
