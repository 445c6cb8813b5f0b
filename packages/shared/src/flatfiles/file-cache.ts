import { createHash } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NetworkError, TransientError, errorMessage } from '../errors.js';
import { classifyS3Error } from '../s3/classify-s3-error.js';
import { streamToFileAtomically } from '../sync/atomic-file.js';
import { isSinglePartEtag, normaliseEtag, type ListedFile } from './plan.js';

/**
 * The local cache of verified raw flat files, keyed by key and ETag: `<dir>/<key without .csv.gz>.<etag>.csv.gz`.
 * A file enters it only after its bytes matched Content-Length, the listed size and (single-part) the MD5 in the
 * ETag, so a later request for other tickers reads it instead of downloading again. A new ETag is another entry.
 */
export function cachedFilePath(cacheDir: string, key: string, etag: string): string {
  const stem = key.replace(/\.csv\.gz$/, '');
  return path.join(cacheDir, ...`${stem}.${normaliseEtag(etag)}.csv.gz`.split('/'));
}

export interface CachedFile {
  path: string;
  /** False when the cache already had it: no request was made. */
  downloaded: boolean;
  bytes: number;
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
  const present = await stat(listedPath).catch(() => undefined);
  if (present?.size === file.size) return { path: listedPath, downloaded: false, bytes: file.size, etag: normaliseEtag(file.etag), size: file.size };

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
      throw new NetworkError(
        `downloading ${where}: the body stopped after ${received} of ${expectedSize} bytes: ${errorMessage(err)}`, { cause: err });
    }
  }

  await streamToFileAtomically(target, counted(), {
    onChunk: (chunk) => md5.update(chunk),
    beforeRename: () => {
      if (received !== expectedSize || (contentLength !== undefined && contentLength !== expectedSize)) {
        throw new TransientError(
          `size mismatch for ${where}: received ${received} bytes, Content-Length ${contentLength ?? 'absent'}, ` +
            `listed ${expectedSize}`);
      }
      // Multipart ETags are not the MD5 of the body: there only the size can be checked.
      const digest = md5.digest('hex');
      if (isSinglePartEtag(etag) && digest !== etag.toLowerCase()) {
        throw new TransientError(`checksum mismatch for ${where}: MD5 of the ${received} bytes received is ${digest}, ETag is ${etag}`);
      }
    },
  });
  return { path: target, downloaded: true, bytes: received, etag, size: received };
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
