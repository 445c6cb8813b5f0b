import { randomBytes } from 'node:crypto';
import { unlink, writeFile } from 'node:fs/promises';
import { contentHashOfBuffer } from '@ferry/shared/core';
import { Args, commitRequest, type FinishArgs } from './args.js';
import { defineRoute, type DropboxState, type Route, type RouteCall } from './context.js';
import { badRequest, routeError, serverError, tagged, type Tagged } from './errors.js';
import { jsonReply, resetReply, type Reply } from './reply.js';
import { DropboxCounter, DropboxFault } from './settings.js';
import { fileMetadata, type FileEntry } from './store.js';
import type { UploadSession } from './upload-sessions.js';

/** Content upload and upload sessions: `files/upload`, `files/upload_session/*`. */

const tooLarge = (state: DropboxState, call: RouteCall): boolean => call.body.length > state.control.settings.maxRequestBytes;

const hashMismatch = (expected: string | undefined, data: Buffer): boolean =>
  expected !== undefined && expected !== contentHashOfBuffer(data);

function countBytes(state: DropboxState, call: RouteCall, bytes: number): void {
  state.control.count(DropboxCounter.bytesReceived, bytes);
  state.control.count(DropboxCounter.bytesReceivedBy(call.name), bytes);
}

type SessionCommit = { ok: true; entry: FileEntry } | { ok: false; failure: Tagged };

/** Commits a session's bytes; a failed commit leaves the session (and its bytes) for a retry. */
async function commitSession(state: DropboxState, session: UploadSession, commit: FinishArgs['commit']): Promise<SessionCommit> {
  const staged = await state.sessions.staged(session);
  // Another finish of the same session may have won while this one waited for the disk.
  if (!state.sessions.isOpen(session)) return { ok: false, failure: tagged('lookup_failed', { lookup_failed: tagged('not_found') }) };
  const outcome = state.store.commit(staged, commitRequest(commit));
  if (!outcome.ok) return { ok: false, failure: tagged('path', { path: outcome.error }) };
  state.sessions.forget(session);
  if (outcome.written) state.control.count(DropboxCounter.filesWritten);
  return { ok: true, entry: outcome.entry };
}

/** One `finish_batch` entry -> `UploadSessionFinishBatchResultEntry` (`success` with the metadata, or `failure`). */
async function commitBatchEntry(state: DropboxState, entry: FinishArgs, path: string): Promise<Record<string, unknown>> {
  state.control.count(DropboxCounter.commits);
  const failure = (f: Tagged) => ({ '.tag': 'failure', failure: f });
  if (state.control.takeFault(path, [DropboxFault.BatchEntryTooManyWriteOperations])) {
    return failure(tagged('too_many_write_operations'));
  }
  const found = state.sessions.lookup(entry.cursor, false);
  if ('.tag' in found) return failure(tagged('lookup_failed', { lookup_failed: found }));
  if (!found.closed) return failure(tagged('lookup_failed', { lookup_failed: tagged('not_closed') }));
  const result = await commitSession(state, found, entry.commit);
  return result.ok ? { '.tag': 'success', ...fileMetadata(result.entry) } : failure(result.failure);
}

async function commitBatch(state: DropboxState, entries: FinishArgs[], path: string): Promise<unknown[]> {
  const results: unknown[] = [];
  // In order: each entry's result sits at its entry's position.
  for (const entry of entries) results.push(await commitBatchEntry(state, entry, path));
  return results;
}

