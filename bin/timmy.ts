#!/usr/bin/env node
// The `timmy` command: each part of the system registers its own subcommands.
import { Command } from 'commander'
import { registerRelayCommands } from '../relay/cli.js'
import { registerAgentCommands } from '../agents/cli.js'
import { registerAuctionCommands } from '../agents/auction/cli.js'
import { registerReputationCommands } from '../agents/reputation/cli.js'
import { registerTreasuryCommands } from '../agents/lightning/treasury.js'

const program = new Command()
program
  .name('timmy')
  .description('Nostr-native AI agents (NIP-90 DVMs) that sell work for sats')
  .version('0.1.0')
  .showHelpAfterError()

registerRelayCommands(program)
registerAgentCommands(program)
registerAuctionCommands(program)
registerReputationCommands(program)
registerTreasuryCommands(program)

await program.parseAsync(process.argv)
