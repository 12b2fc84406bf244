// The swarm as a live force graph on a canvas: agents, requesters and jobs, linked by who asked
// and who answered. Drag to pan, wheel or +/- to zoom, drag a node to move it, arrow keys to step
// through nodes and Enter to open one. A list view carries the same facts for screen readers.
import { css, html, LitElement, nothing, type PropertyValues } from 'lit'
import { ForceLayout, type LayoutLink, type LayoutNode } from '../force-layout.js'
import { kindName } from '../format.js'
import { displayName, jobPhase, type JobPhase } from '../model.js'
import { navigate, type Services } from '../services.js'
import { sharedStyles } from './styles.js'

/** The most recent jobs drawn; older ones leave the picture. */
const MAX_JOBS = 400

type NodeType = 'agent' | 'requester' | 'job'

interface GraphNode {
  id: string
  type: NodeType
  label: string
  phase?: JobPhase
  /** What Enter or a click opens. */
  href: string
}

const RADIUS: Record<NodeType, number> = { agent: 14, requester: 9, job: 6 }

export class SwarmGraph extends LitElement {
  static override properties = {
    services: { attribute: false },
    version: { type: Number },
    selected: { state: true },
  }

  declare services: Services
  declare version: number
  declare selected: string | undefined

  private readonly layout = new ForceLayout()
  private graphNodes = new Map<string, GraphNode>()
  private links: LayoutLink[] = []
  private frame: number | undefined
  private view = { scale: 1, x: 0, y: 0 }
  /** Once the user pans or zooms, the view stops fitting itself to the graph. */
  private userMoved = false
  private drag: { node?: LayoutNode; startX: number; startY: number; viewX: number; viewY: number; moved: boolean } | undefined
  private hovered: string | undefined
  private resizeObserver: ResizeObserver | undefined

  static override styles = [
    sharedStyles,
    css`
      .frame {
        position: relative;
        border: 1px solid var(--border);
        border-radius: 10px;
        background: var(--surface);
        height: min(70vh, 640px);
        min-height: 320px;
        overflow: hidden;
      }
      canvas {
        width: 100%;
        height: 100%;
        display: block;
        touch-action: none;
        cursor: grab;
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 1rem;
        margin: 0.5rem 0;
        font-size: 0.9rem;
      }
      .dot {
        display: inline-block;
        width: 0.8rem;
        height: 0.8rem;
        border-radius: 50%;
        vertical-align: middle;
        margin-right: 0.3rem;
      }
      .overlay {
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        pointer-events: none;
        color: var(--muted);
      }
    `,
  ]

  constructor() {
    super()
    this.version = 0
    this.selected = undefined
  }

  private get canvas(): HTMLCanvasElement | null {
    return this.renderRoot.querySelector('canvas')
  }

  override connectedCallback(): void {
    super.connectedCallback()
    this.resizeObserver = new ResizeObserver(() => this.wake())
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.resizeObserver?.disconnect()
    if (this.frame !== undefined) cancelAnimationFrame(this.frame)
    this.frame = undefined
  }

