// The shell: relays, login, navigation by URL hash, and the subscriptions that keep the swarm
// model current. Views get a Services object and the model's version, and redraw from them.
import { css, html, LitElement, nothing, type PropertyValues } from 'lit'
import type { Filter, NostrEvent } from '../nips/01.js'
import { ZAP_RECEIPT_KIND } from '../nips/57.js'
import { FEEDBACK_KIND } from '../nips/90.js'
import { normalizeRelayUrl } from '../nips/relay-url.js'
import { displayName, HEARTBEAT_KIND, SwarmModel, type Profile } from './model.js'
import { RelayPool, type RelayStatus, type Subscription } from './relay-pool.js'
import { navigate, type Services } from './services.js'
import { loginWithExtension, readOnlyLogin, type Signer } from './signer.js'
import { shortNpub } from './format.js'
import { payEndpointUrl, zapperFromPayEndpoint } from './zap.js'
import { sharedStyles } from './ui/styles.js'
import './ui/login-panel.js'
import './ui/agent-directory.js'
import './ui/job-composer.js'
import './ui/job-view.js'
import './ui/swarm-graph.js'
import './ui/auction-view.js'
import './ui/relay-settings.js'
import './ui/agent-view.js'
import './ui/operator-view.js'

const RELAYS_KEY = 'timmy.relays'
const LOGIN_KEY = 'timmy.login'
/** How far back the activity feed (jobs, feedback, results) reaches. */
const ACTIVITY_WINDOW_SECONDS = 86_400
/** How long an agent's LNURL-pay endpoint may take to say who signs its zap receipts. */
const PAY_ENDPOINT_TIMEOUT_MS = 10_000

type StoredLogin = { method: 'nip07' } | { method: 'readonly'; pubkey: string }

/** The relays the host tells us about (its embedded relay first), else the default port on this host. */
async function defaultRelays(): Promise<string[]> {
  try {
    const response = await fetch('/api/config', { headers: { accept: 'application/json' } })
    if (response.ok) {
      const body = (await response.json()) as { relays?: unknown }
      const relays = Array.isArray(body.relays) ? body.relays.filter((r): r is string => typeof r === 'string') : []
      if (relays.length > 0) return relays
    }
  } catch {
    // No config endpoint (e.g. served elsewhere): fall through to the default.
  }
  const host = location.hostname.includes(':') ? `[${location.hostname}]` : location.hostname || '127.0.0.1'
  return [`ws://${host}:7777`]
}

function storedRelays(): string[] | undefined {
  try {
    const value = JSON.parse(localStorage.getItem(RELAYS_KEY) ?? 'null') as unknown
    return Array.isArray(value) && value.every((v) => typeof v === 'string') && value.length > 0 ? value : undefined
  } catch {
    return undefined
  }
}

/** Keeps one subscription per name, reopening it only when its filters change. */
class NamedSubscriptions {
  private readonly open = new Map<string, { key: string; sub: Subscription }>()

  constructor(private readonly start: (filters: Filter[]) => Subscription) {}

  ensure(name: string, filters: Filter[] | undefined): void {
    const key = JSON.stringify(filters ?? null)
    const current = this.open.get(name)
    if (current?.key === key) return
    current?.sub.close()
    this.open.delete(name)
    if (filters) this.open.set(name, { key, sub: this.start(filters) })
  }

  closeAll(): void {
    for (const { sub } of this.open.values()) sub.close()
    this.open.clear()
  }
}

const VIEWS = [
  { id: 'agents', label: 'Agents' },
  { id: 'jobs', label: 'Jobs' },
  { id: 'swarm', label: 'Swarm' },
  { id: 'auction', label: 'Auctions' },
  { id: 'relays', label: 'Relays' },
  { id: 'operator', label: 'Operator' },
] as const

export class TimmyApp extends LitElement {
  static override properties = {
    route: { state: true },
    signer: { state: true },
    statuses: { state: true },
    version: { state: true },
    defaults: { state: true },
    restoring: { state: true },
  }

  declare route: string
  declare signer: Signer | undefined
  declare statuses: RelayStatus[]
  declare version: number
  declare defaults: string[]
  declare restoring: boolean

