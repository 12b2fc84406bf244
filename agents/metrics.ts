// Prometheus metrics of an agent host (GET /metrics). One registry per host, so that tests can
// run several hosts in one process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

export interface JobMetrics {
  registry: Registry
  /** Requests taken into the log. */
  jobsReceived: Counter<'agent' | 'kind'>
  /** Jobs that reached a final state, by that state. */
  jobsFinished: Counter<'agent' | 'kind' | 'status'>
  /** From the request entering the log to its final state. */
  jobDuration: Histogram<'agent' | 'kind' | 'status'>
  /** Capability execution time alone. */
  runDuration: Histogram<'agent' | 'kind'>
  jobsRunning: Gauge<'agent'>
  eventsPublished: Counter<'agent' | 'outcome'>
  outboxPending: Gauge<'agent'>
}

export function createJobMetrics(options: { defaultMetrics?: boolean } = {}): JobMetrics {
  const registry = new Registry()
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry })
  const registers = [registry]
  return {
    registry,
    jobsReceived: new Counter({ name: 'timmy_jobs_received_total', help: 'Job requests taken into the job log', labelNames: ['agent', 'kind'], registers }),
    jobsFinished: new Counter({ name: 'timmy_jobs_finished_total', help: 'Jobs that reached a final state', labelNames: ['agent', 'kind', 'status'], registers }),
    jobDuration: new Histogram({
      name: 'timmy_job_duration_seconds',
      help: 'Time from a request entering the job log to its final state',
      labelNames: ['agent', 'kind', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    }),
    runDuration: new Histogram({
      name: 'timmy_job_run_seconds',
      help: 'Capability execution time',
      labelNames: ['agent', 'kind'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
      registers,
    }),
    jobsRunning: new Gauge({ name: 'timmy_jobs_running', help: 'Jobs executing now', labelNames: ['agent'], registers }),
    eventsPublished: new Counter({ name: 'timmy_events_published_total', help: 'Outbox events sent, by outcome', labelNames: ['agent', 'outcome'], registers }),
    outboxPending: new Gauge({ name: 'timmy_outbox_pending', help: 'Effects waiting in the outbox', labelNames: ['agent'], registers }),
  }
}
