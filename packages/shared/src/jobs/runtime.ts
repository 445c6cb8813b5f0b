import { setMaxListeners } from 'node:events';
import { DelayedError, RateLimitError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ConfigError } from '../core/config/load-config.js';
import { PermanentError } from '../core/errors.js';
import type { Pool } from '../postgres/pool.js';
import { failJob } from './failures.js';
import { ALL_QUEUES, JobName, QUEUE_OF, type QueueName } from './names.js';
import { parsePayload, type PayloadOf } from './payloads.js';
import { ferryWorkerOptions, logWorkerEvents } from './worker-options.js';

/**
 * The one job runtime: runs a table of handlers, one per job name, on the queues those names belong to. For every
 * job it parses the payload (a bad one fails that job alone, once), hands the handler a context (throttled progress,
 * job log, shutdown signal), maps failures to the retry policy (failures.ts: permanent, rate-limited, banned,
 * transient, store outage), logs and counts pauses, and drains on shutdown. Handlers hold no BullMQ wiring.
 */

export interface JobContext {
  job: Job;
  /** Aborted when the worker's shutdown grace is over: stop between steps, the job goes back to the queue. */
  signal: AbortSignal;
  /** Bull Board's progress; throttled to one Redis write per interval unless `force` (a phase change, the end). */
  progress(value: object, options?: { force?: boolean }): void;
  /** A line in the job's log (Bull Board); best effort, never fails the job. */
  log(line: string): void;
  /** When a rate limit pauses the queue, also call this (the shared weight budget blocks requests in flight). */
  alsoOnPause(pause: (ms: number) => Promise<void>): void;
}

export interface JobHandler<N extends JobName> {
  run(payload: PayloadOf<N>, ctx: JobContext): Promise<unknown>;
  /** The job failed for good (no more attempts, or a permanent error): record why. Throwing here retries the job. */
  onFinalFailure?(payload: PayloadOf<N>, reason: string): Promise<void>;
  /** An attempt failed and will be retried (for the record only; errors are ignored). */
  onRetry?(payload: PayloadOf<N>, reason: string): Promise<void>;
  /** The queue was paused for a rate limit or a ban while this job ran (for the record only). */
  onPaused?(payload: PayloadOf<N>, kind: 'rate-limited' | 'banned', ms: number): Promise<void>;
}

/** Handlers by job name. A name twice is impossible in a record; startWorkers refuses it when features are joined. */
export type HandlerTable = { [N in JobName]?: JobHandler<N> };


export interface JobRuntimeOptions {
  handlers: HandlerTable;
  /** Jobs run at once per queue; a queue not named runs one at a time. */
  concurrency: Partial<Record<QueueName, number>>;
  /** A connection with maxRetriesPerRequest: null (BullMQ duplicates it for its blocking connection). */
  connection: Redis;
  prefix: string;
  lockMs: number;
  logger: Logger;
  /** ferry's PostgreSQL: while it does not answer, jobs wait for it without spending attempts. */
  store?: Pool;
  /** Called once closing starts, before active jobs are waited for (e.g. flush a batch they wait on). */
  onClosing?: () => Promise<void>;
  progressIntervalMs?: number;
}

export interface JobRuntime {
  workers: Worker[];
  /** Stops taking jobs; active ones get `graceMs` to finish, then are aborted and handed back to their queue. */
  close(graceMs: number): Promise<void>;
}

/** The queues a table serves, after checking that each of their job names has its handler. */
export function queuesServed(handlers: HandlerTable): QueueName[] {
  const names = Object.keys(handlers) as JobName[];
  const queues = ALL_QUEUES.filter((q) => names.some((n) => QUEUE_OF[n] === q));
  for (const queue of queues) {
    const missing = Object.values(JobName).filter((n) => QUEUE_OF[n] === queue && !handlers[n]);
    if (missing.length > 0) throw new Error(`the ${queue} queue has no handler for ${missing.join(', ')} jobs`);
  }
  return queues;
}

