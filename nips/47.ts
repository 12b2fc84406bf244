// NIP-47: Nostr Wallet Connect. The connection URI, the info event (13194), and encrypted requests
// (23194) and responses (23195) for both sides: the client and the wallet service. Pure: keys and
// times are passed in; the random encryption nonce/IV is the only other input.
//
// Encryption is NIP-44 v2, or NIP-04 for wallet services that have not migrated: the info event's
// `encryption` tag lists what the service supports (absent: NIP-04 only), a request names its
// scheme in its own `encryption` tag (absent: NIP-04), and the response uses the request's scheme.
import { decrypt as nip04Decrypt, encrypt as nip04Encrypt } from 'nostr-tools/nip04'
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import { getPublicKey, getTagValue, isHex64, type EventTemplate, type NostrEvent } from './01.js'
import { decrypt as nip44Decrypt, encrypt as nip44Encrypt, getConversationKey } from './44.js'

export const NWC_INFO_KIND = 13194
export const NWC_REQUEST_KIND = 23194
export const NWC_RESPONSE_KIND = 23195
export const NWC_NOTIFICATION_KIND = 23197

export type NwcEncryption = 'nip44_v2' | 'nip04'

export const NWC_ERROR_CODES = [
  'RATE_LIMITED', 'NOT_IMPLEMENTED', 'INSUFFICIENT_BALANCE', 'QUOTA_EXCEEDED', 'RESTRICTED', 'UNAUTHORIZED', 'INTERNAL',
  'UNSUPPORTED_ENCRYPTION', 'OTHER', 'PAYMENT_FAILED', 'NOT_FOUND',
] as const
export type NwcErrorCode = (typeof NWC_ERROR_CODES)[number]

/** A request or response that cannot be used; `code` is what a wallet service answers with. */
export class NwcError extends Error {
  override name = 'NwcError'
  constructor(
    readonly code: NwcErrorCode,
    message: string,
  ) {
    super(message)
  }
}

// ------------------------------------------------------------------ connection URI

export interface NwcConnection {
  walletPubkey: string
  relays: string[]
  /** The client's secret key for this connection (signs requests, derives the encryption key). */
  secret: Uint8Array
  lud16?: string
}

const URI_PREFIX = 'nostr+walletconnect://'

/** Parses `nostr+walletconnect://<wallet pubkey>?relay=...&secret=...[&lud16=...]`; throws with the reason. */
export function parseNwcUri(uri: string): NwcConnection {
  if (typeof uri !== 'string' || !uri.toLowerCase().startsWith(URI_PREFIX)) throw new Error(`an NWC connection URI must start with ${URI_PREFIX}`)
  const rest = uri.slice(URI_PREFIX.length)
  const q = rest.indexOf('?')
  // Some wallets wrote nostr+walletconnect:<pubkey>; the pubkey is the part before '?' either way.
  const walletPubkey = (q < 0 ? rest : rest.slice(0, q)).replace(/^\/+|\/+$/g, '').toLowerCase()
  if (!isHex64(walletPubkey)) throw new Error('NWC URI: the wallet pubkey must be 64 hex characters')
  const params = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1))
  const relays = params.getAll('relay')
  if (relays.length === 0) throw new Error('NWC URI: at least one relay parameter is required')
  for (const relay of relays) if (!/^wss?:\/\/./.test(relay)) throw new Error(`NWC URI: relay ${JSON.stringify(relay)} is not a ws:// or wss:// URL`)
  const secretHex = params.get('secret')?.toLowerCase()
  if (!secretHex || !isHex64(secretHex)) throw new Error('NWC URI: secret must be 64 hex characters')
  const secret = hexToBytes(secretHex)
  getPublicKey(secret) // throws for a secret that is not a valid key
  const lud16 = params.get('lud16')
  return { walletPubkey, relays, secret, ...(lud16 && { lud16 }) }
}

export function buildNwcUri(connection: NwcConnection): string {
  const params = new URLSearchParams()
  for (const relay of connection.relays) params.append('relay', relay)
  params.set('secret', bytesToHex(connection.secret))
  if (connection.lud16) params.set('lud16', connection.lud16)
  return `${URI_PREFIX}${connection.walletPubkey}?${params.toString()}`
}

// ------------------------------------------------------------------ info event

export interface NwcInfo {
  methods: string[]
  encryptions: NwcEncryption[]
  notifications: string[]
}

