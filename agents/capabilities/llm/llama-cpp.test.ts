import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { JobContext } from '../../capability.js'
import { ggufFileProblem, createLlamaCppBackend } from './llama-cpp.js'
import { builtinCapabilities } from '../index.js'

// ---- A minimal GGUF v3 writer: enough for llama.cpp to load a tiny llama-architecture model. ----

const GGUF_TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const
const GGML_TYPE_F32 = 0
const ALIGNMENT = 32

type MetaValue = { u32: number } | { f32: number } | { bool: boolean } | { string: string } | { strings: string[] } | { f32s: number[] } | { i32s: number[] }

class ByteWriter {
  private chunks: Buffer[] = []
  length = 0
  bytes(buffer: Buffer) {
    this.chunks.push(buffer)
    this.length += buffer.length
  }
  u32(n: number) {
    const b = Buffer.alloc(4)
    b.writeUInt32LE(n)
    this.bytes(b)
  }
  u64(n: number) {
    const b = Buffer.alloc(8)
    b.writeBigUInt64LE(BigInt(n))
    this.bytes(b)
  }
  string(s: string) {
    const b = Buffer.from(s, 'utf8')
    this.u64(b.length)
    this.bytes(b)
  }
  padTo(alignment: number) {
    const pad = (alignment - (this.length % alignment)) % alignment
    if (pad) this.bytes(Buffer.alloc(pad))
  }
  toBuffer() {
    return Buffer.concat(this.chunks)
  }
}

function writeMeta(w: ByteWriter, key: string, value: MetaValue) {
  w.string(key)
  if ('u32' in value) (w.u32(GGUF_TYPE.u32), w.u32(value.u32))
  else if ('f32' in value) {
    w.u32(GGUF_TYPE.f32)
    const b = Buffer.alloc(4)
    b.writeFloatLE(value.f32)
    w.bytes(b)
  } else if ('bool' in value) (w.u32(GGUF_TYPE.bool), w.bytes(Buffer.from([value.bool ? 1 : 0])))
  else if ('string' in value) (w.u32(GGUF_TYPE.string), w.string(value.string))
  else if ('strings' in value) {
    w.u32(GGUF_TYPE.array)
    w.u32(GGUF_TYPE.string)
    w.u64(value.strings.length)
    for (const s of value.strings) w.string(s)
  } else {
    const [type, items] = 'f32s' in value ? [GGUF_TYPE.f32, value.f32s] : [GGUF_TYPE.i32, value.i32s]
    w.u32(GGUF_TYPE.array)
    w.u32(type)
    w.u64(items.length)
    const b = Buffer.alloc(4 * items.length)
    items.forEach((x, i) => (type === GGUF_TYPE.f32 ? b.writeFloatLE(x, 4 * i) : b.writeInt32LE(x, 4 * i)))
    w.bytes(b)
  }
}

interface Tensor {
  name: string
  /** ggml order: dims[0] is the contiguous one. */
  dims: number[]
  data: Float32Array
}

function encodeGguf(meta: [string, MetaValue][], tensors: Tensor[]): Buffer {
  const w = new ByteWriter()
  w.bytes(Buffer.from('GGUF', 'latin1'))
  w.u32(3)
  w.u64(tensors.length)
  w.u64(meta.length)
  for (const [key, value] of meta) writeMeta(w, key, value)
  let offset = 0
  const offsets: number[] = []
  for (const t of tensors) {
    w.string(t.name)
    w.u32(t.dims.length)
    for (const d of t.dims) w.u64(d)
    w.u32(GGML_TYPE_F32)
    w.u64(offset)
    offsets.push(offset)
    offset += Math.ceil((t.data.length * 4) / ALIGNMENT) * ALIGNMENT
  }
  w.padTo(ALIGNMENT)
  for (const t of tensors) {
    w.bytes(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))
    w.padTo(ALIGNMENT)
  }
  return w.toBuffer()
}

