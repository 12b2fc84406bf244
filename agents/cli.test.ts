import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { registerAgentCommands } from './cli.js'

describe('agent commands', () => {
  const program = new Command('timmy')
  registerAgentCommands(program)
  const find = (path: string[]) => path.reduce<Command>((cmd, name) => cmd.commands.find((c) => c.name() === name)!, program)

  it.each([['start'], ['agent'], ['job'], ['job', 'replay'], ['agents'], ['keys'], ['keys', 'create'], ['keys', 'import'], ['keys', 'export'], ['keys', 'rotate'], ['approvals'], ['approvals', 'approve'], ['approvals', 'reject'], ['config']])(
    '`timmy %s --help` describes the command',
    (...path: string[]) => {
      const command = find(path)
      expect(command, path.join(' ')).toBeDefined()
      expect(command.description().length).toBeGreaterThan(10)
      expect(command.helpInformation()).toMatch(/^Usage: timmy /)
    },
  )

  it('documents every option of `timmy job` the issue names', () => {
    const help = find(['job']).helpInformation()
    for (const option of ['--input', '--input-type', '--param', '--bid', '--encrypt', '--to', '--relay', '--json']) expect(help).toContain(option)
  })
})
