import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rename, rmSync, statSync, utimesSync, writeFile } from 'node:fs';
import { promisify } from 'node:util';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NetworkError, TransientError, errorMessage } from '../core/errors.js';
import { classifyS3Error } from '../s3/classify-s3-error.js';
import { isTempFileName, streamToFileAtomically, tempPathFor } from '../core/atomic-file.js';
import { isSinglePartEtag, normaliseEtag, type ListedFile } from './plan.js';

/**
 * The local cache of verified raw flat files, keyed by key and ETag: `<dir>/<key without .csv.gz>.<etag>.csv.gz`.
 * A file enters it only after its bytes matched Content-Length, the listed size, the SDK's check of the S3 checksum
 * when S3 sends one, and the MD5 in the ETag where S3 makes it one (single part, not SSE-KMS/SSE-C), so a later request for other tickers reads it instead of downloading again. A new ETag is another entry.
 */
export function cachedFilePath(cacheDir: string, key: string, etag: string): string {
  const stem = key.replace(/\.csv\.gz$/, '');
  return path.join(cacheDir, ...`${stem}.${normaliseEtag(etag)}.csv.gz`.split('/'));
}

/**
 * Files up to this size are received into memory, verified, written to the cache and parsed from memory: a day file
 * (~150 KB at Massive) then costs no disk read and no thread-pool round trips beyond one write. Bigger ones (minute
 * files, tens of MB and more) stream through disk so memory stays flat.
 */
export const IN_MEMORY_MAX_BYTES = 8 * 1024 * 1024;

export interface CachedFile {
  path: string;
  /** The verified bytes, for files up to IN_MEMORY_MAX_BYTES; otherwise read them from `path`. */
  bytes?: Buffer;
  /** False when the cache already had it: no request was made. */
  downloaded: boolean;
  /** Bytes received (0 for a cache hit). */
  received: number;
  /** Set when S3 now serves another version than the one listed (re-published in between): the version kept. */
  etag: string;
  size: number;
}

/**
 * The verified file from the cache, downloading it first if needed. Streams: bytes counted and MD5 computed as they
 * arrive and written to a temp file that is renamed into the cache only once verified. A mismatch is a
 * TransientError naming the key and both sizes (BullMQ retries with backoff; if it persists the job fails with it).
 */
export async function ensureCachedFile(
  s3: S3Client,
  bucket: string,
  file: ListedFile,
  cacheDir: string,
  options: { signal?: AbortSignal; onBytes?: (received: number) => void } = {},
): Promise<CachedFile> {
  const listedPath = cachedFilePath(cacheDir, file.key, file.etag);
  // Small files use synchronous calls: each is a few microseconds against the page cache, where a thread-pool round
  // trip per call costs more than the work (measured: fs/promises was the worker's largest CPU item on day files).
  const present = statSync(listedPath, { throwIfNoEntry: false });
  if (present?.size === file.size) {
    // The mtime is the entry's last use: the cache's size limit removes the least recently used first.
    const now = new Date();
    utimesSync(listedPath, now, now);
    const bytes = file.size <= IN_MEMORY_MAX_BYTES ? readFileSync(listedPath) : undefined;
    return { path: listedPath, bytes, downloaded: false, received: 0, etag: normaliseEtag(file.etag), size: file.size };
  }

  const where = `s3://${bucket}/${file.key}`;
  let response;
  try {
    response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: file.key }), { abortSignal: options.signal });
  } catch (err) {
    throw classifyS3Error(err, `downloading ${where}`);
  }
  const etag = normaliseEtag(response.ETag ?? file.etag);
  // Re-published since the listing: take the version S3 serves now, checked against what it says about it.
  const republished = etag !== normaliseEtag(file.etag);
  const expectedSize = republished ? response.ContentLength ?? -1 : file.size;
  const target = republished ? cachedFilePath(cacheDir, file.key, etag) : listedPath;
  const contentLength = response.ContentLength;
  const md5 = createHash('md5');
  let received = 0;
  const body = response.Body as AsyncIterable<Uint8Array> | undefined;
  if (!body) throw new TransientError(`downloading ${where}: S3 answered without a body`);

  async function* counted(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of body!) {
        received += chunk.length;
        options.onBytes?.(received);
        yield chunk;
      }
    } catch (err) {
      // The SDK checks the body against the x-amz-checksum-* header S3 sent as it streams, and fails the stream at
      // its end: the bytes all arrived, and they are not the ones S3 described.
      const mismatch = SDK_CHECKSUM_MISMATCH.exec(errorMessage(err));
      if (mismatch) {
        throw new TransientError(`checksum mismatch for ${where}: the ${received} bytes received do not match the ${mismatch[1]} ` +
          `S3 sent (${errorMessage(err)})`, { cause: err });
      }
      throw new NetworkError(
        `downloading ${where}: the body stopped after ${received} of ${expectedSize} bytes: ${errorMessage(err)}`, { cause: err });
    }
  }

  const verify = () => {
    if (received !== expectedSize || (contentLength !== undefined && contentLength !== expectedSize)) {
      throw new TransientError(
        `size mismatch for ${where}: received ${received} bytes, Content-Length ${contentLength ?? 'absent'}, listed ${expectedSize}`);
    }
    // Multipart ETags, and those of objects encrypted with SSE-KMS or SSE-C, are not the MD5 of the body: there the
    // size (and the SDK's x-amz-checksum-* validation, when S3 sends a checksum) is what can be checked.
    const digest = md5.digest('hex');
    if (isSinglePartEtag(etag) && etagIsContentMd5(response) && digest !== etag.toLowerCase()) {
      throw new TransientError(`checksum mismatch for ${where}: MD5 of the ${received} bytes received is ${digest}, ETag is ${etag}`);
    }
  };

  if (expectedSize <= IN_MEMORY_MAX_BYTES) {
    const chunks: Uint8Array[] = [];
    for await (const chunk of counted()) {
      md5.update(chunk);
      chunks.push(chunk);
    }
    verify();
    const bytes = Buffer.concat(chunks);
    await writeCacheEntry(target, bytes);
    return { path: target, bytes, downloaded: true, received, etag, size: received };
  }
  await streamToFileAtomically(target, counted(), {
    // A cache entry lost or torn in a crash is caught by the size check on use (and a bad parse drops it).
    durable: false,
    onChunk: (chunk) => md5.update(chunk),
    beforeRename: verify,
  });
  return { path: target, downloaded: true, received, etag, size: received };
}