/** Deterministic normal-ish numbers (mulberry32 + Box-Muller), so the model is the same every run. */
function randomNormal(seed: number): () => number {
  let a = seed >>> 0
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform())
}

export const TINY_WORDS = ['hello', 'world', 'timmy', 'sats', 'nostr', 'zap']

/**
 * A llama model with random weights: 2 layers, 64-wide, a SentencePiece vocabulary of the special
 * tokens, the 256 byte tokens and six words. The output layer only has rows for the words, in
 * opposite pairs (u, -u), so the likeliest next token is always one of them: what it generates is
 * a string of those words, never end-of-text.
 */
export function tinyLlamaGguf(): Buffer {
  const nEmbd = 64
  const nHead = 4
  const nFf = 128
  const nLayer = 2
  const tokens = ['<unk>', '<s>', '</s>', ...Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`), ...TINY_WORDS.map((w) => `▁${w}`)]
  const types = tokens.map((_, i) => (i === 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1))
  const nVocab = tokens.length
  const normal = randomNormal(42)
  const random = (n: number, scale = 0.02) => Float32Array.from({ length: n }, () => normal() * scale)
  const ones = (n: number) => new Float32Array(n).fill(1)
  const output = new Float32Array(nVocab * nEmbd)
  for (let pair = 0; pair < TINY_WORDS.length / 2; pair++) {
    const u = random(nEmbd, 1)
    const first = 259 + 2 * pair
    output.set(u, first * nEmbd)
    output.set(u.map((x) => -x), (first + 1) * nEmbd)
  }
  const tensors: Tensor[] = [
    { name: 'token_embd.weight', dims: [nEmbd, nVocab], data: random(nEmbd * nVocab, 1) },
    { name: 'output_norm.weight', dims: [nEmbd], data: ones(nEmbd) },
    { name: 'output.weight', dims: [nEmbd, nVocab], data: output },
  ]
  for (let l = 0; l < nLayer; l++) {
    tensors.push(
      { name: `blk.${l}.attn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) },
      { name: `blk.${l}.attn_q.weight`, dims: [nEmbd, nEmbd], data: random(nEmbd * nEmbd) },
      { name: `blk.${l}.attn_k.weight`, dims: [nEmbd, nEmbd], data: random(nEmbd * nEmbd) },
      { name: `blk.${l}.attn_v.weight`, dims: [nEmbd, nEmbd], data: random(nEmbd * nEmbd) },
      { name: `blk.${l}.attn_output.weight`, dims: [nEmbd, nEmbd], data: random(nEmbd * nEmbd) },
      { name: `blk.${l}.ffn_norm.weight`, dims: [nEmbd], data: ones(nEmbd) },
      { name: `blk.${l}.ffn_gate.weight`, dims: [nEmbd, nFf], data: random(nEmbd * nFf) },
      { name: `blk.${l}.ffn_up.weight`, dims: [nEmbd, nFf], data: random(nEmbd * nFf) },
      { name: `blk.${l}.ffn_down.weight`, dims: [nFf, nEmbd], data: random(nFf * nEmbd) },
    )
  }
  return encodeGguf(
    [
      ['general.architecture', { string: 'llama' }],
      ['general.name', { string: 'timmy-tiny-test' }],
      ['llama.context_length', { u32: 512 }],
      ['llama.embedding_length', { u32: nEmbd }],
      ['llama.block_count', { u32: nLayer }],
      ['llama.feed_forward_length', { u32: nFf }],
      ['llama.attention.head_count', { u32: nHead }],
      ['llama.attention.head_count_kv', { u32: nHead }],
      ['llama.attention.layer_norm_rms_epsilon', { f32: 1e-5 }],
      ['llama.rope.dimension_count', { u32: nEmbd / nHead }],
      ['llama.vocab_size', { u32: nVocab }],
      ['tokenizer.ggml.model', { string: 'llama' }],
      ['tokenizer.ggml.tokens', { strings: tokens }],
      ['tokenizer.ggml.scores', { f32s: tokens.map((_, i) => (i < 259 ? 0 : -(i - 258))) }],
      ['tokenizer.ggml.token_type', { i32s: types }],
      ['tokenizer.ggml.bos_token_id', { u32: 1 }],
      ['tokenizer.ggml.eos_token_id', { u32: 2 }],
      ['tokenizer.ggml.unknown_token_id', { u32: 0 }],
    ],
    tensors,
  )
}

