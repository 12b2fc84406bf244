// The relay survives hostile frames and keeps what it stored: a few thousand generated and corpus
// frames (TIMMY_FUZZ_RUNS multiplies them; `npm run bench fuzz` sends 10^5).
import { describe, expect, it } from 'vitest'
import { runRelayFuzz } from '../bench/fuzz.js'
import { fuzzRuns } from './runs.js'

describe('relay frames (fuzz)', () => {
  it('survives generated and corpus frames, and the events stored before are intact', async () => {
    const report = await runRelayFuzz({ frames: fuzzRuns(2000) })
    expect(report, `seed ${report.seed}`).toMatchObject({ alive: true, intact: true, missingOrChanged: [] })
    expect(report.frames).toBe(fuzzRuns(2000))
  })
})
