// Words and shapes for the screen: amounts, ages, short keys, and what a job result's content is.
import { npubEncode } from '../nips/19.js'

export function shortNpub(pubkey: string): string {
  const npub = npubEncode(pubkey)
  return `${npub.slice(0, 12)}…${npub.slice(-6)}`
}

/** Millisats as sats, with the fraction shown only when there is one. */
export function formatMsats(msats: number): string {
  const sats = msats / 1000
  return `${Number.isInteger(sats) ? sats.toLocaleString('en') : sats.toLocaleString('en', { maximumFractionDigits: 3 })} sat${sats === 1 ? '' : 's'}`
}

export function formatAge(seconds: number): string {
  if (seconds < 5) return 'just now'
  if (seconds < 60) return `${Math.floor(seconds)} s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`
  return `${Math.floor(seconds / 86_400)} d ago`
}

/** Names of the NIP-90 job kinds in the DVM kinds registry that a user is likely to meet. */
const KIND_NAMES: Record<number, string> = {
  5000: 'Text extraction',
  5001: 'Summarization',
  5002: 'Translation',
  5050: 'Text generation',
  5100: 'Image generation',
  5250: 'Text-to-speech',
  5300: 'Content discovery',
  5301: 'People discovery',
  5302: 'Content search',
}

/** The job kinds KIND_NAMES names, ascending. */
export const NAMED_JOB_KINDS: readonly number[] = Object.keys(KIND_NAMES).map(Number)

export function kindName(kind: number): string {
  return KIND_NAMES[kind] ?? `Kind ${kind}`
}

export type ResultShape =
  | { type: 'json'; text: string }
  | { type: 'audio'; src: string }
  | { type: 'image'; src: string }
  | { type: 'video'; src: string }
  | { type: 'link'; href: string }
  | { type: 'text'; text: string }

const MEDIA_EXTENSIONS: [RegExp, 'audio' | 'image' | 'video'][] = [
  [/\.(mp3|wav|ogg|oga|opus|m4a|aac|flac|weba)$/i, 'audio'],
  [/\.(png|jpe?g|gif|webp|avif|svg)$/i, 'image'],
  [/\.(mp4|webm|mov|m4v)$/i, 'video'],
]

/**
 * How to show a result: media for media URLs (by data: type, the requested output MIME type, or
 * the file extension), pretty JSON for JSON objects and arrays, a link for other web URLs, text
 * for everything else. Only http(s) and data: URLs become media or links.
 */
export function classifyResult(content: string, outputMime?: string): ResultShape {
  const text = content.trim()
  const data = /^data:(audio|image|video)\/[\w.+-]+[;,]/i.exec(text)
  if (data && !/\s/.test(text)) return { type: data[1].toLowerCase() as 'audio' | 'image' | 'video', src: text }
  if (/^https?:\/\/\S+$/i.test(text)) {
    const mimeKind = /^(audio|image|video)\//i.exec(outputMime ?? '')?.[1]?.toLowerCase() as 'audio' | 'image' | 'video' | undefined
    const path = new URL(text).pathname
    const byExtension = MEDIA_EXTENSIONS.find(([pattern]) => pattern.test(path))?.[1]
    const media = mimeKind ?? byExtension
    return media ? { type: media, src: text } : { type: 'link', href: text }
  }
  if (text.startsWith('{') || text.startsWith('[')) {
    try {
      return { type: 'json', text: JSON.stringify(JSON.parse(text), null, 2) }
    } catch {
      // Not JSON after all: shown as text.
    }
  }
  return { type: 'text', text: content }
}
