// A sealed-bid job auction (nips/auction.md): the request, the commitments and reveals seen on the
// relays, the auctioneer's stated outcome (winner, clearing price), and a Verify button that
// recomputes the auction in the browser with nips/auction verifyAuction.
import { css, html, LitElement, nothing, type PropertyValues } from 'lit'
import type { NostrEvent } from '../../nips/01.js'
import {
  AUCTION_COMMIT_KIND,
  AUCTION_OUTCOME_KIND,
  AUCTION_REVEAL_KIND,
  parseAuctionRequest,
  parseOutcome,
  verifyAuction,
  type AuctionOutcome,
  type AuctionRequest,
  type AuctionVerification,
} from '../../nips/auction.js'
import { formatMsats, kindName, shortNpub } from '../format.js'
import { displayName } from '../model.js'
import { navigate, type Services } from '../services.js'
import { sharedStyles } from './styles.js'

interface Loaded {
  request?: NostrEvent
  auction?: AuctionRequest
  problem?: string
  commits: NostrEvent[]
  reveals: NostrEvent[]
  outcomeEvent?: NostrEvent
  outcome?: AuctionOutcome
}

function time(seconds: number): string {
  return new Date(seconds * 1000).toLocaleString()
}

export class AuctionView extends LitElement {
  static override properties = {
    services: { attribute: false },
    jobId: { type: String },
    loaded: { state: true },
    loading: { state: true },
    verification: { state: true },
  }

  declare services: Services
  declare jobId: string
  declare loaded: Loaded | undefined
  declare loading: boolean
  declare verification: AuctionVerification | undefined

  static override styles = [
    sharedStyles,
    css`
      table {
        border-collapse: collapse;
        width: 100%;
        margin: 0.5rem 0 1rem;
      }
      th,
      td {
        text-align: left;
        padding: 0.4rem 0.5rem;
        border-bottom: 1px solid var(--border);
      }
      dl {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 0.25rem 1rem;
      }
      dt {
        color: var(--muted);
      }
      dd {
        margin: 0;
      }
      form {
        max-width: 640px;
      }
    `,
  ]

