import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { describeConfig, loadConfig } from './config.js'

const dirs: string[] = []
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })))

describe('loadConfig', () => {
  it('has defaults bound to loopback', () => {
    const config = loadConfig({ env: {} })
    expect(config).toMatchObject({ host: '127.0.0.1', relayPort: 7777, httpPort: 8080, relays: [], heartbeatSeconds: 60, logLevel: 'info' })
    expect(config.home).toMatch(/\.timmy$/)
  })

  it('reads TIMMY_* variables, which win over the config file; overrides win over both', () => {
    const home = mkdtempSync(join(tmpdir(), 'timmy-config-'))
    dirs.push(home)
    writeFileSync(join(home, 'config.json'), JSON.stringify({ relayPort: 1, httpPort: 2, approval: { aboveMsats: 5000 }, agents: { summarize: { nip05: 'sum@example.com' } } }))
    const config = loadConfig({
      env: { TIMMY_HOME: home, TIMMY_RELAY_PORT: '7000', TIMMY_RELAYS: 'wss://a.example, wss://b.example', TIMMY_PASSPHRASE: 'pw', TIMMY_LOG_LEVEL: 'debug' },
      overrides: { httpPort: 9000 },
    })
    expect(config).toMatchObject({ home, relayPort: 7000, httpPort: 9000, relays: ['wss://a.example', 'wss://b.example'], passphrase: 'pw', logLevel: 'debug', approval: { aboveMsats: 5000, kinds: [] } })
    expect(config.agents.summarize).toEqual({ nip05: 'sum@example.com', identities: [] })
    expect(describeConfig(config).passphrase).toBe('********')
  })

  it('names every invalid field', () => {
    const attempt = () => loadConfig({ env: { TIMMY_RELAY_PORT: 'seven', TIMMY_RELAYS: 'http://not-a-relay', TIMMY_LOG_LEVEL: 'loud' } })
    expect(attempt).toThrow(/relayPort:/)
    expect(attempt).toThrow(/relays\.0: must start with ws:\/\/ or wss:\/\//)
    expect(attempt).toThrow(/logLevel:/)
    expect(() => loadConfig({ env: {}, overrides: { unknownThing: 1 } as never })).toThrow(/invalid configuration/)
  })

  it('keeps url inputs public-only and takes partial requester limits', () => {
    expect(loadConfig({ env: {} })).toMatchObject({ allowPrivateUrlInputs: false, requesterLimits: {} })
    const config = loadConfig({ env: {}, overrides: { requesterLimits: { burst: 5 }, allowPrivateUrlInputs: true } })
    expect(config).toMatchObject({ allowPrivateUrlInputs: true, requesterLimits: { burst: 5 } })
    expect(() => loadConfig({ env: {}, overrides: { requesterLimits: { burst: 0 } } })).toThrow(/requesterLimits\.burst/)
  })

  it('takes a reputation trust root as npub or hex, kept as hex, and a half-life', () => {
    const hex = '7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e'
    expect(loadConfig({ env: {} }).reputation).toEqual({ halfLifeDays: 90 })
    expect(loadConfig({ env: {}, overrides: { reputation: { trustRoot: 'npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg', halfLifeDays: 30 } } }).reputation).toEqual({ trustRoot: hex, halfLifeDays: 30 })
    expect(loadConfig({ env: {}, overrides: { reputation: { trustRoot: hex } } }).reputation.trustRoot).toBe(hex)
    expect(() => loadConfig({ env: {}, overrides: { reputation: { trustRoot: 'nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5' } } })).toThrow(/reputation\.trustRoot: .*secret key/)
    expect(() => loadConfig({ env: {}, overrides: { reputation: { halfLifeDays: 0 } } })).toThrow(/reputation\.halfLifeDays/)
  })
})
