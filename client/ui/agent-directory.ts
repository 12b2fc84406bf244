// The agent directory: every agent with a live NIP-89 announcement, its profile, the job kinds it
// serves, what it last charged, whether its heartbeat is fresh, and its reputation when labelled.
import { css, html, LitElement, nothing } from 'lit'
import type { HandlerInformation } from '../../nips/89.js'
import { formatAge, formatMsats, kindName, shortNpub } from '../format.js'
import { displayName, liveness, type AgentEntry } from '../model.js'
import type { Services } from '../services.js'
import { sharedStyles } from './styles.js'

const LIVENESS_TEXT = { online: 'online', late: 'heartbeat late', offline: 'offline', unknown: 'no heartbeat' }

export class AgentDirectory extends LitElement {
  static override properties = {
    services: { attribute: false },
    version: { type: Number },
    filter: { state: true },
  }

  declare services: Services
  declare version: number
  declare filter: string

  static override styles = [
    sharedStyles,
    css`
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.75rem;
        align-items: end;
        justify-content: space-between;
        margin-bottom: 1rem;
      }
      .toolbar label {
        margin: 0;
      }
      ul.agents {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 1rem;
        grid-template-columns: repeat(auto-fill, minmax(300px, 1fr));
      }
      .head {
        display: flex;
        gap: 0.75rem;
        align-items: center;
      }
      .avatar {
        width: 48px;
        height: 48px;
        border-radius: 50%;
        background: var(--border);
        flex: none;
        object-fit: cover;
        display: grid;
        place-items: center;
        font-weight: 700;
      }
      .head h3 {
        margin: 0;
      }
      .about {
        margin: 0.5rem 0;
        color: var(--fg);
      }
      dl {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0.2rem 0.75rem;
        margin: 0.5rem 0;
        font-size: 0.92rem;
      }
      dt {
        color: var(--muted);
      }
      dd {
        margin: 0;
      }
      .capability {
        border-top: 1px solid var(--border);
        padding-top: 0.6rem;
        margin-top: 0.6rem;
      }
    `,
  ]

  constructor() {
    super()
    this.version = 0
    this.filter = ''
  }

  private matchesFilter(agent: AgentEntry): boolean {
    const query = this.filter.trim().toLowerCase()
    if (!query) return true
    const words = [displayName(agent.pubkey, agent.profile), agent.profile?.about ?? '', ...[...agent.handlers.values()].flatMap((h) => [h.content.name ?? '', h.content.about ?? '', ...h.kinds.map((k) => `${k} ${kindName(k)}`)])]
    return words.join(' ').toLowerCase().includes(query)
  }

  private capability(agent: AgentEntry, handler: HandlerInformation) {
    const params = Object.entries(handler.content.nip90Params ?? {})
    const price = handler.kinds.map((k) => agent.pricesMsats.get(k)).find((p) => p !== undefined)
    const canHire = handler.kinds.some((k) => k >= 5000 && k <= 5999)
    return html`<div class="capability">
      <div class="row" style="justify-content: space-between">
        <strong>${handler.content.name ?? kindName(handler.kinds[0])}</strong>
        ${handler.kinds.map((k) => html`<span class="badge" title=${kindName(k)}>kind ${k}</span>`)}
      </div>
      ${handler.content.about ? html`<p class="about">${handler.content.about}</p>` : nothing}
      <dl>
        <dt>Price</dt>
        <dd>${price !== undefined ? `${formatMsats(price)} (last quoted)` : 'quoted per job'}</dd>
        ${params.length ? html`<dt>Parameters</dt><dd>${params.map(([name, p]) => html`<code>${name}</code>${p.required ? '*' : ''} `)}</dd>` : nothing}
        <dt>Encryption</dt>
        <dd>${handler.content.encryptionSupported ? 'supported (NIP-44)' : 'not offered'}</dd>
      </dl>
      ${canHire
        ? html`<a class="button primary" href="#/hire?agent=${encodeURIComponent(handler.address)}" data-testid="hire">Hire for ${kindName(handler.kinds[0]).toLowerCase()}</a>`
        : nothing}
    </div>`
  }

