import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadEventCrypto, type EventCrypto } from '../agents/crypto.js'
import { expectValidAgainstSchema } from '../test/helpers/schemata.js'
import { zapServer } from '../test/helpers/zaps.js'
import { generateSecretKey, getPublicKey, type EventTemplate, type NostrEvent } from './01.js'
import { buildDeletion } from './09.js'
import { buildAiWotAttestation, buildJobOutcomeLabel, LABEL_KIND, type JobOutcomeLabelOptions } from './32.js'
import {
  AgentLabels,
  buildTrustedAssertion,
  buildTrustGraph,
  compareReputation,
  computeReputation,
  decayFactor,
  DEFAULT_REPUTATION_PARAMS,
  meetsMinimumReputation,
  outcomeValue,
  paymentFactor,
  paymentFromZapReceipt,
  reputationValues,
  resolveReputationParams,
  scoreFor,
  sortAgentDirectory,
  sybilBound,
  type ReputationInput,
  type ReputationScore,
  type TrustGraph,
  type VerifiedPayment,
} from './reputation.js'

const NOW = 1_800_000_000
const DAY = 86_400
const HALF_LIFE = DEFAULT_REPUTATION_PARAMS.halfLifeSeconds

let crypto: EventCrypto
beforeAll(async () => {
  crypto = await loadEventCrypto()
})

interface Key {
  sk: Uint8Array
  pk: string
}
const newKey = (): Key => {
  const sk = generateSecretKey()
  return { sk, pk: getPublicKey(sk) }
}

const root = newKey()
const alice = newKey() // followed by the root
const bob = newKey() // followed by alice: a follow of a follow
const carol = newKey() // no trust path
const dave = newKey() // no trust path
const agent = newKey()
const otherAgent = newKey()

const contactList = (who: Key, follows: Key[], createdAt = NOW - DAY): NostrEvent =>
  crypto.sign({ kind: 3, created_at: createdAt, tags: follows.map((k) => ['p', k.pk]), content: '' }, who.sk)

let graph: TrustGraph
beforeAll(() => {
  graph = buildTrustGraph(root.pk, [contactList(root, [alice]), contactList(alice, [bob, root])])
})

let jobCounter = 0
const nextJob = () => (++jobCounter).toString(16).padStart(64, '0')

function label(by: Key, over: Partial<JobOutcomeLabelOptions> = {}): NostrEvent {
  const template = buildJobOutcomeLabel({ agent: agent.pk, job: nextJob(), kind: 5001, outcome: 'success', quality: 5, createdAt: NOW, ...over })
  return crypto.sign(template, by.sk)
}

const score = (input: Partial<ReputationInput> & Pick<ReputationInput, 'labels'>) =>
  computeReputation({ agent: agent.pk, trust: graph, now: NOW, ...input })

const prior = DEFAULT_REPUTATION_PARAMS.priorWeight
const priorMass = DEFAULT_REPUTATION_PARAMS.priorWeight * DEFAULT_REPUTATION_PARAMS.priorValue

