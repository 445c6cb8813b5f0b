import type { files } from 'dropbox';
import { describe, expect, it } from 'vitest';
import { NetworkError } from '@ferry/shared/core';
import { contentHashOfBuffer } from '@ferry/shared/core';
import { DropboxCounter, DropboxFault } from './index.js';
import { apiErrorBody, responseErrorOf } from './sdk-client.js';
import { emulatorForSuite } from './test-client.js';

const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;

/** Bytes repeating with period 251, so consecutive 4 MiB blocks differ (4 MiB is not a multiple of 251). */
function patterned(length: number, seed: number): Buffer {
  const period = Buffer.from(Array.from({ length: 251 }, (_, i) => (i * 31 + seed) % 251));
  return Buffer.alloc(length, period);
}

describe('Dropbox emulator: upload sessions, through the real dropbox SDK', () => {
  const dropbox = emulatorForSuite();

  it('assembles a multi-chunk session (3 x 4 MiB + tail) into a file that downloads identically', async () => {
    const data = patterned(3 * CHUNK + 12_345, 7);
    const started = await dropbox.dbx.filesUploadSessionStart({ contents: data.subarray(0, CHUNK) });
    const sessionId = started.result.session_id;
    for (let offset = CHUNK; offset < 3 * CHUNK; offset += CHUNK) {
      const appended = await dropbox.dbx.filesUploadSessionAppendV2({ cursor: { session_id: sessionId, offset }, contents: data.subarray(offset, offset + CHUNK) });
      expect(appended.result).toBeNull();
    }
    const finished = await dropbox.dbx.filesUploadSessionFinish({
      cursor: { session_id: sessionId, offset: 3 * CHUNK },
      commit: { path: '/big/candles.parquet', mode: { '.tag': 'overwrite' } },
      contents: data.subarray(3 * CHUNK),
    });
    expect(finished.result.size).toBe(data.length);
    expect(finished.result.content_hash).toBe(contentHashOfBuffer(data));

    const downloaded = (await dropbox.dbx.filesDownload({ path: '/big/candles.parquet' })).result as files.FileMetadata & { fileBinary: Buffer };
    expect(Buffer.compare(downloaded.fileBinary, data)).toBe(0);
    expect(dropbox.emulator.control.counter(DropboxCounter.bytesReceived)).toBe(data.length);
    expect(dropbox.emulator.control.counter(DropboxCounter.bytesReceivedBy('files/upload_session/append_v2'))).toBe(2 * CHUNK);
    expect(dropbox.emulator.control.counter(DropboxCounter.commits)).toBe(1);

    const reused = await responseErrorOf(dropbox.dbx.filesUploadSessionAppendV2({ cursor: { session_id: sessionId, offset: data.length }, contents: Buffer.from('x') }));
    expect(apiErrorBody(reused).error).toEqual({ '.tag': 'not_found' });
  });

  it('after a chunk failure, answers the retry with incorrect_offset and the correct_offset to resume from', async () => {
    const data = patterned(3 * 64 * 1024, 3);
    const part = 64 * 1024;
    const { session_id } = (await dropbox.dbx.filesUploadSessionStart({ contents: data.subarray(0, part) })).result;
    dropbox.emulator.control.addFault({ name: DropboxFault.ChunkFailure, remaining: 1, params: { bytes: 1000 } });

    const interrupted = dropbox.dbx.filesUploadSessionAppendV2({ cursor: { session_id, offset: part }, contents: data.subarray(part, 2 * part) });
    await expect(interrupted).rejects.toBeInstanceOf(NetworkError);

    const retried = await responseErrorOf(
      dropbox.dbx.filesUploadSessionAppendV2({ cursor: { session_id, offset: part }, contents: data.subarray(part, 2 * part) }),
    );
    expect(retried.status).toBe(409);
    const body = apiErrorBody(retried);
    expect(body.error_summary).toMatch(/^incorrect_offset\/\.*$/);
    expect(body.error).toEqual({ '.tag': 'incorrect_offset', correct_offset: part + 1000 });

    const resumeAt = part + 1000;
    await dropbox.dbx.filesUploadSessionAppendV2({ cursor: { session_id, offset: resumeAt }, contents: data.subarray(resumeAt, 2 * part) });
    const finished = await dropbox.dbx.filesUploadSessionFinish({
      cursor: { session_id, offset: 2 * part },
      commit: { path: '/resumed.bin' },
      contents: data.subarray(2 * part),
    });
    expect(finished.result.content_hash).toBe(contentHashOfBuffer(data));
    expect((await dropbox.emulator.readFile('/resumed.bin')).equals(data)).toBe(true);
    expect(dropbox.emulator.control.counter(`fault:${DropboxFault.ChunkFailure}`)).toBe(1);
  });

  it('can fail a chunk with a 500 instead of a reset, keeping half of it by default', async () => {
    const { session_id } = (await dropbox.dbx.filesUploadSessionStart({ contents: Buffer.alloc(0) })).result;
    dropbox.emulator.control.addFault({ name: DropboxFault.ChunkFailure, remaining: 1, params: { mode: 'server-error' } });
    const failed = await responseErrorOf(dropbox.dbx.filesUploadSessionAppendV2({ cursor: { session_id, offset: 0 }, contents: Buffer.alloc(1000) }));
    expect(failed.status).toBe(500);
    const retried = await responseErrorOf(dropbox.dbx.filesUploadSessionAppendV2({ cursor: { session_id, offset: 0 }, contents: Buffer.alloc(1000) }));
    expect(apiErrorBody(retried).error).toEqual({ '.tag': 'incorrect_offset', correct_offset: 500 });
  });

  it('commits N closed sessions in one finish_batch_v2 call, reporting each entry in order', async () => {
    const contents = [0, 1, 2, 3].map((i) => patterned(10_000 + i, i));
    const sessions = [];
    for (const data of contents) sessions.push((await dropbox.dbx.filesUploadSessionStart({ contents: data, close: true })).result.session_id);
    const open = (await dropbox.dbx.filesUploadSessionStart({ contents: Buffer.from('not closed') })).result.session_id;

    const batch = await dropbox.dbx.filesUploadSessionFinishBatchV2({
      entries: [
        ...sessions.map((session_id, i) => ({
          cursor: { session_id, offset: contents[i]?.length ?? 0 },
          commit: { path: `/batch/file-${i}.bin` },
        })),
        { cursor: { session_id: open, offset: 10 }, commit: { path: '/batch/open.bin' } },
      ],
    });

    const entries = batch.result.entries;
    expect(entries.map((e) => e['.tag'])).toEqual(['success', 'success', 'success', 'success', 'failure']);
    entries.slice(0, 4).forEach((entry, i) => {
      expect(entry).toMatchObject({ '.tag': 'success', path_display: `/batch/file-${i}.bin`, content_hash: contentHashOfBuffer(contents[i] ?? Buffer.alloc(0)) });
    });
    expect(entries[4]).toEqual({ '.tag': 'failure', failure: { '.tag': 'lookup_failed', lookup_failed: { '.tag': 'not_closed' } } });
    expect(dropbox.emulator.listFilePaths()).toEqual(expect.arrayContaining(['/batch/file-0.bin', '/batch/file-3.bin']));
    expect(dropbox.emulator.control.counter(DropboxCounter.calls('files/upload_session/finish_batch_v2'))).toBe(1);
    expect(dropbox.emulator.control.counter(DropboxCounter.commits)).toBe(5);
  });

  it('fails one batch entry with too_many_write_operations when that fault is set, committing the others', async () => {
    const a = (await dropbox.dbx.filesUploadSessionStart({ contents: Buffer.from('a'), close: true })).result.session_id;
    const b = (await dropbox.dbx.filesUploadSessionStart({ contents: Buffer.from('b'), close: true })).result.session_id;
    dropbox.emulator.control.addFault({ name: DropboxFault.BatchEntryTooManyWriteOperations, remaining: 1 });
    const batch = await dropbox.dbx.filesUploadSessionFinishBatchV2({
      entries: [
        { cursor: { session_id: a, offset: 1 }, commit: { path: '/contended/a.txt' } },
        { cursor: { session_id: b, offset: 1 }, commit: { path: '/contended/b.txt' } },
      ],
    });
    expect(batch.result.entries[0]).toEqual({ '.tag': 'failure', failure: { '.tag': 'too_many_write_operations' } });
    expect(batch.result.entries[1]?.['.tag']).toBe('success');
  });

  it('runs finish_batch (v1) as a job that check reports in_progress, then complete', async () => {
    const data = Buffer.from('async batch');
    const session_id = (await dropbox.dbx.filesUploadSessionStart({ contents: data, close: true })).result.session_id;
    const launched = await dropbox.dbx.filesUploadSessionFinishBatch({
      entries: [{ cursor: { session_id, offset: data.length }, commit: { path: '/async/one.txt' } }],
    });
    expect(launched.result['.tag']).toBe('async_job_id');
    const jobId = (launched.result as { async_job_id: string }).async_job_id;

    const first = await dropbox.dbx.filesUploadSessionFinishBatchCheck({ async_job_id: jobId });
    expect(first.result).toEqual({ '.tag': 'in_progress' });
    expect(dropbox.emulator.fileMetadata('/async/one.txt')).toBeUndefined();

    const done = await dropbox.dbx.filesUploadSessionFinishBatchCheck({ async_job_id: jobId });
    expect(done.result['.tag']).toBe('complete');
    const entries = (done.result as files.UploadSessionFinishBatchJobStatusComplete).entries;
    expect(entries).toEqual([expect.objectContaining({ '.tag': 'success', path_lower: '/async/one.txt', size: data.length })]);
    expect(dropbox.emulator.fileMetadata('/async/one.txt')?.content_hash).toBe(contentHashOfBuffer(data));

    const unknown = await responseErrorOf(dropbox.dbx.filesUploadSessionFinishBatchCheck({ async_job_id: 'dbjid:nope' }));
    expect(apiErrorBody(unknown).error).toEqual({ '.tag': 'invalid_async_job_id' });
  });

  it('keeps the data of a finish whose commit conflicted, so the finish can be retried elsewhere', async () => {
    await dropbox.emulator.putFile('/taken.txt', Buffer.from('already here'));
    const { session_id } = (await dropbox.dbx.filesUploadSessionStart({ contents: Buffer.from('new data') })).result;
    const conflict = await responseErrorOf(
      dropbox.dbx.filesUploadSessionFinish({ cursor: { session_id, offset: 8 }, commit: { path: '/taken.txt' }, contents: Buffer.from('!') }),
    );
    expect(apiErrorBody(conflict).error).toEqual({ '.tag': 'path', path: { '.tag': 'conflict', conflict: { '.tag': 'file' } } });
    const stale = await responseErrorOf(dropbox.dbx.filesUploadSessionFinish({ cursor: { session_id, offset: 8 }, commit: { path: '/free.txt' } }));
    expect(apiErrorBody(stale).error).toEqual({ '.tag': 'lookup_failed', lookup_failed: { '.tag': 'incorrect_offset', correct_offset: 9 } });
    await dropbox.dbx.filesUploadSessionFinish({ cursor: { session_id, offset: 9 }, commit: { path: '/free.txt' } });
    expect((await dropbox.emulator.readFile('/free.txt')).toString()).toBe('new data!');
  });

  it('refuses any append to a closed session, an empty one too, with closed; the session still finishes', async () => {
    const { session_id } = (await dropbox.dbx.filesUploadSessionStart({ contents: Buffer.from('all of it'), close: true })).result;
    const empty = await responseErrorOf(dropbox.dbx.filesUploadSessionAppendV2({ cursor: { session_id, offset: 9 }, close: true, contents: Buffer.alloc(0) }));
    expect(empty.status).toBe(409);
    expect(apiErrorBody(empty).error).toEqual({ '.tag': 'closed' });
    await dropbox.dbx.filesUploadSessionFinish({ cursor: { session_id, offset: 9 }, commit: { path: '/closed.txt' } });
    expect((await dropbox.emulator.readFile('/closed.txt')).toString()).toBe('all of it');
  });
});
