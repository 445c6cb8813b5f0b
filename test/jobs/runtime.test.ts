import { randomUUID } from 'node:crypto';
import { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, createLogger, loadConfig } from '@ferry/shared/core';
import {
  JobName, JobProducer, QueueName, queuesServed, startJobRuntime, startWorkers, type DownloadFlatFilePayload, type HandlerTable,
  type JobRuntime,
} from '@ferry/shared/jobs';
import { preloadFeature } from '@ferry/shared/preload';
import { createRedis } from '@ferry/shared/redis';
import { createOrReuseRun } from '@ferry/shared/runs';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const logger = createLogger({ name: 'test-runtime', level: 'silent' });

const flatFilePayload = (runId: string): DownloadFlatFilePayload => ({
  runId,
  bucket: 'flatfiles',
  key: 'us_stocks_sip/day_aggs_v1/2024/03/2024-03-07.csv.gz',
  etag: '0123456789abcdef0123456789abcdef',
  size: 10,
  market: 'us_stocks_sip',
  interval: '1d',
  tickers: ['TSLA'],
});

async function finished(producer: JobProducer, queue: QueueName, id: string): Promise<Job> {
  // The state first, then the job: a job read while still active would show the attempt not yet counted.
  return waitFor(async () => {
    const state = await producer.queue(queue).getJobState(id);
    return state === 'completed' || state === 'failed' ? Job.fromId(producer.queue(queue), id) : undefined;
  }, { what: `job ${id} to finish` });
}