  private card(agent: AgentEntry) {
    const now = this.services.now()
    const state = liveness(agent.heartbeat, now)
    const name = displayName(agent.pubkey, agent.profile)
    const picture = agent.profile?.picture && /^https?:\/\//.test(agent.profile.picture) ? agent.profile.picture : undefined
    return html`<li class="card" data-testid="agent-card" aria-labelledby="agent-${agent.pubkey}">
      <div class="head">
        ${picture ? html`<img class="avatar" src=${picture} alt="" loading="lazy" referrerpolicy="no-referrer" />` : html`<span class="avatar" aria-hidden="true">${name.slice(0, 1).toUpperCase()}</span>`}
        <div>
          <h3 id="agent-${agent.pubkey}"><a href="#/agent/${agent.pubkey}">${name}</a></h3>
          <span class="mono hint" title=${agent.pubkey}>${shortNpub(agent.pubkey)}</span>
        </div>
      </div>
      ${agent.profile?.about ? html`<p class="about">${agent.profile.about}</p>` : nothing}
      <dl>
        <dt>Status</dt>
        <dd>
          <span class="badge ${state}">${LIVENESS_TEXT[state]}</span>
          ${agent.heartbeat ? html`<span class="hint">${formatAge(now - agent.heartbeat.createdAt)}${agent.heartbeat.activeJobs ? `, ${agent.heartbeat.activeJobs} job(s) running` : ''}</span>` : nothing}
        </dd>
        <dt>Reputation</dt>
        <dd>
          ${agent.reputation && agent.reputation.labels > 0
            ? html`${Math.round(agent.reputation.value * 100)}% <span class="hint">from ${agent.reputation.labels} label${agent.reputation.labels === 1 ? '' : 's'}</span>`
            : html`<span class="hint">${agent.reputation ? 'no labels from your web of trust or from paying clients yet' : 'no labels yet'}</span>`}
        </dd>
      </dl>
      ${[...agent.handlers.values()].map((h) => this.capability(agent, h))}
      ${agent.profile?.lud16 || agent.profile?.lud06
        ? html`<div class="capability"><a class="button" href="#/agent/${agent.pubkey}" data-testid="zap-link" aria-label="Zap ${name}">⚡ Zap</a> <span class="hint mono">${agent.profile.lud16 ?? 'LNURL'}</span></div>`
        : nothing}
    </li>`
  }

  override render() {
    const all = this.services.model.directory()
    const agents = all.filter((a) => this.matchesFilter(a))
    return html`
      <div class="toolbar">
        <div>
          <h2>Agents</h2>
          <span class="hint" role="status">${all.length} agent${all.length === 1 ? '' : 's'} announced on your relays</span>
        </div>
        <div class="row">
          <div>
            <label for="agent-filter" class="hint">Filter</label>
            <input id="agent-filter" type="search" placeholder="name, kind, capability" .value=${this.filter} @input=${(e: InputEvent) => (this.filter = (e.target as HTMLInputElement).value)} />
          </div>
          <a class="button" href="#/hire">Custom job…</a>
        </div>
      </div>
      ${all.length === 0
        ? html`<div class="empty" data-testid="directory-empty">
            <p><strong>No agents announced yet.</strong></p>
            <p>Agents publish a NIP-89 announcement (kind 31990) when they start. Run <code>npm start</code> for the default agents, or add a relay where agents live.</p>
          </div>`
        : agents.length === 0
          ? html`<p class="empty">No agent matches “${this.filter}”.</p>`
          : html`<ul class="agents">${agents.map((a) => this.card(a))}</ul>`}
    `
  }
}

customElements.define('timmy-directory', AgentDirectory)
