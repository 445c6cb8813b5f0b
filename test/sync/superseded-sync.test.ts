import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSyncTarget } from '@ferry/shared/backup';
import { QueueName, type SyncFilePayload } from '@ferry/shared/jobs';
import { insertCandles } from '@ferry/shared/postgres';
import { createRedis } from '@ferry/shared/redis';
import { renderSeriesFile, syncPayloadOf, type RenderedSeriesFile } from '@ferry/shared/series-files';
import { DropboxCounter, startDropboxEmulator, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { chainSyncJob, openQueue, startSyncWorker, type RunningSyncWorker } from '../support/workers.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deleteKeys, uniquePrefix } from '../support/redis.js';
import { capturedLogger, dailyCandles, dropboxEnv, finishedJob, syncConfig } from './support.js';

/**
 * A sync job can run after its file was replaced by a newer render of the series (the sync worker was down during
 * two collections, or the next collection finished first). Such a job completes as `superseded`: it uploads nothing,
 * renders nothing, and does not fail; the newer render's own job backs up the current file.
 */
describe('a sync job for a render that a newer one replaced', () => {
  let db: TestDatabase;
  let redis: Redis;
  let emulator: DropboxEmulator;
  let prefix: string;
  let queue: Queue;
  let downloadDisk: string;
  let otherDisk: string;
  const workers: RunningSyncWorker[] = [];
  const series = { kind: 'candles', exchange: 'binance', symbol: 'C0/USDT', timeframe: '1d' } as const;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = createRedis(syncConfig({}).redis.url, 'worker');
  });
  afterAll(async () => {
    await redis.quit();
    await db.drop();
  });
  beforeEach(async () => {
    await db.pool.query('TRUNCATE candles, file_syncs');
    emulator = await startDropboxEmulator();
    prefix = uniquePrefix('superseded');
    queue = openQueue(QueueName.Sync, redis, prefix);
    downloadDisk = await mkdtemp(path.join(os.tmpdir(), 'ferry-download-disk-'));
    otherDisk = await mkdtemp(path.join(os.tmpdir(), 'ferry-sync-disk-'));
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(5_000)));
    await queue.close();
    await deleteKeys(prefix);
    await emulator.close();
    await rm(downloadDisk, { recursive: true, force: true });
    await rm(otherDisk, { recursive: true, force: true });
  });

  async function startWorker(dataDir: string): Promise<void> {
    const config = syncConfig({ ...dropboxEnv(emulator), QUEUE_PREFIX: prefix, DATA_DIR: dataDir, DATABASE_URL: db.url, SYNC_BATCH_WAIT_MS: '20' });
    workers.push(await startSyncWorker({ config, logger: capturedLogger('sync').logger, db: db.pool, redis, target: createSyncTarget(config.sync) }));
  }

  /** Day one: 30 daily candles rendered; day two: one more candle, rendered again (the first file is replaced). */
  async function twoRenders(): Promise<{ first: RenderedSeriesFile; second: RenderedSeriesFile }> {
    const candles = dailyCandles(0, 31);
    await insertCandles(db.pool, series, candles.slice(0, 30));
    const first = (await renderSeriesFile(series, { db: db.pool, dataDir: downloadDisk }))!;
    await insertCandles(db.pool, series, candles.slice(30));
    const second = (await renderSeriesFile(series, { db: db.pool, dataDir: downloadDisk }))!;
    expect(second.replaced).toEqual([first.relativePath]);
    return { first, second };
  }

  async function chain(payload: SyncFilePayload, contentHash: string): Promise<string> {
    return chainSyncJob(queue, payload, contentHash, 3);
  }

  it('completes without uploading the stale file, while the newer render goes up', async () => {
    const { first, second } = await twoRenders();
    const staleJob = await chain(syncPayloadOf(first, undefined), first.contentHash);
    const currentJob = await chain(syncPayloadOf(second, undefined), second.contentHash);
    await startWorker(downloadDisk);

    const stale = await finishedJob(queue, staleJob);
    expect(stale.failedReason).toBeUndefined();
    expect(stale.attemptsMade).toBe(1);
    expect(stale.returnvalue).toEqual({
      status: 'superseded', relativePath: first.relativePath, supersededBy: second.relativePath,
      reason: `${first.relativePath} is superseded by ${second.relativePath} on this disk; the newer render has a sync job of its own`,
    });
    expect((await finishedJob(queue, currentJob)).returnvalue).toMatchObject({ status: 'uploaded', contentHash: second.contentHash, rendered: false });
    expect(emulator.listFilePaths()).toEqual([`/ferry/data/${second.relativePath}`]);
    expect(emulator.control.counter(DropboxCounter.bytesReceived)).toBe(second.size);
    // Not re-rendered either: the download worker's disk holds the current render alone.
    expect(await readdir(path.join(downloadDisk, 'candles', 'C0'))).toEqual([path.posix.basename(second.relativePath)]);
  });

  it('completes the same way for a job queued by older code, without the file\'s size and hash', async () => {
    const { first } = await twoRenders();
    const { file: _file, ...older } = syncPayloadOf(first, undefined);
    const id = await chain(older, first.contentHash);
    await startWorker(downloadDisk);
    const job = await finishedJob(queue, id);
    expect(job.returnvalue).toMatchObject({ status: 'superseded', relativePath: first.relativePath });
    expect(emulator.listFilePaths()).toEqual([]);
  });

  it('on a host without the file, completes without rendering it when PostgreSQL has moved on', async () => {
    const { first, second } = await twoRenders();
    const id = await chain(syncPayloadOf(first, undefined), first.contentHash);
    await startWorker(otherDisk);

    const job = await finishedJob(queue, id);
    expect(job.failedReason).toBeUndefined();
    expect(job.returnvalue).toMatchObject({ status: 'superseded', relativePath: first.relativePath, supersededBy: second.relativePath });
    expect(await readdir(otherDisk)).toEqual([]);
    expect(emulator.control.counter('requests')).toBe(0);
  });

  it('deletes the earlier render from the target once the newer one is committed', async () => {
    const { first, second } = await twoRenders();
    // The first render was backed up before the second existed.
    await emulator.putFile(`/ferry/data/${first.relativePath}`, Buffer.from('the first render'));
    await startWorker(downloadDisk);
    await finishedJob(queue, await chain(syncPayloadOf(second, undefined), second.contentHash));
    expect(emulator.listFilePaths()).toEqual([`/ferry/data/${second.relativePath}`]);
    expect(emulator.control.counter(DropboxCounter.deletes)).toBe(1);
  });
});