/** What the SDK's response checksum validation throws: `Checksum mismatch: ... in response header "x-amz-checksum-crc32".` */
const SDK_CHECKSUM_MISMATCH = /^Checksum mismatch: .* in response header "([^"]+)"/;

/**
 * Whether S3 guarantees the ETag is the MD5 of the content: not for objects stored with SSE-KMS (`aws:kms`,
 * `aws:kms:dsse`) or SSE-C (the S3 model docs: their ETags "are not an MD5 digest of their object data").
 */
export function etagIsContentMd5(answer: { ServerSideEncryption?: string; SSECustomerAlgorithm?: string }): boolean {
  if (answer.SSECustomerAlgorithm) return false;
  return !answer.ServerSideEncryption?.startsWith('aws:kms');
}

const knownDirectories = new Set<string>();

const writeFileAsync = promisify(writeFile);
const renameAsync = promisify(rename);

/**
 * Temp file and rename, so a reader never sees half a file; no fsync (see `durable` in atomic-file.ts). The callback
 * API, not fs/promises: creating files is the costly part here, and it then runs on the thread pool without a
 * FileHandle per call on the main thread.
 */
async function writeCacheEntry(target: string, bytes: Buffer): Promise<void> {
  const directory = path.dirname(target);
  if (!knownDirectories.has(directory)) {
    mkdirSync(directory, { recursive: true });
    knownDirectories.add(directory);
  }
  const temp = tempPathFor(target);
  try {
    await writeFileAsync(temp, bytes, { flag: 'wx' });
    await renameAsync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    // The directory may have been removed (`ferry cache clear`) since it was created.
    knownDirectories.delete(directory);
    throw err;
  }
}

/** Empties the cache (`ferry cache clear`); returns what was removed. */
export async function clearFlatFileCache(cacheDir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else {
        files += 1;
        bytes += (await stat(full).catch(() => undefined))?.size ?? 0;
      }
    }
  };
  await walk(cacheDir);
  await rm(cacheDir, { recursive: true, force: true });
  return { files, bytes };
}

/** A file of the cache, with its last use (its mtime: set when written, and again on every hit). */
export interface CacheEntry {
  path: string;
  size: number;
  lastUsedMs: number;
}

/**
 * Past the limit, the entries to remove, least recently used first, until the cache is down to `lowWater` of the
 * limit: pruning to just under the limit would prune again on the very next download.
 */
export function planCacheEviction(entries: readonly CacheEntry[], maxBytes: number, lowWater = 0.9): CacheEntry[] {
  let total = entries.reduce((n, e) => n + e.size, 0);
  if (maxBytes <= 0 || total <= maxBytes) return [];
  const target = maxBytes * lowWater;
  const out: CacheEntry[] = [];
  for (const entry of [...entries].sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.path.localeCompare(b.path))) {
    if (total <= target) break;
    out.push(entry);
    total -= entry.size;
  }
  return out;
}

async function listCacheEntries(dir: string): Promise<CacheEntry[]> {
  const entries: CacheEntry[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) await walk(full);
      // Temp files are writes in progress (or dead ones, which the worker's start-up sweep removes).
      else if (e.isFile() && !isTempFileName(e.name)) {
        const st = await stat(full).catch(() => undefined);
        if (st) entries.push({ path: full, size: st.size, lastUsedMs: st.mtimeMs });
      }
    }
  };
  await walk(dir);
  return entries;
}

/**
 * FLAT_FILE_CACHE_MAX_MB for one worker process: told of each download, it keeps a running total (walked from disk
 * on first use and after each pruning, so other processes' files are counted then) and, past the limit, removes the
 * least recently used files. One pruning at a time.
 */
export class FlatFileCacheLimit {
  private knownBytes: number | undefined;
  private pending: Promise<number> = Promise.resolve(0);

  constructor(private readonly cacheDir: string, private readonly maxBytes: number) {}

  /** After a download of `bytes` into the cache; resolves with how many files were removed. */
  added(bytes: number): Promise<number> {
    if (this.maxBytes <= 0) return Promise.resolve(0);
    this.pending = this.pending.catch(() => 0).then(() => this.enforce(bytes));
    return this.pending;
  }

  private async enforce(bytes: number): Promise<number> {
    if (this.knownBytes === undefined) this.knownBytes = (await listCacheEntries(this.cacheDir)).reduce((n, e) => n + e.size, 0);
    else this.knownBytes += bytes;
    if (this.knownBytes <= this.maxBytes) return 0;
    const entries = await listCacheEntries(this.cacheDir);
    const evict = planCacheEviction(entries, this.maxBytes);
    for (const entry of evict) await rm(entry.path, { force: true });
    const evicted = new Set(evict);
    this.knownBytes = entries.reduce((n, e) => n + (evicted.has(e) ? 0 : e.size), 0);
    return evict.length;
  }
}