describe('decay', () => {
  it('counts a label one half-life old exactly half, two a quarter', () => {
    expect(decayFactor(0, HALF_LIFE)).toBe(1)
    expect(decayFactor(HALF_LIFE, HALF_LIFE)).toBe(0.5)
    expect(decayFactor(2 * HALF_LIFE, HALF_LIFE)).toBe(0.25)
    expect(decayFactor(HALF_LIFE / 2, HALF_LIFE)).toBeCloseTo(Math.SQRT1_2, 15)
    expect(decayFactor(2000 * HALF_LIFE, HALF_LIFE)).toBe(0)
  })

  it('agrees with 2^(-age/halfLife) and never grows with age', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 * 365 * DAY }), fc.integer({ min: 1, max: 365 * DAY }), fc.integer({ min: 1, max: 1000 * DAY }), (age, halfLife, more) => {
        const d = decayFactor(age, halfLife)
        expect(Math.abs(d - 2 ** (-age / halfLife))).toBeLessThanOrEqual(1e-15)
        expect(decayFactor(age + more, halfLife)).toBeLessThanOrEqual(d)
      }),
    )
  })

  it('halves a label once it is one half-life old, in the score too', () => {
    const fresh = score({ labels: [label(alice)] })
    const old = score({ labels: [label(alice, { createdAt: NOW - HALF_LIFE })] })
    expect(fresh.evidence[0].weight).toBe(1)
    expect(old.evidence[0].decay).toBe(0.5)
    expect(old.evidence[0].weight).toBe(0.5)
    expect(old.overall.value).toBe((0.5 * 1 + priorMass) / (0.5 + prior))
  })

  it('follows a configured half-life', () => {
    const labels = [label(alice, { createdAt: NOW - 7 * DAY })]
    expect(score({ labels, params: { halfLifeSeconds: 7 * DAY } }).evidence[0].decay).toBe(0.5)
    expect(score({ labels, params: { halfLifeSeconds: 14 * DAY } }).evidence[0].decay).toBeCloseTo(Math.SQRT1_2, 15)
  })
})

describe('weighting', () => {
  it('reads outcomes and quality as values in [0, 1]', () => {
    expect([1, 2, 3, 4, 5].map((q) => outcomeValue('success', q))).toEqual([0.5, 0.625, 0.75, 0.875, 1])
    expect(outcomeValue('success', undefined)).toBe(0.75)
    expect(outcomeValue('late', 5)).toBe(0.5)
    for (const outcome of ['failed', 'no-reveal', 'invalid-result'] as const) expect(outcomeValue(outcome, undefined)).toBe(0)
  })

  it('weighs the trust root and its follows fully, follows of follows less, strangers not at all', () => {
    expect(graph.standing.get(root.pk)).toBe(1)
    expect(graph.standing.get(alice.pk)).toBe(DEFAULT_REPUTATION_PARAMS.followWeight)
    expect(graph.standing.get(bob.pk)).toBe(DEFAULT_REPUTATION_PARAMS.followOfFollowWeight)
    expect(graph.standing.has(carol.pk)).toBe(false)
    const report = score({ labels: [label(alice), label(bob), label(carol)] })
    const byLabeller = new Map(report.evidence.map((e) => [e.labeller, e]))
    expect(byLabeller.get(alice.pk)?.weight).toBe(1)
    expect(byLabeller.get(bob.pk)?.weight).toBe(0.25)
    expect(byLabeller.has(carol.pk)).toBe(false)
    expect(report.weightless).toBe(1)
  })

  it('counts a trusted peer: the same label moves the score from a follow but not from a stranger', () => {
    const failure = (by: Key) => label(by, { outcome: 'failed', quality: undefined })
    const base = score({ labels: [] })
    expect(base.overall).toEqual({ value: DEFAULT_REPUTATION_PARAMS.priorValue, trustedWeight: 0, untrustedWeight: 0, labels: 0 })
    expect(score({ labels: [failure(alice)] }).overall.value).toBe(priorMass / (1 + prior))
    expect(score({ labels: [failure(carol)] }).overall).toEqual(base.overall)
  })

  it('uses the newest contact list of each follow', () => {
    const newer = buildTrustGraph(root.pk, [contactList(root, [alice], NOW - 2 * DAY), contactList(root, [carol], NOW - DAY)])
    expect(newer.standing.has(alice.pk)).toBe(false)
    expect(newer.standing.get(carol.pk)).toBe(1)
    expect(buildTrustGraph(undefined, [contactList(root, [alice])]).standing.size).toBe(0)
  })

  it('adds up to double weight for what a trusted labeller verifiably paid, and believes no amount tag', () => {
    const job = nextJob()
    const paidLabel = label(alice, { job, amountMsats: 50_000_000 })
    const payments: VerifiedPayment[] = [{ job, payer: alice.pk, recipient: agent.pk, msats: 1_000_000 }]
    const unpaid = score({ labels: [paidLabel] })
    expect(unpaid.evidence[0]).toMatchObject({ statedMsats: 50_000_000, paidMsats: 0, weight: 1 })
    const paid = score({ labels: [paidLabel], payments })
    expect(paid.evidence[0]).toMatchObject({ paidMsats: 1_000_000, weight: 1.5 })
    // A payment to someone else, or for another job, is not this job's payment.
    const elsewhere = score({ labels: [paidLabel], payments: [{ ...payments[0], recipient: otherAgent.pk }, { ...payments[0], job: nextJob() }] })
    expect(elsewhere.evidence[0].paidMsats).toBe(0)
    expect(paymentFactor(0, 1000)).toBe(0)
    expect(paymentFactor(1000, 1000)).toBe(0.5)
  })

  it('caps what one labeller can say, since job ids cost nothing to invent', () => {
    const flood = Array.from({ length: 50 }, () => label(alice, { quality: 5 }))
    const report = score({ labels: [...flood, label(bob, { outcome: 'failed', quality: undefined })] })
    const cap = DEFAULT_REPUTATION_PARAMS.labellerCap
    expect(report.overall).toEqual({ value: (cap + priorMass) / (cap + 0.25 + prior), trustedWeight: cap + 0.25, untrustedWeight: 0, labels: 51 })
    expect(report.evidence.filter((e) => e.labeller === alice.pk).every((e) => e.weight === 1)).toBe(true)
    // A follow of a follow's cap is scaled by its standing.
    const secondDegree = score({ labels: Array.from({ length: 50 }, () => label(bob)) })
    expect(secondDegree.overall.trustedWeight).toBe(cap * DEFAULT_REPUTATION_PARAMS.followOfFollowWeight)
  })

  it('lets a paying stranger count, up to the cap for all strangers together', () => {
    const job = nextJob()
    const report = score({ labels: [label(carol, { job })], payments: [{ job, payer: carol.pk, recipient: agent.pk, msats: 3_000_000 }] })
    expect(report.evidence[0]).toMatchObject({ standing: 0, weight: 0.75 })
    expect(report.overall.untrustedWeight).toBe(0.75)
  })
})

