import { randomBytes } from 'node:crypto';
import { Args } from './args.js';
import { defineRoute, type DropboxState, type Route } from './context.js';
import { badRequest, lookupNotFound, malformedPath, routeError, tagged, type Tagged } from './errors.js';
import { parsePath } from './paths.js';
import { jsonReply } from './reply.js';
import { DropboxCounter } from './settings.js';
import { taggedMetadata } from './store.js';

/**
 * Deleting (https://www.dropbox.com/developers/documentation/http/documentation#files-delete_v2): `files/delete_v2`
 * deletes one file or folder (a folder with its contents) and answers `DeleteResult` `{metadata}`; a missing path is
 * a 409 `path_lookup/not_found`. `files/delete_batch` takes up to 1000 `DeleteArg`s and launches a job
 * (`{'.tag': 'async_job_id'}`); `files/delete_batch/check` answers `in_progress` until it is done, then `complete`
 * with one `DeleteBatchResultEntry` per entry, in order: `success` `{metadata}` or `failure` with the `DeleteError`.
 * The job deletes when it completes, as Dropbox's does asynchronously; `parent_rev` is not emulated.
 */

type DeleteArgs = { path: string; parent_rev?: string };

type Deletion = { ok: true; metadata: Record<string, unknown> } | { ok: false; error: Tagged };

function deleteOne(state: DropboxState, args: DeleteArgs): Deletion {
  const path = parsePath(args.path);
  if (path.kind === 'malformed') return { ok: false, error: tagged('path_lookup', { path_lookup: malformedPath() }) };
  const entry = state.store.resolve(path);
  if (entry === undefined || entry === 'root') return { ok: false, error: tagged('path_lookup', { path_lookup: lookupNotFound() }) };
  const metadata = taggedMetadata(entry);
  state.store.remove(entry);
  state.control.count(DropboxCounter.deletes);
  return { ok: true, metadata };
}

function runBatch(state: DropboxState, entries: readonly DeleteArgs[]): unknown[] {
  // In order: each entry's result sits at its entry's position, and a later entry sees an earlier one's deletion.
  return entries.map((entry) => {
    const done = deleteOne(state, entry);
    return done.ok ? { '.tag': 'success', metadata: done.metadata } : { '.tag': 'failure', failure: done.error };
  });
}

export const deleteRoutes: Record<string, Route> = {
  'files/delete_v2': defineRoute('rpc', true, Args.delete, (state, args, call) => {
    if (args.parent_rev !== undefined) return badRequest(call.name, 'parent_rev is not emulated');
    if (parsePath(args.path).kind === 'root') return badRequest(call.name, 'request body: path: The root folder is unsupported.');
    const done = deleteOne(state, args);
    return done.ok ? jsonReply({ metadata: done.metadata }) : routeError(done.error);
  }),

  'files/delete_batch': defineRoute('rpc', true, Args.deleteBatch, (state, args, call) => {
    if (args.entries.some((e) => e.parent_rev !== undefined)) return badRequest(call.name, 'parent_rev is not emulated');
    const id = `dbjid:${randomBytes(24).toString('base64url')}`;
    state.deleteJobs.set(id, { pollsLeft: state.control.settings.deleteBatchPollsBeforeComplete, entries: args.entries });
    return jsonReply({ '.tag': 'async_job_id', async_job_id: id });
  }),

  'files/delete_batch/check': defineRoute('rpc', false, Args.poll, (state, args) => {
    const job = state.deleteJobs.get(args.async_job_id);
    if (!job) return routeError(tagged('invalid_async_job_id'));
    if (job.pollsLeft > 0) {
      job.pollsLeft -= 1;
      return jsonReply({ '.tag': 'in_progress' });
    }
    job.result ??= runBatch(state, job.entries);
    return jsonReply({ '.tag': 'complete', entries: job.result });
  }),
};
