import { describe, expect, it } from 'vitest'
import { announcedParams, inputText } from './capability.js'

describe('capability helpers', () => {
  it('gives the text of an input: resolved text first, then the value of a text input', () => {
    expect(inputText({ type: 'text', value: 'hi' })).toBe('hi')
    expect(inputText({ type: 'event', value: 'a'.repeat(64), resolved: 'note text' })).toBe('note text')
    expect(inputText({ type: 'url', value: 'https://example.com' })).toBeUndefined()
  })

  it('turns param specs into NIP-89 nip90Params', () => {
    expect(
      announcedParams([
        { name: 'language', description: 'Target language', required: true, values: ['en', 'es'] },
        { name: 'length', description: 'Sentences to keep', default: '3' },
      ]),
    ).toEqual({
      language: { required: true, values: ['en', 'es'], description: 'Target language' },
      length: { required: false, values: [], description: 'Sentences to keep (default 3)' },
    })
  })
})