describe('the worked example of nips/reputation.md', () => {
  it('gives the numbers the document derives', () => {
    const aliceJob = nextJob()
    const carolJob = nextJob()
    const labels = [
      label(alice, { job: aliceJob, quality: 5, amountMsats: 1_000_000 }),
      label(bob, { outcome: 'failed', quality: undefined, createdAt: NOW - HALF_LIFE }),
      label(carol, { job: carolJob, kind: 5002, quality: 3 }),
      label(dave, { quality: 5 }),
    ]
    const payments = [
      { job: aliceJob, payer: alice.pk, recipient: agent.pk, msats: 1_000_000 },
      { job: carolJob, payer: carol.pk, recipient: agent.pk, msats: 3_000_000 },
    ]
    const report = score({ labels, payments })
    // Alice: 1 × 1 × (1 + 0.5) = 1.5 at value 1; Bob: 0.5 × 0.25 = 0.125 at 0; Carol (no trust path,
    // paid): 3/(3+1) = 0.75 at 0.75; Dave: nothing.
    expect(report.overall).toEqual({ value: (1.5 + 0.75 * 0.75 + 1) / (1.625 + 0.75 + 2), trustedWeight: 1.625, untrustedWeight: 0.75, labels: 3 })
    expect(report.overall.value).toBe(0.7)
    expect(report.byKind[5001]).toEqual({ value: (1.5 + 1) / (1.625 + 2), trustedWeight: 1.625, untrustedWeight: 0, labels: 2 })
    expect(report.byKind[5002]).toEqual({ value: (0.5625 + 1) / (0.75 + 2), trustedWeight: 0, untrustedWeight: 0.75, labels: 1 })
    expect(sybilBound(report.overall)).toBe(1 / 4.625)
  })
})

