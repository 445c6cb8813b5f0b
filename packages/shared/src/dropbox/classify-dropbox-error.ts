import { DropboxResponseError } from 'dropbox';
import {
  FerryError, NetworkError, PermanentError, RateLimitedError, TransientError, errorMessage,
} from '../core/errors.js';

/**
 * The one place where Dropbox's answers become ferry's error taxonomy
 * (https://www.dropbox.com/developers/documentation/http/documentation#error-handling):
 *  - 429 (too_many_requests, too_many_write_operations), and 503 with Retry-After: rate-limited for as long as asked;
 *  - a `too_many_write_operations` inside a 409 or a batch entry (namespace lock contention): rate-limited, no delay
 *    given, so the retry policy's default applies;
 *  - other 5xx, a content hash mismatch, a lost or closed upload session: transient (upload again);
 *  - 400 (a request ferry built wrongly), 401/403 (credentials, scopes), and the 409s a retry cannot fix (conflict with
 *    a folder, malformed or disallowed path, no space, payload too large): permanent, with the reason.
 * Messages carry the action and Dropbox's tags, never a token.
 */

/** Tags a retry cannot change. */
const PERMANENT_TAGS = new Set([
  'conflict', 'malformed_path', 'disallowed_name', 'no_write_permission', 'insufficient_space', 'team_folder',
  'payload_too_large', 'too_large', 'not_file', 'not_folder', 'restricted_content', 'unsupported_file',
]);

/** Tags of upload sessions that are gone or in the wrong state: start the upload again. */
const SESSION_TAGS = new Set(['lookup_failed', 'incorrect_offset', 'closed', 'not_closed', 'content_hash_mismatch']);

export function classifyDropboxError(err: unknown, action: string): FerryError {
  if (err instanceof FerryError) return err;
  if (err instanceof DropboxResponseError) return classifyResponse(err, action);
  const message = errorMessage(err);
  // undici reports a connection lost while a body was read as "terminated" or "other side closed".
  if (/terminated|other side closed|socket|ECONNRESET|EPIPE|ETIMEDOUT|fetch failed/i.test(message)) {
    return new NetworkError(`Dropbox ${action}: ${message}`, { cause: err });
  }
  return new TransientError(`Dropbox ${action}: ${message}`, { cause: err });
}

/**
 * A `finish_batch` entry's `failure` (an `UploadSessionFinishError` union value, not an HTTP error) in the same
 * taxonomy.
 */
export function classifyDropboxFailure(failure: unknown, action: string): FerryError {
  return classifyTags(tagChain(failure), action, undefined);
}

/** The `correct_offset` of an `incorrect_offset` answer to an upload session call, if that is what `err` is. */
export function incorrectOffsetOf(err: unknown): number | undefined {
  if (!(err instanceof DropboxResponseError) || err.status !== 409) return undefined;
  const found = findTagged(apiError(err), 'incorrect_offset');
  const offset = found?.correct_offset;
  return typeof offset === 'number' ? offset : undefined;
}

/**
 * Whether `err` is an upload session call refused because the session is closed (`lookup_failed/closed`, or
 * `closed` from append_v2): the session already holds its last chunk.
 */
export function isClosedSessionError(err: unknown): boolean {
  if (!(err instanceof DropboxResponseError) || err.status !== 409) return false;
  const tags = tagChain(apiError(err));
  return tags.at(-1) === 'closed';
}

/** Whether `err` is list_folder/continue's `reset`: the cursor was invalidated and the listing must start again. */
export function isListCursorReset(err: unknown): boolean {
  if (!(err instanceof DropboxResponseError) || err.status !== 409) return false;
  return tagChain(apiError(err)).at(-1) === 'reset';
}

/** Whether `err` says the path does not exist (a 409 `path/not_found`). */
export function isDropboxNotFound(err: unknown): boolean {
  if (!(err instanceof DropboxResponseError) || err.status !== 409) return false;
  const tags = tagChain(apiError(err));
  return tags.includes('not_found') && !tags.includes('lookup_failed');
}

