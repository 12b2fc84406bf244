import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { schnorr } from '@noble/curves/secp256k1.js'
import { bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { describe, expect, it } from 'vitest'
import { decodeBolt12String } from './bech32.js'
import { decodeInvoiceRequest, encodeInvoiceRequest } from './invoice-request.js'
import { merkleRoot, publicKeyHex, signatureHash, taggedHash, verifyMerkleSignature } from './merkle.js'
import { encodeBigSize, encodeTlvRecord, parseTlvStream, type TlvRecord } from './tlv.js'

const vectorFile = fileURLToPath(new URL('../../../../shared/vectors/bolt12/signature-test.json', import.meta.url))
const haveVectors = existsSync(vectorFile)

interface SignatureVector {
  comment: string
  tlv: string
  bolt12?: string
  'first-tlv': string
  leaves: Array<Record<string, string>>
  branches: Array<Record<string, string>>
  merkle: string
  signature_tag?: string
  'H(signature_tag,merkle)'?: string
  signature?: string
}

/** The hex inside a vector key such as "H(`LnLeaf`,010203e8)". */
const keyHex = (key: string) => /,([0-9a-f]+)\)$/.exec(key)![1]

function vectorRecords(v: SignatureVector): TlvRecord[] {
  if (v.bolt12) return parseTlvStream(decodeBolt12String(v.bolt12).data)
  return parseTlvStream(hexToBytes(v.leaves.map((leaf) => keyHex(Object.keys(leaf)[0])).join('')))
}

describe.skipIf(!haveVectors)(haveVectors ? 'signature-test.json' : 'signature-test.json: SKIPPED, ../shared/vectors/bolt12 not found', () => {
  const vectors: SignatureVector[] = haveVectors ? JSON.parse(readFileSync(vectorFile, 'utf8')) : []
  it('has the 4 upstream entries', () => expect(vectors).toHaveLength(4))
  for (const [i, v] of vectors.entries()) {
    it(`#${i} ${v.comment}: leaves, branches and merkle root`, () => {
      const records = vectorRecords(v).filter((r) => r.type < 240 || r.type > 1000)
      expect(bytesToHex(encodeTlvRecord(records[0]))).toBe(v['first-tlv'])
      expect(records).toHaveLength(v.leaves.length)
      const nonceTag = concatBytes(utf8ToBytes('LnNonce'), hexToBytes(v['first-tlv']))
      for (const [j, leaf] of v.leaves.entries()) {
        const [[leafKey, leafHash], [, nonceHash], [, branchHash]] = Object.entries(leaf)
        expect(keyHex(leafKey)).toBe(bytesToHex(encodeTlvRecord(records[j])))
        expect(bytesToHex(taggedHash('LnLeaf', encodeTlvRecord(records[j])))).toBe(leafHash)
        expect(bytesToHex(taggedHash(nonceTag, encodeBigSize(records[j].type)))).toBe(nonceHash)
        const pair = [hexToBytes(leafHash), hexToBytes(nonceHash)].sort((a, b) => (bytesToHex(a) < bytesToHex(b) ? -1 : 1))
        expect(bytesToHex(taggedHash('LnBranch', concatBytes(...pair)))).toBe(branchHash)
      }
      for (const b of v.branches) {
        const [key, value] = Object.entries(b).find(([k]) => k.startsWith('H('))!
        expect(bytesToHex(taggedHash('LnBranch', hexToBytes(keyHex(key))))).toBe(value)
      }
      expect(bytesToHex(merkleRoot(records))).toBe(v.merkle)
      expect(bytesToHex(merkleRoot(vectorRecords(v)))).toBe(v.merkle)
    })
  }

  it('invoice_request: signature tag, signed hash and BIP-340 signature', () => {
    const v = vectors.find((x) => x.tlv === 'invoice_request')!
    const records = vectorRecords(v)
    const root = merkleRoot(records)
    expect(v.signature_tag).toBe('lightninginvoice_requestsignature')
    expect(bytesToHex(signatureHash('invoice_request', root))).toBe(v['H(signature_tag,merkle)'])
    expect(bytesToHex(taggedHash(v.signature_tag!, root))).toBe(v['H(signature_tag,merkle)'])
    const request = decodeInvoiceRequest(v.bolt12!)
    expect(request.signature).toBe(v.signature)
    expect(request.invreqPayerId).toBe(publicKeyHex(new Uint8Array(32).fill(0x42)))
    expect(request.offerIssuerId).toBe(publicKeyHex(new Uint8Array(32).fill(0x41)))
    expect(schnorr.verify(hexToBytes(v.signature!), hexToBytes(v['H(signature_tag,merkle)']!), hexToBytes(request.invreqPayerId).subarray(1))).toBe(true)
    expect(verifyMerkleSignature('invoice_request', records, hexToBytes(v.signature!), hexToBytes(request.invreqPayerId))).toBe(true)
    expect(verifyMerkleSignature('invoice', records, hexToBytes(v.signature!), hexToBytes(request.invreqPayerId))).toBe(false)
  })

  it('invoice_request: re-encoding with Bob\'s key and BIP-340 zero aux randomness reproduces the vector', () => {
    const v = vectors.find((x) => x.tlv === 'invoice_request')!
    const request = decodeInvoiceRequest(v.bolt12!)
    expect(encodeInvoiceRequest(request, new Uint8Array(32).fill(0x42), new Uint8Array(32))).toBe(v.bolt12)
  })
})

describe('merkle tree shape', () => {
  it('hashes the deepest subtrees on the lowest-order leaves', () => {
    const records = [1, 2, 3, 4, 5].map((type) => ({ type, value: Uint8Array.of(type) }))
    const nonceTag = concatBytes(utf8ToBytes('LnNonce'), encodeTlvRecord(records[0]))
    const branch = (a: Uint8Array, b: Uint8Array) =>
      taggedHash('LnBranch', bytesToHex(a) < bytesToHex(b) ? concatBytes(a, b) : concatBytes(b, a))
    const [l1, l2, l3, l4, l5] = records.map((r) =>
      branch(taggedHash('LnLeaf', encodeTlvRecord(r)), taggedHash(nonceTag, encodeBigSize(r.type))))
    expect(merkleRoot(records)).toEqual(branch(branch(branch(l1, l2), branch(l3, l4)), l5))
    const withSignature = [...records, { type: 240, value: new Uint8Array(64) }, { type: 1001, value: new Uint8Array() }]
    expect(merkleRoot(withSignature)).not.toEqual(merkleRoot(records))
    expect(merkleRoot(withSignature.slice(0, 6))).toEqual(merkleRoot(records))
  })
  it('refuses an empty stream', () => expect(() => merkleRoot([])).toThrow(/no non-signature/))
})