describe('sybil resistance', () => {
  const SYBILS = 1000
  let honest: NostrEvent[]
  let praise: NostrEvent[]
  let smear: NostrEvent[]
  beforeAll(() => {
    honest = [label(alice, { quality: 3 }), label(alice, { outcome: 'failed', quality: undefined }), label(bob, { quality: 4 }), label(root, { quality: 2 })]
    // Fresh keys, one label each; their pubkeys are read off the signed labels.
    const sybils = Array.from({ length: SYBILS }, () => ({ sk: generateSecretKey(), pk: '' }))
    praise = sybils.map((k) => label(k, { quality: 5 }))
    smear = sybils.map((k) => label(k, { outcome: 'invalid-result', quality: undefined }))
  })

  it('1000 fresh keys without trust path or payment move the score by exactly 0', () => {
    const before = score({ labels: honest })
    for (const army of [praise, smear]) {
      const after = score({ labels: [...honest, ...army] })
      expect(Math.abs(after.overall.value - before.overall.value)).toBe(0)
      expect(after.overall).toEqual(before.overall)
      expect(after.byKind).toEqual(before.byKind)
      expect(after.weightless).toBe(SYBILS)
      expect(after.ignored).toEqual(before.ignored)
    }
  })

  it('1000 fresh keys that each pay (wash trading) move it by less than untrustedCap / (trusted weight + prior + cap)', () => {
    const before = score({ labels: honest })
    const bound = sybilBound(before.overall)
    // The stated bound for this agent: three full-weight labels and one at 0.25, so 1 / (3.25 + 2 + 1).
    expect(bound).toBe(1 / 6.25)
    for (const army of [praise, smear]) {
      const payments: VerifiedPayment[] = army.map((event) => ({ job: event.tags.find((t) => t[0] === 'e')?.[1] as string, payer: event.pubkey, recipient: agent.pk, msats: 100_000_000 }))
      const after = score({ labels: [...honest, ...army], payments })
      expect(after.overall.untrustedWeight).toBe(DEFAULT_REPUTATION_PARAMS.untrustedCap)
      expect(after.overall.trustedWeight).toBe(before.overall.trustedWeight)
      expect(Math.abs(after.overall.value - before.overall.value)).toBeLessThan(bound)
    }
  })
})

describe('counting each label once', () => {
  it('counts one labeller’s labels for one job once: the newest', () => {
    const job = nextJob()
    const first = label(alice, { job, outcome: 'failed', quality: undefined, createdAt: NOW - 100 })
    const second = label(alice, { job, quality: 5, createdAt: NOW - 50 })
    for (const labels of [[first, second], [second, first]]) {
      const report = score({ labels })
      expect(report.overall.labels).toBe(1)
      expect(report.evidence.map((e) => e.id)).toEqual([second.id])
      expect(report.ignored).toEqual([{ id: first.id, reason: 'superseded: one label per labeller and job counts', supersededBy: second.id }])
    }
  })

  it('counts the same event from several relays once', () => {
    const one = label(alice)
    const broken = { ...label(alice), tags: [['L', 'timmy.dvm']] }
    const report = score({ labels: [one, broken, { ...one }, one, broken] })
    expect(report.overall.labels).toBe(1)
    expect(report.ignored).toHaveLength(1)
    const twice = label(carol)
    expect(score({ labels: [twice, { ...twice }] }).overall).toEqual(score({ labels: [twice] }).overall)
  })

  it('prefers a timmy.dvm label to the same labeller’s ai.wot attestation for the job', () => {
    const options = { agent: agent.pk, job: nextJob(), kind: 5001, outcome: 'late' as const, quality: 2, createdAt: NOW - 10 }
    const ours = crypto.sign(buildJobOutcomeLabel(options), alice.sk)
    const theirs = crypto.sign(buildAiWotAttestation({ ...options, createdAt: NOW }), alice.sk)
    const report = score({ labels: [theirs, ours] })
    expect(report.evidence.map((e) => e.id)).toEqual([ours.id])
  })

  it('collapses a labeller’s ai.wot attestations that name no job into one', () => {
    const attest = (createdAt: number) => crypto.sign({ kind: LABEL_KIND, created_at: createdAt, tags: [['L', 'ai.wot'], ['l', 'service-quality', 'ai.wot'], ['p', agent.pk]], content: 'good' }, alice.sk)
    const report = score({ labels: [attest(NOW - 3), attest(NOW - 2), attest(NOW - 1)] })
    expect(report.overall.labels).toBe(1)
    expect(report.evidence[0]).toMatchObject({ createdAt: NOW - 1, kind: undefined, value: 0.75 })
    expect(report.byKind).toEqual({})
  })
})

