import type { Command } from 'commander'

// Owned by the agent runtime work: `timmy start`, `agent`, `job`, `agents`, `keys`, `approvals`.
export function registerAgentCommands(program: Command): void {
  void program
}
