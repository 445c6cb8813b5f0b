import type { files } from 'dropbox';
import { describe, expect, it } from 'vitest';
import { DropboxCounter } from './index.js';
import { apiErrorBody, responseErrorOf } from './sdk-client.js';
import { emulatorForSuite } from './test-client.js';

describe('Dropbox emulator: deleting, through the real dropbox SDK', () => {
  const dropbox = emulatorForSuite();

  it('delete_v2 removes a file and answers its metadata; deleting it again is path_lookup/not_found', async () => {
    const uploaded = await dropbox.dbx.filesUpload({ path: '/del/One.parquet', contents: Buffer.from('one') });
    const { result } = await dropbox.dbx.filesDeleteV2({ path: '/DEL/one.parquet' });
    expect(result.metadata).toMatchObject({ '.tag': 'file', path_display: '/del/One.parquet', rev: uploaded.result.rev, size: 3 });
    expect(dropbox.emulator.fileMetadata('/del/One.parquet')).toBeUndefined();
    expect(dropbox.emulator.control.counter(DropboxCounter.deletes)).toBe(1);

    const again = await responseErrorOf(dropbox.dbx.filesDeleteV2({ path: '/del/One.parquet' }));
    expect(again.status).toBe(409);
    const body = apiErrorBody(again);
    expect(body.error_summary).toMatch(/^path_lookup\/not_found\/\.*$/);
    expect(body.error).toEqual({ '.tag': 'path_lookup', path_lookup: { '.tag': 'not_found' } });
  });

  it('delete_v2 removes a folder with everything inside it', async () => {
    await dropbox.dbx.filesUpload({ path: '/tree/a/1.txt', contents: Buffer.from('1') });
    await dropbox.dbx.filesUpload({ path: '/tree/a/b/2.txt', contents: Buffer.from('2') });
    await dropbox.dbx.filesUpload({ path: '/tree/keep.txt', contents: Buffer.from('k') });
    const { result } = await dropbox.dbx.filesDeleteV2({ path: '/tree/a' });
    expect(result.metadata).toMatchObject({ '.tag': 'folder', path_lower: '/tree/a' });
    expect(dropbox.emulator.listFilePaths().filter((p) => p.startsWith('/tree/'))).toEqual(['/tree/keep.txt']);
    expect((await responseErrorOf(dropbox.dbx.filesGetMetadata({ path: '/tree/a/b' }))).status).toBe(409);
  });

  it('delete_batch launches a job; delete_batch/check answers in_progress, then one entry per path, in order', async () => {
    await dropbox.dbx.filesUpload({ path: '/batch/a.txt', contents: Buffer.from('a') });
    await dropbox.dbx.filesUpload({ path: '/batch/b.txt', contents: Buffer.from('b') });
    const { result: launch } = await dropbox.dbx.filesDeleteBatch({ entries: [{ path: '/batch/a.txt' }, { path: '/batch/none.txt' }, { path: '/batch/b.txt' }] });
    expect(launch['.tag']).toBe('async_job_id');
    const jobId = (launch as files.DeleteBatchLaunch & { async_job_id: string }).async_job_id;
    // Nothing is deleted until the job has run.
    expect(dropbox.emulator.fileMetadata('/batch/a.txt')).toBeDefined();

    expect((await dropbox.dbx.filesDeleteBatchCheck({ async_job_id: jobId })).result['.tag']).toBe('in_progress');
    const { result: done } = await dropbox.dbx.filesDeleteBatchCheck({ async_job_id: jobId });
    expect(done['.tag']).toBe('complete');
    const entries = (done as files.DeleteBatchResult).entries;
    expect(entries.map((e) => e['.tag'])).toEqual(['success', 'failure', 'success']);
    expect(entries[0]).toMatchObject({ metadata: { '.tag': 'file', path_display: '/batch/a.txt' } });
    expect(entries[1]).toEqual({ '.tag': 'failure', failure: { '.tag': 'path_lookup', path_lookup: { '.tag': 'not_found' } } });
    expect(dropbox.emulator.listFilePaths().filter((p) => p.startsWith('/batch/'))).toEqual([]);

    // A finished job's answer repeats; an unknown job id is an error.
    expect((await dropbox.dbx.filesDeleteBatchCheck({ async_job_id: jobId })).result).toEqual(done);
    const unknown = await responseErrorOf(dropbox.dbx.filesDeleteBatchCheck({ async_job_id: 'dbjid:nope' }));
    expect(apiErrorBody(unknown).error).toEqual({ '.tag': 'invalid_async_job_id' });
  });

  it('reports a deletion to a list_folder cursor as a deleted entry', async () => {
    await dropbox.dbx.filesUpload({ path: '/watched/x.txt', contents: Buffer.from('x') });
    const { result: first } = await dropbox.dbx.filesListFolder({ path: '/watched' });
    expect(first.entries.map((e) => e.name)).toEqual(['x.txt']);
    await dropbox.dbx.filesDeleteV2({ path: '/watched/x.txt' });
    const { result: changes } = await dropbox.dbx.filesListFolderContinue({ cursor: first.cursor });
    expect(changes.entries).toEqual([{ '.tag': 'deleted', name: 'x.txt', path_lower: '/watched/x.txt', path_display: '/watched/x.txt' }]);
  });

  it('refuses more than 1000 entries, and parent_rev, which it does not emulate', async () => {
    const tooMany = await responseErrorOf(dropbox.dbx.filesDeleteBatch({ entries: Array.from({ length: 1001 }, (_, i) => ({ path: `/x/${i}` })) }));
    expect(tooMany.status).toBe(400);
    const rev = await responseErrorOf(dropbox.dbx.filesDeleteV2({ path: '/x', parent_rev: '0123456789' }));
    expect(rev.status).toBe(400);
    expect(rev.error).toMatch(/parent_rev is not emulated/);
  });
});