describe('labels left out, with reasons', () => {
  it('ignores malformed, misdirected, future, expired and deleted labels and says why', () => {
    const good = label(alice)
    const noJob = crypto.sign({ kind: LABEL_KIND, created_at: NOW, tags: [['L', 'timmy.dvm'], ['l', 'success', 'timmy.dvm'], ['p', agent.pk], ['k', '5001']], content: '' }, alice.sk)
    const badQuality = crypto.sign({ kind: LABEL_KIND, created_at: NOW, tags: [['L', 'timmy.dvm'], ['l', 'success', 'timmy.dvm'], ['p', agent.pk], ['e', nextJob()], ['k', '5001'], ['quality', '11']], content: '' }, alice.sk)
    const note = crypto.sign({ kind: 1, created_at: NOW, tags: [], content: 'hi' }, alice.sk)
    const elsewhere = label(alice, { agent: otherAgent.pk })
    const future = label(alice, { createdAt: NOW + 60 })
    const expiring: EventTemplate = buildJobOutcomeLabel({ agent: agent.pk, job: nextJob(), kind: 5001, outcome: 'success', createdAt: NOW - 10 })
    expiring.tags.push(['expiration', String(NOW - 1)])
    const expired = crypto.sign(expiring, alice.sk)
    const retracted = label(alice)
    const deletion = crypto.sign(buildDeletion({ ids: [retracted.id], kinds: [LABEL_KIND], createdAt: NOW }), alice.sk)
    const forgedDeletion = crypto.sign(buildDeletion({ ids: [good.id], createdAt: NOW }), carol.sk)
    const report = score({ labels: [good, noJob, badQuality, note, elsewhere, future, expired, retracted], deletions: [deletion, forgedDeletion] })
    expect(report.evidence.map((e) => e.id)).toEqual([good.id])
    const reasons = new Map(report.ignored.map((i) => [i.id, i.reason]))
    expect(reasons.get(noJob.id)).toBe('invalid: a job-outcome label needs exactly one e tag (the job request), found 0')
    expect(reasons.get(badQuality.id)).toBe('invalid: quality must be a whole number 1..5, got "11"')
    expect(reasons.get(note.id)).toBe('invalid: a label must be kind 1985, got 1')
    expect(reasons.get(elsewhere.id)).toBe('about another agent')
    expect(reasons.get(future.id)).toBe('dated after now')
    expect(reasons.get(expired.id)).toBe('expired (NIP-40)')
    expect(reasons.get(retracted.id)).toBe('deleted by its author (NIP-09)')
    expect(report.ignored.map((i) => i.id)).toEqual([...report.ignored.map((i) => i.id)].sort())
  })
})

describe('per capability', () => {
  it('scores each job kind from its own labels, and overall from all', () => {
    const labels = [label(alice, { kind: 5001, quality: 5 }), label(alice, { kind: 5001, quality: 5 }), label(alice, { kind: 5100, outcome: 'failed', quality: undefined })]
    const report = score({ labels })
    expect(Object.keys(report.byKind)).toEqual(['5001', '5100'])
    expect(report.byKind[5001]).toEqual({ value: (2 + priorMass) / (2 + prior), trustedWeight: 2, untrustedWeight: 0, labels: 2 })
    expect(report.byKind[5100]).toEqual({ value: priorMass / (1 + prior), trustedWeight: 1, untrustedWeight: 0, labels: 1 })
    expect(report.overall).toEqual({ value: (2 + priorMass) / (3 + prior), trustedWeight: 3, untrustedWeight: 0, labels: 3 })
    expect(scoreFor(report, 5001)).toBe(report.byKind[5001])
    expect(scoreFor(report, 5300)).toBe(report.overall)
    expect(scoreFor(report)).toBe(report.overall)
  })
})

