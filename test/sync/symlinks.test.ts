import { mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSyncTarget, resolveInsideDataDir, type SyncTarget } from '@ferry/shared/backup';
import { type FerryConfig } from '@ferry/shared/core';
import { JobName, QueueName } from '@ferry/shared/jobs';
import { createRedis } from '@ferry/shared/redis';
import { jobOptions, openQueue, startSyncWorker, type RunningSyncWorker } from '../support/workers.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deleteKeys, uniquePrefix } from '../support/redis.js';
import { capturedLogger, finishedJob, syncConfig } from './support.js';

const CANDLE_FILE = 'candles/BTC-USDT/BTC-USDT_1d_20240101_20240102.parquet';
const CANDLE_SOURCE = { kind: 'candles', exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1d', startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 2) };

/** Nothing a sync job reads, renders or lists may lead out of DATA_DIR through a symbolic link. */
describe('symbolic links out of DATA_DIR', () => {
  let db: TestDatabase;
  let redis: Redis;
  let prefix: string;
  let dataDir: string;
  let backupDir: string;
  let outside: string;
  let queue: Queue;
  let config: FerryConfig;
  let target: SyncTarget;
  let worker: RunningSyncWorker;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = createRedis(syncConfig({}).redis.url, 'worker');
  });
  afterAll(async () => {
    await redis.quit();
    await db.drop();
  });
  beforeEach(async () => {
    prefix = uniquePrefix('symlinks');
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-link-data-'));
    backupDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-link-backup-'));
    outside = await mkdtemp(path.join(os.tmpdir(), 'ferry-link-outside-'));
    await writeFile(path.join(outside, 'outside-secret.txt'), 'not ferry data');
    queue = openQueue(QueueName.Sync, redis, prefix);
    config = syncConfig({
      SYNC_TARGET: 'local', SYNC_LOCAL_DIR: backupDir, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, DATABASE_URL: db.url, SYNC_BATCH_WAIT_MS: '20',
    });
    target = createSyncTarget(config.sync);
    worker = await startSyncWorker({ config, logger: capturedLogger('sync').logger, db: db.pool, redis, target, schedules: false });
  });
  afterEach(async () => {
    await worker.close(5_000);
    await queue.close();
    await deleteKeys(prefix);
    for (const dir of [dataDir, backupDir, outside]) await rm(dir, { recursive: true, force: true });
  });

  async function syncFile(relativePath: string, source: object) {
    const job = await queue.add(JobName.SyncFile, { relativePath, source }, jobOptions(3));
    return finishedJob(queue, job.id!);
  }

  async function backedUp(): Promise<string[]> {
    return readdir(backupDir, { recursive: true });
  }

  it('refuses a sync-file job for a link to a file outside, at once, naming the path, and uploads nothing', async () => {
    await mkdir(path.join(dataDir, 'logs'));
    await symlink(path.join(outside, 'outside-secret.txt'), path.join(dataDir, 'logs', 'linked.txt'));

    const job = await syncFile('logs/linked.txt', { kind: 'bars', source: 's', ticker: 'T', timeframe: '1d', startMs: 0, endMs: 1 });

    expect(job.failedReason).toContain('logs/linked.txt resolves to');
    expect(job.failedReason).toContain('outside DATA_DIR');
    expect(job.attemptsMade).toBe(1);
    expect(await backedUp()).toEqual([]);
  });

  it('refuses a file under a parent directory linked outside, whether it exists there or would be rendered there', async () => {
    await symlink(outside, path.join(dataDir, 'candles'));

    // Not on disk: the worker would render it from PostgreSQL into the linked folder.
    const rendered = await syncFile(CANDLE_FILE, CANDLE_SOURCE);
    expect(rendered.failedReason).toContain(`${CANDLE_FILE} resolves to ${path.join(outside, 'BTC-USDT')}`);
    expect(await readdir(outside)).toEqual(['outside-secret.txt']);

    const existing = await syncFile('candles/outside-secret.txt', CANDLE_SOURCE);
    expect(existing.failedReason).toContain('candles/outside-secret.txt resolves to');
    expect(await backedUp()).toEqual([]);
  });

  it('a directory sync skips linked files and reports a directory linked outside, syncing the rest', async () => {
    await mkdir(path.join(dataDir, 'logs'));
    await writeFile(path.join(dataDir, 'logs', 'sync.log'), 'line\n');
    await symlink(path.join(outside, 'outside-secret.txt'), path.join(dataDir, 'logs', 'linked.txt'));
    await symlink(outside, path.join(dataDir, 'monitoring'));

    const job = await queue.add(JobName.SyncDirectory, { rule: 'logs' }, jobOptions(1));
    const done = await finishedJob(queue, job.id!);

    expect(done.returnvalue).toMatchObject({ files: 2, uploaded: 1, failed: [{ relativePath: 'monitoring', reason: expect.stringContaining('outside DATA_DIR') }] });
    const names = await backedUp();
    expect(names.some((n) => n.endsWith('sync.log'))).toBe(true);
    expect(names.some((n) => n.includes('secret') || n.includes('linked'))).toBe(false);
  });
});

/** The check every Parquet write and render goes through (download worker, preload, render, restore). */
describe('resolveInsideDataDir', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'ferry-resolve-'));
    await mkdir(path.join(root, 'data', 'candles'), { recursive: true });
    await mkdir(path.join(root, 'elsewhere'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('gives the real path of a file to be written, under folders that do not exist yet', async () => {
    await expect(resolveInsideDataDir(path.join(root, 'data'), 'candles/BTC-USDT/x.parquet'))
      .resolves.toBe(path.join(await realpath(root), 'data', 'candles', 'BTC-USDT', 'x.parquet'));
  });

  it('accepts a DATA_DIR that is itself a link, and links that stay inside it', async () => {
    await symlink(path.join(root, 'data'), path.join(root, 'data-link'));
    await symlink(path.join(root, 'data', 'candles'), path.join(root, 'data', 'candles-alias'));
    await expect(resolveInsideDataDir(path.join(root, 'data-link'), 'candles-alias/x.parquet'))
      .resolves.toBe(path.join(await realpath(root), 'data', 'candles', 'x.parquet'));
  });

  it('refuses a write through a linked parent directory, naming the path', async () => {
    await symlink(path.join(root, 'elsewhere'), path.join(root, 'data', 'candles', 'BTC-USDT'));
    await expect(resolveInsideDataDir(path.join(root, 'data'), 'candles/BTC-USDT/x.parquet'))
      .rejects.toThrow(/^candles\/BTC-USDT\/x\.parquet resolves to .*elsewhere\/x\.parquet, outside DATA_DIR/);
  });
});
