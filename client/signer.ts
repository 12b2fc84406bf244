// Who the user is and how their events get signed. The page never holds the user's secret key:
// a NIP-07 extension or a NIP-46 remote signer signs and encrypts; read-only login only watches.
import { BunkerSigner, createNostrConnectURI, parseBunkerInput } from 'nostr-tools/nip46'
import { generateSecretKey, getPublicKey, isHex64, type EventTemplate, type NostrEvent } from '../nips/01.js'
import { decodeToHexPubkey } from '../nips/19.js'
import * as nip44 from '../nips/44.js'
import { NAMED_JOB_KINDS } from './format.js'
import { RelayPool } from './relay-pool.js'

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

/** The user's key as `get_public_key` named it: the remote signer's own key may be another one. */
function remoteSigner(bunker: BunkerSigner, pubkey: string): Signer {
  if (!isHex64(pubkey)) throw new SignerError('invalid', 'The remote signer returned something that is not a public key.')
  const call = <T>(promise: Promise<T>) => promise.catch((err: unknown) => Promise.reject(refused(err)))
  return {
    method: 'nip46',
    pubkey,
    canSign: true,
    canEncrypt: true,
    async signEvent(template) {
      const event = await call(bunker.signEvent(template))
      if (event.pubkey !== pubkey) throw new SignerError('invalid', 'The remote signer signed with a different key than the one logged in.')
      return event
    },
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

const NOSTR_CONNECT_KIND = 24133

/** Where a nostrconnect:// login stands, for the page to say. */
export interface NostrConnectProgress {
  /**
   * `connecting`: reaching the relays of the code; `listening`: subscribed there, so a signer that
   * scans the code now is heard (its answer is ephemeral: sent before that, it is lost);
   * `confirming`: a signer answered with the secret and is asked for the user's public key.
   */
  phase: 'connecting' | 'listening' | 'confirming'
  /** Answers to the code's key that did not carry its secret, or could not be read: ignored. */
  ignored: number
}

export interface NostrConnectSession {
  /** Show as a QR code or a link for the remote signer to open, once the progress says `listening`. */
  uri: string
  /** Resolves once the signer has connected and named the user's key; rejects on timeout or `abort`. */
  signer: Promise<Signer>
  abort(): void
}

// Per NIP-46 a permission is `method[:kind]`, one kind each. Job requests: the registry kinds the
// composer names (a signer asks about any other kind when it comes); then ratings (NIP-32), zap
// requests (NIP-57), HTTP auth for the operator pages (NIP-98) and relay auth (NIP-42).
const SIGNED_KINDS = [...NAMED_JOB_KINDS, 1985, 9734, 27235, 22242]
const NOSTR_CONNECT_PERMS = [...SIGNED_KINDS.map((kind) => `sign_event:${kind}`), 'nip44_encrypt', 'nip44_decrypt']

/** The `result` of a kind 24133 answer to the client's key, or undefined when it cannot be read. */
function answerResult(event: NostrEvent, clientSecretKey: Uint8Array): unknown {
  try {
    const answer = JSON.parse(nip44.decrypt(event.content, nip44.getConversationKey(clientSecretKey, event.pubkey))) as { result?: unknown } | null
    return answer?.result
  } catch {
    return undefined
  }
}

/**
 * NIP-46 started by the client: a `nostrconnect://` URI the user's signer scans. The signer answers
 * the client's key with the URI's secret as `result` (any other answer is ignored: whoever sees the
 * key could send one); its key then carries the requests, and `get_public_key` names the user.
 */
export function startNostrConnect(
  relays: string[],
  options: { name?: string; url?: string; timeoutMs?: number; onProgress?(progress: NostrConnectProgress): void } = {},
): NostrConnectSession {
  if (relays.length === 0) throw new SignerError('invalid', 'A nostrconnect:// code needs a relay: add one first.')
  const clientSecretKey = generateSecretKey()
  const clientPubkey = getPublicKey(clientSecretKey)
  const secret = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('')
  const uri = createNostrConnectURI({ clientPubkey, relays, secret, perms: NOSTR_CONNECT_PERMS, name: options.name ?? 'Timmy', ...(options.url && { url: options.url }) })

  let progress: NostrConnectProgress = { phase: 'connecting', ignored: 0 }
  const report = (change: Partial<NostrConnectProgress>) => {
    const next = { ...progress, ...change }
    if (next.phase === progress.phase && next.ignored === progress.ignored) return
    progress = next
    options.onProgress?.(progress)
  }

  let stop!: (err: SignerError) => void
  const stopped = new Promise<never>((_, reject) => (stop = reject))
  stopped.catch(() => {})
  const timeoutMs = options.timeoutMs ?? 300_000
  const timer = setTimeout(() => stop(new SignerError('timeout', `No remote signer connected within ${Math.round(timeoutMs / 1000)} s.`)), timeoutMs)

  const pool = new RelayPool(relays)
  let subscribed = false
  const showPhase = () => report({ phase: subscribed && pool.statuses().some((s) => s.state === 'open') ? 'listening' : 'connecting' })
  const answered = new Promise<string>((resolve) => {
    pool.subscribe([{ kinds: [NOSTR_CONNECT_KIND], '#p': [clientPubkey], limit: 0 }], {
      oneose: () => {
        subscribed = true
        showPhase()
      },
      onevent: (event) => {
        if (answerResult(event, clientSecretKey) === secret) resolve(event.pubkey)
        else report({ ignored: progress.ignored + 1 })
      },
    })
  })
  const unwatch = pool.onStatus(showPhase)

  const signer = (async () => {
    let remoteSignerPubkey: string
    try {
      remoteSignerPubkey = await Promise.race([answered, stopped])
    } finally {
      unwatch()
      pool.close()
    }
    report({ phase: 'confirming' })
    const bunker = BunkerSigner.fromBunker(clientSecretKey, { pubkey: remoteSignerPubkey, relays, secret })
    try {
      const pubkey = await Promise.race([withTimeout(bunker.getPublicKey(), 30_000, 'The remote signer'), stopped])
      return remoteSigner(bunker, pubkey)
    } catch (err) {
      await bunker.close().catch(() => {})
      throw err
    }
  })().finally(() => clearTimeout(timer))
  return { uri, signer, abort: () => stop(new SignerError('timeout', 'Stopped waiting for a remote signer.')) }
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
