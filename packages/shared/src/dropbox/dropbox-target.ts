import { AsyncLocalStorage } from 'node:async_hooks';
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dropbox, files } from 'dropbox';
import { PermanentError, RateLimitedError, TransientError, type FerryError } from '../core/errors.js';
import { retryDelayMs } from '../core/retry-policy.js';
import { readSlice, writeFileAtomically, type WrittenFile } from '../core/atomic-file.js';
import {
  classifyDropboxError, classifyDropboxFailure, incorrectOffsetOf, isClosedSessionError, isDropboxNotFound, isListCursorReset,
} from './classify-dropbox-error.js';
import { createDropboxClient, type DropboxCredentials } from './dropbox-client.js';
import { Budget, mapConcurrently } from '../core/map-concurrently.js';
import { joinRemotePath } from '../backup/remote-layout.js';
import { isValidKey, type DeleteOutcome, type RemoteFile, type SyncTarget, type UploadOutcome, type UploadRequest } from '../backup/sync-target.js';
import {
  DEFAULT_CHUNK_BYTES, DROPBOX_BATCH_MAX_ENTRIES, MIB, checkChunkBytes, inGroupsOf, planUpload, type ChunkSpan,
} from '../backup/upload-plan.js';

export interface DropboxTargetOptions {
  /** Absolute Dropbox folder everything goes under (DROPBOX_ROOT), e.g. `/ferry`. */
  root: string;
  auth: DropboxCredentials;
  /** Emulator or proxy; default real Dropbox. */
  apiBaseUrl?: string;
  contentBaseUrl?: string;
  /** Chunk size of upload sessions (DROPBOX_CHUNK_MB), 8-128 MiB. Default 64 MiB. */
  chunkBytes?: number;
  /** Requests in flight at once in `uploadMany`. Default 16. */
  parallelUploads?: number;
  /** Bytes of request bodies held in memory at once. Default 256 MiB (one 150 MiB single upload and change). */
  memoryBudgetBytes?: number;
  /** Tries per chunk of an upload session before the file fails (and is retried whole by the queue). Default 5. */
  chunkAttempts?: number;
  /** Tries of a batch commit whose entries meet `too_many_write_operations`. Default 3. */
  commitAttempts?: number;
  /** The fetch that sends requests (tests count bytes with it). Default: the global fetch. */
  fetch?: typeof fetch;
}

const EMPTY = Buffer.alloc(0);
const OVERWRITE: files.WriteMode = { '.tag': 'overwrite' };

/** Where a download's body goes instead of into memory (the SDK's Node build would buffer the whole file). */
interface DownloadSink {
  consume(response: Response): Promise<void>;
}

interface StagedSession {
  index: number;
  request: UploadRequest;
  cursor: files.UploadSessionCursor;
  sentBytes: number;
}

/**
 * The Dropbox sync target, through the `dropbox` SDK built by createDropboxClient (token refresh, configurable hosts).
 * Small files are staged in closed upload sessions and committed together with `finish_batch_v2`; files over 150 MiB
 * go in chunks read from disk one at a time, and a chunk that fails part-way resumes from the offset Dropbox reports.
 * After a 429 this target sends nothing more until the wait is over, so one batch does not hammer a limited account.
 */
export class DropboxTarget implements SyncTarget {
  readonly kind = 'dropbox';
  readonly description: string;
  private readonly client: Dropbox;
  private readonly root: string;
  private readonly chunkBytes: number;
  private readonly parallelUploads: number;
  private readonly memory: Budget;
  private readonly chunkAttempts: number;
  private readonly commitAttempts: number;
  private readonly downloads = new AsyncLocalStorage<DownloadSink>();
  private heldBackUntil = 0;

  /** `dropbox /ferry`: the root without its trailing slash, `/` for the whole Dropbox. */
  static describe(root: string): string {
    return `dropbox ${root.replace(/\/+$/, '') || '/'}`;
  }

