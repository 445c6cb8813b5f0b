import { chainSyncJob, jobOptions } from '../support/workers.js';
import { describe, expect, it } from 'vitest';
import { createSyncTarget } from '@ferry/shared/backup';
import { type FerryConfig } from '@ferry/shared/core';
import { JobName } from '@ferry/shared/jobs';
import { syncSummary } from '@ferry/shared/postgres';
import { DropboxCounter, DropboxFault } from '@ferry/emulators/dropbox';
import { finishedJob, syncWorkerSuite, waitForFinished, writeCandleFiles, type WrittenCandleFile } from './support.js';

/**
 * The sync worker against the Dropbox emulator, through the real SDK: the download workers chain one sync job per
 * candle file, and the worker commits them in batches.
 */
describe('sync worker with Dropbox', () => {
  const sync = syncWorkerSuite({ name: 'sync', dirs: ['data'], dropbox: true });

  function configFor(env: Record<string, string> = {}): FerryConfig {
    return sync.config(sync.dirs.data, env);
  }

  async function chainAll(files: readonly WrittenCandleFile[], attempts = 3): Promise<void> {
    for (const file of files) await chainSyncJob(sync.queue, file.payload, file.contentHash, attempts);
  }

  const commitCalls = () =>
    sync.emulator.control.counter(DropboxCounter.calls('files/upload_session/finish_batch_v2')) +
    sync.emulator.control.counter(DropboxCounter.calls('files/upload_session/finish')) +
    sync.emulator.control.counter(DropboxCounter.calls('files/upload'));

  it('syncs 250 chained candle files with one batch commit; a second sync uploads nothing', async () => {
    const files = await writeCandleFiles(sync.dirs.data, 250);
    await chainAll(files);
    const config = configFor();
    await sync.startWorker(config);

    expect(await waitForFinished(sync.queue, 250)).toEqual({ completed: 250, failed: 0 });

    expect(sync.emulator.listFilePaths()).toEqual(files.map((f) => `/ferry/data/${f.payload.relativePath}`).sort());
    for (const file of files) {
      expect(sync.emulator.fileMetadata(`/ferry/data/${file.payload.relativePath}`)?.content_hash).toBe(file.contentHash);
    }
    const totalBytes = files.reduce((n, f) => n + Number(sync.emulator.fileMetadata(`/ferry/data/${f.payload.relativePath}`)?.size), 0);
    expect(commitCalls()).toBe(1);
    expect(sync.emulator.control.counter(DropboxCounter.calls('files/upload_session/start'))).toBe(250);
    expect(sync.emulator.control.counter(DropboxCounter.bytesReceived)).toBe(totalBytes);
    expect(await syncSummary(sync.db.pool)).toMatchObject({ total: 250, uploaded: 250, pending: 0, failed: 0, synced_bytes: totalBytes });
    const first = (await sync.queue.getCompleted(0, 0))[0];
    expect(first?.returnvalue).toMatchObject({ status: 'uploaded', target: 'dropbox /ferry', rendered: false });

    // Again, without the hash cache: every file is hashed and found identical on Dropbox.
    await sync.db.pool.query('TRUNCATE file_syncs');
    sync.emulator.control.reset();
    const again = await sync.queue.add(JobName.SyncDirectory, { rule: 'candles' }, jobOptions(3));
    const done = await finishedJob(sync.queue, again.id!);
    expect(done.returnvalue).toMatchObject({ status: 'synced-directory', files: 250, unchanged: 0, uploaded: 0, skippedIdentical: 250, failed: [] });
    expect(sync.emulator.control.counter(DropboxCounter.bytesReceived)).toBe(0);
    expect(commitCalls()).toBe(0);
    expect(await syncSummary(sync.db.pool)).toMatchObject({ total: 250, skipped_identical: 250, uploaded: 0 });

    // And with it: nothing is even hashed or looked up.
    sync.emulator.control.reset();
    const third = await sync.queue.add(JobName.SyncDirectory, { rule: 'candles' }, jobOptions(3));
    expect((await finishedJob(sync.queue, third.id!)).returnvalue).toMatchObject({ files: 250, unchanged: 250, uploaded: 0, skippedIdentical: 0 });
    expect(sync.emulator.control.counter('requests')).toBe(0);
  });

  it('refreshes an access token that expires mid-run, and completes the run', async () => {
    const files = await writeCandleFiles(sync.dirs.data, 40);
    await chainAll(files);
    // Batches of 10: the token dies at the first commit, after the first batch's uploads.
    sync.emulator.control.addFault({ name: DropboxFault.ExpireToken, remaining: 1, pathIncludes: 'finish_batch_v2' });
    await sync.startWorker(configFor({ SYNC_BATCH_FILES: '10', SYNC_BATCH_WAIT_MS: '50' }));

    expect(await waitForFinished(sync.queue, 40)).toEqual({ completed: 40, failed: 0 });
    expect(sync.emulator.control.counter(`fault:${DropboxFault.ExpireToken}`)).toBe(1);
    expect(sync.emulator.control.counter(DropboxCounter.status(401))).toBe(1);
    expect(sync.emulator.control.counter(DropboxCounter.tokenRefreshes)).toBe(2);
    // The refused commit committed nothing; its retry committed its files once.
    expect(sync.emulator.control.counter(DropboxCounter.commits)).toBe(40);
    expect(sync.emulator.control.counter(DropboxCounter.filesWritten)).toBe(40);
    expect(sync.emulator.listFilePaths()).toHaveLength(40);
  });

  it('rides out a 429 storm: every sync worker pauses for Retry-After, no job fails, no attempt is spent', async () => {
    const files = await writeCandleFiles(sync.dirs.data, 80);
    // One attempt per job: a rate limit that spent an attempt would fail the job.
    await chainAll(files, 1);
    const requests: Array<{ worker: number; at: number; status: number }> = [];
    const countingFetch = (worker: number): typeof fetch => async (input, init) => {
      const response = await fetch(input, init);
      requests.push({ worker, at: Date.now(), status: response.status });
      return response;
    };
    sync.emulator.control.addFault({ name: DropboxFault.TooManyWriteOperations, remaining: 3, probability: 0.3, params: { retryAfterSeconds: 2 } });
    const config = configFor({ SYNC_BATCH_FILES: '10', SYNC_BATCH_WAIT_MS: '30' });
    await sync.startWorker(config, { target: createSyncTarget(config.sync, { fetch: countingFetch(1) }) });
    await sync.startWorker(config, { target: createSyncTarget(config.sync, { fetch: countingFetch(2) }) });

    expect(await waitForFinished(sync.queue, 80, 45_000)).toEqual({ completed: 80, failed: 0 });
    expect(sync.emulator.control.counter(`fault:${DropboxFault.TooManyWriteOperations}`)).toBe(3);
    expect(sync.emulator.listFilePaths()).toHaveLength(80);
    expect(new Set(requests.map((r) => r.worker))).toEqual(new Set([1, 2]));

    // After the first 429, neither worker sends anything until Dropbox's 2 seconds are over. (Calls of a batch already
    // under way on the other worker may still land in the first moments.)
    const first429 = requests.find((r) => r.status === 429)!.at;
    const duringPause = requests.filter((r) => r.at > first429 + 500 && r.at < first429 + 1_800);
    expect(duringPause).toEqual([]);
    expect(requests.some((r) => r.at >= first429 + 1_900)).toBe(true);
  });

  it('a 429 in plain text and too_many_write_operations inside a 409 pause like a rate limit: no job fails, no attempt is spent', async () => {
    const files = await writeCandleFiles(sync.dirs.data, 20);
    await chainAll(files, 1);
    sync.emulator.control.addFault({ name: DropboxFault.TooManyRequests, remaining: 2, params: { retryAfterSeconds: 1, body: 'text' } });
    sync.emulator.control.addFault({ name: DropboxFault.WriteContention, remaining: 2 });
    const config = configFor({ SYNC_BATCH_FILES: '5', SYNC_BATCH_WAIT_MS: '30' });
    await sync.startWorker(config, { target: createSyncTarget(config.sync) });

    expect(await waitForFinished(sync.queue, 20, 45_000)).toEqual({ completed: 20, failed: 0 });
    expect(sync.emulator.control.counter(`fault:${DropboxFault.TooManyRequests}`)).toBe(2);
    expect(sync.emulator.control.counter(`fault:${DropboxFault.WriteContention}`)).toBe(2);
    expect(sync.emulator.listFilePaths()).toHaveLength(20);
  });
});