describe('determinism', () => {
  it('gives the same report, to the last bit, for any order of the same events', () => {
    const labels = [
      label(alice, { quality: 1, createdAt: NOW - 12_345 }),
      label(bob, { quality: 4, createdAt: NOW - 9 * DAY }),
      label(root, { outcome: 'late', quality: 3, createdAt: NOW - 77 * DAY }),
      label(alice, { kind: 5100, outcome: 'no-reveal', quality: undefined, createdAt: NOW - 3 }),
      label(carol),
      { ...label(alice), kind: 1 },
    ]
    const expected = score({ labels })
    fc.assert(
      fc.property(fc.shuffledSubarray(labels, { minLength: labels.length, maxLength: labels.length }), (shuffled) => {
        expect(score({ labels: shuffled })).toEqual(expected)
      }),
      { numRuns: 50 },
    )
  })

  it('lists the evidence, built on first read, as one array that serializes with the report', () => {
    const labels = [label(alice, { quality: 2 }), label(bob, { createdAt: NOW - 40 * DAY }), label(carol), label(alice, { kind: 5100 })]
    const report = score({ labels, payments: [] })
    const evidence = report.evidence
    expect(evidence.map((e) => e.labeller)).toEqual([alice.pk, alice.pk, bob.pk].sort())
    expect(report.evidence).toBe(evidence)
    expect(JSON.parse(JSON.stringify(report)).evidence).toEqual(JSON.parse(JSON.stringify(evidence)))
    expect({ ...report }.evidence).toBe(evidence)
  })
})

