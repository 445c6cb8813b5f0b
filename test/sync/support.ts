import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createSyncTarget, type SyncTarget } from '@ferry/shared/backup';
import { contentHashOfFile, createLogger, loadConfig, timeframeMs, type Candle, type FerryConfig, type Logger } from '@ferry/shared/core';
import { DropboxTarget, type DropboxTargetOptions } from '@ferry/shared/dropbox';
import { QueueName, type SyncFilePayload } from '@ferry/shared/jobs';
import { writeCandlesParquet } from '@ferry/shared/parquet';
import { createRedis } from '@ferry/shared/redis';
import { candleFilePath } from '@ferry/shared/series-files';
import { startDropboxEmulator, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { openQueue, startSyncWorker, type RunningSyncWorker } from '../support/workers.js';

/**
 * Shared set-up of the sync tests: configuration, a suite around in-process sync workers, Dropbox targets on the
 * emulator, candle files, a logger that keeps its lines, waiting for jobs.
 */

export const DAY = 86_400_000;
export const T0 = Date.UTC(2024, 0, 1);

/** A configuration as a sync worker would load it, with every directory schedule off unless a test turns it on. */
export function syncConfig(env: Record<string, string>): FerryConfig {
  return loadConfig({
    REDIS_URL: TEST_REDIS_URL,
    SYNC_LEARNING_EVERY: 'off',
    SYNC_LOGS_EVERY: 'off',
    SYNC_MODELS_EVERY: 'off',
    SYNC_CANDLES_EVERY: 'off',
    JOB_LOCK_MS: '30000',
    ...env,
  });
}

/** The environment that points the Dropbox target at the emulator, with a refresh token. */
export function dropboxEnv(emulator: Pick<DropboxEmulator, 'url' | 'credentials'>, root = '/ferry'): Record<string, string> {
  return {
    SYNC_TARGET: 'dropbox',
    DROPBOX_ROOT: root,
    DROPBOX_API_URL: emulator.url,
    DROPBOX_CONTENT_URL: emulator.url,
    DROPBOX_APP_KEY: emulator.credentials.appKey,
    DROPBOX_APP_SECRET: emulator.credentials.appSecret,
    DROPBOX_REFRESH_TOKEN: emulator.credentials.refreshToken,
  };
}

/** A DropboxTarget on the emulator with its refresh-token credentials, under `/ferry` unless `options` say otherwise. */
export function dropboxTargetFor(emulator: Pick<DropboxEmulator, 'url' | 'credentials'>, options: Partial<DropboxTargetOptions> = {}): DropboxTarget {
  const { appKey, appSecret, refreshToken } = emulator.credentials;
  return new DropboxTarget({
    root: '/ferry', apiBaseUrl: emulator.url, contentBaseUrl: emulator.url, auth: { kind: 'refresh', appKey, appSecret, refreshToken }, ...options,
  });
}

export interface SyncWorkerSuiteOptions<Dir extends string> {
  /** Starts the suite's Redis key prefix, to tell whose keys are left behind. */
  name: string;
  /** Temporary folders made for each test and removed after it, reached as `dirs.<name>`. */
  dirs: readonly Dir[];
  /** Tables emptied before each test. Default: file_syncs. */
  truncate?: readonly string[];
  /** Starts a Dropbox emulator for each test, which `config` then points the Dropbox target at. */
  dropbox?: boolean;
}

export interface SyncWorkerSuite<Dir extends string> {
  /** A database of the suite's own, kept for all its tests. */
  readonly db: TestDatabase;
  readonly redis: Redis;
  /** The rest is new for each test. */
  readonly prefix: string;
  /** The sync queue under the test's prefix, to look into. */
  readonly queue: Queue;
  readonly dirs: Readonly<Record<Dir, string>>;
  readonly emulator: DropboxEmulator;
  /** A sync worker's configuration with the test's prefix, database and DATA_DIR (and the emulator, with `dropbox`). */
  config(dataDir: string, env?: Record<string, string>): FerryConfig;
  /** An in-process sync worker, closed after the test; by default with the target its configuration names. */
  startWorker(config: FerryConfig, options?: { target?: SyncTarget; schedules?: boolean; log?: CapturedLogger }): Promise<RunningSyncWorker>;
  /** Closes a worker before the test ends. */
  stopWorker(worker: RunningSyncWorker): Promise<void>;
}

/**
 * Registers, in the calling `describe`, the hooks of a suite around in-process sync workers, and returns what they
 * set up through getters: the values exist only once the hooks have run.
 */
export function syncWorkerSuite<Dir extends string>(options: SyncWorkerSuiteOptions<Dir>): SyncWorkerSuite<Dir> {
  let db: TestDatabase | undefined;
  let redis: Redis | undefined;
  let perTest: { prefix: string; queue: Queue; dirs: Record<Dir, string>; emulator: DropboxEmulator | undefined } | undefined;
  const workers: RunningSyncWorker[] = [];
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} of the sync worker suite is read outside its tests and hooks`);
    return value;
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = createRedis(syncConfig({}).redis.url, 'worker');
  });
  afterAll(async () => {
    await redis?.quit();
    await db?.drop();
  });
  beforeEach(async () => {
    await ready(db, 'the database').pool.query(`TRUNCATE ${(options.truncate ?? ['file_syncs']).join(', ')}`);
    const prefix = uniquePrefix(options.name);
    const dirs = {} as Record<Dir, string>;
    for (const dir of options.dirs) dirs[dir] = await mkdtemp(path.join(os.tmpdir(), `ferry-${options.name}-${dir}-`));
    const emulator = options.dropbox ? await startDropboxEmulator() : undefined;
    perTest = { prefix, queue: openQueue(QueueName.Sync, ready(redis, 'redis'), prefix), dirs, emulator };
  });
  afterEach(async () => {
    const test = ready(perTest, 'the test');
    perTest = undefined;
    await Promise.all(workers.splice(0).map((w) => w.close(5_000)));
    await test.queue.close();
    await deleteKeys(test.prefix);
    await test.emulator?.close();
    for (const dir of Object.values<string>(test.dirs)) await rm(dir, { recursive: true, force: true });
  });

  return {
    get db() { return ready(db, 'the database'); },
    get redis() { return ready(redis, 'redis'); },
    get prefix() { return ready(perTest, 'the test').prefix; },
    get queue() { return ready(perTest, 'the test').queue; },
    get dirs() { return ready(perTest, 'the test').dirs; },
    get emulator() { return ready(ready(perTest, 'the test').emulator, 'the Dropbox emulator (pass dropbox: true)'); },
    config(dataDir, env = {}) {
      const test = ready(perTest, 'the test');
      const target = test.emulator ? dropboxEnv(test.emulator) : {};
      return syncConfig({ ...target, QUEUE_PREFIX: test.prefix, DATA_DIR: dataDir, DATABASE_URL: ready(db, 'the database').url, ...env });
    },
    async startWorker(config, { target = createSyncTarget(config.sync), schedules, log = capturedLogger('sync') } = {}) {
      const worker = await startSyncWorker({ config, logger: log.logger, db: ready(db, 'the database').pool, redis: ready(redis, 'redis'), target, schedules });
      workers.push(worker);
      return worker;
    },
    async stopWorker(worker) {
      const at = workers.indexOf(worker);
      if (at >= 0) workers.splice(at, 1);
      await worker.close(5_000);
    },
  };
}

/** `days` daily candles from T0, different for each coin. */
export function dailyCandles(coin: number, days: number): Candle[] {
  return Array.from({ length: days }, (_, d) => {
    const open = 100 + coin + (d % 7);
    return { openTime: T0 + d * DAY, open, high: open + 3, low: open - 2, close: open + 1, volume: 1000 + coin * 10 + d };
  });
}

export interface WrittenCandleFile {
  payload: SyncFilePayload;
  contentHash: string;
  localPath: string;
  candles: Candle[];
}

/** Writes one candle file per coin (`C<n>/USDT`, 1d) under dataDir, as the download worker does, with its sync payload. */
export async function writeCandleFiles(dataDir: string, coins: number, days = 30, exchange = 'binance'): Promise<WrittenCandleFile[]> {
  const files: WrittenCandleFile[] = [];
  for (let coin = 0; coin < coins; coin++) {
    const candles = dailyCandles(coin, days);
    const symbol = `C${coin}/USDT`;
    const last = candles.at(-1)!.openTime;
    const relativePath = candleFilePath({ symbol, timeframe: '1d', startMs: T0, endMs: last });
    const localPath = path.join(dataDir, relativePath);
    await writeCandlesParquet(localPath, candles);
    files.push({
      payload: {
        relativePath,
        source: { kind: 'candles', exchange, symbol, timeframe: '1d', startMs: T0, endMs: last + timeframeMs('1d') },
      },
      contentHash: await contentHashOfFile(localPath),
      localPath,
      candles,
    });
  }
  return files;
}

export interface CapturedLogger {
  logger: Logger;
  lines(): Array<Record<string, unknown>>;
}

export function capturedLogger(name: string): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ name, level: 'info', format: 'json', destination }), lines: () => lines };
}

/** Waits until `count` jobs of the queue are completed or failed; returns the counts. */
export async function waitForFinished(queue: Queue, count: number, timeoutMs = 30_000): Promise<{ completed: number; failed: number }> {
  return waitFor(async () => {
    const counts = await queue.getJobCounts('completed', 'failed');
    const finished = (counts.completed ?? 0) + (counts.failed ?? 0);
    return finished >= count ? { completed: counts.completed ?? 0, failed: counts.failed ?? 0 } : undefined;
  }, { timeoutMs, intervalMs: 50, what: `${count} finished jobs` });
}

/** Waits for one job to finish and returns it. */
export async function finishedJob(queue: Queue, id: string, timeoutMs = 30_000): Promise<Job> {
  return waitFor(async () => {
    const job = await Job.fromId(queue, id);
    return job?.finishedOn ? job : undefined;
  }, { timeoutMs, intervalMs: 50, what: `job ${id} to finish` });
}
