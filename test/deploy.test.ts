// The deployment files cannot be run here (no Docker), so their shape is checked: what each
// service runs, that nothing listens beyond loopback, that data lives in volumes, and that strfry
// is configured to call Timmy's write-policy plugin.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')

interface Service {
  build?: { context: string; dockerfile: string }
  image?: string
  command?: string[]
  network_mode?: string
  ports?: Array<string | { host_ip?: string; published?: string | number; target: number }>
  volumes?: string[]
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
}

const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> }
const strfryConf = read('deploy/strfry.conf')
const dockerfile = read('deploy/Dockerfile')

/** `key = value` at any nesting level of a strfry (golpe) config, with comments removed. */
function confValue(key: string): string | undefined {
  const withoutComments = strfryConf.replace(/^\s*#.*$/gm, '')
  return new RegExp(`^\\s*${key}\\s*=\\s*(.+?)\\s*$`, 'm').exec(withoutComments)?.[1]
}

describe('docker-compose.yml', () => {
  const { strfry, timmy } = compose.services

  it('runs strfry with the Timmy image and the deployed config', () => {
    expect(strfry.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' })
    expect(strfry.command).toEqual(['strfry', '--config', '/etc/strfry.conf', 'relay'])
    expect(strfry.volumes).toContain('./deploy/strfry.conf:/etc/strfry.conf:ro')
    expect(strfry.volumes).toContainEqual(expect.stringMatching(/^strfry-db:\/app\/strfry-db$/))
    expect(strfry.healthcheck?.test.join(' ')).toContain('application/nostr+json')
  })

  it('runs the agent host against strfry, keeping its embedded relay local', () => {
    expect(timmy.image).toBe(strfry.image)
    expect(timmy.command).toEqual(['timmy', 'start'])
    expect(timmy.environment?.TIMMY_RELAYS).toBe(`ws://127.0.0.1:${confValue('port')}`)
    expect(timmy.environment?.TIMMY_RELAY_PORT).not.toBe(confValue('port'))
    expect(timmy.environment?.TIMMY_HOME).toBe('/data')
    expect(timmy.volumes).toContain('timmy-home:/data')
    expect(timmy.depends_on?.strfry.condition).toBe('service_healthy')
  })

  it('publishes nothing beyond loopback', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      // Host networking: whatever a service binds is the host's own interface, so it must be loopback.
      if (service.network_mode === 'host') expect(service.ports, name).toBeUndefined()
      for (const port of service.ports ?? []) {
        const hostIp = typeof port === 'string' ? port.split(':')[0] : port.host_ip
        expect(hostIp, `${name} publishes ${JSON.stringify(port)}`).toBe('127.0.0.1')
      }
    }
    expect(confValue('bind')).toBe('"127.0.0.1"')
  })

  it('declares every named volume it mounts', () => {
    for (const service of Object.values(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]
        if (!source.startsWith('.') && !source.startsWith('/')) expect(Object.keys(compose.volumes)).toContain(source)
      }
    }
  })
})

describe('deploy/strfry.conf', () => {
  it('calls the Timmy write-policy plugin', () => {
    expect(confValue('plugin')).toBe('"timmy relay --strfry-plugin"')
    expect(Number(confValue('timeoutSeconds'))).toBeGreaterThan(0)
  })

  it('stores its database in the mounted volume and keeps sensible limits', () => {
    expect(confValue('db')).toBe('"/app/strfry-db/"')
    expect(Number(confValue('maxWebsocketPayloadSize'))).toBeGreaterThanOrEqual(Number(confValue('maxEventSize')))
    expect(Number(confValue('maxFilterLimit'))).toBeGreaterThan(0)
    expect(Number(confValue('rejectEventsNewerThanSeconds'))).toBeLessThanOrEqual(3600)
  })
})

describe('deploy/Dockerfile', () => {
  it('builds strfry from a pinned release tag and puts `timmy` on the PATH next to it', () => {
    expect(dockerfile).toMatch(/^ARG STRFRY_VERSION=\d+\.\d+\.\d+$/m)
    expect(dockerfile).toContain('--branch "${STRFRY_VERSION}"')
    expect(dockerfile).toContain('/usr/local/bin/strfry')
    expect(dockerfile).toContain('/usr/local/bin/timmy')
  })
})
