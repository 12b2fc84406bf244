// The `wallet` and `payments` configuration: defaults, validation, and secrets masked when printed.
import { describe, expect, it } from 'vitest'
import { describeConfig, loadConfig } from '../../agents/config.js'

describe('payments configuration', () => {
  it('defaults to the FAKE wallet with payments off', () => {
    const config = loadConfig({ env: {} })
    expect(config.wallet).toEqual({ kind: 'fake' })
    expect(config.payments).toMatchObject({ enabled: false, payBeforeWork: true, escrow: false })
  })

  it('masks wallet secrets wherever the configuration is printed', () => {
    const uri = 'nostr+walletconnect://b889ff5b1513b641e2a139f661a661364979c5beee91842f8f0ef42ab558e9d4?relay=wss%3A%2F%2Frelay.example&secret=71a8c14c1407c113601079c4302dab36460f0ccd0ad506f1f2dc73b5100e4f3c'
    const nwc = describeConfig(loadConfig({ env: {}, overrides: { wallet: { kind: 'nwc', uri } } }))
    expect(JSON.stringify(nwc)).not.toContain('71a8c14c')
    expect(nwc.wallet).toEqual({ kind: 'nwc', uri: '********' })
    const lnd = describeConfig(loadConfig({ env: {}, overrides: { wallet: { kind: 'lnd', url: 'https://127.0.0.1:8080', macaroonHex: '0201036c6e64' } } }))
    expect(lnd.wallet).toEqual({ kind: 'lnd', url: 'https://127.0.0.1:8080', macaroonHex: '********' })
  })

  it('names a bad wallet or payment setting', () => {
    expect(() => loadConfig({ env: {}, overrides: { wallet: { kind: 'lnd', url: 'https://x', macaroonHex: 'zz' } } as never })).toThrow(/wallet\.macaroonHex/)
    expect(() => loadConfig({ env: {}, overrides: { agents: { echo: { payments: { escrow: 'yes' } } } } as never })).toThrow(/agents\.echo\.payments\.escrow/)
  })
})