export function parseNwcInfo(event: Pick<NostrEvent, 'kind' | 'content' | 'tags'>): NwcInfo {
  if (event.kind !== NWC_INFO_KIND) throw new Error(`an NWC info event has kind ${NWC_INFO_KIND}, not ${event.kind}`)
  const words = (value: string | undefined) => (value ?? '').split(/\s+/).filter(Boolean)
  const encryptionTag = getTagValue(event, 'encryption')
  const encryptions = encryptionTag === undefined ? ['nip04'] : words(encryptionTag)
  return {
    methods: words(event.content),
    encryptions: encryptions.filter((e): e is NwcEncryption => e === 'nip44_v2' || e === 'nip04'),
    notifications: words(getTagValue(event, 'notifications')),
  }
}

export function buildNwcInfo(info: NwcInfo, createdAt: number): EventTemplate {
  return {
    kind: NWC_INFO_KIND,
    created_at: createdAt,
    content: info.methods.join(' '),
    tags: [['encryption', info.encryptions.join(' ')], ...(info.notifications.length ? [['notifications', info.notifications.join(' ')]] : [])],
  }
}

/** NIP-44 whenever the wallet service offers it. */
export function chooseEncryption(info: NwcInfo): NwcEncryption {
  if (info.encryptions.includes('nip44_v2')) return 'nip44_v2'
  if (info.encryptions.includes('nip04')) return 'nip04'
  throw new NwcError('UNSUPPORTED_ENCRYPTION', 'the wallet service offers neither nip44_v2 nor nip04 encryption')
}

export function encryptNwc(scheme: NwcEncryption, plaintext: string, secretKey: Uint8Array, peerPubkey: string): string {
  if (scheme === 'nip44_v2') return nip44Encrypt(plaintext, getConversationKey(secretKey, peerPubkey))
  return nip04Encrypt(secretKey, peerPubkey, plaintext)
}

export function decryptNwc(scheme: NwcEncryption, payload: string, secretKey: Uint8Array, peerPubkey: string): string {
  if (scheme === 'nip44_v2') return nip44Decrypt(payload, getConversationKey(secretKey, peerPubkey))
  return nip04Decrypt(secretKey, peerPubkey, payload)
}

// ------------------------------------------------------------------ requests and responses

export interface NwcRequest {
  method: string
  params: Record<string, unknown>
}

export interface NwcResponse {
  resultType: string
  result: Record<string, unknown> | null
  error: { code: string; message: string } | null
}

/** A request event template, content encrypted to the wallet service; sign it with the connection secret. */
export function buildNwcRequest(
  { request, walletPubkey, encryption, createdAt, expiration }: { request: NwcRequest; walletPubkey: string; encryption: NwcEncryption; createdAt: number; expiration?: number },
  clientSecretKey: Uint8Array,
): EventTemplate {
  return {
    kind: NWC_REQUEST_KIND,
    created_at: createdAt,
    content: encryptNwc(encryption, JSON.stringify({ method: request.method, params: request.params }), clientSecretKey, walletPubkey),
    tags: [
      ['p', walletPubkey],
      // NIP-04 is what an absent tag means; the tag is still sent so that the service need not guess.
      ['encryption', encryption],
      ...(expiration !== undefined ? [['expiration', String(expiration)]] : []),
    ],
  }
}

export interface ParsedNwcRequest {
  request: NwcRequest
  encryption: NwcEncryption
  clientPubkey: string
  expiration?: number
}

/**
 * The wallet service's side: decrypts and checks a request addressed to it. Throws NwcError:
 * UNSUPPORTED_ENCRYPTION for an unknown scheme, OTHER for anything malformed. (Whether the client
 * is authorized and the request fresh is the service's decision.)
 */
export function parseNwcRequest(event: NostrEvent, walletSecretKey: Uint8Array): ParsedNwcRequest {
  if (event.kind !== NWC_REQUEST_KIND) throw new NwcError('OTHER', `an NWC request has kind ${NWC_REQUEST_KIND}`)
  const scheme = getTagValue(event, 'encryption') ?? 'nip04'
  if (scheme !== 'nip44_v2' && scheme !== 'nip04') throw new NwcError('UNSUPPORTED_ENCRYPTION', `encryption ${JSON.stringify(scheme)} is not supported`)
  let body: unknown
  try {
    body = JSON.parse(decryptNwc(scheme, event.content, walletSecretKey, event.pubkey))
  } catch (err) {
    throw new NwcError('OTHER', `cannot decrypt the request: ${(err as Error).message}`)
  }
  const b = body as { method?: unknown; params?: unknown }
  if (typeof b !== 'object' || b === null || typeof b.method !== 'string') throw new NwcError('OTHER', 'the request has no method')
  if (b.params !== undefined && (typeof b.params !== 'object' || b.params === null || Array.isArray(b.params))) throw new NwcError('OTHER', 'params must be an object')
  const expirationTag = getTagValue(event, 'expiration')
  const expiration = expirationTag === undefined ? undefined : Number(expirationTag)
  return {
    request: { method: b.method, params: (b.params ?? {}) as Record<string, unknown> },
    encryption: scheme,
    clientPubkey: event.pubkey,
    ...(expiration !== undefined && Number.isSafeInteger(expiration) && { expiration }),
  }
}

