import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import { TransientError } from '../errors.js';
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

export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && name.endsWith('.tmp');
}

export async function writeFileAtomically(
  targetPath: string,
  chunks: AsyncIterable<Uint8Array>,
  expected?: { size?: number; contentHash?: string; what: string },
): Promise<WrittenFile> {
  const directory = path.dirname(targetPath);
  await mkdir(directory, { recursive: true });
  const tempPath = path.join(directory, `.${path.basename(targetPath)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tempPath, 'wx');
  let closed = false;
  try {
    const hasher = new ContentHasher();
    for await (const chunk of chunks) {
      hasher.update(chunk);
      await writeAll(handle, chunk);
    }
    await handle.sync();
    closed = true;
    await handle.close();
    const written = { size: hasher.size, contentHash: hasher.digest() };
    if (expected?.size !== undefined && expected.size !== written.size) {
      throw new TransientError(`${expected.what}: got ${written.size} bytes, expected ${expected.size}`);
    }
    if (expected?.contentHash !== undefined && expected.contentHash !== written.contentHash) {
      throw new TransientError(`${expected.what}: content hash ${written.contentHash} does not match ${expected.contentHash}`);
    }
    await rename(tempPath, targetPath);
    return written;
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
