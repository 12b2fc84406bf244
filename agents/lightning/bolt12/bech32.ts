import { Bolt12Error } from './errors.js'

/**
 * BOLT 12 string format: `hrp` + `1` + bech32 characters, no checksum, all one case, and `+` (optionally followed
 * by whitespace) allowed between two bech32 characters as a line-continuation marker.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l'
const CHAR_VALUE = new Map([...CHARSET].map((c, i) => [c, i]))
const WHITESPACE = /\s/
const ALPHANUMERIC = /[0-9a-zA-Z]/

export type Bolt12Prefix = 'lno' | 'lnr' | 'lni'

export interface Bolt12String {
  prefix: Bolt12Prefix
  data: Uint8Array
}

function isPrefix(s: string): s is Bolt12Prefix {
  return s === 'lno' || s === 'lnr' || s === 'lni'
}

/** Removes `+` continuations; a `+` must sit between two bech32-string characters (whitespace may follow it). */
function joinContinuations(text: string): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c !== '+') {
      if (WHITESPACE.test(c)) throw new Bolt12Error(`bolt12 string: whitespace at position ${i} not preceded by '+'`)
      out += c
      continue
    }
    if (i === 0 || !ALPHANUMERIC.test(text[i - 1])) {
      throw new Bolt12Error(`bolt12 string: '+' at position ${i} must follow a bech32 character`)
    }
    let j = i + 1
    while (j < text.length && WHITESPACE.test(text[j])) j++
    if (j >= text.length || !ALPHANUMERIC.test(text[j])) {
      throw new Bolt12Error(`bolt12 string: '+' at position ${i} must be followed by a bech32 character`)
    }
    i = j - 1
  }
  return out
}

/** 5-bit groups to bytes; leftover bits must be fewer than 5 and all zero. */
function fromWords(words: number[]): Uint8Array {
  const out = new Uint8Array(Math.floor((words.length * 5) / 8))
  let acc = 0
  let bits = 0
  let n = 0
  for (const w of words) {
    acc = ((acc << 5) | w) & 0xfff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[n++] = (acc >> bits) & 0xff
    }
  }
  if (bits >= 5) throw new Bolt12Error('bolt12 string: bech32 padding exceeds 4 bits')
  if ((acc & ((1 << bits) - 1)) !== 0) throw new Bolt12Error('bolt12 string: bech32 padding bits are not zero')
  return out
}

function toWords(data: Uint8Array): number[] {
  const words: number[] = []
  let acc = 0
  let bits = 0
  for (const b of data) {
    acc = ((acc << 8) | b) & 0xfff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      words.push((acc >> bits) & 31)
    }
  }
  if (bits > 0) words.push((acc << (5 - bits)) & 31)
  return words
}

export function decodeBolt12String(text: string): Bolt12String {
  const joined = joinContinuations(text)
  const lower = joined.toLowerCase()
  if (joined !== lower && joined !== joined.toUpperCase()) {
    throw new Bolt12Error('bolt12 string: mixed upper and lower case')
  }
  const sep = lower.lastIndexOf('1')
  if (sep < 0) throw new Bolt12Error("bolt12 string: missing '1' separator")
  const prefix = lower.slice(0, sep)
  if (!isPrefix(prefix)) throw new Bolt12Error(`bolt12 string: unknown prefix '${prefix}' (expected lno, lnr or lni)`)
  const words: number[] = []
  for (let i = sep + 1; i < lower.length; i++) {
    const v = CHAR_VALUE.get(lower[i])
    if (v === undefined) throw new Bolt12Error(`bolt12 string: '${joined[i]}' is not a bech32 character`)
    words.push(v)
  }
  return { prefix, data: fromWords(words) }
}

/** Lower-case string without continuations: callers that need line breaks or QR upper case can transform it. */
export function encodeBolt12String(prefix: Bolt12Prefix, data: Uint8Array): string {
  return `${prefix}1${toWords(data).map((w) => CHARSET[w]).join('')}`
}