  constructor() {
    super()
    this.jobId = ''
    this.loaded = undefined
    this.loading = false
    this.verification = undefined
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('jobId') && this.jobId) void this.load()
  }

  private async load(): Promise<void> {
    const jobId = this.jobId
    this.loading = true
    this.verification = undefined
    const events = await this.services.pool.query([{ ids: [jobId] }, { kinds: [AUCTION_COMMIT_KIND, AUCTION_REVEAL_KIND, AUCTION_OUTCOME_KIND], '#e': [jobId] }])
    if (jobId !== this.jobId) return
    const loaded: Loaded = { commits: [], reveals: [] }
    loaded.request = events.find((e) => e.id === jobId)
    if (loaded.request) {
      try {
        loaded.auction = parseAuctionRequest(loaded.request)
      } catch (err) {
        loaded.problem = (err as Error).message
      }
    }
    loaded.commits = events.filter((e) => e.kind === AUCTION_COMMIT_KIND)
    loaded.reveals = events.filter((e) => e.kind === AUCTION_REVEAL_KIND)
    // The auctioneer's newest outcome is the one that stands.
    const outcomes = events.filter((e) => e.kind === AUCTION_OUTCOME_KIND && e.pubkey === loaded.request?.pubkey).sort((a, b) => b.created_at - a.created_at)
    loaded.outcomeEvent = outcomes[0]
    if (loaded.outcomeEvent) {
      try {
        loaded.outcome = parseOutcome(loaded.outcomeEvent)
      } catch (err) {
        loaded.problem = `the outcome event is malformed: ${(err as Error).message}`
      }
    }
    this.loaded = loaded
    this.loading = false
  }

  private verify(): void {
    const loaded = this.loaded
    if (!loaded?.request || !loaded.outcomeEvent) return
    this.verification = verifyAuction({ request: loaded.request, outcomeEvent: loaded.outcomeEvent, commits: loaded.commits, reveals: loaded.reveals })
  }

  private name(pubkey: string): string {
    const profile = this.services.model.profileOf(pubkey)
    return profile ? displayName(pubkey, profile) : shortNpub(pubkey)
  }

  private open(event: SubmitEvent): void {
    event.preventDefault()
    const id = String(new FormData(event.target as HTMLFormElement).get('job') ?? '').trim()
    if (/^[0-9a-f]{64}$/.test(id)) navigate(`#/auction/${id}`)
  }

  private details(loaded: Loaded) {
    const { auction, outcome } = loaded
    const statusOf = (id: string) => outcome?.commits.find((c) => c.id === id)?.status ?? '—'
    const priceOf = (id: string) => outcome?.openings.find((o) => o.commitId === id)?.priceMsats
    const v = this.verification
    return html`
      ${auction
        ? html`<section class="card" aria-label="Auction">
            <dl>
              <dt>Job</dt>
              <dd><a href="#/jobs/${auction.id}">${kindName(auction.kind)}</a> <span class="mono hint">${auction.id.slice(0, 16)}…</span></dd>
              <dt>Auctioneer</dt>
              <dd>${this.name(auction.auctioneer)}</dd>
              <dt>Reserve price</dt>
              <dd>${formatMsats(auction.reserveMsats)}</dd>
              <dt>Bids close</dt>
              <dd>${time(auction.bidDeadline)}</dd>
              <dt>Reveals close</dt>
              <dd>${time(auction.revealDeadline)}</dd>
            </dl>
          </section>`
        : nothing}
      ${loaded.problem ? html`<p class="notice error" role="alert">${loaded.problem}</p>` : nothing}
      <h3>Commitments (${loaded.commits.length})</h3>
      ${loaded.commits.length
        ? html`<table>
            <thead><tr><th scope="col">Bidder</th><th scope="col">Committed</th><th scope="col">Opened price</th><th scope="col">Status</th></tr></thead>
            <tbody>
              ${[...loaded.commits]
                .sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1))
                .map((c) => {
                  const price = priceOf(c.id)
                  return html`<tr><td>${this.name(c.pubkey)}</td><td>${time(c.created_at)}</td><td>${price !== undefined ? formatMsats(price) : '—'}</td><td><span class="badge ${statusOf(c.id) === 'winner' ? 'success' : ''}">${statusOf(c.id)}</span></td></tr>`
                })}
            </tbody>
          </table>`
        : html`<p class="empty">No sealed bids seen yet.</p>`}
      <h3>Reveals (${loaded.reveals.length})</h3>
      ${loaded.reveals.length
        ? html`<ul>${loaded.reveals.map((r) => html`<li>${this.name(r.pubkey)} at ${time(r.created_at)} — ${outcome?.reveals.find((x) => x.id === r.id)?.status ?? 'not in the outcome'}</li>`)}</ul>`
        : html`<p class="empty">No reveals seen yet.</p>`}
      <h3>Outcome</h3>
      ${outcome
        ? html`<p data-testid="auction-outcome">
              ${outcome.winner
                ? html`Winner: <strong>${this.name(outcome.winner.bidder)}</strong>, paid the clearing price of <strong>${formatMsats(outcome.clearingPriceMsats!)}</strong> (second price).`
                : 'No valid bid: nobody won.'}
            </p>
            <button class="primary" @click=${this.verify} data-testid="verify-auction">Verify in this browser</button>
            <div aria-live="polite">
              ${v
                ? v.ok
                  ? html`<p class="notice" role="status" data-testid="verify-result">✔ Verified: the outcome follows from the ${loaded.commits.length} commitments and ${loaded.reveals.length} reveals seen.</p>`
                  : html`<div class="notice error" role="alert" data-testid="verify-result"><p><strong>The outcome does not check out:</strong></p><ul>${v.problems.map((p) => html`<li>${p}</li>`)}</ul></div>`
                : nothing}
              ${v?.notes.length ? html`<ul class="hint">${v.notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}
            </div>`
        : html`<p class="empty">The auctioneer has not published an outcome yet.</p>`}
    `
  }

  override render() {
    return html`
      <h2>Auction</h2>
      <form @submit=${this.open}>
        <label for="auction-job">Job request id</label>
        <div class="row">
          <input id="auction-job" name="job" pattern="[0-9a-f]{64}" placeholder="64 hex characters" .value=${this.jobId} style="flex: 1" required />
          <button type="submit">Open</button>
          ${this.jobId ? html`<button type="button" @click=${() => this.load()}>Refresh</button>` : nothing}
        </div>
      </form>
      ${this.loading
        ? html`<p role="status">Loading the auction from your relays…</p>`
        : this.loaded
          ? this.loaded.request
            ? this.details(this.loaded)
            : html`<p class="empty" role="status">No job request with this id on your relays.</p>`
          : html`<p class="hint">Open a job posted as a sealed-bid auction to see its bids and check its outcome.</p>`}
    `
  }
}

customElements.define('timmy-auction', AuctionView)