/** The wallet service's answer to a request, encrypted with the request's scheme. */
export function buildNwcResponse(
  { requestEvent, encryption, response, createdAt }: { requestEvent: NostrEvent; encryption: NwcEncryption; response: NwcResponse; createdAt: number },
  walletSecretKey: Uint8Array,
): EventTemplate {
  const body = { result_type: response.resultType, result: response.result, error: response.error }
  return {
    kind: NWC_RESPONSE_KIND,
    created_at: createdAt,
    content: encryptNwc(encryption, JSON.stringify(body), walletSecretKey, requestEvent.pubkey),
    tags: [
      ['p', requestEvent.pubkey],
      ['e', requestEvent.id],
    ],
  }
}

/** The client's side: decrypts a response from the wallet service; throws with the reason if it is not one. */
export function parseNwcResponse(event: NostrEvent, clientSecretKey: Uint8Array, walletPubkey: string, encryption: NwcEncryption): NwcResponse {
  if (event.kind !== NWC_RESPONSE_KIND) throw new Error(`an NWC response has kind ${NWC_RESPONSE_KIND}`)
  if (event.pubkey !== walletPubkey) throw new Error('the response is not from the wallet service')
  const body = JSON.parse(decryptNwc(encryption, event.content, clientSecretKey, walletPubkey)) as Record<string, unknown>
  if (typeof body !== 'object' || body === null || typeof body.result_type !== 'string') throw new Error('the response has no result_type')
  const error = body.error as { code?: unknown; message?: unknown } | null | undefined
  if (error !== null && error !== undefined) {
    return { resultType: body.result_type, result: null, error: { code: String(error.code ?? 'OTHER'), message: String(error.message ?? '') } }
  }
  const result = body.result
  if (typeof result !== 'object' || result === null || Array.isArray(result)) throw new Error('the response has neither a result object nor an error')
  return { resultType: body.result_type, result: result as Record<string, unknown>, error: null }
}

/** The `e` tag a response points back to its request with. */
export function responseRequestId(event: Pick<NostrEvent, 'tags'>): string | undefined {
  return getTagValue(event, 'e')
}

// ------------------------------------------------------------------ transactions (make_invoice, lookup_invoice, ...)

export type NwcTransactionState = 'pending' | 'settled' | 'accepted' | 'expired' | 'failed'

export interface NwcTransaction {
  type: 'incoming' | 'outgoing'
  state?: NwcTransactionState
  invoice?: string
  description?: string
  descriptionHash?: string
  preimage?: string
  paymentHash: string
  amountMsats: number
  feesPaidMsats: number
  createdAt: number
  expiresAt?: number
  settledAt?: number
}

/** Reads the transaction object of make_invoice / lookup_invoice / make_hold_invoice results; throws with the reason. */
export function parseNwcTransaction(result: Record<string, unknown>): NwcTransaction {
  const str = (key: string) => (typeof result[key] === 'string' && result[key] !== '' ? (result[key] as string) : undefined)
  const num = (key: string) => {
    const v = result[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`${key} must be a non-negative integer`)
    return v
  }
  const paymentHash = str('payment_hash')
  if (!paymentHash || !isHex64(paymentHash.toLowerCase())) throw new Error('payment_hash must be 64 hex characters')
  const type = result.type === 'outgoing' ? 'outgoing' : 'incoming'
  const state = str('state') as NwcTransactionState | undefined
  if (state !== undefined && !['pending', 'settled', 'accepted', 'expired', 'failed'].includes(state)) throw new Error(`unknown transaction state ${state}`)
  const invoice = str('invoice')
  const description = str('description')
  const descriptionHash = str('description_hash')
  const preimage = str('preimage')
  const expiresAt = num('expires_at')
  const settledAt = num('settled_at')
  return {
    type,
    ...(state && { state }),
    ...(invoice && { invoice }),
    ...(description && { description }),
    ...(descriptionHash && { descriptionHash }),
    ...(preimage && { preimage: preimage.toLowerCase() }),
    paymentHash: paymentHash.toLowerCase(),
    amountMsats: num('amount') ?? 0,
    feesPaidMsats: num('fees_paid') ?? 0,
    createdAt: num('created_at') ?? 0,
    ...(expiresAt !== undefined && { expiresAt }),
    ...(settledAt !== undefined && settledAt > 0 && { settledAt }),
  }
}
