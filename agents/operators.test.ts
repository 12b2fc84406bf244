import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey } from '../nips/01.js'
import { npubEncode } from '../nips/19.js'
import { buildHttpAuth, encodeAuthorizationHeader } from '../nips/98.js'
import { addOperator, createOperatorAuth, loadOperators, NO_OPERATORS_REASON, operatorsPath, readOperatorsFile, removeOperator, ReplayCache } from './operators.js'

const homes: string[] = []
function home(): string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-operators-'))
  homes.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of homes.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const operatorKey = generateSecretKey()
const OPERATOR = getPublicKey(operatorKey)
const NOW = 1_767_225_600

describe('operators allowlist', () => {
  it('adds, lists and removes npubs in $TIMMY_HOME/operators (0600), and reads TIMMY_OPERATORS', () => {
    const dir = home()
    expect(loadOperators(dir, {}).size).toBe(0)
    expect(addOperator(dir, npubEncode(OPERATOR))).toBe(true)
    expect(addOperator(dir, OPERATOR)).toBe(false)
    expect(readOperatorsFile(dir)).toEqual([OPERATOR])
    expect(readFileSync(operatorsPath(dir), 'utf8')).toContain(npubEncode(OPERATOR))
    expect(statSync(operatorsPath(dir)).mode & 0o777).toBe(0o600)
    const other = getPublicKey(generateSecretKey())
    expect([...loadOperators(dir, { TIMMY_OPERATORS: ` ${npubEncode(other)} ,` })].sort()).toEqual([OPERATOR, other].sort())
    expect(removeOperator(dir, OPERATOR)).toBe(true)
    expect(removeOperator(dir, OPERATOR)).toBe(false)
    expect(loadOperators(dir, {}).size).toBe(0)
  })

  it('names the bad line of a hand-edited file and a bad TIMMY_OPERATORS entry', () => {
    const dir = home()
    writeFileSync(operatorsPath(dir), `# me\n${npubEncode(OPERATOR)}\nnpub1garbage\n`)
    expect(() => readOperatorsFile(dir)).toThrow(/operators:3: not an npub/)
    expect(() => loadOperators(home(), { TIMMY_OPERATORS: 'nsec1xyz' })).toThrow(/TIMMY_OPERATORS: "nsec1xyz" is not an npub/)
  })
})

describe('operator auth (NIP-98)', () => {
  const host = '127.0.0.1:8080'
  const path = `/api/approvals/${'a'.repeat(64)}/approve`
  const body = new TextEncoder().encode('{}')
  const header = (sk = operatorKey, overrides: { url?: string; createdAt?: number } = {}) =>
    encodeAuthorizationHeader(finalizeEvent(buildHttpAuth({ url: overrides.url ?? `http://${host}${path}`, method: 'POST', body, createdAt: overrides.createdAt ?? NOW }), sk))
  const request = (authorization: string | undefined) => ({ host, path, method: 'POST', authorization, body })

  it('with no operators, everything is 403 with how to add one', () => {
    const auth = createOperatorAuth({ operators: () => new Set(), now: () => NOW })
    expect(auth.authorize(request(header()))).toEqual({ ok: false, status: 403, reason: NO_OPERATORS_REASON })
    expect(NO_OPERATORS_REASON).toMatch(/timmy operators add <npub>/)
  })

  it('admits an operator once per event; refuses missing, stale, foreign and replayed auth', () => {
    const auth = createOperatorAuth({ operators: () => new Set([OPERATOR]), now: () => NOW })
    expect(auth.authorize(request(undefined))).toMatchObject({ ok: false, status: 401, reason: expect.stringMatching(/missing Authorization/) })
    expect(auth.authorize(request(header(operatorKey, { createdAt: NOW - 120 })))).toMatchObject({ status: 401, reason: expect.stringMatching(/stale/) })
    expect(auth.authorize(request(header(generateSecretKey())))).toMatchObject({ status: 403, reason: expect.stringMatching(/is not an operator of this host/) })
    const good = header()
    expect(auth.authorize(request(good))).toEqual({ ok: true, pubkey: OPERATOR })
    expect(auth.authorize(request(good))).toMatchObject({ ok: false, status: 401, reason: 'auth event already used: sign a new one for each request' })
    expect(auth.authorize({ ...request(header()), path: `/api/approvals/${'b'.repeat(64)}/approve` })).toMatchObject({ status: 401, reason: expect.stringMatching(/does not match the requested URL/) })
  })

  it('accepts an event signed for https (a TLS-terminating proxy in front) but not for another host', () => {
    const auth = createOperatorAuth({ operators: () => new Set([OPERATOR]), now: () => NOW })
    expect(auth.authorize(request(header(operatorKey, { url: `https://${host}${path}` })))).toMatchObject({ ok: true })
    expect(auth.authorize(request(header(operatorKey, { url: `https://evil.example${path}` })))).toMatchObject({ status: 401 })
  })

  it('the replay cache forgets ids once they could not pass the window anyway', () => {
    const cache = new ReplayCache(2)
    expect(cache.remember('a', 100, 0)).toBe(true)
    expect(cache.remember('a', 100, 0)).toBe(false)
    expect(cache.remember('b', 200, 0)).toBe(true)
    expect(cache.remember('c', 300, 150)).toBe(true)
    expect(cache.size).toBe(2)
    expect(cache.remember('b', 200, 150)).toBe(false)
  })
})
