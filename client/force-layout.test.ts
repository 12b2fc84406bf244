import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ForceLayout } from './force-layout.js'

function star(layout: ForceLayout, hubs: number, leaves: number): void {
  const nodes = [...Array(hubs).keys()].map((h) => ({ id: `hub${h}`, radius: 14 }))
  const links = []
  for (let i = 0; i < leaves; i++) {
    nodes.push({ id: `leaf${i}`, radius: 6 })
    links.push({ source: `hub${i % hubs}`, target: `leaf${i}` })
  }
  layout.setGraph(nodes, links)
}

describe('ForceLayout', () => {
  it('comes to rest with every position finite, linked nodes near, nodes apart', () => {
    const layout = new ForceLayout()
    star(layout, 4, 150)
    let ticks = 0
    while (!layout.atRest && ticks < 2000) {
      layout.tick()
      ticks++
    }
    expect(layout.atRest).toBe(true)
    const nodes = [...layout.nodes.values()]
    for (const n of nodes) expect(Number.isFinite(n.x) && Number.isFinite(n.y)).toBe(true)
    const dist = (a: string, b: string) => Math.hypot(layout.nodes.get(a)!.x - layout.nodes.get(b)!.x, layout.nodes.get(a)!.y - layout.nodes.get(b)!.y)
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
    const linked = [...Array(150).keys()].map((i) => dist(`hub${i % 4}`, `leaf${i}`))
    const allPairs = nodes.flatMap((a, i) => nodes.slice(i + 1).map((b) => dist(a.id, b.id)))
    expect(mean(linked)).toBeLessThan(0.75 * mean(allPairs))
    let overlapping = 0
    for (let i = 0; i < nodes.length; i++) for (let j = i + 1; j < nodes.length; j++) if (Math.hypot(nodes[i].x - nodes[j].x, nodes[i].y - nodes[j].y) < 2) overlapping++
    expect(overlapping).toBe(0)
  })

  it('keeps the places of nodes that stay and places the same graph the same way', () => {
    const a = new ForceLayout()
    const b = new ForceLayout()
    star(a, 2, 10)
    star(b, 2, 10)
    for (let i = 0; i < 50; i++) {
      a.tick()
      b.tick()
    }
    expect([...a.nodes.values()]).toEqual([...b.nodes.values()])
    const before = { ...a.nodes.get('hub0')! }
    a.setGraph([...a.nodes.values()].map((n) => ({ id: n.id, radius: n.radius })).concat({ id: 'new', radius: 6 }), [{ source: 'hub0', target: 'new' }])
    expect(a.nodes.get('hub0')).toMatchObject({ x: before.x, y: before.y })
    expect(a.nodes.has('new')).toBe(true)
  })

  it('finds the node under a point', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (count) => {
        const layout = new ForceLayout()
        layout.setGraph([...Array(count).keys()].map((i) => ({ id: `n${i}`, radius: 5 })), [])
        for (const node of layout.nodes.values()) expect(layout.nodeAt(node.x, node.y, 0)?.id).toBeDefined()
        const { maxX, maxY } = layout.bounds()
        expect(layout.nodeAt(maxX + 100, maxY + 100)).toBeUndefined()
      }),
      { numRuns: 30 },
    )
  })
})
