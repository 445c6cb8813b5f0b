import { randomBytes } from 'node:crypto';
import { appendFile, unlink, writeFile } from 'node:fs/promises';
import { ContentHasher } from '@ferry/shared/core';
import { incorrectOffset, tagged, type Tagged } from './errors.js';
import type { StagedContent } from './store.js';

/**
 * Upload sessions (`upload_session/start`, `append_v2`, `finish`, `finish_batch*`): bytes go straight to a blob file
 * on disk and through a content hasher, so the session costs no memory whatever the file's size. The offset moves
 * when a call is accepted, before its bytes reach the disk, so two calls racing for one offset cannot both win.
 */

export interface UploadSession {
  id: string;
  blobPath: string;
  /** Bytes accepted so far: the offset the next call must give. */
  offset: number;
  closed: boolean;
  hasher: ContentHasher;
  /** Disk writes of accepted bytes, in order. */
  written: Promise<void>;
}

export class UploadSessions {
  private readonly sessions = new Map<string, UploadSession>();

  constructor(private readonly newBlobPath: () => string) {}

  async start(): Promise<UploadSession> {
    // New-style Dropbox session ids carry this prefix.
    const id = `pid_upload_session:${randomBytes(24).toString('base64url')}`;
    const session: UploadSession = {
      id,
      blobPath: this.newBlobPath(),
      offset: 0,
      closed: false,
      hasher: new ContentHasher(),
      written: Promise.resolve(),
    };
    await writeFile(session.blobPath, Buffer.alloc(0));
    this.sessions.set(id, session);
    return session;
  }

  /**
   * The session a cursor may write at, or the `UploadSessionLookupError` Dropbox gives: `not_found`,
   * `incorrect_offset` (with `correct_offset`, so the client can resume), `closed` when a closed session is appended
   * to (`refuseClosed`: every append, even an empty one, as Dropbox refuses them; a finish only when it sends data).
   */
  lookup(cursor: { session_id: string; offset: number }, refuseClosed: boolean): UploadSession | Tagged {
    const session = this.sessions.get(cursor.session_id);
    if (!session) return tagged('not_found');
    if (cursor.offset !== session.offset) return incorrectOffset(session.offset);
    if (session.closed && refuseClosed) return tagged('closed');
    return session;
  }

  async append(session: UploadSession, data: Buffer): Promise<void> {
    if (data.length === 0) return;
    session.offset += data.length;
    session.hasher.update(data);
    const write = session.written.then(() => appendFile(session.blobPath, data));
    session.written = write;
    await write;
  }

  /** The session's bytes as content to commit; the session itself stays until `forget` (a failed commit may be retried). */
  async staged(session: UploadSession): Promise<StagedContent> {
    await session.written;
    return { blobPath: session.blobPath, size: session.offset, contentHash: session.hasher.digest() };
  }

  isOpen(session: UploadSession): boolean {
    return this.sessions.get(session.id) === session;
  }

  /** After a successful commit: the blob now belongs to the store. */
  forget(session: UploadSession): void {
    this.sessions.delete(session.id);
  }

  async discardAll(): Promise<void> {
    const blobs = [...this.sessions.values()].map((s) => s.blobPath);
    this.sessions.clear();
    await Promise.all(blobs.map((path) => unlink(path).catch(() => undefined)));
  }
}
