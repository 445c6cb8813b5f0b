import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type SyncFilePayload } from '@ferry/shared/jobs';
import { insertCandles } from '@ferry/shared/postgres';
import { renderSeriesFile, syncPayloadOf, type RenderedSeriesFile } from '@ferry/shared/series-files';
import { DropboxCounter } from '@ferry/emulators/dropbox';
import { chainSyncJob } from '../support/workers.js';
import { dailyCandles, finishedJob, syncWorkerSuite } from './support.js';

/**
 * A sync job can run after its file was replaced by a newer render of the series (the sync worker was down during
 * two collections, or the next collection finished first). Such a job completes as `superseded`: it uploads nothing,
 * renders nothing, and does not fail; the newer render's own job backs up the current file.
 */
describe('a sync job for a render that a newer one replaced', () => {
  const sync = syncWorkerSuite({ name: 'superseded', dirs: ['downloadDisk', 'otherDisk'], truncate: ['candles', 'file_syncs'], dropbox: true });
  const series = { kind: 'candles', exchange: 'binance', symbol: 'C0/USDT', timeframe: '1d' } as const;

  async function startWorker(dataDir: string): Promise<void> {
    await sync.startWorker(sync.config(dataDir, { SYNC_BATCH_WAIT_MS: '20' }));
  }

  /** Day one: 30 daily candles rendered; day two: one more candle, rendered again (the first file is replaced). */
  async function twoRenders(): Promise<{ first: RenderedSeriesFile; second: RenderedSeriesFile }> {
    const candles = dailyCandles(0, 31);
    await insertCandles(sync.db.pool, series, candles.slice(0, 30));
    const first = (await renderSeriesFile(series, { db: sync.db.pool, dataDir: sync.dirs.downloadDisk }))!;
    await insertCandles(sync.db.pool, series, candles.slice(30));
    const second = (await renderSeriesFile(series, { db: sync.db.pool, dataDir: sync.dirs.downloadDisk }))!;
    expect(second.replaced).toEqual([first.relativePath]);
    return { first, second };
  }

  async function chain(payload: SyncFilePayload, contentHash: string): Promise<string> {
    return chainSyncJob(sync.queue, payload, contentHash, 3);
  }

  it('completes without uploading the stale file, while the newer render goes up', async () => {
    const { first, second } = await twoRenders();
    const staleJob = await chain(syncPayloadOf(first, undefined), first.contentHash);
    const currentJob = await chain(syncPayloadOf(second, undefined), second.contentHash);
    await startWorker(sync.dirs.downloadDisk);

    const stale = await finishedJob(sync.queue, staleJob);
    expect(stale.failedReason).toBeUndefined();
    expect(stale.attemptsMade).toBe(1);
    expect(stale.returnvalue).toEqual({
      status: 'superseded', relativePath: first.relativePath, supersededBy: second.relativePath,
      reason: `${first.relativePath} is superseded by ${second.relativePath} on this disk; the newer render has a sync job of its own`,
    });
    expect((await finishedJob(sync.queue, currentJob)).returnvalue).toMatchObject({ status: 'uploaded', contentHash: second.contentHash, rendered: false });
    expect(sync.emulator.listFilePaths()).toEqual([`/ferry/data/${second.relativePath}`]);
    expect(sync.emulator.control.counter(DropboxCounter.bytesReceived)).toBe(second.size);
    // Not re-rendered either: the download worker's disk holds the current render alone.
    expect(await readdir(path.join(sync.dirs.downloadDisk, 'candles', 'C0'))).toEqual([path.posix.basename(second.relativePath)]);
  });

  it('completes the same way for a job queued by older code, without the file\'s size and hash', async () => {
    const { first } = await twoRenders();
    const { file: _file, ...older } = syncPayloadOf(first, undefined);
    const id = await chain(older, first.contentHash);
    await startWorker(sync.dirs.downloadDisk);
    const job = await finishedJob(sync.queue, id);
    expect(job.returnvalue).toMatchObject({ status: 'superseded', relativePath: first.relativePath });
    expect(sync.emulator.listFilePaths()).toEqual([]);
  });

  it('on a host without the file, completes without rendering it when PostgreSQL has moved on', async () => {
    const { first, second } = await twoRenders();
    const id = await chain(syncPayloadOf(first, undefined), first.contentHash);
    await startWorker(sync.dirs.otherDisk);

    const job = await finishedJob(sync.queue, id);
    expect(job.failedReason).toBeUndefined();
    expect(job.returnvalue).toMatchObject({ status: 'superseded', relativePath: first.relativePath, supersededBy: second.relativePath });
    expect(await readdir(sync.dirs.otherDisk)).toEqual([]);
    expect(sync.emulator.control.counter('requests')).toBe(0);
  });

  it('deletes the earlier render from the target once the newer one is committed', async () => {
    const { first, second } = await twoRenders();
    // The first render was backed up before the second existed.
    await sync.emulator.putFile(`/ferry/data/${first.relativePath}`, Buffer.from('the first render'));
    await startWorker(sync.dirs.downloadDisk);
    await finishedJob(sync.queue, await chain(syncPayloadOf(second, undefined), second.contentHash));
    expect(sync.emulator.listFilePaths()).toEqual([`/ferry/data/${second.relativePath}`]);
    expect(sync.emulator.control.counter(DropboxCounter.deletes)).toBe(1);
  });
});