// ---- tests ----

// node-llama-cpp is an optional dependency: an install without optional packages skips the model test.
const nodeLlamaCppMissing = await import('node-llama-cpp').then(
  () => false,
  () => true,
)

const dir = mkdtempSync(join(tmpdir(), 'timmy-gguf-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function ctx(prompt: string, params: Record<string, string[]> = {}): JobContext {
  return {
    inputs: [{ type: 'text', value: prompt }],
    params,
    signal: new AbortController().signal,
    now: () => 1_700_000_000,
    log: () => {},
    queryEvents: async () => [],
    partial: async () => {},
  }
}

describe('llama.cpp backend: files it cannot use', () => {
  it('names a missing file and a file that is not GGUF', async () => {
    const missing = join(dir, 'missing.gguf')
    expect(await ggufFileProblem(missing)).toBe(`TIMMY_LLM_GGUF ${missing}: no such file`)
    const text = join(dir, 'model.gguf')
    writeFileSync(text, 'this is not a model')
    expect(await ggufFileProblem(text)).toBe(`TIMMY_LLM_GGUF ${text}: not a GGUF model file`)
    const backend = createLlamaCppBackend({ gguf: text })
    expect(backend.model).toBe('model')
    expect(await backend.availability()).toEqual({ ok: false, reason: `TIMMY_LLM_GGUF ${text}: not a GGUF model file` })
    await expect(backend.chat([{ role: 'user', content: 'hi' }], { maxTokens: 4 }, new AbortController().signal)).rejects.toThrow('not a GGUF model file')
  })

  it.skipIf(nodeLlamaCppMissing)('reports a GGUF file llama.cpp cannot load', async () => {
    const truncated = join(dir, 'truncated.gguf')
    writeFileSync(truncated, tinyLlamaGguf().subarray(0, 2000))
    const availability = await createLlamaCppBackend({ gguf: truncated, threads: 1 }).availability()
    expect(availability.ok).toBe(false)
    expect(!availability.ok && availability.reason).toMatch(new RegExp(`^llama\\.cpp could not load ${truncated.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`))
  })
})

describe.skipIf(nodeLlamaCppMissing)('llama.cpp backend: a tiny generated model (skipped when node-llama-cpp is not installed)', () => {
  it('loads the model named by TIMMY_LLM_GGUF and generates tokens from its vocabulary', async () => {
    const path = join(dir, 'tiny-llama.gguf')
    writeFileSync(path, tinyLlamaGguf())
    const capabilities = builtinCapabilities({ env: { TIMMY_LLM_BACKEND: 'llama-cpp', TIMMY_LLM_GGUF: path, TIMMY_LLM_THREADS: '1' } })
    const generation = capabilities.find((c) => c.id === 'text-generation')!
    expect(await generation.availability()).toEqual({ ok: true })
    expect(generation.about).toContain('Model: tiny-llama.')
    const output = await generation.run(ctx('Say hello', { max_tokens: ['6'], temperature: ['0'] }))
    const words = output.content.trim().split(/\s+/)
    expect(words.length).toBeGreaterThan(0)
    expect(words.length).toBeLessThanOrEqual(6)
    for (const word of words) expect(TINY_WORDS).toContain(word)
    // Greedy decoding of the same model and prompt gives the same words.
    expect((await generation.run(ctx('Say hello', { max_tokens: ['6'], temperature: ['0'] }))).content).toBe(output.content)
  })
})
