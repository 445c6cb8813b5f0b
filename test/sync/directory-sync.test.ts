import { jobOptions } from '../support/workers.js';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSyncTarget, utcDay, type SyncTarget } from '@ferry/shared/backup';
import { contentHashOfBuffer, type FerryConfig } from '@ferry/shared/core';
import { JobName } from '@ferry/shared/jobs';
import { syncSummary } from '@ferry/shared/postgres';
import { capturedLogger, finishedJob, syncWorkerSuite } from './support.js';

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
  const sync = syncWorkerSuite({ name: 'dirsync', dirs: ['data', 'backup'] });

  function configFor(env: Record<string, string> = {}): FerryConfig {
    return sync.config(sync.dirs.data, { SYNC_TARGET: 'local', SYNC_LOCAL_DIR: sync.dirs.backup, SYNC_BATCH_WAIT_MS: '20', ...env });
  }

  async function runRule(rule: string): Promise<unknown> {
    const job = await sync.queue.add(JobName.SyncDirectory, { rule }, jobOptions(1));
    const done = await finishedJob(sync.queue, job.id!);
    if (done.failedReason) throw new Error(done.failedReason);
    return done.returnvalue;
  }

  it('keeps one schedule per enabled rule however many workers start, and says so at start', async () => {
    const env = { SYNC_LEARNING_EVERY: '5m', SYNC_LOGS_EVERY: '90s', SYNC_MODELS_EVERY: 'off', SYNC_CANDLES_EVERY: '2h' };
    const log = capturedLogger('sync');
    await sync.startWorker(configFor(env), { log });
    await sync.startWorker(configFor(env));
    await sync.startWorker(configFor(env));

    const schedulers = await sync.queue.getJobSchedulers();
    expect(schedulers.map((s) => ({ key: s.key, every: s.every, name: s.name })).sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: 'sync-directory.candles', every: 7_200_000, name: JobName.SyncDirectory },
      { key: 'sync-directory.learning', every: 300_000, name: JobName.SyncDirectory },
      { key: 'sync-directory.logs', every: 90_000, name: JobName.SyncDirectory },
    ]);
    const started = log.lines().find((l) => String(l.msg).startsWith('sync worker started'));
    expect(started?.msg).toBe(
      `sync worker started: target local ${sync.dirs.backup}; schedules: learning (learning) every 5m; logs (logs, monitoring) every 90s; ` +
        'models (models) off; candles (candles) every 2h',
    );

    // Retimed and disabled by the next start's configuration.
    await sync.startWorker(configFor({ ...env, SYNC_LOGS_EVERY: 'off', SYNC_MODELS_EVERY: '30m' }));
    expect((await sync.queue.getJobSchedulers()).map((s) => `${s.key} ${s.every}`).sort()).toEqual([
      'sync-directory.candles 7200000', 'sync-directory.learning 300000', 'sync-directory.models 1800000',
    ]);
  });

  it('uploads logs and monitoring into the folder of the day, then only what changed', async () => {
    await mkdir(path.join(sync.dirs.data, 'logs', 'download-worker'), { recursive: true });
    await mkdir(path.join(sync.dirs.data, 'monitoring'), { recursive: true });
    await writeFile(path.join(sync.dirs.data, 'logs', 'download-worker', 'worker 1.log'), 'line 1\n');
    await writeFile(path.join(sync.dirs.data, 'logs', 'sync.log'), 'sync line\n');
    await writeFile(path.join(sync.dirs.data, 'monitoring', 'health.json'), '{"ok":true}');
    // A file being written by the Parquet writer or a download: never synced half-written.
    await writeFile(path.join(sync.dirs.data, 'logs', '.sync.log.123.abcd.tmp'), 'partial');
    const config = configFor();
    const target = counting(createSyncTarget(config.sync));
    await sync.startWorker(config, { target, schedules: false });
    const day = utcDay(new Date());

    expect(await runRule('logs')).toMatchObject({ status: 'synced-directory', files: 3, unchanged: 0, uploaded: 3, skippedIdentical: 0, failed: [] });
    expect((await target.list(day)).map((f) => f.key)).toEqual([
      `${day}/logs/download-worker/worker 1.log`, `${day}/logs/sync.log`, `${day}/monitoring/health.json`,
    ]);

    target.calls.stat = 0;
    target.calls.uploadMany = 0;
    expect(await runRule('logs')).toMatchObject({ files: 3, unchanged: 3, uploaded: 0 });
    expect(target.calls).toEqual({ stat: 0, uploadMany: 0 });

    await appendFile(path.join(sync.dirs.data, 'logs', 'sync.log'), 'another line\n');
    expect(await runRule('logs')).toMatchObject({ files: 3, unchanged: 2, uploaded: 1 });
    expect(target.calls).toEqual({ stat: 1, uploadMany: 1 });
    await expect(target.stat(`${day}/logs/sync.log`)).resolves.toEqual({
      key: `${day}/logs/sync.log`, size: 23, contentHash: contentHashOfBuffer(Buffer.from('sync line\nanother line\n')),
    });
    expect(await syncSummary(sync.db.pool)).toMatchObject({ uploaded: 3, failed: 0 });
  });

  it('with SYNC_TARGET=none, removes the schedules, warns, and completes jobs without uploading', async () => {
    const before = await sync.startWorker(configFor({ SYNC_LOGS_EVERY: '5m' }));
    expect(await sync.queue.getJobSchedulers()).toHaveLength(1);
    await sync.stopWorker(before);
    const log = capturedLogger('sync');
    await sync.startWorker(configFor({ SYNC_TARGET: 'none', SYNC_LOGS_EVERY: '5m' }), { log });

    expect(await sync.queue.getJobSchedulers()).toEqual([]);
    expect(log.lines().map((l) => l.msg)).toContain('SYNC_TARGET is none: nothing is backed up; sync jobs complete without uploading');
    await writeFile(path.join(sync.dirs.data, 'note.txt'), 'x');
    const fileJob = await sync.queue.add(JobName.SyncFile, {
      relativePath: 'note.txt', source: { kind: 'bars', source: 's', ticker: 'T', timeframe: '1d', startMs: 0, endMs: 1 },
    }, jobOptions(1));
    expect((await finishedJob(sync.queue, fileJob.id!)).returnvalue).toEqual({ status: 'not-synced', reason: 'SYNC_TARGET is none' });
    expect(await runRule('logs')).toEqual({ status: 'not-synced', reason: 'SYNC_TARGET is none' });
    expect(await syncSummary(sync.db.pool)).toMatchObject({ total: 0 });
  });
});
