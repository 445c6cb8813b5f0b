import { mkdir, mkdtemp, readdir, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveInsideDataDir } from '@ferry/shared/backup';
import { JobName } from '@ferry/shared/jobs';
import { jobOptions } from '../support/workers.js';
import { finishedJob, syncWorkerSuite } from './support.js';

const CANDLE_FILE = 'candles/BTC-USDT/BTC-USDT_1d_20240101_20240102.parquet';
const CANDLE_SOURCE = { kind: 'candles', exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1d', startMs: Date.UTC(2024, 0, 1), endMs: Date.UTC(2024, 0, 2) };

/** Nothing a sync job reads, renders or lists may lead out of DATA_DIR through a symbolic link. */
describe('symbolic links out of DATA_DIR', () => {
  const sync = syncWorkerSuite({ name: 'symlinks', dirs: ['data', 'backup', 'outside'] });

  beforeEach(async () => {
    await writeFile(path.join(sync.dirs.outside, 'outside-secret.txt'), 'not ferry data');
    const config = sync.config(sync.dirs.data, { SYNC_TARGET: 'local', SYNC_LOCAL_DIR: sync.dirs.backup, SYNC_BATCH_WAIT_MS: '20' });
    await sync.startWorker(config, { schedules: false });
  });

  async function syncFile(relativePath: string, source: object) {
    const job = await sync.queue.add(JobName.SyncFile, { relativePath, source }, jobOptions(3));
    return finishedJob(sync.queue, job.id!);
  }

  async function backedUp(): Promise<string[]> {
    return readdir(sync.dirs.backup, { recursive: true });
  }

  it('refuses a sync-file job for a link to a file outside, at once, naming the path, and uploads nothing', async () => {
    await mkdir(path.join(sync.dirs.data, 'logs'));
    await symlink(path.join(sync.dirs.outside, 'outside-secret.txt'), path.join(sync.dirs.data, 'logs', 'linked.txt'));

    const job = await syncFile('logs/linked.txt', { kind: 'bars', source: 's', ticker: 'T', timeframe: '1d', startMs: 0, endMs: 1 });

    expect(job.failedReason).toContain('logs/linked.txt resolves to');
    expect(job.failedReason).toContain('outside DATA_DIR');
    expect(job.attemptsMade).toBe(1);
    expect(await backedUp()).toEqual([]);
  });

  it('refuses a file under a parent directory linked outside, whether it exists there or would be rendered there', async () => {
    await symlink(sync.dirs.outside, path.join(sync.dirs.data, 'candles'));

    // Not on disk: the worker would render it from PostgreSQL into the linked folder.
    const rendered = await syncFile(CANDLE_FILE, CANDLE_SOURCE);
    expect(rendered.failedReason).toContain(`${CANDLE_FILE} resolves to ${path.join(sync.dirs.outside, 'BTC-USDT')}`);
    expect(await readdir(sync.dirs.outside)).toEqual(['outside-secret.txt']);

    const existing = await syncFile('candles/outside-secret.txt', CANDLE_SOURCE);
    expect(existing.failedReason).toContain('candles/outside-secret.txt resolves to');
    expect(await backedUp()).toEqual([]);
  });

  it('a directory sync skips linked files and reports a directory linked outside, syncing the rest', async () => {
    await mkdir(path.join(sync.dirs.data, 'logs'));
    await writeFile(path.join(sync.dirs.data, 'logs', 'sync.log'), 'line\n');
    await symlink(path.join(sync.dirs.outside, 'outside-secret.txt'), path.join(sync.dirs.data, 'logs', 'linked.txt'));
    await symlink(sync.dirs.outside, path.join(sync.dirs.data, 'monitoring'));

    const job = await sync.queue.add(JobName.SyncDirectory, { rule: 'logs' }, jobOptions(1));
    const done = await finishedJob(sync.queue, job.id!);

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