  constructor(options: DropboxTargetOptions) {
    if (!/^\/[^\\]*$/.test(options.root)) throw new Error(`Dropbox root ${JSON.stringify(options.root)}: expected an absolute path such as /ferry`);
    // Without its trailing slash: `/ferry/` is `/ferry`, and `/` (the whole Dropbox) is the empty prefix.
    this.root = options.root.replace(/\/+$/, '');
    this.description = DropboxTarget.describe(options.root);
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    checkChunkBytes(this.chunkBytes);
    this.parallelUploads = options.parallelUploads ?? 16;
    this.memory = new Budget(options.memoryBudgetBytes ?? 256 * MIB);
    this.chunkAttempts = options.chunkAttempts ?? 5;
    this.commitAttempts = options.commitAttempts ?? 3;
    const send = options.fetch ?? fetch;
    const streamingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const response = await send(input, init);
      const sink = this.downloads.getStore();
      if (!sink || !response.ok || !response.body || !String(input).endsWith('/2/files/download')) return response;
      await sink.consume(response);
      // The SDK reads the metadata from the Dropbox-API-Result header; the bytes are already on disk.
      return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
    };
    this.client = createDropboxClient({
      apiBaseUrl: options.apiBaseUrl,
      contentBaseUrl: options.contentBaseUrl,
      auth: options.auth,
      fetch: streamingFetch as typeof fetch,
    });
  }

  async stat(key: string): Promise<RemoteFile | undefined> {
    const path = this.pathOf(key);
    try {
      const { result } = await this.send(`get_metadata ${key}`, () => this.client.filesGetMetadata({ path }), true);
      if (result['.tag'] !== 'file') throw new PermanentError(`Dropbox has a ${result['.tag']} at ${path}, where a file belongs`);
      return this.remoteFile(key, result);
    } catch (err) {
      if (err instanceof NotFound) return undefined;
      throw err;
    }
  }

  async upload(request: UploadRequest): Promise<RemoteFile & { sentBytes: number }> {
    const path = this.pathOf(request.key);
    const handle = await open(request.localPath, 'r');
    try {
      const size = (await handle.stat()).size;
      const plan = planUpload(size, this.chunkBytes);
      if (plan.kind === 'single') {
        const metadata = await this.withMemory(size, async () => {
          const contents = await readSlice(handle, 0, size, `upload ${request.key}`);
          return (await this.send(`upload ${request.key}`, () =>
            this.client.filesUpload({ path, mode: OVERWRITE, contents, content_hash: request.contentHash }))).result;
        });
        request.onProgress?.(size, size);
        return { ...this.checkedFile(request, metadata), sentBytes: size };
      }
      const staged = await this.sendChunks(handle, request, plan.chunks, size);
      const { result } = await this.send(`upload_session/finish ${request.key}`, () =>
        this.client.filesUploadSessionFinish({ cursor: { session_id: staged.sessionId, offset: size }, commit: { path, mode: OVERWRITE }, contents: EMPTY }));
      return { ...this.checkedFile(request, result), sentBytes: staged.sentBytes };
    } finally {
      await handle.close();
    }
  }

  async uploadMany(requests: readonly UploadRequest[]): Promise<UploadOutcome[]> {
    const outcomes = new Array<UploadOutcome | undefined>(requests.length);
    const staged: StagedSession[] = [];
    await mapConcurrently(requests, this.parallelUploads, async (request, index) => {
      try {
        staged.push({ index, request, ...(await this.stage(request)) });
      } catch (err) {
        outcomes[index] = { ok: false, error: err };
      }
    });
    staged.sort((a, b) => a.index - b.index);
    for (const group of inGroupsOf(staged, DROPBOX_BATCH_MAX_ENTRIES)) {
      for (const [index, outcome] of await this.commitBatch(group)) outcomes[index] = outcome;
    }
    return outcomes.map((o) => o ?? { ok: false, error: new TransientError('upload was not attempted') });
  }

  async list(folderKey: string): Promise<RemoteFile[]> {
    const found = (await this.listFiles(folderKey, true)).map(({ key, entry }) => this.remoteFile(key, entry));
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async listKeys(folderKey: string, options: { recursive?: boolean } = {}): Promise<string[]> {
    return (await this.listFiles(folderKey, options.recursive ?? false)).map(({ key }) => key).sort();
  }

  /**
   * Every file under a folder, page after page. Dropbox may invalidate a listing's cursor (list_folder/continue
   * answers `reset`); the API says to list again from the start. Bounded, so a cursor reset on every page fails the
   * listing instead of looping.
   */
  private async listFiles(folderKey: string, recursive: boolean): Promise<Array<{ key: string; entry: files.FileMetadataReference }>> {
    for (let restarts = 0; ; restarts++) {
      try {
        return await this.listFilesOnce(folderKey, recursive);
      } catch (err) {
        if (!(err instanceof CursorReset)) throw err;
        if (restarts >= MAX_LISTING_RESTARTS) {
          throw new TransientError(`Dropbox list_folder/continue ${folderKey}: the cursor was reset ${restarts + 1} times; listing again later`);
        }
      }
    }
  }

  private async listFilesOnce(folderKey: string, recursive: boolean): Promise<Array<{ key: string; entry: files.FileMetadataReference }>> {
    const folder = this.pathOf(folderKey);
    const found: Array<{ key: string; entry: files.FileMetadataReference }> = [];
    let page: files.ListFolderResult;
    try {
      page = (await this.send(`list_folder ${folderKey}`, () => this.client.filesListFolder({ path: folder, recursive, limit: 2000 }), true)).result;
    } catch (err) {
      if (err instanceof NotFound) return [];
      throw err;
    }
    for (;;) {
      for (const entry of page.entries) {
        if (entry['.tag'] !== 'file') continue;
        const key = this.keyOf(entry.path_display ?? entry.path_lower ?? '');
        if (key !== undefined) found.push({ key, entry });
      }
      if (!page.has_more) return found;
      const cursor = page.cursor;
      page = (await this.send(`list_folder/continue ${folderKey}`, () => this.client.filesListFolderContinue({ cursor })
        .catch((err: unknown) => {
          if (isListCursorReset(err)) throw new CursorReset();
          throw err;
        }))).result;
    }
  }

  /**
   * `delete_batch`, then `delete_batch/check` until the job is done: one write-lock acquisition per 1000 files
   * rather than one per `delete_v2`. An entry whose path is not found was deleted already.
   */
  async delete(keys: readonly string[]): Promise<DeleteOutcome[]> {
    const outcomes: DeleteOutcome[] = [];
    for (const group of inGroupsOf(keys, DROPBOX_BATCH_MAX_ENTRIES)) {
      try {
        const entries = await this.deleteBatch(group);
        group.forEach((key, i) => {
          const entry = entries[i];
          if (entry?.['.tag'] === 'success') return void outcomes.push({ key, ok: true });
          const failure = entry?.['.tag'] === 'failure' ? entry.failure : undefined;
          if (failure?.['.tag'] === 'path_lookup' && failure.path_lookup['.tag'] === 'not_found') return void outcomes.push({ key, ok: true });
          outcomes.push({ key, ok: false, error: classifyDropboxFailure(failure, `delete ${key}`) });
        });
      } catch (err) {
        for (const key of group) outcomes.push({ key, ok: false, error: err });
      }
    }
    return outcomes;
  }

  async download(key: string, localPath: string): Promise<RemoteFile> {
    const path = this.pathOf(key);
    let written: WrittenFile | undefined;
    const sink: DownloadSink = {
      consume: async (response) => {
        // The metadata comes in a header before the body, so the bytes are checked against it as they land.
        const announced = announcedFile(response.headers.get('dropbox-api-result'));
        written = await writeFileAtomically(localPath, response.body as AsyncIterable<Uint8Array>, {
          size: announced.size, contentHash: announced.contentHash, what: `Dropbox download ${key}`,
        });
      },
    };
    const { result } = await this.downloads.run(sink, () =>
      this.send(`download ${key}`, () => this.client.filesDownload({ path }), true).catch((err: unknown) => {
        if (err instanceof NotFound) throw new PermanentError(`Dropbox download ${key}: no file at ${path}`);
        throw err;
      }));
    if (!written) throw new TransientError(`Dropbox download ${key}: the answer had no body`);
    return this.remoteFile(key, result);
  }

  // --- uploads ---

  /** Puts a file's bytes in a closed upload session, ready for a batch commit. */
  private async stage(request: UploadRequest): Promise<{ cursor: files.UploadSessionCursor; sentBytes: number }> {
    const handle = await open(request.localPath, 'r');
    try {
      const size = (await handle.stat()).size;
      const plan = planUpload(size, this.chunkBytes);
      if (plan.kind === 'session') {
        const staged = await this.sendChunks(handle, request, plan.chunks, size);
        return { cursor: { session_id: staged.sessionId, offset: size }, sentBytes: staged.sentBytes };
      }
      const sessionId = await this.withMemory(size, async () => {
        const contents = await readSlice(handle, 0, size, `upload ${request.key}`);
        const { result } = await this.send(`upload_session/start ${request.key}`, () =>
          this.client.filesUploadSessionStart({ close: true, contents, content_hash: request.contentHash }));
        return result.session_id;
      });
      request.onProgress?.(size, size);
      return { cursor: { session_id: sessionId, offset: size }, sentBytes: size };
    } finally {
      await handle.close();
    }
  }

  /** Sends a large file chunk by chunk into a new session, closing it with the last chunk. */
  private async sendChunks(
    handle: FileHandle,
    request: UploadRequest,
    chunks: readonly ChunkSpan[],
    size: number,
  ): Promise<{ sessionId: string; sentBytes: number }> {
    const [first, ...rest] = chunks;
    if (!first) throw new Error('an upload session needs at least one chunk');
    let sentBytes = first.length;
    const sessionId = await this.withMemory(first.length, async () => {
      const contents = await readSlice(handle, first.offset, first.length, `upload ${request.key}`);
      const { result } = await this.send(`upload_session/start ${request.key}`, () =>
        this.client.filesUploadSessionStart({ close: rest.length === 0, contents }));
      return result.session_id;
    });
    request.onProgress?.(first.length, size);
    for (const [i, chunk] of rest.entries()) {
      sentBytes += await this.withMemory(chunk.length, async () => {
        const data = await readSlice(handle, chunk.offset, chunk.length, `upload ${request.key}`);
        return this.appendResuming(request.key, sessionId, chunk.offset, data, i === rest.length - 1);
      });
      request.onProgress?.(chunk.offset + chunk.length, size);
    }
    return { sessionId, sentBytes };
  }

  /**
   * Appends one chunk. After a failure (a reset connection, a 5xx, a 429) it asks where the session stands with an
   * empty append at its own offset, and sends only what Dropbox does not have: Dropbox answers a wrong offset with
   * `incorrect_offset` and the `correct_offset` to resume from. Returns the bytes it sent.
   */
  private async appendResuming(key: string, sessionId: string, offset: number, data: Buffer, close: boolean): Promise<number> {
    const action = `upload_session/append_v2 ${key} at ${offset}`;
    let acked = 0;
    let sent = 0;
    let probing = false;
    let failures = 0;
    // Each failure costs at most one probe and one correction; the bound only stops a server that keeps moving.
    for (let calls = 0; calls < 4 * this.chunkAttempts; calls++) {
      const contents = probing ? EMPTY : data.subarray(acked);
      try {
        this.throwIfHeldBack(action);
        sent += contents.length;
        await this.client.filesUploadSessionAppendV2({
          cursor: { session_id: sessionId, offset: offset + acked },
          close: probing ? false : close,
          contents,
        });
        if (!probing) return sent;
        probing = false;
      } catch (err) {
        // Only the closing chunk closes the session, and Dropbox closes it only once it holds the whole chunk: the
        // answer to our closing append was lost, and the session is complete. (Dropbox refuses every append to a
        // closed session, the empty closing one a resumption sends included.)
        if (close && isClosedSessionError(err)) return sent;
        const correct = incorrectOffsetOf(err);
        if (correct !== undefined) {
          if (correct < offset || correct > offset + data.length) {
            throw new TransientError(`Dropbox ${action}: the session is at ${correct}, outside this chunk`);
          }
          acked = correct - offset;
          probing = false;
          continue;
        }
        const failure = this.failure(err, action);
        failures += 1;
        if (failure.kind === 'permanent' || failures >= this.chunkAttempts) throw failure;
        const retryAfter = failure instanceof RateLimitedError ? failure.retryAfterMs : undefined;
        await sleep(retryDelayMs(failure.kind, failures, retryAfter));
        probing = true;
      }
    }
    throw new TransientError(`Dropbox ${action}: the session offset kept moving`);
  }

  /** Commits up to 1000 closed sessions; entries refused for lock contention are committed again a little later. */
  private async commitBatch(group: readonly StagedSession[]): Promise<Map<number, UploadOutcome>> {
    const results = new Map<number, UploadOutcome>();
    let pending = [...group];
    for (let attempt = 1; pending.length > 0; attempt++) {
      let entries: files.UploadSessionFinishBatchResultEntry[];
      try {
        const { result } = await this.send(`upload_session/finish_batch_v2 (${pending.length} files)`, () =>
          this.client.filesUploadSessionFinishBatchV2({
            entries: pending.map((s) => ({ cursor: s.cursor, commit: { path: this.pathOf(s.request.key), mode: OVERWRITE } })),
          }));
        entries = result.entries;
      } catch (err) {
        for (const s of pending) results.set(s.index, { ok: false, error: err });
        return results;
      }
      const contended: StagedSession[] = [];
      pending.forEach((s, i) => {
        const entry = entries[i];
        if (entry?.['.tag'] === 'success') {
          try {
            results.set(s.index, { ok: true, file: this.checkedFile(s.request, entry), sentBytes: s.sentBytes });
          } catch (err) {
            results.set(s.index, { ok: false, error: err });
          }
          return;
        }
        const failure = classifyDropboxFailure(entry?.['.tag'] === 'failure' ? entry.failure : undefined, `commit ${s.request.key}`);
        if (failure instanceof RateLimitedError && attempt < this.commitAttempts) contended.push(s);
        else results.set(s.index, { ok: false, error: failure });
      });
      if (contended.length > 0) await sleep(retryDelayMs('rate-limited', attempt));
      pending = contended;
    }
    return results;
  }

  private async deleteBatch(keys: readonly string[]): Promise<files.DeleteBatchResultEntry[]> {
    const action = `delete_batch (${keys.length} files)`;
    const { result: launch } = await this.send(action, () => this.client.filesDeleteBatch({ entries: keys.map((key) => ({ path: this.pathOf(key) })) }));
    if (launch['.tag'] === 'complete') return launch.entries;
    if (launch['.tag'] !== 'async_job_id') throw new TransientError(`Dropbox ${action}: unexpected answer ${launch['.tag']}`);
    const jobId = launch.async_job_id;
    // Dropbox finishes small batches within a second or two; the bound only stops a job that never ends.
    for (let poll = 1; poll <= 60; poll++) {
      const { result } = await this.send(`delete_batch/check ${action}`, () => this.client.filesDeleteBatchCheck({ async_job_id: jobId }));
      if (result['.tag'] === 'complete') return result.entries;
      if (result['.tag'] === 'failed') throw classifyDropboxFailure(result.failed, action);
      if (result['.tag'] !== 'in_progress') throw new TransientError(`Dropbox ${action}: unexpected status ${result['.tag']}`);
      await sleep(Math.min(100 * poll, 1_000));
    }
    throw new TransientError(`Dropbox ${action}: still in progress after 60 checks`);
  }

  // --- plumbing ---

  /** Sends one call, mapping failures to the taxonomy (and remembering a 429's wait). */
  private async send<T>(action: string, call: () => Promise<T>, notFoundIsAnswer = false): Promise<T> {
    this.throwIfHeldBack(action);
    try {
      return await call();
    } catch (err) {
      if (notFoundIsAnswer && isDropboxNotFound(err)) throw new NotFound();
      if (err instanceof CursorReset) throw err;
      throw this.failure(err, action);
    }
  }

  private failure(err: unknown, action: string): FerryError {
    const failure = classifyDropboxError(err, action);
    if (failure instanceof RateLimitedError) {
      this.heldBackUntil = Math.max(this.heldBackUntil, Date.now() + (failure.retryAfterMs ?? retryDelayMs('rate-limited', 1)));
    }
    return failure;
  }

  private throwIfHeldBack(action: string): void {
    const waitMs = this.heldBackUntil - Date.now();
    if (waitMs > 0) throw new RateLimitedError(`Dropbox ${action}: not sent, Dropbox asked to wait ${waitMs} ms more`, waitMs);
  }

  private async withMemory<T>(bytes: number, use: () => Promise<T>): Promise<T> {
    await this.memory.acquire(bytes);
    try {
      return await use();
    } finally {
      this.memory.release(bytes);
    }
  }

  /** What Dropbox says it stored, checked against the hash the caller computed. */
  private checkedFile(request: UploadRequest, metadata: files.FileMetadata): RemoteFile {
    const file = this.remoteFile(request.key, metadata);
    if (request.contentHash !== undefined && file.contentHash !== request.contentHash) {
      throw new TransientError(
        `Dropbox stored ${request.key} with hash ${file.contentHash}, expected ${request.contentHash}: the file changed while it was uploaded`,
      );
    }
    return file;
  }

  private remoteFile(key: string, metadata: files.FileMetadata): RemoteFile {
    if (metadata.content_hash === undefined) throw new TransientError(`Dropbox returned no content_hash for ${key}`);
    return { key, size: metadata.size, contentHash: metadata.content_hash };
  }

  private pathOf(key: string): string {
    if (!isValidKey(key)) throw new PermanentError(`key ${JSON.stringify(key)} is not a relative path under the sync root`);
    return joinRemotePath(this.root, key);
  }

  private keyOf(displayPath: string): string | undefined {
    const prefix = `${this.root.toLowerCase()}/`;
    return displayPath.toLowerCase().startsWith(prefix) ? displayPath.slice(prefix.length) : undefined;
  }
}

/** Size and hash from a `Dropbox-API-Result` header. */
function announcedFile(header: string | null): { size: number; contentHash: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(header ?? '');
  } catch {
    throw new TransientError('Dropbox download: no readable Dropbox-API-Result header');
  }
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const { size, content_hash: contentHash } = record;
  if (typeof size !== 'number' || typeof contentHash !== 'string') {
    throw new TransientError('Dropbox download: Dropbox-API-Result lacks size or content_hash');
  }
  return { size, contentHash };
}

/** A 409 not_found where "nothing there" is an answer (stat, list, download), not a failure. */
class NotFound extends Error {}

/** list_folder/continue answered `reset`: the listing starts again. */
class CursorReset extends Error {}

/** Listings started again after a `reset` before the listing fails (transient). */
const MAX_LISTING_RESTARTS = 3;