  private readonly model = new SwarmModel()
  private readonly pool = new RelayPool()
  private readonly subs = new NamedSubscriptions((filters) => this.watch(filters))
  private renderQueued = false
  private reputationTimer: ReturnType<typeof setTimeout> | undefined
  private clockTimer: ReturnType<typeof setInterval> | undefined
  /**
   * The lightning address (or lnurl) whose pay endpoint was last asked for each agent's zap server
   * key, '' for none: each is asked once per page load, and a failure is not retried.
   */
  private readonly zapperAsked = new Map<string, string>()

  static override styles = [
    sharedStyles,
    css`
      :host {
        max-width: 1200px;
        margin: 0 auto;
        padding: 0 1rem 3rem;
      }
      header {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.75rem 1.5rem;
        padding: 0.75rem 0;
        border-bottom: 1px solid var(--border);
        margin-bottom: 1rem;
      }
      .brand {
        font-weight: 800;
        font-size: 1.3rem;
        letter-spacing: 0.02em;
        color: var(--fg);
        text-decoration: none;
      }
      nav ul {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem;
        list-style: none;
        margin: 0;
        padding: 0;
      }
      nav a {
        display: block;
        padding: 0.35rem 0.7rem;
        border-radius: 6px;
        text-decoration: none;
        color: var(--fg);
      }
      nav a[aria-current='page'] {
        background: var(--accent);
        color: var(--on-accent);
      }
      .who {
        margin-left: auto;
      }
      .relay-banner {
        margin-bottom: 1rem;
      }
    `,
  ]

  constructor() {
    super()
    this.route = location.hash || '#/agents'
    this.signer = undefined
    this.statuses = []
    this.version = 0
    this.defaults = []
    this.restoring = false
  }

  private readonly onHash = () => {
    this.route = location.hash || '#/agents'
  }

  override connectedCallback(): void {
    super.connectedCallback()
    addEventListener('hashchange', this.onHash)
    this.pool.onStatus((statuses) => (this.statuses = statuses))
    this.clockTimer = setInterval(() => this.requestUpdate(), 10_000)
    void this.boot()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    removeEventListener('hashchange', this.onHash)
    clearInterval(this.clockTimer)
    this.subs.closeAll()
    this.pool.close()
  }

  private async boot(): Promise<void> {
    const defaults = await defaultRelays()
    this.pool.setRelays(storedRelays() ?? defaults)
    // Views render from here on: none of them should query a pool with no relays yet.
    this.defaults = defaults
    this.refreshSubscriptions()
    await this.restoreLogin()
  }

  private async restoreLogin(): Promise<void> {
    let stored: StoredLogin | undefined
    try {
      stored = JSON.parse(localStorage.getItem(LOGIN_KEY) ?? 'null') ?? undefined
    } catch {
      stored = undefined
    }
    if (!stored) return
    this.restoring = true
    try {
      this.setSigner(stored.method === 'nip07' ? await loginWithExtension(3000) : readOnlyLogin(stored.pubkey))
    } catch {
      // The extension went away or said no: the login panel explains when the user tries again.
      localStorage.removeItem(LOGIN_KEY)
    } finally {
      this.restoring = false
    }
  }

  private setSigner(signer: Signer | undefined): void {
    void this.signer?.close()
    this.signer = signer
    if (!signer) localStorage.removeItem(LOGIN_KEY)
    else if (signer.method === 'nip07') localStorage.setItem(LOGIN_KEY, JSON.stringify({ method: 'nip07' }))
    else if (signer.method === 'readonly') localStorage.setItem(LOGIN_KEY, JSON.stringify({ method: 'readonly', pubkey: signer.pubkey }))
    // A remote signer session is not kept across reloads: its client key lives only in memory.
    else localStorage.removeItem(LOGIN_KEY)
    this.pool.setAuthSigner(signer?.canSign ? (template) => signer.signEvent(template) : undefined)
    this.refreshSubscriptions()
    this.scheduleReputation()
  }

  private watch(filters: Filter[]): Subscription {
    return this.pool.subscribe(filters, { onevent: (event) => this.receive(event) })
  }

  private receive(event: NostrEvent): void {
    if (!this.model.apply(event)) return
    if (event.kind === 1985 || event.kind === 3 || event.kind === ZAP_RECEIPT_KIND) this.scheduleReputation()
    this.scheduleRender()
  }

