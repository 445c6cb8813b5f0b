import { chainSyncJob, openQueue } from '../support/workers.js';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncTarget } from '@ferry/shared/backup';
import { contentHashOfFile } from '@ferry/shared/core';
import { QueueName } from '@ferry/shared/jobs';
import { writeCandlesParquet } from '@ferry/shared/parquet';
import { ingestFlatFile, insertCandles, syncSummary } from '@ferry/shared/postgres';
import { marketRangeMs } from '@ferry/shared/preload';
import { createRedis } from '@ferry/shared/redis';
import { startSyncWorker, type RunningSyncWorker } from '../support/workers.js';
import { startDropboxEmulator, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deleteKeys, uniquePrefix } from '../support/redis.js';
import { capturedLogger, dropboxEnv, finishedJob, syncConfig, writeCandleFiles } from './support.js';

/**
 * A sync worker in another container or on another host shares no disk with the download worker that chained the
 * job: it renders the file from PostgreSQL, and what reaches Dropbox is byte for byte the download worker's file.
 */
describe('a sync worker that does not have the file on its disk', () => {
  let db: TestDatabase;
  let emulator: DropboxEmulator;
  let redis: Redis;
  let queue: Queue;
  let worker: RunningSyncWorker;
  let prefix: string;
  let downloadWorkerDisk: string;
  let syncWorkerDisk: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    emulator = await startDropboxEmulator();
    prefix = uniquePrefix('render');
    downloadWorkerDisk = await mkdtemp(path.join(os.tmpdir(), 'ferry-download-disk-'));
    syncWorkerDisk = await mkdtemp(path.join(os.tmpdir(), 'ferry-sync-disk-'));
    const config = syncConfig({ ...dropboxEnv(emulator), QUEUE_PREFIX: prefix, DATA_DIR: syncWorkerDisk, DATABASE_URL: db.url, SYNC_BATCH_WAIT_MS: '20' });
    redis = createRedis(config.redis.url, 'worker');
    queue = openQueue(QueueName.Sync, redis, prefix);
    worker = await startSyncWorker({ config, logger: capturedLogger('sync').logger, db: db.pool, redis, target: createSyncTarget(config.sync) });
  });
  afterAll(async () => {
    await worker.close(5_000);
    await queue.close();
    await redis.quit();
    await deleteKeys(prefix);
    await emulator.close();
    await db.drop();
    await rm(downloadWorkerDisk, { recursive: true, force: true });
    await rm(syncWorkerDisk, { recursive: true, force: true });
  });

  it('renders it from PostgreSQL with the same bytes as the download worker wrote', async () => {
    const [file] = await writeCandleFiles(downloadWorkerDisk, 1, 400);
    const { payload, contentHash, candles } = file!;
    const source = payload.source as Extract<typeof payload.source, { kind: 'candles' }>;
    await insertCandles(db.pool, { exchange: source.exchange, symbol: source.symbol, timeframe: '1d' }, candles);

    const id = await chainSyncJob(queue, payload, contentHash, 3);
    const job = await finishedJob(queue, id);

    expect(job.failedReason).toBeUndefined();
    expect(job.returnvalue).toMatchObject({ status: 'uploaded', rendered: true, contentHash });
    const written = await readFile(path.join(downloadWorkerDisk, payload.relativePath));
    expect(Buffer.compare(await emulator.readFile(`/ferry/data/${payload.relativePath}`), written)).toBe(0);
    expect(Buffer.compare(await readFile(path.join(syncWorkerDisk, payload.relativePath)), written)).toBe(0);
    expect((await queue.getJobLogs(id)).logs).toContain(`${payload.relativePath} was not on this host's disk: rendered it from PostgreSQL`);
  });

  it('renders flat-file bars too, with the bytes the download worker wrote', async () => {
    // Two minutes of X:BTCUSD bars, as a preload stores them and its finishing step writes them.
    const bars = [0, 60_000].map((t, i) => ({
      ticker: 'X:BTCUSD', openTime: Date.UTC(2025, 0, 1) + t, open: 100 + i, high: 102 + i, low: 99 + i, close: 101 + i, volume: 5, transactions: 7,
    }));
    await ingestFlatFile(db.pool, {
      key: 'global_crypto/minute_aggs_v1/2025/01/2025-01-01.csv.gz', etag: 'e'.repeat(32), size: 1,
      source: 'global_crypto', timeframe: '1m', tickers: ['X:BTCUSD'],
    }, (async function* () { yield bars; })());
    const relativePath = 'candles/X-BTCUSD/X-BTCUSD_1m_20250101_20250101.parquet';
    const written = path.join(downloadWorkerDisk, relativePath);
    await writeCandlesParquet(written, bars.map(({ ticker: _t, transactions: _n, ...candle }) => candle));
    const range = marketRangeMs('global_crypto', { start: '2025-01-01', end: '2025-01-01' });
    const id = await chainSyncJob(queue, {
      relativePath,
      source: { kind: 'bars', source: 'global_crypto', ticker: 'X:BTCUSD', timeframe: '1m', startMs: range.start, endMs: range.end },
    }, await contentHashOfFile(written), 3);
    const job = await finishedJob(queue, id);

    expect(job.failedReason).toBeUndefined();
    expect(job.returnvalue).toMatchObject({ status: 'uploaded', rendered: true });
    expect(Buffer.compare(await emulator.readFile(`/ferry/data/${relativePath}`), await readFile(written))).toBe(0);
  });

  it('fails a job alone, for good, with the reason, when PostgreSQL has nothing to render', async () => {
    const relativePath = 'candles/X-ETHUSD/X-ETHUSD_1m_20250101_20250102.parquet';
    const id = await chainSyncJob(queue, {
      relativePath,
      source: { kind: 'bars', source: 'global_crypto', ticker: 'X:ETHUSD', timeframe: '1m', startMs: 0, endMs: 60_000 },
    }, 'f'.repeat(64), 3);
    const job = await finishedJob(queue, id);

    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toBe(`cannot render ${relativePath}: PostgreSQL holds no global_crypto X:ETHUSD 1m bars in its range`);
    const summary = await syncSummary(db.pool);
    expect(summary.failures).toEqual([expect.objectContaining({ key: `data/${relativePath}`, relative_path: relativePath, reason: job.failedReason })]);
  });
});