describe('labels kept to be scored again (AgentLabels)', () => {
  /** A label whose tags count how often they are read. */
  function counting(event: NostrEvent): { event: NostrEvent; reads: () => number } {
    let reads = 0
    const { tags, ...rest } = event
    const watched = {
      ...rest,
      get tags() {
        reads++
        return tags
      },
    } as NostrEvent
    return { event: watched, reads: () => reads }
  }

  it('scores exactly as computeReputation after every batch of arrivals, in any order', () => {
    const job = nextJob()
    const paidJob = nextJob()
    const retracted = label(alice, { quality: 1 })
    const pool: NostrEvent[] = [
      label(alice, { quality: 3 }),
      label(alice, { job, outcome: 'failed', quality: undefined, createdAt: NOW - 100 }),
      label(alice, { job, quality: 5, createdAt: NOW - 50 }),
      label(alice, { job, quality: 2, createdAt: NOW - 50 }),
      label(bob, { kind: 5100, createdAt: NOW - 30 * DAY }),
      label(root, { outcome: 'late', quality: 4 }),
      label(carol, { job: paidJob, quality: 5 }),
      label(carol, { quality: 1 }),
      label(dave),
      label(alice, { createdAt: NOW + 60 }),
      label(alice, { agent: otherAgent.pk }),
      { ...label(bob), kind: 1 },
      retracted,
    ]
    pool.push(pool[0], { ...pool[4] })
    const deletion = crypto.sign(buildDeletion({ ids: [retracted.id], kinds: [LABEL_KIND], createdAt: NOW }), alice.sk)
    const payments: VerifiedPayment[] = [{ job: paidJob, payer: carol.pk, recipient: agent.pk, msats: 2_000_000 }]
    const arrivals = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: pool.length, maxLength: pool.length })
    fc.assert(
      fc.property(fc.shuffledSubarray(pool, { minLength: pool.length, maxLength: pool.length }), arrivals, fc.integer({ min: 0, max: pool.length }), (shuffled, batchOf, deletedAt) => {
        const kept = new AgentLabels(agent.pk)
        const seen: NostrEvent[] = []
        for (let batch = 0; batch <= 3; batch++) {
          shuffled.forEach((event, i) => {
            if (batchOf[i] !== batch) return
            kept.add(event)
            seen.push(event)
          })
          if (seen.length >= deletedAt) kept.addDeletion(deletion)
          const deletions = seen.length >= deletedAt ? [deletion] : []
          const expected = computeReputation({ agent: agent.pk, labels: seen, deletions, trust: graph, payments, now: NOW })
          expect(kept.score({ trust: graph, payments, now: NOW })).toEqual(expected)
          expect(kept.size).toBe(seen.length)
        }
      }),
      { numRuns: 100 },
    )
  })

  it('reads each label once, however often it is scored', () => {
    const kept = new AgentLabels(agent.pk)
    const watched = [counting(label(alice)), counting(label(bob, { kind: 5100 }))]
    for (const { event } of watched) kept.add(event)
    const first = kept.score({ trust: graph, now: NOW })
    const reads = watched.map((w) => w.reads())
    expect(reads.every((n) => n > 0)).toBe(true)
    for (const now of [NOW, NOW + DAY, NOW + 30 * DAY]) kept.score({ trust: graph, now })
    expect(watched.map((w) => w.reads())).toEqual(reads)
    expect(kept.score({ trust: graph, now: NOW })).toEqual(first)
  })

  it('never reads the labels of keys with neither a trust path nor a payment, until one of those appears', () => {
    const kept = new AgentLabels(agent.pk)
    const stranger = newKey()
    const watched = counting(label(stranger))
    const malformed = { ...label(stranger), tags: [['L', 'timmy.dvm']] }
    kept.add(watched.event)
    kept.add(malformed)
    const unknown = kept.score({ trust: graph, now: NOW })
    expect(watched.reads()).toBe(0)
    expect(unknown.weightless).toBe(2)
    expect(unknown.ignored).toEqual([])
    // Once the root follows the stranger, its labels are read, the malformed one left out with its reason.
    const following = buildTrustGraph(root.pk, [contactList(root, [alice, stranger], NOW), contactList(alice, [bob])])
    const known = kept.score({ trust: following, now: NOW })
    expect(watched.reads()).toBeGreaterThan(0)
    expect(known.evidence.map((e) => e.id)).toEqual([watched.event.id])
    expect(known.ignored.map((i) => i.id)).toEqual([malformed.id])
    expect(known.weightless).toBe(0)
  })

  it('takes only the agent its labels are about', () => {
    expect(() => new AgentLabels('npub1nothex')).toThrow(/64-character lowercase hex/)
    const kept = new AgentLabels(agent.pk)
    expect(() => kept.score({ trust: graph, now: -1 })).toThrow(/unix seconds/)
    kept.addDeletion(label(alice)) // not a deletion request: no effect
    expect(kept.score({ trust: graph, now: NOW }).overall.labels).toBe(0)
  })
})

describe('payments from zap receipts', () => {
  it('reads a receipt signed by the agent’s zap server as the zap request signer’s payment for the job', async () => {
    const server = zapServer(agent.pk)
    const job = nextJob()
    const receipt = await server.zap(carol.sk, 21_000, job)
    expect(paymentFromZapReceipt(receipt, { agent: agent.pk, zapper: server.zapper })).toEqual({ payment: { job, payer: carol.pk, recipient: agent.pk, msats: 21_000 } })
    // Another key's receipt, another agent's, a zap for no job.
    expect(paymentFromZapReceipt(receipt, { agent: agent.pk, zapper: dave.pk }).reason).toBe("zap receipt is not signed by the recipient's LNURL server (nostrPubkey)")
    expect(paymentFromZapReceipt(receipt, { agent: otherAgent.pk, zapper: server.zapper }).reason).toBe('zap is for another recipient')
    expect(paymentFromZapReceipt(await server.zap(carol.sk, 1_000), { agent: agent.pk, zapper: server.zapper })).toEqual({})
    // It counts in a score like any verified payment.
    const paidLabel = label(carol, { job })
    expect(score({ labels: [paidLabel], payments: [paymentFromZapReceipt(receipt, { agent: agent.pk, zapper: server.zapper }).payment!] }).evidence[0].paidMsats).toBe(21_000)
  })
})