export function startJobRuntime(options: JobRuntimeOptions): JobRuntime {
  const { handlers, logger } = options;
  const queues = queuesServed(handlers);
  const shutdown = new AbortController();
  // Every job in flight listens on it (concurrency 20 and more).
  setMaxListeners(0, shutdown.signal);
  const progressEvery = options.progressIntervalMs ?? 500;

  const workers = queues.map((queueName) => {
    const processJob = async (job: Job, token?: string): Promise<unknown> => {
      const handler = handlers[job.name as JobName] as JobHandler<JobName> | undefined;
      // A job added under another name (by hand, or by other code) is not run as if it were something else.
      if (!handler || QUEUE_OF[job.name as JobName] !== queueName) {
        logger.error({ jobId: job.id, name: job.name, queue: queueName }, 'no handler for this job');
        throw new UnrecoverableError(`the ${queueName} queue has no handler for ${job.name} jobs`);
      }
      let payload: PayloadOf<JobName> | undefined;
      const pauses: Array<(ms: number) => Promise<void>> = [];
      // The first write waits an interval too: work that ends within it needs no progress in Redis.
      let lastProgress = Date.now();
      const ctx: JobContext = {
        job,
        signal: shutdown.signal,
        progress(value, opts) {
          const now = Date.now();
          if (!opts?.force && now - lastProgress < progressEvery) return;
          lastProgress = now;
          void job.updateProgress(value).catch(() => undefined);
        },
        log: (line) => void job.log(line).catch(() => undefined),
        alsoOnPause: (pause) => void pauses.push(pause),
      };
      try {
        payload = parsePayload(job.name as JobName, job.data);
        return await handler.run(payload, ctx);
      } catch (caught) {
        // Missing credentials do not appear by waiting: fail once, naming the variable.
        const err = caught instanceof ConfigError ? new PermanentError(`cannot run ${job.name}: ${caught.message}`) : caught;
        const parsed = payload;
        const failure = await failJob(err, {
          job,
          token,
          queue: worker,
          interrupted: shutdown.signal.aborted,
          store: options.store,
          pauseRequests: pauses.length ? async (ms) => void (await Promise.all(pauses.map((p) => p(ms)))) : undefined,
          onPaused: async (kind, ms) => {
            logger.warn({ jobId: job.id, queue: queueName, kind, ms }, 'queue paused');
            ctx.log(`${kind}: ${queueName} queue paused for ${Math.round(ms / 1000)} s`);
            if (parsed) await handler.onPaused?.(parsed, kind, ms);
          },
          onFinalFailure: async (reason) => {
            logger.error({ jobId: job.id, queue: queueName, reason }, 'job failed');
            if (parsed) await handler.onFinalFailure?.(parsed, reason);
          },
        });
        const final = failure instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (parsed && !final && handler.onRetry && !(failure instanceof RateLimitError) && !(failure instanceof DelayedError)) {
          await handler.onRetry(parsed, failure.message).catch(() => undefined);
        }
        throw failure;
      }
    };
    const worker: Worker = new Worker(queueName, processJob, ferryWorkerOptions({
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency[queueName] ?? 1,
      lockMs: options.lockMs,
    }));
    logWorkerEvents(worker, logger, queueName);
    return worker;
  });

  return {
    workers,
    async close(graceMs: number) {
      const closing = Promise.all(workers.map((w) => w.close()));
      await options.onClosing?.();
      // After the grace period running jobs stop between steps and go back to the queue; one stuck in a request is
      // let go a little later, and its lock expiry hands it to another worker.
      const abortTimer = setTimeout(() => shutdown.abort(), graceMs);
      const forceTimer = setTimeout(() => void Promise.all(workers.map((w) => w.close(true))), graceMs + 5_000);
      await closing;
      clearTimeout(abortTimer);
      clearTimeout(forceTimer);
    },
  };
}