function classifyResponse(err: DropboxResponseError<unknown>, action: string): FerryError {
  const status = err.status;
  const body = apiError(err);
  const tags = tagChain(body);
  const what = tags.length ? ` (${tags.join('/')})` : '';
  if (status === 429 || (status === 503 && retryAfterMs(err) !== undefined)) {
    return new RateLimitedError(`Dropbox ${action}: rate limited${what}`, retryAfterMs(err));
  }
  if (status >= 500) return new TransientError(`Dropbox ${action}: server error ${status}`);
  if (status === 401) {
    return new PermanentError(
      `Dropbox ${action}: credentials rejected${what}; check DROPBOX_REFRESH_TOKEN with DROPBOX_APP_KEY, or DROPBOX_ACCESS_TOKEN`,
    );
  }
  if (status === 403) return new PermanentError(`Dropbox ${action}: not allowed${what}; does the app have the files.content.write scope?`);
  if (status === 400) return new PermanentError(`Dropbox ${action}: bad request: ${plainText(err.error)}`);
  if (status === 409) return classifyTags(tags, action, undefined);
  return new TransientError(`Dropbox ${action}: HTTP ${status}${what}`);
}

function classifyTags(tags: readonly string[], action: string, retryAfter: number | undefined): FerryError {
  const what = tags.length ? tags.join('/') : 'unknown error';
  if (tags.includes('too_many_write_operations') || tags.includes('too_many_requests')) {
    return new RateLimitedError(`Dropbox ${action}: ${what}`, retryAfter);
  }
  if (tags.some((t) => SESSION_TAGS.has(t))) return new TransientError(`Dropbox ${action}: ${what}`);
  if (tags.some((t) => PERMANENT_TAGS.has(t)) || tags.includes('not_found')) {
    return new PermanentError(`Dropbox ${action}: ${what}`);
  }
  if (tags.length === 0 || tags.at(-1) === 'other') return new TransientError(`Dropbox ${action}: ${what}`);
  return new PermanentError(`Dropbox ${action}: ${what}`);
}

/** Retry-After in ms: the header (seconds), else the `retry_after` field of a RateLimitError body. */
function retryAfterMs(err: DropboxResponseError<unknown>): number | undefined {
  const header = headerValue(err.headers, 'retry-after');
  const seconds = header !== undefined ? Number(header) : numberField(apiError(err), 'retry_after');
  return seconds !== undefined && Number.isFinite(seconds) && seconds >= 0 ? Math.round(seconds * 1000) : undefined;
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  if (isObject(headers)) {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  }
  return undefined;
}

/** The `error` member of a JSON error body; undefined for plain-text answers. */
function apiError(err: DropboxResponseError<unknown>): unknown {
  const body: unknown = err.error;
  return isObject(body) && 'error' in body ? body.error : undefined;
}

/** `{".tag": "path", "path": {".tag": "conflict", "conflict": {".tag": "file"}}}` -> `["path", "conflict", "file"]`. */
function tagChain(value: unknown): string[] {
  const tags: string[] = [];
  let node: unknown = value;
  for (let depth = 0; isObject(node) && depth < 8; depth++) {
    const tag = node['.tag'];
    if (typeof tag === 'string') tags.push(tag);
    node = typeof tag === 'string' && isObject(node[tag]) ? node[tag] : firstObjectField(node);
  }
  return tags;
}

function findTagged(value: unknown, tag: string): Record<string, unknown> | undefined {
  let node: unknown = value;
  for (let depth = 0; isObject(node) && depth < 8; depth++) {
    if (node['.tag'] === tag) return node;
    const current = node['.tag'];
    node = typeof current === 'string' && isObject(node[current]) ? node[current] : firstObjectField(node);
  }
  return undefined;
}

function firstObjectField(node: Record<string, unknown>): unknown {
  return Object.entries(node).find(([key, value]) => key !== '.tag' && isObject(value))?.[1];
}

function numberField(value: unknown, name: string): number | undefined {
  if (!isObject(value)) return undefined;
  const field = value[name];
  return typeof field === 'number' ? field : undefined;
}

function plainText(body: unknown): string {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