export const uploadRoutes: Record<string, Route> = {
  'files/upload': defineRoute('upload', true, Args.upload, async (state, args, call) => {
    if (tooLarge(state, call)) return routeError(tagged('payload_too_large'));
    if (hashMismatch(args.content_hash, call.body)) return routeError(tagged('content_hash_mismatch'));
    countBytes(state, call, call.body.length);
    state.control.count(DropboxCounter.commits);
    const blobPath = state.store.newBlobPath();
    await writeFile(blobPath, call.body);
    const outcome = state.store.commit({ blobPath, size: call.body.length, contentHash: contentHashOfBuffer(call.body) }, commitRequest(args));
    if (outcome.ok) {
      if (outcome.written) state.control.count(DropboxCounter.filesWritten);
      return jsonReply(fileMetadata(outcome.entry));
    }
    await unlink(blobPath);
    // UploadWriteFailed: the bytes are kept in an upload session, so the client may finish them elsewhere.
    const session = await state.sessions.start();
    await state.sessions.append(session, call.body);
    return routeError(tagged('path', { reason: outcome.error, upload_session_id: session.id }));
  }),

  'files/upload_session/start': defineRoute('upload', true, Args.sessionStart, async (state, args, call) => {
    if (tooLarge(state, call)) return routeError(tagged('payload_too_large'));
    if (args.session_type === 'concurrent') return badRequest(call.name, 'concurrent upload sessions are not emulated');
    if (hashMismatch(args.content_hash, call.body)) return routeError(tagged('content_hash_mismatch'));
    const session = await state.sessions.start();
    await state.sessions.append(session, call.body);
    session.closed = args.close ?? false;
    countBytes(state, call, call.body.length);
    return jsonReply({ session_id: session.id });
  }),

  'files/upload_session/append_v2': defineRoute('upload', true, Args.sessionAppendV2, (state, args, call) =>
    append(state, call, args.cursor, args.close ?? false, args.content_hash),
  ),

  'files/upload_session/append': defineRoute('upload', true, Args.sessionAppend, (state, args, call) =>
    append(state, call, args, false, undefined),
  ),

  'files/upload_session/finish': defineRoute('upload', true, Args.sessionFinish, async (state, args, call) => {
    if (tooLarge(state, call)) return routeError(tagged('payload_too_large'));
    const found = state.sessions.lookup(args.cursor, call.body.length > 0);
    if ('.tag' in found) return routeError(tagged('lookup_failed', { lookup_failed: found }));
    if (hashMismatch(args.content_hash, call.body)) return routeError(tagged('content_hash_mismatch'));
    await state.sessions.append(found, call.body);
    countBytes(state, call, call.body.length);
    state.control.count(DropboxCounter.commits);
    const result = await commitSession(state, found, args.commit);
    return result.ok ? jsonReply(fileMetadata(result.entry)) : routeError(result.failure);
  }),

  'files/upload_session/finish_batch_v2': defineRoute('rpc', true, Args.sessionFinishBatch, async (state, args, call) =>
    jsonReply({ entries: await commitBatch(state, args.entries, call.path) }),
  ),

  'files/upload_session/finish_batch': defineRoute('rpc', true, Args.sessionFinishBatch, async (state, args, call) => {
    const pollsLeft = state.control.settings.finishBatchPollsBeforeComplete;
    // The launch union allows a synchronous answer; with no polls to wait for, give it.
    if (pollsLeft <= 0) return jsonReply({ '.tag': 'complete', entries: await commitBatch(state, args.entries, call.path) });
    const id = `dbjid:${randomBytes(24).toString('base64url')}`;
    state.batchJobs.set(id, { pollsLeft, entries: args.entries });
    return jsonReply({ '.tag': 'async_job_id', async_job_id: id });
  }),

  'files/upload_session/finish_batch/check': defineRoute('rpc', false, Args.poll, async (state, args, call) => {
    const job = state.batchJobs.get(args.async_job_id);
    if (!job) return routeError(tagged('invalid_async_job_id'));
    if (job.pollsLeft > 0) {
      job.pollsLeft -= 1;
      return jsonReply({ '.tag': 'in_progress' });
    }
    job.result ??= await commitBatch(state, job.entries, call.path);
    return jsonReply({ '.tag': 'complete', entries: job.result });
  }),
};

async function append(
  state: DropboxState,
  call: RouteCall,
  cursor: { session_id: string; offset: number },
  close: boolean,
  contentHash: string | undefined,
): Promise<Reply> {
  if (tooLarge(state, call)) return routeError(tagged('payload_too_large'));
  // Dropbox answers `closed` to any append to a closed session, an empty one included (UploadSessionLookupError).
  const found = state.sessions.lookup(cursor, true);
  if ('.tag' in found) return routeError(found);
  if (hashMismatch(contentHash, call.body)) return routeError(tagged('content_hash_mismatch'));

  const failure = state.control.takeFault(call.path, [DropboxFault.ChunkFailure]);
  if (failure) {
    const bytes = typeof failure.params?.bytes === 'number' ? failure.params.bytes : undefined;
    const fraction = typeof failure.params?.fraction === 'number' ? failure.params.fraction : 0.5;
    const kept = call.body.subarray(0, Math.min(call.body.length, bytes ?? Math.floor(call.body.length * fraction)));
    await state.sessions.append(found, kept);
    countBytes(state, call, kept.length);
    return failure.params?.mode === 'server-error' ? serverError(500) : resetReply;
  }

  await state.sessions.append(found, call.body);
  countBytes(state, call, call.body.length);
  if (close) found.closed = true;
  return jsonReply(null);
}
