import { open, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../core/errors.js';
import { isTempFileName, writeFileAtomically, type WrittenFile } from '../core/atomic-file.js';
import { contentHashOfFile } from '../core/content-hash.js';
import { isValidKey, type DeleteOutcome, type RemoteFile, type SyncTarget, type UploadOutcome, type UploadRequest } from './sync-target.js';

/**
 * A folder as the sync target (SYNC_LOCAL_DIR; a mounted disk or network share): the embedded default when no
 * Dropbox credentials are set. Same layout and contract as Dropbox; files are copied through a temp file and renamed,
 * so a reader never sees half a file, and a content hash is computed on the way, as Dropbox would.
 */
export class LocalFolderTarget implements SyncTarget {
  readonly kind = 'local';
  readonly description: string;

  constructor(private readonly root: string) {
    if (!path.isAbsolute(root)) throw new Error(`local sync folder ${JSON.stringify(root)}: expected an absolute path`);
    this.description = LocalFolderTarget.describe(root);
  }

  static describe(root: string): string {
    return `local ${root}`;
  }

  async stat(key: string): Promise<RemoteFile | undefined> {
    const file = this.pathOf(key);
    const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (!info) return undefined;
    if (!info.isFile()) throw new PermanentError(`the sync folder has a directory at ${key}, where a file belongs`);
    return { key, size: info.size, contentHash: await contentHashOfFile(file) };
  }

  async upload(request: UploadRequest): Promise<RemoteFile & { sentBytes: number }> {
    const written = await copyAtomically(request.localPath, this.pathOf(request.key), {
      contentHash: request.contentHash,
      what: `copy of ${request.localPath} (it changed while it was copied)`,
    });
    request.onProgress?.(written.size, written.size);
    return { key: request.key, ...written, sentBytes: written.size };
  }

  async uploadMany(requests: readonly UploadRequest[]): Promise<UploadOutcome[]> {
    const outcomes: UploadOutcome[] = [];
    for (const request of requests) {
      try {
        const { sentBytes, ...file } = await this.upload(request);
        outcomes.push({ ok: true, file, sentBytes });
      } catch (err) {
        outcomes.push({ ok: false, error: err });
      }
    }
    return outcomes;
  }

  async list(folderKey: string): Promise<RemoteFile[]> {
    const folder = this.pathOf(folderKey);
    const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
      throw err;
    });
    const found: RemoteFile[] = [];
    for (const entry of entries) {
      if (!entry.isFile() || isTempFileName(entry.name)) continue;
      const absolute = path.join(entry.parentPath, entry.name);
      const key = path.relative(this.root, absolute).split(path.sep).join('/');
      const info = await stat(absolute);
      found.push({ key, size: info.size, contentHash: await contentHashOfFile(absolute) });
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async listKeys(folderKey: string, options: { recursive?: boolean } = {}): Promise<string[]> {
    const entries = await readdir(this.pathOf(folderKey), { withFileTypes: true, recursive: options.recursive ?? false })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
        throw err;
      });
    return entries
      .filter((e) => e.isFile() && !isTempFileName(e.name))
      .map((e) => path.relative(this.root, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
      .sort();
  }

  async delete(keys: readonly string[]): Promise<DeleteOutcome[]> {
    const outcomes: DeleteOutcome[] = [];
    for (const key of keys) {
      try {
        // force: a file already gone is deleted.
        await rm(this.pathOf(key), { force: true });
        outcomes.push({ key, ok: true });
      } catch (err) {
        outcomes.push({ key, ok: false, error: err });
      }
    }
    return outcomes;
  }

  async download(key: string, localPath: string): Promise<RemoteFile> {
    const source = this.pathOf(key);
    const remote = await this.stat(key);
    if (!remote) throw new PermanentError(`the sync folder has no file ${key}`);
    await copyAtomically(source, localPath, {
      size: remote.size,
      contentHash: remote.contentHash,
      what: `restore of ${key} (it changed while it was copied)`,
    });
    return remote;
  }

  private pathOf(key: string): string {
    if (!isValidKey(key)) throw new PermanentError(`key ${JSON.stringify(key)} is not a relative path under the sync folder`);
    return path.join(this.root, ...key.split('/'));
  }
}

/** Opens the source first, so a missing file is an ordinary rejection rather than a stream error event. */
async function copyAtomically(
  source: string,
  destination: string,
  expected: { size?: number; contentHash?: string; what: string },
): Promise<WrittenFile> {
  const handle = await open(source, 'r');
  try {
    return await writeFileAtomically(destination, handle.createReadStream({ autoClose: false, highWaterMark: 1024 * 1024 }), expected);
  } finally {
    await handle.close();
  }
}
