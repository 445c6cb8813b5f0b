import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { TransientError } from './errors.js';
import { ContentHasher } from './content-hash.js';

/**
 * Files that appear whole or not at all: bytes go to a temp file beside the target (`.<name>.<pid>.<random>.tmp`,
 * the same shape the Parquet writer uses, so directory walks skip both), are hashed on the way, fsynced, checked
 * against what the sender announced, and only then renamed over the target.
 */

export interface WrittenFile {
  size: number;
  contentHash: string;
}

/** `.<name>.<pid>.<random>.tmp` beside the target: same file system, so the rename is atomic. */
export function tempPathFor(targetPath: string): string {
  return path.join(path.dirname(targetPath), `.${path.basename(targetPath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

/**
 * Removes temp files under `dir` last written more than `olderThanMs` ago: what a process killed mid-write (kill -9,
 * a lost container) left behind. A write in progress, on this host or another sharing the volume, touches its temp
 * file far more often than that. Returns how many were removed; a missing `dir` is fine.
 */
export async function sweepStaleTempFiles(dir: string, olderThanMs: number, now = Date.now()): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  let removed = 0;
  for (const entry of entries) {
    if (!entry.isFile() || !isTempFileName(entry.name)) continue;
    const file = path.join(entry.parentPath, entry.name);
    const info = await stat(file).catch(() => undefined);
    if (info && now - info.mtimeMs > olderThanMs) {
      await rm(file, { force: true });
      removed++;
    }
  }
  return removed;
}

export async function writeFileAtomically(
  targetPath: string,
  chunks: AsyncIterable<Uint8Array>,
  expected?: { size?: number; contentHash?: string; what: string },
): Promise<WrittenFile> {
  const hasher = new ContentHasher();
  await streamToFileAtomically(targetPath, chunks, {
    onChunk: (chunk) => hasher.update(chunk),
    beforeRename: () => {
      if (expected?.size !== undefined && expected.size !== hasher.size) {
        throw new TransientError(`${expected.what}: got ${hasher.size} bytes, expected ${expected.size}`);
      }
      const contentHash = hasher.digest();
      if (expected?.contentHash !== undefined && expected.contentHash !== contentHash) {
        throw new TransientError(`${expected.what}: content hash ${contentHash} does not match ${expected.contentHash}`);
      }
    },
  });
  return { size: hasher.size, contentHash: hasher.digest() };
}

/**
 * The core of the above for callers with their own checks: every chunk goes to `onChunk` (hash it, count it) and
 * to the temp file; `beforeRename` throws to refuse the bytes, which then never reach `targetPath`.
 */
export async function streamToFileAtomically(
  targetPath: string,
  chunks: AsyncIterable<Uint8Array>,
  hooks: {
    onChunk?: (chunk: Uint8Array) => void;
    beforeRename?: () => void | Promise<void>;
    /** False for caches: skips the fsync, whose cost dominates small files; a torn file must then be detectable. */
    durable?: boolean;
  } = {},
): Promise<void> {
  await mkdir(path.dirname(targetPath), { recursive: true });
  const tempPath = tempPathFor(targetPath);
  const handle = await open(tempPath, 'wx');
  let closed = false;
  try {
    for await (const chunk of chunks) {
      hooks.onChunk?.(chunk);
      await writeAll(handle, chunk);
    }
    if (hooks.durable !== false) await handle.sync();
    closed = true;
    await handle.close();
    await hooks.beforeRename?.();
    await rename(tempPath, targetPath);
  } catch (err) {
    if (!closed) await handle.close().catch(() => undefined);
    await rm(tempPath, { force: true });
    throw err;
  }
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written);
    written += bytesWritten;
  }
}

/** Exactly `length` bytes at `position`; a file that shrank meanwhile is a transient failure (it is being rewritten). */
export async function readSlice(handle: FileHandle, position: number, length: number, what: string): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new TransientError(`${what}: the file ended at ${position + filled} bytes while it was read; it is being rewritten`);
    filled += bytesRead;
  }
  return buffer;
}
