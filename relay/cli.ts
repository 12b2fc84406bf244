import type { Command } from 'commander'

// Owned by the relay work: `timmy relay` (and `--strfry-plugin`).
export function registerRelayCommands(program: Command): void {
  void program
}
