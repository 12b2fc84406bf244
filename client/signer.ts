// Who the user is and how their events get signed. The page never holds the user's secret key:
// a NIP-07 extension or a NIP-46 remote signer signs and encrypts; read-only login only watches.
import { BunkerSigner, createNostrConnectURI, parseBunkerInput } from 'nostr-tools/nip46'
import { generateSecretKey, getPublicKey, isHex64, type EventTemplate, type NostrEvent } from '../nips/01.js'
import { decodeToHexPubkey } from '../nips/19.js'

export type LoginMethod = 'nip07' | 'nip46' | 'readonly'

export interface Signer {
  readonly method: LoginMethod
  readonly pubkey: string
  readonly canSign: boolean
  readonly canEncrypt: boolean
  signEvent(template: EventTemplate): Promise<NostrEvent>
  nip44Encrypt(peer: string, plaintext: string): Promise<string>
  nip44Decrypt(peer: string, payload: string): Promise<string>
  close(): Promise<void>
}

export type SignerProblem = 'no-extension' | 'refused' | 'invalid' | 'unsupported' | 'timeout'

/** A login or signing step that failed, with a problem code the UI words for the user. */
export class SignerError extends Error {
  constructor(
    readonly problem: SignerProblem,
    message: string,
  ) {
    super(message)
  }
}

/** The NIP-07 surface of `window.nostr`. */
export interface Nip07Provider {
  getPublicKey(): Promise<string>
  signEvent(event: EventTemplate): Promise<NostrEvent>
  nip44?: {
    encrypt(peer: string, plaintext: string): Promise<string>
    decrypt(peer: string, payload: string): Promise<string>
  }
}

function refused(err: unknown): SignerError {
  return err instanceof SignerError ? err : new SignerError('refused', (err as Error)?.message || String(err))
}

/** Extensions inject `window.nostr` at some point during page load: give a late one a moment. */
async function findExtension(waitMs: number): Promise<Nip07Provider | undefined> {
  const started = Date.now()
  for (;;) {
    const provider = (globalThis as { nostr?: Nip07Provider }).nostr
    if (provider) return provider
    if (Date.now() - started >= waitMs) return undefined
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

export async function loginWithExtension(waitMs = 1000): Promise<Signer> {
  const provider = await findExtension(waitMs)
  if (!provider) throw new SignerError('no-extension', 'No Nostr signing extension (NIP-07) found in this browser.')
  let pubkey: string
  try {
    pubkey = await provider.getPublicKey()
  } catch (err) {
    throw refused(err)
  }
  if (!isHex64(pubkey)) throw new SignerError('invalid', 'The extension returned something that is not a public key.')
  return {
    method: 'nip07',
    pubkey,
    canSign: true,
    canEncrypt: typeof provider.nip44?.encrypt === 'function',
    async signEvent(template) {
      let event: NostrEvent
      try {
        event = await provider.signEvent(template)
      } catch (err) {
        throw refused(err)
      }
      if (event?.pubkey !== pubkey) throw new SignerError('invalid', 'The extension signed with a different key than the one logged in.')
      return event
    },
    async nip44Encrypt(peer, plaintext) {
      if (!provider.nip44) throw new SignerError('unsupported', 'This extension cannot encrypt (no NIP-44 support).')
      return provider.nip44.encrypt(peer, plaintext).catch((err: unknown) => Promise.reject(refused(err)))
    },
    async nip44Decrypt(peer, payload) {
      if (!provider.nip44) throw new SignerError('unsupported', 'This extension cannot decrypt (no NIP-44 support).')
      return provider.nip44.decrypt(peer, payload).catch((err: unknown) => Promise.reject(refused(err)))
    },
    async close() {},
  }
}

function remoteSigner(bunker: BunkerSigner, pubkey: string): Signer {
  const call = <T>(promise: Promise<T>) => promise.catch((err: unknown) => Promise.reject(refused(err)))
  return {
    method: 'nip46',
    pubkey,
    canSign: true,
    canEncrypt: true,
    signEvent: (template) => call(bunker.signEvent(template)),
    nip44Encrypt: (peer, plaintext) => call(bunker.nip44Encrypt(peer, plaintext)),
    nip44Decrypt: (peer, payload) => call(bunker.nip44Decrypt(peer, payload)),
    close: () => bunker.close(),
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new SignerError('timeout', `${what} did not answer within ${Math.round(ms / 1000)} s.`)), ms)
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(refused(err))
      },
    )
  })
}

