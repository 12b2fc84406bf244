import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeBolt12String, encodeBolt12String } from './bech32.js'
import { Bolt12Error } from './errors.js'

const vectorFile = fileURLToPath(new URL('../../../../shared/vectors/bolt12/format-string-test.json', import.meta.url))
const haveVectors = existsSync(vectorFile)

interface FormatVector { comment: string; valid: boolean; string: string }

describe.skipIf(!haveVectors)(haveVectors ? 'format-string-test.json' : 'format-string-test.json: SKIPPED, ../shared/vectors/bolt12 not found', () => {
  const vectors: FormatVector[] = haveVectors ? JSON.parse(readFileSync(vectorFile, 'utf8')) : []
  const reference = vectors.find((v) => v.valid)!
  it('has the 12 upstream entries', () => expect(vectors).toHaveLength(12))
  for (const [i, v] of vectors.entries()) {
    it(`#${i} ${v.comment}`, () => {
      if (v.valid) {
        const decoded = decodeBolt12String(v.string)
        expect(decoded.prefix).toBe('lno')
        expect(decoded.data).toEqual(decodeBolt12String(reference.string).data)
      } else {
        expect(() => decodeBolt12String(v.string)).toThrow(Bolt12Error)
      }
    })
  }
})

describe('bolt12 string format', () => {
  it('rejects bad padding and bad characters with a reason', () => {
    // 'q' adds 5 zero bits: padding must stay under 5 bits
    expect(() => decodeBolt12String('lno1qq')).not.toThrow()
    expect(() => decodeBolt12String('lno1qqq')).toThrow(/padding exceeds/)
    // 'p' = 00001: the 2 leftover bits after one byte are not zero
    expect(() => decodeBolt12String('lno1qp')).toThrow(/padding bits are not zero/)
    expect(() => decodeBolt12String('lno1qb')).toThrow(/not a bech32 character/)
    expect(() => decodeBolt12String('lnx1qq')).toThrow(/unknown prefix/)
    expect(() => decodeBolt12String('lnoqq')).toThrow(/separator/)
    expect(() => decodeBolt12String('lno1q q')).toThrow(/whitespace/)
  })

  it('round-trips any bytes, in either case and split with + continuations', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 200 }),
        fc.constantFrom('lno', 'lnr', 'lni' as const),
        fc.array(fc.tuple(fc.nat(), fc.constantFrom('', ' ', '\n', '\r\n  ')), { maxLength: 4 }),
        fc.boolean(),
        (data, prefix, splits, upper) => {
          let text = encodeBolt12String(prefix, data)
          for (const [at, space] of splits) {
            const pos = 1 + (at % (text.length - 1))
            if (!/[0-9a-z]/i.test(text[pos - 1]) || !/[0-9a-z]/i.test(text[pos])) continue
            text = `${text.slice(0, pos)}+${space}${text.slice(pos)}`
          }
          const decoded = decodeBolt12String(upper ? text.toUpperCase() : text)
          expect(decoded.prefix).toBe(prefix)
          expect(decoded.data).toEqual(data)
        },
      ),
    )
  })
})