describe('the job runtime: one handler table, one failure policy', () => {
  let redis: Redis;
  let prefix: string;
  let producer: JobProducer;
  const runtimes: JobRuntime[] = [];

  beforeAll(() => {
    redis = createRedis(TEST_REDIS_URL, 'worker');
    prefix = uniquePrefix('runtime');
    producer = new JobProducer({ connection: redis, prefix, attempts: 3 });
  });
  afterAll(async () => {
    for (const r of runtimes) await r.close(0);
    await producer.close();
    redis.disconnect();
    await deleteKeys(prefix);
  });

  it('refuses to start when a job name of a served queue has no handler', () => {
    // The sync queue carries sync-file and sync-directory jobs: a table with only one of them cannot serve it.
    const half: HandlerTable = { [JobName.SyncFile]: { run: async () => undefined } };
    expect(() => queuesServed(half)).toThrow('the sync queue has no handler for sync-directory jobs');
    expect(() => startJobRuntime({ handlers: half, concurrency: {}, connection: redis, prefix, lockMs: 5_000, logger }))
      .toThrow('no handler for sync-directory');
  });

  it('refuses two features that handle the same job name', async () => {
    const feature = () => ({ handlers: { [JobName.ScheduledCollection]: { run: async () => undefined } } });
    const config = loadConfig({ QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent' });
    await expect(startWorkers({ config, logger, db: undefined as never, redis }, [feature, feature]))
      .rejects.toThrow('two handlers for scheduled-collection jobs');
  });

  it('fails a job of an unknown name once, with the reason, and keeps running the others', async () => {
    const seen: string[] = [];
    const runtime = startJobRuntime({
      handlers: {
        [JobName.ScheduledCollection]: { run: async (p) => void seen.push(p.mode) },
        [JobName.PruneRuns]: { run: async () => undefined },
      },
      concurrency: {}, connection: redis, prefix, lockMs: 5_000, logger,
    });
    runtimes.push(runtime);
    const queue = producer.queue(QueueName.Schedules);
    await queue.add('not-a-ferry-job', { mode: 'forward' }, { jobId: 'stranger', attempts: 5 });
    const [good] = await producer.add(JobName.ScheduledCollection, [{ mode: 'forward' }]);
    const stranger = await finished(producer, QueueName.Schedules, 'stranger');
    expect(await stranger.getState()).toBe('failed');
    expect(stranger.attemptsMade).toBe(1);
    expect(stranger.failedReason).toBe('the schedules queue has no handler for not-a-ferry-job jobs');
    expect(await (await finished(producer, QueueName.Schedules, good!)).getState()).toBe('completed');
    expect(seen).toEqual(['forward']);
  });

  it('fails a job that cannot run for lack of configuration once, naming the variable', async () => {
    const db: TestDatabase = await createTestDatabase();
    // A download worker without S3 credentials: it starts, and a flat-file job fails at once instead of retrying.
    const config = loadConfig({ QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent', DATABASE_URL: db.url, JOB_ATTEMPTS: '5' });
    const workers = await startWorkers({ config, logger, db: db.pool, redis }, [preloadFeature]);
    try {
      const { runId } = await createOrReuseRun(db.pool, 'flat_files', { test: randomUUID() }, [flatFilePayload(randomUUID()).key]);
      const [id] = await workers.producer.add(JobName.DownloadFlatFile, [flatFilePayload(runId)]);
      const job = await finished(producer, QueueName.FlatFiles, id!);
      expect(await job.getState()).toBe('failed');
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toMatch(/^cannot run download-flat-file: .*S3_ACCESS_KEY_ID is not set/s);
      const item = await db.pool.query('SELECT status, last_error FROM run_items WHERE run_id = $1', [runId]);
      expect(item.rows[0]).toMatchObject({ status: 'failed', last_error: job.failedReason });
    } finally {
      await workers.close(0);
      await db.drop();
    }
  });

  it('turns a ConfigError thrown by any handler into a permanent failure', async () => {
    const runtime = startJobRuntime({
      handlers: {
        [JobName.SyncFile]: { run: async () => { throw new ConfigError(['DROPBOX_APP_KEY is not set: expected an app key']); } },
        [JobName.SyncDirectory]: { run: async () => undefined },
      },
      concurrency: {}, connection: redis, prefix, lockMs: 5_000, logger,
    });
    runtimes.push(runtime);
    const [id] = await producer.add(JobName.SyncFile, [{
      relativePath: 'candles/BTC/BTC-USDT_1d_20240101_20240102.parquet',
      source: { kind: 'candles', exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1d', startMs: 0, endMs: 86_400_000 },
      file: { size: 1, mtimeMs: 0, contentHash: 'a'.repeat(64) },
    }]);
    const job = await finished(producer, QueueName.Sync, id!);
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain('DROPBOX_APP_KEY is not set');
  });
});

describe('the job producer: ids, attempts and retention by job name', () => {
  const producer = new JobProducer({ connection: undefined as never, prefix: 'unused', attempts: 4 });
  const candle = {
    runId: '6f1c2c1e-8a57-4c1b-9d1c-1c2a3b4c5d6e', exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h',
    mode: 'backward', startMs: 0, endMs: null,
  } as const;

  it('gives the same work the same id, without the characters BullMQ refuses', () => {
    const a = producer.optionsFor(JobName.CollectCandles, candle);
    expect(a.jobId).toBe('candles.6f1c2c1e-8a57-4c1b-9d1c-1c2a3b4c5d6e.binance.BTC-USDT.1h');
    expect(producer.optionsFor(JobName.CollectCandles, { ...candle })).toEqual(a);
    expect(a).toMatchObject({ attempts: 4, backoff: { type: 'ferry' } });
    const file = producer.optionsFor(JobName.DownloadFlatFile, { ...flatFilePayload(candle.runId), etag: '"0123456789abcdef0123456789abcdef"' });
    expect(file.jobId).toBe(`flatfile.${candle.runId}.us_stocks_sip_day_aggs_v1_2024_03_2024-03-07.csv.gz.0123456789abcdef0123456789abcdef`);
  });

  it('names a sync job by path and content: new bytes get a new job, the same bytes do not', () => {
    const sync = (contentHash: string) => producer.optionsFor(JobName.SyncFile, {
      relativePath: 'candles/BTC/BTC-USDT_1d_20240101_20240102.parquet',
      source: { kind: 'candles', exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1d', startMs: 0, endMs: 1 },
      file: { size: 1, mtimeMs: 0, contentHash },
    }).jobId;
    expect(sync('a'.repeat(64))).toBe(sync('a'.repeat(64)));
    expect(sync('a'.repeat(64))).not.toBe(sync('b'.repeat(64)));
    expect(sync('a'.repeat(64))).not.toMatch(/[:/]/);
  });

  it('keeps repeating work by count and one-off work by age', () => {
    expect(producer.optionsFor(JobName.SyncDirectory, { rule: 'logs' })).toMatchObject({ removeOnComplete: { count: 100 } });
    expect(producer.optionsFor(JobName.SyncDirectory, { rule: 'logs' }).jobId).toBeUndefined();
    expect(producer.optionsFor(JobName.CollectCandles, candle)).toMatchObject({ removeOnComplete: { age: 7 * 24 * 3600 } });
  });

  it('keeps finished one-off jobs for as long as JOB_RETENTION and FAILED_JOB_RETENTION say', () => {
    const config = loadConfig({ JOB_RETENTION: '2h', FAILED_JOB_RETENTION: '3d' });
    const short = new JobProducer({ connection: undefined as never, prefix: 'unused', attempts: 4, retention: config.jobs.retention });
    expect(short.optionsFor(JobName.CollectCandles, candle)).toMatchObject({
      removeOnComplete: { age: 2 * 3600 }, removeOnFail: { age: 3 * 24 * 3600 },
    });
    // Repeating work is kept by count whatever the retention.
    expect(short.optionsFor(JobName.SyncDirectory, { rule: 'logs' })).toMatchObject({ removeOnComplete: { count: 100 } });
  });
});