  protected override firstUpdated(): void {
    const canvas = this.canvas
    if (canvas) this.resizeObserver?.observe(canvas)
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('version') || changed.has('services')) this.rebuild()
  }

  protected override updated(): void {
    this.wake()
  }

  /** The graph from the model: every announced agent, the latest jobs, their requesters, and who answered. */
  private rebuild(): void {
    const { model } = this.services
    const nodes = new Map<string, GraphNode>()
    const links: LayoutLink[] = []
    for (const agent of model.directory()) {
      nodes.set(agent.pubkey, { id: agent.pubkey, type: 'agent', label: displayName(agent.pubkey, agent.profile), href: `#/agents` })
    }
    const jobs = [...model.jobs.values()].sort((a, b) => b.request.event.created_at - a.request.event.created_at).slice(0, MAX_JOBS)
    for (const job of jobs) {
      nodes.set(job.id, { id: job.id, type: 'job', label: `${kindName(job.request.kind)} job`, phase: jobPhase(job), href: `#/jobs/${job.id}` })
      const requester = job.request.pubkey
      if (!nodes.has(requester)) nodes.set(requester, { id: requester, type: 'requester', label: displayName(requester, model.profileOf(requester)), href: `#/jobs` })
      links.push({ source: requester, target: job.id })
      const answered = new Set([...job.feedback.map((f) => f.pubkey), ...job.results.map((r) => r.pubkey)])
      for (const agent of answered.size ? answered : job.request.targets) {
        if (!nodes.has(agent)) nodes.set(agent, { id: agent, type: 'agent', label: displayName(agent, model.profileOf(agent)), href: '#/agents' })
        links.push({ source: job.id, target: agent })
      }
    }
    this.graphNodes = nodes
    this.links = links
    this.layout.setGraph([...nodes.values()].map((n) => ({ id: n.id, radius: RADIUS[n.type] })), links)
  }

  private wake(): void {
    if (this.frame === undefined && this.isConnected) this.frame = requestAnimationFrame(() => this.step())
  }

  private step(): void {
    this.frame = undefined
    if (!this.layout.atRest) {
      // Several ticks per frame while hot, so a big graph settles in about a second.
      const ticks = this.layout.alpha > 0.2 ? 3 : 1
      for (let i = 0; i < ticks; i++) this.layout.tick()
    }
    if (!this.userMoved) this.fit()
    this.draw()
    if (!this.layout.atRest || this.drag) this.wake()
  }

  private fit(): void {
    const canvas = this.canvas
    if (!canvas) return
    const { minX, minY, maxX, maxY } = this.layout.bounds()
    const margin = 40
    const width = canvas.clientWidth
    const height = canvas.clientHeight
    const scale = Math.min(2, (width - margin) / Math.max(1, maxX - minX), (height - margin) / Math.max(1, maxY - minY))
    this.view = { scale, x: width / 2 - ((minX + maxX) / 2) * scale, y: height / 2 - ((minY + maxY) / 2) * scale }
  }

  private color(name: string): string {
    return getComputedStyle(this).getPropertyValue(name).trim() || '#888'
  }

  private nodeColor(node: GraphNode, palette: Record<string, string>): string {
    if (node.type === 'agent') return palette.agent
    if (node.type === 'requester') return palette.requester
    if (node.phase === 'success') return palette.ok
    if (node.phase === 'error') return palette.danger
    if (node.phase === 'payment-required' || node.phase === 'partial') return palette.warn
    return palette.muted
  }

  private draw(): void {
    const canvas = this.canvas
    const ctx = canvas?.getContext('2d')
    if (!canvas || !ctx) return
    const dpr = globalThis.devicePixelRatio || 1
    const width = canvas.clientWidth
    const height = canvas.clientHeight
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr)
      canvas.height = Math.round(height * dpr)
    }
    const palette = { agent: this.color('--accent'), requester: this.color('--requester'), ok: this.color('--ok'), danger: this.color('--danger'), warn: this.color('--warn'), muted: this.color('--muted'), fg: this.color('--fg'), border: this.color('--border'), focus: this.color('--focus') }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    ctx.clearRect(0, 0, width, height)
    const { scale, x, y } = this.view
    ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * x, dpr * y)
    ctx.lineWidth = 1 / scale
    ctx.strokeStyle = palette.border
    ctx.beginPath()
    for (const link of this.links) {
      const a = this.layout.nodes.get(link.source)
      const b = this.layout.nodes.get(link.target)
      if (!a || !b) continue
      ctx.moveTo(a.x, a.y)
      ctx.lineTo(b.x, b.y)
    }
    ctx.stroke()
    for (const [id, node] of this.layout.nodes) {
      const info = this.graphNodes.get(id)
      if (!info) continue
      ctx.beginPath()
      ctx.arc(node.x, node.y, node.radius, 0, 2 * Math.PI)
      ctx.fillStyle = this.nodeColor(info, palette)
      ctx.fill()
      if (id === this.selected || id === this.hovered) {
        ctx.lineWidth = 3 / scale
        ctx.strokeStyle = palette.focus
        ctx.stroke()
        ctx.lineWidth = 1 / scale
        ctx.strokeStyle = palette.border
      }
    }
    ctx.fillStyle = palette.fg
    ctx.textAlign = 'center'
    ctx.font = `${12 / scale}px system-ui, sans-serif`
    for (const [id, node] of this.layout.nodes) {
      const info = this.graphNodes.get(id)
      if (!info) continue
      // Agents are always named; others when pointed at, so a large swarm stays legible.
      if (info.type === 'agent' || id === this.selected || id === this.hovered) ctx.fillText(info.label, node.x, node.y + node.radius + 13 / scale)
    }
  }

  private toLayout(event: PointerEvent | WheelEvent): { x: number; y: number } {
    const rect = this.canvas!.getBoundingClientRect()
    return { x: (event.clientX - rect.left - this.view.x) / this.view.scale, y: (event.clientY - rect.top - this.view.y) / this.view.scale }
  }

  private onPointerDown(event: PointerEvent): void {
    const point = this.toLayout(event)
    const node = this.layout.nodeAt(point.x, point.y)
    this.canvas?.setPointerCapture(event.pointerId)
    this.drag = { node, startX: event.clientX, startY: event.clientY, viewX: this.view.x, viewY: this.view.y, moved: false }
    if (node) node.pinned = true
  }

  private onPointerMove(event: PointerEvent): void {
    const drag = this.drag
    if (!drag) {
      const point = this.toLayout(event)
      const hovered = this.layout.nodeAt(point.x, point.y)?.id
      if (hovered !== this.hovered) {
        this.hovered = hovered
        this.canvas!.style.cursor = hovered ? 'pointer' : 'grab'
        this.draw()
      }
      return
    }
    const dx = event.clientX - drag.startX
    const dy = event.clientY - drag.startY
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true
    if (drag.node) {
      const point = this.toLayout(event)
      drag.node.x = point.x
      drag.node.y = point.y
      this.layout.reheat(0.3)
    } else {
      this.userMoved = true
      this.view = { ...this.view, x: drag.viewX + dx, y: drag.viewY + dy }
    }
    this.wake()
  }

  private onPointerUp(): void {
    const drag = this.drag
    this.drag = undefined
    if (!drag) return
    if (drag.node) drag.node.pinned = false
    if (!drag.moved && drag.node) this.open(drag.node.id)
    this.wake()
  }

  private onWheel(event: WheelEvent): void {
    event.preventDefault()
    this.zoom(event.deltaY < 0 ? 1.15 : 1 / 1.15, event)
  }

  private zoom(factor: number, at?: WheelEvent): void {
    const canvas = this.canvas!
    const rect = canvas.getBoundingClientRect()
    const cx = at ? at.clientX - rect.left : canvas.clientWidth / 2
    const cy = at ? at.clientY - rect.top : canvas.clientHeight / 2
    const scale = Math.min(8, Math.max(0.1, this.view.scale * factor))
    const applied = scale / this.view.scale
    this.view = { scale, x: cx - (cx - this.view.x) * applied, y: cy - (cy - this.view.y) * applied }
    this.userMoved = true
    this.draw()
  }

  private open(id: string): void {
    this.selected = id
    const node = this.graphNodes.get(id)
    if (node?.type === 'job') navigate(node.href)
  }

  private onKey(event: KeyboardEvent): void {
    const ids = [...this.graphNodes.keys()]
    if (ids.length === 0) return
    const at = this.selected ? ids.indexOf(this.selected) : -1
    if (event.key === 'ArrowRight' || event.key === 'ArrowDown') this.selected = ids[(at + 1) % ids.length]
    else if (event.key === 'ArrowLeft' || event.key === 'ArrowUp') this.selected = ids[(at - 1 + ids.length) % ids.length]
    else if (event.key === 'Enter' && this.selected) navigate(this.graphNodes.get(this.selected)!.href)
    else if (event.key === '+' || event.key === '=') this.zoom(1.25)
    else if (event.key === '-') this.zoom(0.8)
    else if (event.key === '0') {
      this.userMoved = false
      this.fit()
    } else return
    event.preventDefault()
    this.draw()
  }

  override render() {
    const nodes = [...this.graphNodes.values()]
    const count = (type: NodeType) => nodes.filter((n) => n.type === type).length
    const summary = `${count('agent')} agents, ${count('requester')} requesters, ${count('job')} jobs`
    const selected = this.selected ? this.graphNodes.get(this.selected) : undefined
    return html`
      <h2>Swarm</h2>
      <div class="legend" aria-hidden="true">
        <span><span class="dot" style="background: var(--accent)"></span>agent</span>
        <span><span class="dot" style="background: var(--requester)"></span>requester</span>
        <span><span class="dot" style="background: var(--muted)"></span>job waiting</span>
        <span><span class="dot" style="background: var(--ok)"></span>job done</span>
        <span><span class="dot" style="background: var(--warn)"></span>payment / partial</span>
        <span><span class="dot" style="background: var(--danger)"></span>job failed</span>
      </div>
      <div class="frame">
        <canvas
          tabindex="0"
          role="img"
          aria-label="Swarm graph: ${summary}. Arrow keys select a node, Enter opens it, plus and minus zoom, 0 fits."
          data-testid="swarm-canvas"
          @pointerdown=${this.onPointerDown}
          @pointermove=${this.onPointerMove}
          @pointerup=${this.onPointerUp}
          @pointercancel=${this.onPointerUp}
          @wheel=${this.onWheel}
          @keydown=${this.onKey}
        ></canvas>
        ${nodes.length === 0 ? html`<div class="overlay"><p>Nothing to draw yet: no agents or jobs seen on your relays.</p></div>` : nothing}
      </div>
      <p role="status" aria-live="polite" data-testid="swarm-summary">${summary}${selected ? html` — selected: ${selected.type} <strong>${selected.label}</strong>` : nothing}</p>
      <details>
        <summary>Show as a list</summary>
        <ul>
          ${nodes.map((n) => html`<li>${n.type}: <a href=${n.href}>${n.label}</a>${n.phase ? ` (${n.phase})` : ''}</li>`)}
        </ul>
      </details>
    `
  }
}

customElements.define('timmy-swarm', SwarmGraph)
