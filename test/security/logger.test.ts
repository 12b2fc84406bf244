// Secrets never reach the log: the production logger (pino) masks them in messages, fields, errors
// and child bindings, and leaves ids, npubs and invoices readable.
import { Writable } from 'node:stream'
import { bytesToHex } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createLogger, redactSecrets, REDACTED } from '../../agents/logger.js'
import { generateSecretKey, getPublicKey } from '../../nips/01.js'
import { npubEncode, nsecEncode } from '../../nips/19.js'
import { encryptSecretKey } from '../../nips/49.js'
import { fuzzRuns } from '../fuzz/runs.js'

function capture() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk))
      done()
    },
  })
  return { log: createLogger('debug', stream), text: () => lines.join('') }
}

const sk = generateSecretKey()
const NSEC = nsecEncode(sk)
const NCRYPTSEC = encryptSecretKey(sk, 'pw', { logN: 1 })
const NWC_SECRET = bytesToHex(generateSecretKey())
const NWC_URI = `nostr+walletconnect://${getPublicKey(generateSecretKey())}?relay=wss%3A%2F%2Frelay.example&secret=${NWC_SECRET}&lud16=a%40b.example`
const MACAROON_HEX = '0201036c6e6402f801030a10' + 'ab12'.repeat(60)
const MACAROON_B64 = 'AgEDbG5kAvgBAwoQvW1Z6fBqWTeFQ2j8e3b4kRIBMBoWCgdhZGRyZXNzEgRyZWFkEgV3cml0ZRoTCgRpbmZv'
const RUNE = 'tU-RLjMiDpY2U0o3W1oFowar36RFGpWloPbW9-RuZdo9MyZpZD0wMjRiOWExZmE4ZTAwNmYxZTM5MzdmNjVmNjZjNDA4ZTZkYTg0MjdmMDgxZWI4MTNmMjk0NmZiMzkwMDc2NGJjMSZtZXRob2RebGlzdHxtZXRob2ReZ2V0fG1ldGhvZD1zdW1tYXJ5JnJhdGU9MTA='
const API_KEY = 'sk-proj-Xy7kQ2mN9pL4rT8vW1zA3bC6dE0fG5hJ2kL9mN4pQ7rS'
const SECRETS = [NSEC, NCRYPTSEC, NWC_SECRET, MACAROON_HEX, MACAROON_B64, RUNE, API_KEY]

const EVENT_ID = bytesToHex(generateSecretKey())
const NPUB = npubEncode(getPublicKey(sk))
const BOLT11 = 'lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh'

describe('logger redaction', () => {
  it('masks secrets in messages and fields, whatever the field is called', () => {
    const { log, text } = capture()
    log.info({ uri: NWC_URI, note: `imported ${NSEC}`, list: [NCRYPTSEC], nested: { wallet: { url: 'https://node:8080', auth: MACAROON_HEX } } }, `connecting with ${RUNE} and ${MACAROON_B64}`)
    log.warn({}, `LLM backend key ${API_KEY}`)
    const out = text()
    for (const secret of SECRETS) expect(out).not.toContain(secret)
    expect(out).toContain('[redacted nsec]')
    expect(out).toContain('[redacted ncryptsec]')
    expect(out).toContain('[redacted macaroon]')
    expect(out).toContain(`secret=${REDACTED}`)
    expect(out).toContain('relay=wss%3A%2F%2Frelay.example')
    expect(out).toContain('https://node:8080')
  })

  it('masks the values of fields named like secrets', () => {
    const { log, text } = capture()
    log.info({ passphrase: 'correct horse', password: 'hunter2', macaroonHex: 'abcd', rune: 'short', apiKey: 'k', token: 't0k', secretKey: 's', config: { wallet: { secret: 'x' } }, authorization: 'Nostr abc' }, 'config')
    const entry = JSON.parse(text()) as Record<string, unknown>
    for (const key of ['passphrase', 'password', 'macaroonHex', 'rune', 'apiKey', 'token', 'secretKey', 'authorization']) expect(entry[key], key).toBe(REDACTED)
    expect(entry.config).toEqual({ wallet: { secret: REDACTED } })
    expect(text()).not.toMatch(/hunter2|correct horse|t0k/)
  })

  it('masks errors and child bindings', () => {
    const { log, text } = capture()
    log.child({ wallet: NWC_URI, password: 'pw1' }).error({ err: new Error(`bad key ${NSEC}`) }, 'failed')
    const out = text()
    expect(out).not.toContain(NSEC)
    expect(out).not.toContain(NWC_SECRET)
    expect(out).not.toContain('pw1')
    expect(out).toContain('bad key [redacted nsec]')
  })

  it('leaves ids, npubs, invoices, URLs, words and token counts readable', () => {
    const { log, text } = capture()
    const title = 'https://example.com/Articles/How-To-Write-A-Very-Long-Title-For-Testing'
    log.info({ id: EVENT_ID, npub: NPUB, bolt11: BOLT11, maxTokens: 512, tokens: 100, url: title, encrypted: true }, `job ${EVENT_ID} for ${NPUB}`)
    const entry = JSON.parse(text()) as Record<string, unknown>
    expect(entry).toMatchObject({ id: EVENT_ID, npub: NPUB, bolt11: BOLT11, maxTokens: 512, tokens: 100, url: title, encrypted: true })
    expect(entry.msg).toBe(`job ${EVENT_ID} for ${NPUB}`)
  })

  it('never lets any nsec or NWC secret through (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.string({ maxLength: 30 }), (bytes, around) => {
        fc.pre(bytes.some((b) => b !== 0))
        let nsec: string
        try {
          nsec = nsecEncode(bytes)
        } catch {
          return
        }
        const out = JSON.stringify(redactSecrets({ msg: `${around}${nsec}${around}`, uri: `nostr+walletconnect://x?secret=${bytesToHex(bytes)}` }))
        expect(out).not.toContain(nsec)
        expect(out).not.toContain(bytesToHex(bytes))
      }),
      { numRuns: fuzzRuns(200) },
    )
  })
})
