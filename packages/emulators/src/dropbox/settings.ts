import type { BaseSettings } from '../common/control.js';

export interface DropboxSettings extends BaseSettings {
  /** `expires_in` of access tokens from `/oauth2/token`, in seconds. Default 14400: Dropbox's 4 hours. */
  accessTokenLifetimeSeconds: number;
  /** Largest body one upload, start, append or finish call may carry. Default 150 MiB, Dropbox's limit. */
  maxRequestBytes: number;
  /** How many `finish_batch/check` polls answer `in_progress` before the job completes. Default 1. */
  finishBatchPollsBeforeComplete: number;
  /** Page size of `list_folder` when the caller gives no `limit`. Default 500. */
  listFolderDefaultLimit: number;
  /** How many `delete_batch/check` polls answer `in_progress` before the job completes. Default 1. */
  deleteBatchPollsBeforeComplete: number;
  /**
   * Largest page `list_folder` answers whatever `limit` the caller gives (Dropbox's limit is "an approximate number";
   * it pages as it likes). Default 2000, the largest `limit` Dropbox accepts.
   */
  listFolderMaxLimit: number;
}

export const defaultDropboxSettings: DropboxSettings = {
  latencyMs: 0,
  errorRate: 0,
  accessTokenLifetimeSeconds: 4 * 60 * 60,
  maxRequestBytes: 150 * 1024 * 1024,
  finishBatchPollsBeforeComplete: 1,
  listFolderDefaultLimit: 500,
  deleteBatchPollsBeforeComplete: 1,
  listFolderMaxLimit: 2000,
};

/**
 * Named faults (add them with `control.addFault({ name, remaining?, pathIncludes?, probability?, params? })`):
 *
 *  - `expire-token`: the request's (valid) access token expires now; it and later calls with it get
 *    `401 expired_access_token`, as when Dropbox ends a token earlier than its `expires_in` announced.
 *  - `too-many-write-operations`: a write call (upload, upload_session/*, delete_v2, delete_batch) gets `429` with reason
 *    `too_many_write_operations`, `Retry-After` and `retry_after` = `params.retryAfterSeconds` (default 1).
 *  - `batch-entry-too-many-write-operations`: one `finish_batch` entry fails with
 *    `{'.tag': 'failure', failure: {'.tag': 'too_many_write_operations'}}`, the others commit.
 *  - `too-many-requests`: any call gets `429` with reason `too_many_requests` (`params.retryAfterSeconds`, default 1);
 *    with `params.body: 'text'` the body is plain text, not JSON, as Dropbox's front ends sometimes answer.
 *  - `write-contention`: a write call gets `409` whose error is `{'.tag': 'path', reason: {'.tag':
 *    'too_many_write_operations'}}`: lock contention reported inside the route's own error, without Retry-After.
 *  - `chunk-failure`: an `upload_session/append(_v2)` keeps only part of its bytes (`params.bytes`, else
 *    `params.fraction` of them, default 0.5), then resets the connection (`params.mode: 'reset'`, the default) or
 *    answers 500 (`'server-error'`). The session's offset has moved on, so the client must resume from the
 *    `correct_offset` of the `incorrect_offset` error it gets next.
 *  - `server-error`: any call gets `params.status` (500 or 503, default 500) with a plain-text body and, when
 *    `params.retryAfterSeconds` is set, `Retry-After`.
 *  - `cursor-reset`: `list_folder/continue` answers 409 `reset`: the cursor was invalidated, and (per the API spec)
 *    the client must list again from the start.
 *  - `connection-reset`: the connection is reset without an answer: before the call is processed, or after it
 *    (its effects happen but the client never hears) with `params.afterProcessing: true`.
 */
export const DropboxFault = {
  ExpireToken: 'expire-token',
  TooManyWriteOperations: 'too-many-write-operations',
  BatchEntryTooManyWriteOperations: 'batch-entry-too-many-write-operations',
  TooManyRequests: 'too-many-requests',
  WriteContention: 'write-contention',
  ChunkFailure: 'chunk-failure',
  ServerError: 'server-error',
  ConnectionReset: 'connection-reset',
  CursorReset: 'cursor-reset',
} as const;
export type DropboxFault = (typeof DropboxFault)[keyof typeof DropboxFault];

/**
 * Counters (read with `control.counter(name)` or `GET /__control/counters`), besides the harness's `requests` and
 * `fault:<name>`:
 */
export const DropboxCounter = {
  /** Calls per endpoint, e.g. `calls:files/upload`, `calls:oauth2/token`. */
  calls: (route: string) => `calls:${route}`,
  /** Content bytes accepted by upload, upload_session/start, append(_v2) and finish (chunk-failure's part too). */
  bytesReceived: 'bytes-received',
  /** The same, per endpoint: `bytes-received:files/upload_session/append_v2`. */
  bytesReceivedBy: (route: string) => `bytes-received:${route}`,
  /** Commit attempts: one per upload, per finish, per finish_batch entry. */
  commits: 'commits',
  /** Commits that wrote a new revision (an identical file already in place is not rewritten). */
  filesWritten: 'files-written',
  /** Files and folders deleted by delete_v2 and delete_batch entries (a folder's contents not counted). */
  deletes: 'deletes',
  /** Access tokens issued by the refresh_token grant. */
  tokenRefreshes: 'token-refreshes',
  /** Answers by status for every non-2xx answer: `status:401`, `status:409`, `status:429`, `status:500`. */
  status: (code: number) => `status:${code}`,
} as const;
