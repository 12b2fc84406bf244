// Nothing secret lies on disk in clear after an agent is created and Lightning credentials are
// stored: every file under $TIMMY_HOME is scanned for the secret key (hex, nsec, raw bytes) and the
// credentials.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex } from '@noble/hashes/utils.js'
import { afterAll, describe, expect, it } from 'vitest'
import { createSummarizeCapability } from '../../agents/capabilities/summarize.js'
import { loadConfig } from '../../agents/config.js'
import { createAgent } from '../../agents/host.js'
import { Keystore } from '../../agents/keystore.js'
import { silentLogger } from '../../agents/logger.js'
import { SecretStore } from '../../agents/secrets.js'
import { nsecEncode } from '../../nips/19.js'

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(path) : [path]
  })
}

describe('secrets at rest', () => {
  const home = mkdtempSync(join(tmpdir(), 'timmy-at-rest-'))
  afterAll(() => rmSync(home, { recursive: true, force: true }))

  it('agent keys and Lightning credentials are only on disk encrypted, in 0600 files', async () => {
    const config = loadConfig({ env: {}, overrides: { home, keyLogN: 4 } })
    const keystore = new Keystore(home, 'a passphrase for the test', 4)
    const agent = await createAgent({ config, keystore, capabilities: [createSummarizeCapability()], relays: ['ws://127.0.0.1:1'], log: silentLogger })
    const secretKey = keystore.load(agent.name)
    agent.jobLog.close()
    const secrets = new SecretStore(home, 'a passphrase for the test', 4)
    const macaroon = '0201036c6e6402f801030a10' + 'cd34'.repeat(40)
    const nwc = `nostr+walletconnect://${'b'.repeat(64)}?relay=wss%3A%2F%2Fr.example&secret=${'9f'.repeat(32)}`
    secrets.set('lnd-macaroon', macaroon)
    secrets.set('nwc', nwc)

    const needles = [bytesToHex(secretKey), nsecEncode(secretKey), macaroon, nwc, '9f'.repeat(32)]
    const files = filesUnder(home)
    expect(files.length).toBeGreaterThanOrEqual(4)
    for (const file of files) {
      const bytes = readFileSync(file)
      const text = bytes.toString('latin1')
      for (const needle of needles) expect(text.toLowerCase().includes(needle.toLowerCase()), `${needle.slice(0, 12)}… in ${file}`).toBe(false)
      expect(bytes.includes(Buffer.from(secretKey)), `raw key bytes in ${file}`).toBe(false)
      if (file.includes(`${join(home, 'keys')}`) || file.includes(join(home, 'secrets'))) expect(statSync(file).mode & 0o777, file).toBe(0o600)
    }
  })
})
