// How many cases each property runs: a few hundred in CI (seconds for the whole suite); set
// TIMMY_FUZZ_RUNS to a multiplier for a long run, e.g. TIMMY_FUZZ_RUNS=100.
const multiplier = Number(process.env.TIMMY_FUZZ_RUNS ?? 1)

export function fuzzRuns(ciRuns: number): number {
  return Math.max(1, Math.round(ciRuns * (Number.isFinite(multiplier) && multiplier > 0 ? multiplier : 1)))
}
