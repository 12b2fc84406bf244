// Schnorr signature verification throughput: noble vs nostr-wasm vs native libsecp256k1 (the relay's backends) on
// one core, and the relay's verifier pool.
import { initNostrWasm } from 'nostr-wasm'
import { verifyEvent as verifyWithNostrTools } from 'nostr-tools/pure'
import { verifyEvent as verifyWithNoble, type NostrEvent } from '../../nips/01.js'
import { loadEventCheck } from '../../relay/event-check.js'
import { createVerifier } from '../../relay/verify.js'
import { loadFixture } from './events.js'
import { formatRate, formatRatio, markdownTable, median, type BenchContext, type BenchSection } from './harness.js'

const SECONDS_PER_RUN = 1.5
const CHUNK = 25
const POOL_EVENTS = 10_000
const POOL_BATCH = 100
const POOL_THREADS = 2

export const verifySection: BenchSection = {
  id: 'verify',
  title: 'Signature verification (BIP-340 Schnorr, id hash included)',
  run: runVerify,
}

interface Measured {
  label: string
  rates: number[]
}

async function runVerify(ctx: BenchContext): Promise<string> {
  const fixture = await loadFixture(ctx.log)
  const events = fixture.stored
  let cursor = 0
  const nextEvent = () => events[cursor++ % events.length]

  const wasm = await initNostrWasm()
  const verifyWithWasm = (event: NostrEvent) => {
    wasm.verifyEvent(event)
    return true
  }
  const oneCore: [string, (event: NostrEvent) => boolean][] = [
    ['noble: nips/01 verifyEvent (one core, event loop)', verifyWithNoble],
    // A fresh object each time: nostr-tools caches its verdict on the event object.
    ['noble: nostr-tools/pure verifyEvent (one core)', (event) => verifyWithNostrTools({ ...event })],
    ['nostr-wasm verifyEvent (one core)', verifyWithWasm],
    ['relay event-check, wasm backend (shape check + nostr-wasm; one core)', (await loadEventCheck('wasm')).check],
  ]
  const notes: string[] = []
  try {
    oneCore.push(['relay event-check, native backend (shape check + sha256 + bcrypto libsecp256k1; one core)', (await loadEventCheck('native')).check])
  } catch (err) {
    notes.push(`- Native backend not measured: ${(err as Error).message}.`)
  }
  const inProcess = await createVerifier({ threads: 0 })
  const pool = await createVerifier({ threads: POOL_THREADS })
  const measured: Measured[] = [
    ...oneCore.map(([label]) => ({ label, rates: [] as number[] })),
    { label: `relay createVerifier({threads: 0}) (${inProcess.backend}), in-process, batches of ${POOL_BATCH}`, rates: [] },
    { label: `relay createVerifier({threads: ${POOL_THREADS}}) (${pool.backend}), batches of ${POOL_BATCH}, all in flight`, rates: [] },
    { label: `relay createVerifier({threads: ${POOL_THREADS}}) (${pool.backend}), one event per call, all in flight`, rates: [] },
  ]
  try {
    for (let run = 0; run < ctx.runs; run++) {
      oneCore.forEach(([, verify], i) => {
        let verified = 0
        const started = performance.now()
        while (performance.now() - started < SECONDS_PER_RUN * 1000) {
          for (let j = 0; j < CHUNK; j++) if (verify(nextEvent())) verified++
        }
        measured[i].rates.push(verified / ((performance.now() - started) / 1000))
      })
      const batches = (size: number) =>
        Array.from({ length: POOL_EVENTS / size }, () => Array.from({ length: size }, nextEvent))
      const poolModes: [typeof inProcess, NostrEvent[][]][] = [
        [inProcess, batches(POOL_BATCH)],
        [pool, batches(POOL_BATCH)],
        [pool, batches(1)],
      ]
      for (const [index, [verifier, work]] of poolModes.entries()) {
        const started = performance.now()
        const verdicts = (await Promise.all(work.map((batch) => verifier.verify(batch)))).flat()
        const seconds = (performance.now() - started) / 1000
        if (verdicts.some((ok) => !ok)) throw new Error('verify: a valid fixture event failed verification')
        measured[oneCore.length + index].rates.push(verdicts.length / seconds)
      }
      ctx.log(`verify run ${run + 1}: ${measured.map((m) => formatRate(m.rates[run])).join(' / ')} per s`)
    }
  } finally {
    await Promise.all([inProcess.close(), pool.close()])
  }

  const baseline = median(measured[0].rates)
  const rows = measured.map((m) => [m.label, formatRate(median(m.rates)), formatRatio(median(m.rates), baseline),
    m.rates.map(formatRate).join(' / ')])
  return [
    markdownTable(['verifier', 'verifications/s', 'vs noble (nips/01)', 'runs'], rows),
    '',
    `Median of ${ctx.runs} runs; the one-core rows verify for ${SECONDS_PER_RUN} s each on the event loop, the ` +
      `verifier rows ${POOL_EVENTS.toLocaleString('en-US')} events per run. The pool rows use ${POOL_THREADS} worker ` +
      'threads, so on a machine with 2 cores they are bounded by those 2 cores (and whatever else runs); the relay ' +
      'itself runs with `verifierThreads` from its config.',
    'For reference only (another machine, not this run): ANCHORS.md lists noble 317/s, nostr-wasm 2,260/s, native ' +
      'libsecp256k1 18,627/s on one core.',
    ...(notes.length > 0 ? ['', ...notes] : []),
  ].join('\n')
}
