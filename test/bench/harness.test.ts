import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { composeResults, markdownTable, medianOfSummaries, parseSectionBlocks, percentile, sectionBlock } from './harness.js'

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i)
    expect(percentile(values, 50)).toBe(50)
    expect(percentile(values, 95)).toBe(95)
    expect(percentile([3, 1, 2], 50)).toBe(2)
    expect(percentile([7], 95)).toBe(7)
    expect(percentile([], 50)).toBeNaN()
  })

  it('returns one of the values, and never decreases as p grows', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true }), { minLength: 1 }), fc.integer({ min: 0, max: 99 }), (values, p) => {
        expect(values).toContain(percentile(values, p))
        expect(percentile(values, p + 1)).toBeGreaterThanOrEqual(percentile(values, p))
      }),
    )
  })

  it('summarizes runs by the median of each percentile', () => {
    const summary = medianOfSummaries([
      { p50: 1, p95: 10, samples: 5 },
      { p50: 3, p95: 30, samples: 5 },
      { p50: 2, p95: 20, samples: 5 },
    ])
    expect(summary).toEqual({ p50: 2, p95: 20, samples: 15 })
  })
})

describe('RESULTS.md composition', () => {
  const a = sectionBlock({ id: 'relay-ingest', title: 'Ingest' }, markdownTable(['x'], [['1']]), 'today')
  const b = sectionBlock({ id: 'verify', title: 'Verify' }, 'old numbers', 'yesterday')

  it('keeps sections that were not re-run and replaces those that were', () => {
    const before = composeResults({ header: '# R', order: ['relay-ingest', 'verify'], fresh: new Map([['relay-ingest', a], ['verify', b]]), previous: new Map() })
    const parsed = parseSectionBlocks(before)
    expect([...parsed.keys()]).toEqual(['relay-ingest', 'verify'])
    expect(parsed.get('verify')).toBe(b)

    const rerun = sectionBlock({ id: 'relay-ingest', title: 'Ingest' }, 'new numbers', 'now')
    const after = composeResults({ header: '# R', order: ['relay-ingest', 'verify'], fresh: new Map([['relay-ingest', rerun]]), previous: parsed })
    expect(after).toContain('new numbers')
    expect(after).not.toContain('| 1 |')
    expect(after).toContain('old numbers')
    expect(after.indexOf('new numbers')).toBeLessThan(after.indexOf('old numbers'))
  })

  it('drops blocks of sections that no longer exist', () => {
    const previous = parseSectionBlocks(composeResults({ header: '# R', order: ['gone', 'verify'], fresh: new Map([['gone', a.replaceAll('relay-ingest', 'gone')], ['verify', b]]), previous: new Map() }))
    const after = composeResults({ header: '# R', order: ['verify'], fresh: new Map(), previous })
    expect(after).not.toContain('section:gone')
    expect(after).toContain('old numbers')
  })
})
