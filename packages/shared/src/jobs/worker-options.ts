import type { Worker, WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ferryBackoff, MANUAL_RATE_LIMIT_ENABLER } from './failures.js';

/** The BullMQ worker settings every ferry worker shares: ferry backoff, manual rate limits, crash recovery. */
export function ferryWorkerOptions(options: { connection: Redis; prefix: string; concurrency: number; lockMs: number }): WorkerOptions {
  return {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    limiter: MANUAL_RATE_LIMIT_ENABLER,
    lockDuration: options.lockMs,
    stalledInterval: Math.max(1_000, Math.floor(options.lockMs / 2)),
    // A crashed worker's jobs are retried, not failed: a kill -9 must not fail work.
    maxStalledCount: 10,
    settings: { backoffStrategy: ferryBackoff },
  };
}

/** Logs a worker's errors and failed attempts. */
export function logWorkerEvents(worker: Worker, logger: Logger, what: string): void {
  worker.on('error', (err) => logger.error({ err }, `${what} worker error`));
  worker.on('failed', (job, err) =>
    logger.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, `${what} job attempt failed`));
}
