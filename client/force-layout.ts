// A small force-directed layout for the swarm graph: springs along links, short-range repulsion
// found through a uniform grid (so a tick costs about O(nodes + links), not O(nodes²)), a pull
// toward the centre, and a cooling `alpha` so the picture comes to rest. Pure and deterministic:
// new nodes start at a position derived from their id (or beside a node they link to).

export interface LayoutNode {
  id: string
  x: number
  y: number
  vx: number
  vy: number
  radius: number
  /** Held in place (being dragged). */
  pinned: boolean
}

export interface LayoutLink {
  source: string
  target: string
}

export interface LayoutOptions {
  linkLength: number
  /** Nodes farther apart than this do not push each other. */
  repulsionRange: number
  repulsion: number
  spring: number
  gravity: number
  /** Share of the velocity kept from one tick to the next. */
  friction: number
  /** alpha is multiplied by this each tick; below `restAlpha` the layout is at rest. */
  cooling: number
  restAlpha: number
}

export const DEFAULT_LAYOUT_OPTIONS: LayoutOptions = {
  linkLength: 70,
  repulsionRange: 160,
  repulsion: 2400,
  spring: 0.08,
  gravity: 0.012,
  friction: 0.62,
  cooling: 0.985,
  restAlpha: 0.004,
}

/** A stable pseudo-random number in [0, 1) from a string (FNV-1a). */
function unitHash(text: string, salt: number): number {
  let h = 0x811c9dc5 ^ salt
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0) / 0x1_0000_0000
}

export class ForceLayout {
  readonly nodes = new Map<string, LayoutNode>()
  private links: { source: LayoutNode; target: LayoutNode }[] = []
  alpha = 1
  readonly options: LayoutOptions

  constructor(options: Partial<LayoutOptions> = {}) {
    this.options = { ...DEFAULT_LAYOUT_OPTIONS, ...options }
  }

  get atRest(): boolean {
    return this.alpha < this.options.restAlpha
  }

  /** Replaces the graph; nodes that stay keep their place, and the layout warms up when anything changed. */
  setGraph(nodes: { id: string; radius: number }[], links: LayoutLink[]): void {
    const wanted = new Set(nodes.map((n) => n.id))
    let changed = false
    for (const id of this.nodes.keys()) {
      if (!wanted.has(id)) {
        this.nodes.delete(id)
        changed = true
      }
    }
    const fresh: LayoutNode[] = []
    for (const { id, radius } of nodes) {
      const known = this.nodes.get(id)
      if (known) {
        known.radius = radius
        continue
      }
      const spread = 40 + 12 * Math.sqrt(nodes.length)
      const angle = unitHash(id, 1) * 2 * Math.PI
      const distance = spread * Math.sqrt(unitHash(id, 2))
      const node = { id, x: Math.cos(angle) * distance, y: Math.sin(angle) * distance, vx: 0, vy: 0, radius, pinned: false }
      this.nodes.set(id, node)
      fresh.push(node)
      changed = true
    }
    const before = this.links.length
    this.links = links.flatMap((l) => {
      const source = this.nodes.get(l.source)
      const target = this.nodes.get(l.target)
      return source && target && source !== target ? [{ source, target }] : []
    })
    // A new node starts beside something it is linked to, so it does not fly across the picture.
    for (const node of fresh) {
      const link = this.links.find((l) => (l.source === node) !== (l.target === node) && !fresh.includes(l.source === node ? l.target : l.source))
      if (!link) continue
      const anchor = link.source === node ? link.target : link.source
      node.x = anchor.x + (unitHash(node.id, 3) - 0.5) * this.options.linkLength
      node.y = anchor.y + (unitHash(node.id, 4) - 0.5) * this.options.linkLength
    }
    if (changed || before !== this.links.length) this.alpha = Math.max(this.alpha, 0.6)
  }

  /** Restarts the motion, e.g. after a drag. */
  reheat(alpha = 0.4): void {
    this.alpha = Math.max(this.alpha, alpha)
  }

  tick(): void {
    const { linkLength, repulsionRange, repulsion, spring, gravity, friction, cooling } = this.options
    const alpha = this.alpha
    const nodes = [...this.nodes.values()]
    const cell = repulsionRange
    const grid = new Map<string, LayoutNode[]>()
    for (const node of nodes) {
      const key = `${Math.floor(node.x / cell)},${Math.floor(node.y / cell)}`
      const bucket = grid.get(key)
      if (bucket) bucket.push(node)
      else grid.set(key, [node])
    }
    const range2 = repulsionRange * repulsionRange
    for (const node of nodes) {
      const cx = Math.floor(node.x / cell)
      const cy = Math.floor(node.y / cell)
      for (let gx = cx - 1; gx <= cx + 1; gx++) {
        for (let gy = cy - 1; gy <= cy + 1; gy++) {
          for (const other of grid.get(`${gx},${gy}`) ?? []) {
            // Each pair once: the one with the smaller id acts on both.
            if (other.id <= node.id) continue
            let dx = other.x - node.x
            let dy = other.y - node.y
            let d2 = dx * dx + dy * dy
            if (d2 >= range2) continue
            if (d2 < 1e-6) {
              dx = unitHash(node.id + other.id, 5) - 0.5
              dy = unitHash(node.id + other.id, 6) - 0.5
              d2 = dx * dx + dy * dy
            }
            const minGap = node.radius + other.radius
            const force = (repulsion * alpha) / Math.max(d2, minGap * minGap * 0.25)
            const d = Math.sqrt(d2)
            const fx = (dx / d) * force
            const fy = (dy / d) * force
            node.vx -= fx
            node.vy -= fy
            other.vx += fx
            other.vy += fy
          }
        }
      }
    }
    for (const { source, target } of this.links) {
      const dx = target.x - source.x
      const dy = target.y - source.y
      const d = Math.sqrt(dx * dx + dy * dy) || 1
      const force = (d - linkLength - source.radius - target.radius) * spring * alpha
      const fx = (dx / d) * force
      const fy = (dy / d) * force
      source.vx += fx
      source.vy += fy
      target.vx -= fx
      target.vy -= fy
    }
    for (const node of nodes) {
      if (node.pinned) {
        node.vx = node.vy = 0
        continue
      }
      node.vx = (node.vx - node.x * gravity * alpha) * friction
      node.vy = (node.vy - node.y * gravity * alpha) * friction
      node.x += node.vx
      node.y += node.vy
    }
    this.alpha *= cooling
  }

  /** The node under a point (layout coordinates), nearest first. */
  nodeAt(x: number, y: number, slack = 4): LayoutNode | undefined {
    let best: LayoutNode | undefined
    let bestD2 = Infinity
    for (const node of this.nodes.values()) {
      const d2 = (node.x - x) ** 2 + (node.y - y) ** 2
      const reach = node.radius + slack
      if (d2 <= reach * reach && d2 < bestD2) {
        best = node
        bestD2 = d2
      }
    }
    return best
  }

  /** The smallest box holding every node, for fitting the view. */
  bounds(): { minX: number; minY: number; maxX: number; maxY: number } {
    let minX = Infinity
    let minY = Infinity
    let maxX = -Infinity
    let maxY = -Infinity
    for (const n of this.nodes.values()) {
      minX = Math.min(minX, n.x - n.radius)
      minY = Math.min(minY, n.y - n.radius)
      maxX = Math.max(maxX, n.x + n.radius)
      maxY = Math.max(maxY, n.y + n.radius)
    }
    return Number.isFinite(minX) ? { minX, minY, maxX, maxY } : { minX: -100, minY: -100, maxX: 100, maxY: 100 }
  }
}