/**
 * NIP-46 with a `bunker://` URI from the remote signer. The client key is a throwaway that only
 * talks to the bunker; it never signs anything as the user.
 */
export async function loginWithBunker(uri: string, options: { clientSecretKey?: Uint8Array; timeoutMs?: number } = {}): Promise<Signer> {
  if (!uri.trim().startsWith('bunker://')) throw new SignerError('invalid', 'Paste a bunker:// URI from your remote signer.')
  const pointer = await parseBunkerInput(uri.trim())
  if (!pointer || pointer.relays.length === 0) throw new SignerError('invalid', 'That bunker:// URI has no valid signer public key or relay.')
  const bunker = BunkerSigner.fromBunker(options.clientSecretKey ?? generateSecretKey(), pointer)
  const timeoutMs = options.timeoutMs ?? 30_000
  try {
    await withTimeout(bunker.connect(), timeoutMs, 'The remote signer')
    const pubkey = await withTimeout(bunker.getPublicKey(), timeoutMs, 'The remote signer')
    return remoteSigner(bunker, pubkey)
  } catch (err) {
    await bunker.close().catch(() => {})
    throw err
  }
}

export interface NostrConnectSession {
  /** Show as a QR code or a link for the remote signer to open. */
  uri: string
  /** Resolves once the signer has connected; rejects on timeout or `abort`. */
  signer: Promise<Signer>
  abort(): void
}

/** NIP-46 started by the client: a `nostrconnect://` URI the user's signer scans. */
export function startNostrConnect(relays: string[], options: { name?: string; url?: string; timeoutMs?: number } = {}): NostrConnectSession {
  const clientSecretKey = generateSecretKey()
  const secret = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('')
  const uri = createNostrConnectURI({
    clientPubkey: getPublicKey(clientSecretKey),
    relays,
    secret,
    // Job requests, ratings (NIP-32), zap requests (NIP-57), HTTP auth for the operator pages (NIP-98), relay auth (NIP-42).
    perms: ['sign_event:5000-5999', 'sign_event:1985', 'sign_event:9734', 'sign_event:27235', 'sign_event:22242', 'nip44_encrypt', 'nip44_decrypt'],
    name: options.name ?? 'Timmy',
    ...(options.url && { url: options.url }),
  })
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 300_000)
  const signer = BunkerSigner.fromURI(clientSecretKey, uri, {}, controller.signal)
    .then(async (bunker) => remoteSigner(bunker, await bunker.getPublicKey()))
    .catch((err: unknown) => {
      throw controller.signal.aborted ? new SignerError('timeout', 'No remote signer connected.') : refused(err)
    })
    .finally(() => clearTimeout(timer))
  return { uri, signer, abort: () => controller.abort() }
}

/** Watch the network as someone (npub or hex) without being able to sign. */
export function readOnlyLogin(npubOrHex: string): Signer {
  let pubkey: string
  try {
    pubkey = decodeToHexPubkey(npubOrHex.trim())
  } catch (err) {
    throw new SignerError('invalid', `Not an npub or a hex public key: ${(err as Error).message}`)
  }
  const cannot = () => Promise.reject(new SignerError('unsupported', 'Read-only login: log in with a signer to do this.'))
  return { method: 'readonly', pubkey, canSign: false, canEncrypt: false, signEvent: cannot, nip44Encrypt: cannot, nip44Decrypt: cannot, close: async () => {} }
}
