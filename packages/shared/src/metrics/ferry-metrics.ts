import type { Worker } from 'bullmq';
import { Counter, Histogram, Registry } from 'prom-client';

/**
 * The counters every ferry process may increment, defined once. Each process exposes them: workers on METRICS_PORT,
 * the dashboard on /metrics next to the queue counts. They count what this process did since it started; Prometheus
 * sums over processes.
 */
export const ferryRegistry = new Registry();

export const candlesStored = new Counter({
  name: 'ferry_candles_stored_total',
  help: 'Candles written to PostgreSQL (new or changed rows).',
  labelNames: ['exchange', 'timeframe'] as const,
  registers: [ferryRegistry],
});

export const rateLimitPauses = new Counter({
  name: 'ferry_rate_limit_pauses_total',
  help: 'Times a queue was paused because its source (the exchange, S3, Dropbox) answered 429 (rate limited) or 418 (banned).',
  labelNames: ['queue', 'kind'] as const,
  registers: [ferryRegistry],
});

export const flatFileBytes = new Counter({
  name: 'ferry_flat_file_bytes_downloaded_total',
  help: 'Bytes of S3 flat files downloaded and verified (cache hits download nothing).',
  registers: [ferryRegistry],
});

export const filesSynced = new Counter({
  name: 'ferry_files_synced_total',
  help: 'Files backed up to the sync target, by outcome (uploaded or skipped-identical).',
  labelNames: ['target', 'status'] as const,
  registers: [ferryRegistry],
});

export const bytesSynced = new Counter({
  name: 'ferry_bytes_synced_total',
  help: 'Bytes sent to the sync target.',
  labelNames: ['target'] as const,
  registers: [ferryRegistry],
});

export const jobRetries = new Counter({
  name: 'ferry_job_retries_total',
  help: 'Failed job attempts that will be retried.',
  labelNames: ['queue'] as const,
  registers: [ferryRegistry],
});

export const jobDuration = new Histogram({
  name: 'ferry_job_duration_seconds',
  help: 'Time from a job attempt starting to it finishing, by outcome.',
  labelNames: ['queue', 'outcome'] as const,
  // A sync of a small file takes well under a second; years of 1m candles of one coin take many minutes.
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 1800],
  registers: [ferryRegistry],
});

/** Feeds a worker's finished attempts into the job duration histogram and the retry counter. */
export function observeWorkerJobs(worker: Worker): void {
  const queue = worker.name;
  const observe = (outcome: 'completed' | 'failed', processedOn: number | undefined, finishedOn: number | undefined) => {
    if (processedOn === undefined) return;
    jobDuration.observe({ queue, outcome }, Math.max(0, ((finishedOn ?? Date.now()) - processedOn) / 1000));
  };
  worker.on('completed', (job) => observe('completed', job.processedOn, job.finishedOn));
  worker.on('failed', (job) => {
    if (!job) return;
    observe('failed', job.processedOn, job.finishedOn);
    // BullMQ sets finishedOn only when the job failed for good (attempts spent, or UnrecoverableError).
    if (job.finishedOn === undefined) jobRetries.inc({ queue });
  });
}
