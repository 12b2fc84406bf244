import { describe, expect, it } from 'vitest'
import { finalizeEvent, generateSecretKey, getPublicKey, type EventTemplate } from './01.js'
import { buildDeletion, deletionApplies, deletionTargets, parseAddress } from './09.js'

const alice = generateSecretKey()
const bob = generateSecretKey()
const alicePk = getPublicKey(alice)
const bobPk = getPublicKey(bob)
const note = (sk: Uint8Array, createdAt = 100, extra: Partial<EventTemplate> = {}) =>
  finalizeEvent({ kind: 1, created_at: createdAt, tags: [], content: `note ${createdAt}`, ...extra }, sk)

describe('NIP-09 buildDeletion', () => {
  it('builds the spec example shape: e and a tags, k tags, reason as content', () => {
    const ids = ['dc'.repeat(32), '96'.repeat(32)]
    const article = `30023:${alicePk}:my-article`
    const template = buildDeletion({ ids, addresses: [article], kinds: [1], reason: 'these posts were published by accident', createdAt: 500 })
    expect(template).toEqual({
      kind: 5,
      created_at: 500,
      tags: [['e', ids[0]], ['e', ids[1]], ['a', article], ['k', '1'], ['k', '30023']],
      content: 'these posts were published by accident',
    })
  })
  it('derives k tags from addresses, removes duplicates and defaults the reason to empty', () => {
    const address = `10002:${alicePk}:`
    expect(buildDeletion({ addresses: [address, address], createdAt: 1 })).toEqual({ kind: 5, created_at: 1, tags: [['a', address], ['k', '10002']], content: '' })
    expect(buildDeletion({ ids: ['ab'.repeat(32), 'ab'.repeat(32)], kinds: [1, 1], createdAt: 1 }).tags).toEqual([['e', 'ab'.repeat(32)], ['k', '1']])
  })
  it('rejects bad input with the reason', () => {
    expect(() => buildDeletion({ createdAt: 1 })).toThrow(/at least one event id or address/)
    expect(() => buildDeletion({ ids: ['XYZ'], createdAt: 1 })).toThrow(/event id "XYZ" must be 64 lowercase hex/)
    expect(() => buildDeletion({ addresses: ['30023:abc:d'], createdAt: 1 })).toThrow(/invalid address "30023:abc:d"/)
    expect(() => buildDeletion({ ids: ['ab'.repeat(32)], kinds: [-1], createdAt: 1 })).toThrow(/kind -1 must be an integer/)
    expect(() => buildDeletion({ ids: ['ab'.repeat(32)], reason: 5 as unknown as string, createdAt: 1 })).toThrow(/reason must be a string/)
    expect(() => buildDeletion({ ids: ['ab'.repeat(32)], createdAt: -5 })).toThrow(/createdAt/)
    expect(() => buildDeletion({ ids: 'ab' as unknown as string[], createdAt: 1 })).toThrow(/must be arrays/)
  })
})

describe('NIP-09 parseAddress', () => {
  it('splits kind, pubkey and an identifier that may contain colons or be empty', () => {
    expect(parseAddress(`30023:${alicePk}:a:b:c`)).toEqual({ kind: 30023, pubkey: alicePk, identifier: 'a:b:c' })
    expect(parseAddress(`0:${alicePk}:`)).toEqual({ kind: 0, pubkey: alicePk, identifier: '' })
  })
  it('rejects malformed addresses', () => {
    expect(() => parseAddress(`70000:${alicePk}:x`)).toThrow(/kind 70000 is above 65535/)
    expect(() => parseAddress(`1:${alicePk}`)).toThrow(/expected <kind>:<64-hex pubkey>:<d-identifier>/)
    expect(() => parseAddress(`x:${alicePk}:d`)).toThrow(/invalid address/)
    expect(() => parseAddress(undefined as unknown as string)).toThrow(TypeError)
  })
})

describe('NIP-09 deletionTargets', () => {
  it('returns the well-formed targets and skips the rest', () => {
    const address = `30023:${alicePk}:x`
    const deletion = finalizeEvent({
      kind: 5, created_at: 1, content: '',
      tags: [['e', 'ab'.repeat(32)], ['e', 'short'], ['e'], ['a', address], ['a', 'bogus'], ['a', `99999:${alicePk}:x`], ['k', '30023'], ['k', 'one'], ['k', '123456'], ['k', '99999'], ['k'], ['e', 'ab'.repeat(32)], ['p', alicePk]],
    }, alice)
    expect(deletionTargets(deletion)).toEqual({ ids: ['ab'.repeat(32)], addresses: [address], kinds: [30023] })
  })
  it('refuses events that are not deletion requests', () => {
    expect(() => deletionTargets(note(alice))).toThrow(/not a deletion request: kind is 1/)
  })
})