describe('for the market', () => {
  const s = (value: number, trustedWeight = 1, untrustedWeight = 0): ReputationScore => ({ value, trustedWeight, untrustedWeight, labels: 1 })

  it('checks a minimum, optionally with trusted evidence', () => {
    expect(meetsMinimumReputation(s(0.7), 0.7)).toBe(true)
    expect(meetsMinimumReputation(s(0.69), 0.7)).toBe(false)
    expect(meetsMinimumReputation(s(0.9, 0.5), { value: 0.6, trustedWeight: 1 })).toBe(false)
    expect(meetsMinimumReputation(s(0.9, 1), { value: 0.6, trustedWeight: 1 })).toBe(true)
  })

  it('orders by value, then trusted evidence, then untrusted evidence', () => {
    const ordered = [s(0.9, 1), s(0.8, 5), s(0.8, 2, 1), s(0.8, 2, 0)]
    expect([...ordered].reverse().sort(compareReputation)).toEqual(ordered)
    expect(compareReputation(s(0.5), s(0.5))).toBe(0)
  })

  it('sorts the directory best first, unscored last, ties by pubkey', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => ({ pubkey: x.repeat(64), name: x }))
    const scores = new Map([[b.pubkey, s(0.5)], [c.pubkey, s(0.9)], [d.pubkey, s(0.5)]])
    expect(sortAgentDirectory([a, d, b, c], scores).map((x) => x.name)).toEqual(['c', 'b', 'd', 'a'])
  })

  it('gives the auction its pubkey → score map, per capability', () => {
    const first = score({ labels: [label(alice, { kind: 5100, outcome: 'failed', quality: undefined })] })
    const second = computeReputation({ agent: otherAgent.pk, labels: [], trust: graph, now: NOW })
    const forKind = reputationValues([first, second], 5100)
    expect(forKind).toEqual(new Map([[agent.pk, first.byKind[5100].value], [otherAgent.pk, DEFAULT_REPUTATION_PARAMS.priorValue]]))
  })

  it('publishes a score as a NIP-85 trusted assertion', () => {
    const report = score({ labels: [label(alice)] })
    const assertion = crypto.sign(buildTrustedAssertion({ agent: agent.pk, score: report.overall, createdAt: NOW }), root.sk)
    expect(assertion.tags).toEqual([['d', agent.pk], ['rank', String(Math.round(report.overall.value * 100))]])
    expect(expectValidAgainstSchema(assertion)).toContain('nips/nip-85/kind-30382')
  })
})

describe('parameters', () => {
  it('rejects parameters that would break the formula', () => {
    expect(() => resolveReputationParams({ halfLifeSeconds: 1.5 })).toThrow('halfLifeSeconds')
    expect(() => resolveReputationParams({ followOfFollowWeight: 2 })).toThrow('followOfFollowWeight')
    expect(() => resolveReputationParams({ priorWeight: 0 })).toThrow('priorWeight')
    expect(() => resolveReputationParams({ untrustedCap: -1 })).toThrow('untrustedCap')
    expect(() => resolveReputationParams({ labellerCap: 0 })).toThrow('labellerCap')
    expect(() => score({ labels: [], now: -1 })).toThrow('now must be unix seconds')
    expect(() => score({ labels: [], payments: [{ job: 'x', payer: alice.pk, recipient: agent.pk, msats: 1 }] })).toThrow('verified payment')
  })

  it('with untrustedCap 0 strangers never count, paid or not', () => {
    const job = nextJob()
    const report = score({ labels: [label(carol, { job })], payments: [{ job, payer: carol.pk, recipient: agent.pk, msats: 5_000_000 }], params: { untrustedCap: 0 } })
    expect(report.overall.value).toBe(DEFAULT_REPUTATION_PARAMS.priorValue)
    expect(report.overall.untrustedWeight).toBe(0)
  })
})