  private scheduleRender(): void {
    if (this.renderQueued) return
    this.renderQueued = true
    // Bursts of events (a relay's backlog) become one redraw.
    setTimeout(() => {
      this.renderQueued = false
      this.refreshSubscriptions()
      this.version = this.model.version
    }, 50)
  }

  private scheduleReputation(): void {
    clearTimeout(this.reputationTimer)
    this.reputationTimer = setTimeout(() => {
      this.model.refreshReputation(this.signer?.pubkey, this.now())
      this.scheduleRender()
    }, 300)
  }

  /** Asks the pay endpoint of each agent whose profile names a new one for the key that signs its zap receipts. */
  private lookUpZappers(): void {
    for (const agent of this.model.agents.keys()) {
      const profile = this.model.profileOf(agent)
      const address = profile?.lud16 ?? profile?.lud06 ?? ''
      if (this.zapperAsked.get(agent) === address) continue
      this.zapperAsked.set(agent, address)
      if (profile && address !== '') void this.askZapper(agent, profile, address)
      else if (this.model.setZapper(agent, undefined)) this.scheduleReputation()
    }
  }

  private async askZapper(agent: string, profile: Profile, address: string): Promise<void> {
    let zapper: string | undefined
    try {
      const url = payEndpointUrl(profile, location)
      if (url !== undefined) {
        const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(PAY_ENDPOINT_TIMEOUT_MS) })
        if (response.ok) zapper = zapperFromPayEndpoint(await response.json())
      }
    } catch {
      // A malformed address or an endpoint that is down or not JSON: no key, so none of its receipts count.
    }
    // The profile may have named another endpoint meanwhile: that answer decides.
    if (this.zapperAsked.get(agent) === address && this.model.setZapper(agent, zapper)) this.scheduleReputation()
  }

  private now(): number {
    return Math.floor(Date.now() / 1000)
  }

  /** The standing subscriptions, reopened when what they ask for changes (new agents, new kinds, new login). */
  private refreshSubscriptions(): void {
    if (this.pool.urls.length === 0) return
    this.subs.ensure('directory', [{ kinds: [31990] }, { kinds: [HEARTBEAT_KIND] }, { kinds: [5], '#k': ['31990'] }])
    const agents = [...this.model.agents.keys()].sort()
    this.subs.ensure('profiles', agents.length ? [{ kinds: [0], authors: agents }] : undefined)
    this.lookUpZappers()
    const kinds = this.model.announcedKinds()
    const since = this.now() - ACTIVITY_WINDOW_SECONDS
    // `since` moves with the clock: rounded to the hour so the subscription is not reopened every redraw.
    const sinceHour = since - (since % 3600)
    const me = this.signer?.pubkey
    const activity: Filter[] = []
    if (kinds.length) activity.push({ kinds: [...kinds, ...kinds.map((k) => k + 1000)], since: sinceHour, limit: 500 }, { kinds: [FEEDBACK_KIND], since: sinceHour, limit: 500 })
    // The user's own requests of any kind; the model ignores the rest of what they wrote.
    if (me) activity.push({ authors: [me], since: sinceHour, limit: 200 })
    this.subs.ensure('activity', activity.length ? activity : undefined)
    this.subs.ensure('labels', [{ kinds: [1985], '#L': ['timmy.dvm', 'ai.wot'], limit: 500 }])
    // The receipts that make labels from strangers count: paid for the job they rate.
    this.subs.ensure('receipts', agents.length ? [{ kinds: [ZAP_RECEIPT_KIND], '#p': agents, limit: 500 }] : undefined)
    const follows = me ? this.model.followsOf(me).slice(0, 500) : []
    this.subs.ensure('trust', me ? [{ kinds: [3], authors: [me, ...follows] }] : undefined)
  }

  private services(): Services {
    return { pool: this.pool, model: this.model, signer: this.signer, now: () => this.now(), watch: (filters) => this.watch(filters) }
  }

  private setRelays(urls: string[]): void {
    const normalized = [...new Set(urls.map(normalizeRelayUrl))]
    if (normalized.length === 0 || JSON.stringify(normalized) === JSON.stringify(this.defaults.map(normalizeRelayUrl))) localStorage.removeItem(RELAYS_KEY)
    else localStorage.setItem(RELAYS_KEY, JSON.stringify(normalized))
    this.subs.closeAll()
    this.pool.setRelays(normalized.length ? normalized : this.defaults)
    this.refreshSubscriptions()
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('route')) {
      const heading = this.renderRoot.querySelector('main')
      if (changed.get('route') !== undefined) heading?.focus({ preventScroll: true })
    }
  }

  private relayBanner() {
    if (this.statuses.length === 0) return nothing
    if (this.statuses.some((s) => s.state === 'open')) return nothing
    const tried = this.statuses.every((s) => s.state === 'closed')
    if (!tried)
      return html`<div class="notice relay-banner" role="status">Connecting to ${this.statuses.map((s) => s.url).join(', ')}…</div>`
    return html`<div class="notice error relay-banner" role="alert">
      <strong>No relay reachable.</strong> Tried ${this.statuses.map((s, i) => html`${i ? ', ' : ''}<span class="mono">${s.url}</span>${s.error ? ` (${s.error})` : ''}`)}. Start the
      local node with <code>npm start</code> (or <code>timmy start</code>), or <a href="#/relays">add a relay</a>. Retrying in the background.
    </div>`
  }

  private who() {
    if (this.restoring) return html`<span class="who hint" role="status">Reconnecting to your signer…</span>`
    if (!this.signer) return html`<a class="who button primary" href="#/login">Log in</a>`
    const profile = this.model.profileOf(this.signer.pubkey)
    const label = profile ? displayName(this.signer.pubkey, profile) : shortNpub(this.signer.pubkey)
    const how = { nip07: 'extension', nip46: 'remote signer', readonly: 'read-only' }[this.signer.method]
    return html`<span class="who row">
      <span data-testid="logged-in-as">${label} <span class="badge">${how}</span></span>
      <button @click=${() => this.setSigner(undefined)}>Log out</button>
    </span>`
  }

  private view() {
    const [path, query = ''] = this.route.replace(/^#\/?/, '').split('?')
    const [section = 'agents', arg] = path.split('/')
    const services = this.services()
    const params = new URLSearchParams(query)
    switch (section) {
      case 'login':
        return html`<timmy-login .services=${services} .relays=${this.pool.urls} @login=${(e: CustomEvent<Signer>) => this.onLogin(e.detail)}></timmy-login>`
      case 'hire':
        return html`<timmy-composer .services=${services} .version=${this.version} .address=${params.get('agent') ?? ''}></timmy-composer>`
      case 'jobs':
        return arg
          ? html`<timmy-job .services=${services} .version=${this.version} .jobId=${arg}></timmy-job>`
          : html`<timmy-jobs .services=${services} .version=${this.version}></timmy-jobs>`
      case 'swarm':
        return html`<timmy-swarm .services=${services} .version=${this.version}></timmy-swarm>`
      case 'auction':
        return html`<timmy-auction .services=${services} .jobId=${arg ?? ''}></timmy-auction>`
      case 'agent':
        return html`<timmy-agent .services=${services} .version=${this.version} .pubkey=${arg ?? ''} .job=${params.get('job') ?? ''}></timmy-agent>`
      case 'operator':
        return html`<timmy-operator .services=${services} .version=${this.version}></timmy-operator>`
      case 'relays':
        return html`<timmy-relays .statuses=${this.statuses} .defaults=${this.defaults} @relays-change=${(e: CustomEvent<string[]>) => this.setRelays(e.detail)}></timmy-relays>`
      default:
        return html`<timmy-directory .services=${services} .version=${this.version}></timmy-directory>`
    }
  }

  private onLogin(signer: Signer): void {
    this.setSigner(signer)
    navigate('#/agents')
  }

  override render() {
    const section = this.route.replace(/^#\/?/, '').split(/[/?]/)[0] || 'agents'
    const current = section === 'hire' || section === 'agent' ? 'agents' : section
    return html`
      <header>
        <a class="brand" href="#/agents">Timmy</a>
        <nav aria-label="Main">
          <ul>
            ${VIEWS.map((v) => html`<li><a href="#/${v.id}" aria-current=${current === v.id ? 'page' : 'false'}>${v.label}</a></li>`)}
          </ul>
        </nav>
        ${this.who()}
      </header>
      ${this.relayBanner()}
      <main tabindex="-1">${this.defaults.length ? this.view() : html`<p role="status">Finding relays…</p>`}</main>
    `
  }
}

customElements.define('timmy-app', TimmyApp)