describe('NIP-09 deletionApplies', () => {
  const sign = (sk: Uint8Array, template: EventTemplate) => finalizeEvent(template, sk)
  it('deletes the author’s own event by id, and nobody else’s', () => {
    const target = note(alice)
    const byAuthor = sign(alice, buildDeletion({ ids: [target.id], createdAt: 200 }))
    const byOther = sign(bob, buildDeletion({ ids: [target.id], createdAt: 200 }))
    expect(deletionApplies(byAuthor, target)).toBe(true)
    expect(deletionApplies(byOther, target)).toBe(false)
    expect(deletionApplies(byAuthor, note(alice, 101))).toBe(false)
  })
  it('by id applies regardless of time', () => {
    const target = note(alice, 1000)
    expect(deletionApplies(sign(alice, buildDeletion({ ids: [target.id], createdAt: 10 })), target)).toBe(true)
  })
  it('deletes versions of an addressable event up to the request’s created_at', () => {
    const article = (createdAt: number, d = 'post') => finalizeEvent({ kind: 30023, created_at: createdAt, tags: [['d', d]], content: '' }, alice)
    const deletion = sign(alice, buildDeletion({ addresses: [`30023:${alicePk}:post`], createdAt: 500 }))
    expect(deletionApplies(deletion, article(400))).toBe(true)
    expect(deletionApplies(deletion, article(500))).toBe(true)
    expect(deletionApplies(deletion, article(501))).toBe(false)
    expect(deletionApplies(deletion, article(400, 'other'))).toBe(false)
    const bobsArticle = finalizeEvent({ kind: 30023, created_at: 400, tags: [['d', 'post']], content: '' }, bob)
    expect(deletionApplies(deletion, bobsArticle)).toBe(false)
  })
  it('deletes replaceable events by their empty-identifier address', () => {
    const relayList = finalizeEvent({ kind: 10002, created_at: 10, tags: [], content: '' }, alice)
    expect(deletionApplies(sign(alice, buildDeletion({ addresses: [`10002:${alicePk}:`], createdAt: 20 })), relayList)).toBe(true)
    expect(deletionApplies(sign(alice, buildDeletion({ addresses: [`10002:${alicePk}:x`], createdAt: 20 })), relayList)).toBe(false)
  })
  it('an address never matches a regular event', () => {
    const regular = note(alice)
    expect(deletionApplies(sign(alice, buildDeletion({ addresses: [`1:${alicePk}:`], createdAt: 200 })), regular)).toBe(false)
  })
  it('never deletes a deletion request, and only kind 5 deletes', () => {
    const first = sign(alice, buildDeletion({ ids: ['ab'.repeat(32)], createdAt: 1 }))
    expect(deletionApplies(sign(alice, buildDeletion({ ids: [first.id], createdAt: 2 })), first)).toBe(false)
    const target = note(alice)
    const notADeletion = finalizeEvent({ kind: 1, created_at: 200, tags: [['e', target.id]], content: '' }, alice)
    expect(deletionApplies(notADeletion, target)).toBe(false)
  })
  it('lets a gift-wrap recipient delete their copy by id with k=1059 (and only then)', () => {
    const wrapper = generateSecretKey()
    const wrap = finalizeEvent({ kind: 1059, created_at: 50, tags: [['p', bobPk]], content: 'sealed' }, wrapper)
    expect(deletionApplies(sign(bob, buildDeletion({ ids: [wrap.id], kinds: [1059], createdAt: 60 })), wrap)).toBe(true)
    expect(deletionApplies(sign(bob, buildDeletion({ ids: [wrap.id], createdAt: 60 })), wrap)).toBe(false)
    expect(deletionApplies(sign(alice, buildDeletion({ ids: [wrap.id], kinds: [1059], createdAt: 60 })), wrap)).toBe(false)
    const notAWrap = finalizeEvent({ kind: 1, created_at: 50, tags: [['p', bobPk]], content: '' }, wrapper)
    expect(deletionApplies(sign(bob, buildDeletion({ ids: [notAWrap.id], kinds: [1059], createdAt: 60 })), notAWrap)).toBe(false)
  })
})
