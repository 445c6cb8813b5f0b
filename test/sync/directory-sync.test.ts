import { jobOptions, openQueue } from '../support/workers.js';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSyncTarget, utcDay, type SyncTarget } from '@ferry/shared/backup';
import { contentHashOfBuffer, type FerryConfig } from '@ferry/shared/core';
import { JobName, QueueName } from '@ferry/shared/jobs';
import { syncSummary } from '@ferry/shared/postgres';
import { createRedis } from '@ferry/shared/redis';
import { startSyncWorker, type RunningSyncWorker } from '../support/workers.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deleteKeys, uniquePrefix } from '../support/redis.js';
import { capturedLogger, finishedJob, syncConfig, type CapturedLogger } from './support.js';

/** Counts what a target is asked, to show that unchanged files are not even looked at. */
function counting(target: SyncTarget): SyncTarget & { calls: { stat: number; uploadMany: number } } {
  const calls = { stat: 0, uploadMany: 0 };
  return {
    kind: target.kind,
    description: target.description,
    calls,
    stat: (key) => ((calls.stat += 1), target.stat(key)),
    upload: (request) => target.upload(request),
    uploadMany: (requests) => ((calls.uploadMany += 1), target.uploadMany(requests)),
    list: (folder) => target.list(folder),
    listKeys: (folder, options) => target.listKeys(folder, options),
    delete: (keys) => target.delete(keys),
    download: (key, local) => target.download(key, local),
  };
}

