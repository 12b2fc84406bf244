// What the app shell hands its views: the relays, what is known about the swarm, and who is logged in.
import type { Filter } from '../nips/01.js'
import type { SwarmModel } from './model.js'
import type { RelayPool, Subscription } from './relay-pool.js'
import type { Signer } from './signer.js'

export interface Services {
  pool: RelayPool
  model: SwarmModel
  signer: Signer | undefined
  /** Unix seconds. */
  now(): number
  /** Subscribes and folds what arrives into the model (views redraw from it). */
  watch(filters: Filter[]): Subscription
}

/** Moves to a view: `#/jobs/<id>`, `#/hire?agent=...`. */
export function navigate(hash: string): void {
  if (location.hash !== hash) location.hash = hash
}
