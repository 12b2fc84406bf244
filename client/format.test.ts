import { describe, expect, it } from 'vitest'
import { classifyResult, formatMsats } from './format.js'
import { parseParamLines } from './ui/job-composer.js'

describe('classifyResult', () => {
  it('shows media URLs as media, by extension, data: type or requested MIME type', () => {
    expect(classifyResult('https://cdn.example/a/speech.mp3')).toEqual({ type: 'audio', src: 'https://cdn.example/a/speech.mp3' })
    expect(classifyResult('https://cdn.example/pic.webp?x=1')).toEqual({ type: 'image', src: 'https://cdn.example/pic.webp?x=1' })
    expect(classifyResult('data:audio/wav;base64,UklGRg==')).toEqual({ type: 'audio', src: 'data:audio/wav;base64,UklGRg==' })
    expect(classifyResult('https://cdn.example/render', 'image/png')).toEqual({ type: 'image', src: 'https://cdn.example/render' })
    expect(classifyResult('https://example.com/page')).toEqual({ type: 'link', href: 'https://example.com/page' })
  })

  it('pretty-prints JSON and leaves everything else as text', () => {
    expect(classifyResult('[["e","ab"]]')).toEqual({ type: 'json', text: '[\n  [\n    "e",\n    "ab"\n  ]\n]' })
    expect(classifyResult('{not json')).toEqual({ type: 'text', text: '{not json' })
    expect(classifyResult('javascript:alert(1)')).toEqual({ type: 'text', text: 'javascript:alert(1)' })
    expect(classifyResult('see https://a.example/x.png now')).toEqual({ type: 'text', text: 'see https://a.example/x.png now' })
  })
})

describe('formatMsats', () => {
  it('shows sats', () => {
    expect(formatMsats(1000)).toBe('1 sat')
    expect(formatMsats(21_000_000)).toBe('21,000 sats')
    expect(formatMsats(1500)).toBe('1.5 sats')
  })
})

describe('parseParamLines', () => {
  it('reads name=value lines, repeated names included', () => {
    expect(parseParamLines('a=1\n\n b = two words \na=3')).toEqual({ a: ['1', '3'], b: ['two words'] })
    expect(() => parseParamLines('novalue')).toThrow(/line 1/)
  })
})