/** Scheduled directory syncs, here to the local folder target (the same worker code serves Dropbox). */
describe('scheduled directory syncs', () => {
  let db: TestDatabase;
  let redis: Redis;
  let prefix: string;
  let dataDir: string;
  let backupDir: string;
  let queue: Queue;
  const workers: RunningSyncWorker[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = createRedis(syncConfig({}).redis.url, 'worker');
  });
  afterAll(async () => {
    await redis.quit();
    await db.drop();
  });
  beforeEach(async () => {
    prefix = uniquePrefix('dirsync');
    await db.pool.query('TRUNCATE file_syncs');
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-dir-data-'));
    backupDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-dir-backup-'));
    queue = openQueue(QueueName.Sync, redis, prefix);
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close(5_000)));
    await queue.close();
    await deleteKeys(prefix);
    await rm(dataDir, { recursive: true, force: true });
    await rm(backupDir, { recursive: true, force: true });
  });

  function configFor(env: Record<string, string> = {}): FerryConfig {
    return syncConfig({
      SYNC_TARGET: 'local', SYNC_LOCAL_DIR: backupDir, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, DATABASE_URL: db.url,
      SYNC_BATCH_WAIT_MS: '20', ...env,
    });
  }

  async function start(config: FerryConfig, options: { target?: SyncTarget; schedules?: boolean; log?: CapturedLogger } = {}) {
    const worker = await startSyncWorker({
      config, logger: (options.log ?? capturedLogger('sync')).logger, db: db.pool, redis,
      target: options.target ?? createSyncTarget(config.sync), schedules: options.schedules,
    });
    workers.push(worker);
    return worker;
  }

  async function runRule(rule: string): Promise<unknown> {
    const job = await queue.add(JobName.SyncDirectory, { rule }, jobOptions(1));
    const done = await finishedJob(queue, job.id!);
    if (done.failedReason) throw new Error(done.failedReason);
    return done.returnvalue;
  }

  it('keeps one schedule per enabled rule however many workers start, and says so at start', async () => {
    const env = { SYNC_LEARNING_EVERY: '5m', SYNC_LOGS_EVERY: '90s', SYNC_MODELS_EVERY: 'off', SYNC_CANDLES_EVERY: '2h' };
    const log = capturedLogger('sync');
    await start(configFor(env), { log });
    await start(configFor(env));
    await start(configFor(env));

    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => ({ key: s.key, every: s.every, name: s.name })).sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: 'sync-directory.candles', every: 7_200_000, name: JobName.SyncDirectory },
      { key: 'sync-directory.learning', every: 300_000, name: JobName.SyncDirectory },
      { key: 'sync-directory.logs', every: 90_000, name: JobName.SyncDirectory },
    ]);
    const started = log.lines().find((l) => String(l.msg).startsWith('sync worker started'));
    expect(started?.msg).toBe(
      `sync worker started: target local ${backupDir}; schedules: learning (learning) every 5m; logs (logs, monitoring) every 90s; ` +
        'models (models) off; candles (candles) every 2h',
    );

    // Retimed and disabled by the next start's configuration.
    await start(configFor({ ...env, SYNC_LOGS_EVERY: 'off', SYNC_MODELS_EVERY: '30m' }));
    expect((await queue.getJobSchedulers()).map((s) => `${s.key} ${s.every}`).sort()).toEqual([
      'sync-directory.candles 7200000', 'sync-directory.learning 300000', 'sync-directory.models 1800000',
    ]);
  });

  it('uploads logs and monitoring into the folder of the day, then only what changed', async () => {
    await mkdir(path.join(dataDir, 'logs', 'download-worker'), { recursive: true });
    await mkdir(path.join(dataDir, 'monitoring'), { recursive: true });
    await writeFile(path.join(dataDir, 'logs', 'download-worker', 'worker 1.log'), 'line 1\n');
    await writeFile(path.join(dataDir, 'logs', 'sync.log'), 'sync line\n');
    await writeFile(path.join(dataDir, 'monitoring', 'health.json'), '{"ok":true}');
    // A file being written by the Parquet writer or a download: never synced half-written.
    await writeFile(path.join(dataDir, 'logs', '.sync.log.123.abcd.tmp'), 'partial');
    const config = configFor();
    const target = counting(createSyncTarget(config.sync));
    await start(config, { target, schedules: false });
    const day = utcDay(new Date());

    expect(await runRule('logs')).toMatchObject({ status: 'synced-directory', files: 3, unchanged: 0, uploaded: 3, skippedIdentical: 0, failed: [] });
    expect((await target.list(day)).map((f) => f.key)).toEqual([
      `${day}/logs/download-worker/worker 1.log`, `${day}/logs/sync.log`, `${day}/monitoring/health.json`,
    ]);

    target.calls.stat = 0;
    target.calls.uploadMany = 0;
    expect(await runRule('logs')).toMatchObject({ files: 3, unchanged: 3, uploaded: 0 });
    expect(target.calls).toEqual({ stat: 0, uploadMany: 0 });

    await appendFile(path.join(dataDir, 'logs', 'sync.log'), 'another line\n');
    expect(await runRule('logs')).toMatchObject({ files: 3, unchanged: 2, uploaded: 1 });
    expect(target.calls).toEqual({ stat: 1, uploadMany: 1 });
    await expect(target.stat(`${day}/logs/sync.log`)).resolves.toEqual({
      key: `${day}/logs/sync.log`, size: 23, contentHash: contentHashOfBuffer(Buffer.from('sync line\nanother line\n')),
    });
    expect(await syncSummary(db.pool)).toMatchObject({ uploaded: 3, failed: 0 });
  });

  it('with SYNC_TARGET=none, removes the schedules, warns, and completes jobs without uploading', async () => {
    const before = await start(configFor({ SYNC_LOGS_EVERY: '5m' }));
    expect(await queue.getJobSchedulers()).toHaveLength(1);
    await before.close(5_000);
    workers.splice(workers.indexOf(before), 1);
    const log = capturedLogger('sync');
    await start(configFor({ SYNC_TARGET: 'none', SYNC_LOGS_EVERY: '5m' }), { log });

    expect(await queue.getJobSchedulers()).toEqual([]);
    expect(log.lines().map((l) => l.msg)).toContain('SYNC_TARGET is none: nothing is backed up; sync jobs complete without uploading');
    await writeFile(path.join(dataDir, 'note.txt'), 'x');
    const fileJob = await queue.add(JobName.SyncFile, {
      relativePath: 'note.txt', source: { kind: 'bars', source: 's', ticker: 'T', timeframe: '1d', startMs: 0, endMs: 1 },
    }, jobOptions(1));
    expect((await finishedJob(queue, fileJob.id!)).returnvalue).toEqual({ status: 'not-synced', reason: 'SYNC_TARGET is none' });
    expect(await runRule('logs')).toEqual({ status: 'not-synced', reason: 'SYNC_TARGET is none' });
    expect(await syncSummary(db.pool)).toMatchObject({ total: 0 });
  });
});
