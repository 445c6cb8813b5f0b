import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { FerryConfig } from '../core/config/config.js';
import type { Pool } from '../postgres/pool.js';
import { QueueName } from './names.js';
import { JobProducer } from './producer.js';
import { startJobRuntime, type HandlerTable, type JobRuntime } from './runtime.js';

/** What a worker process gives its features. */
export interface WorkerDeps {
  config: FerryConfig;
  logger: Logger;
  db: Pool;
  /** A connection with maxRetriesPerRequest: null. */
  redis: Redis;
}

export interface FeatureDeps extends WorkerDeps {
  /** Where handlers chain follow-up jobs (the sync of a file they wrote). */
  producer: JobProducer;
}

/** A feature's part of a worker: its handlers, and what it holds open. */
export interface WorkerFeature {
  handlers: HandlerTable;
  /** Right when closing starts, before active jobs are waited for. */
  onClosing?: () => Promise<void>;
  /** After every job has stopped. */
  close?: () => Promise<void>;
}

export type StartFeature = (deps: FeatureDeps) => WorkerFeature | Promise<WorkerFeature>;

/** How many jobs of each queue one process runs at once, from the configuration. */
export function queueConcurrency(config: FerryConfig): Record<QueueName, number> {
  return {
    [QueueName.Candles]: config.download.concurrency,
    // DOWNLOAD_CONCURRENCY downloads in flight (the flat-file handler holds that many slots); twice as many jobs run,
    // so that while some store what they fetched (a commit each) the download slots stay busy.
    [QueueName.FlatFiles]: 2 * config.download.concurrency,
    // Files of Binance's archive: downloads overlap with ingests, PostgreSQL is the limit (a COPY each).
    [QueueName.ArchiveFiles]: config.download.concurrency,
    [QueueName.Preloads]: 2,
    // Room for one batch being committed while the next one gathers, and for directory jobs feeding them.
    [QueueName.Sync]: 2 * config.sync.batchFiles + 4,
    [QueueName.Schedules]: 1,
  };
}

export interface RunningWorkers extends JobRuntime {
  producer: JobProducer;
}

/** Starts the features' handlers in one runtime; closing drains the jobs, then the features, then the producer. */
export async function startWorkers(deps: WorkerDeps, features: readonly StartFeature[]): Promise<RunningWorkers> {
  const producer = new JobProducer({ connection: deps.redis, prefix: deps.config.redis.prefix, attempts: deps.config.jobs.attempts, retention: deps.config.jobs.retention });
  const started: WorkerFeature[] = [];
  for (const start of features) started.push(await start({ ...deps, producer }));
  const handlers: HandlerTable = {};
  for (const feature of started) {
    for (const [name, handler] of Object.entries(feature.handlers)) {
      if (name in handlers) throw new Error(`two handlers for ${name} jobs`);
      (handlers as Record<string, unknown>)[name] = handler;
    }
  }
  const runtime = startJobRuntime({
    handlers,
    concurrency: queueConcurrency(deps.config),
    connection: deps.redis,
    prefix: deps.config.redis.prefix,
    lockMs: deps.config.jobs.lockMs,
    logger: deps.logger,
    store: deps.db,
    onClosing: async () => void (await Promise.all(started.map((f) => f.onClosing?.()))),
  });
  // Closing a worker whose blocking connection is still connecting makes BullMQ reject a promise nobody handles.
  await Promise.all(runtime.workers.map((w) => w.waitUntilReady()));
  return {
    workers: runtime.workers,
    producer,
    async close(graceMs: number) {
      await runtime.close(graceMs);
      for (const feature of started.reverse()) await feature.close?.();
      await producer.close();
    },
  };
}
