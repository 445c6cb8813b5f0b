/**
 * How a file goes to Dropbox, decided from its size alone (pure, unit-tested):
 *  - up to 150 MiB: one request (`files/upload`, or `upload_session/start` with close=true when it joins a batch);
 *  - larger: an upload session in chunks of `chunkBytes`, read from disk one chunk at a time.
 */

/** Dropbox: "Do not use this to upload a file larger than 150 MB"; one request body may carry at most this much. */
export const DROPBOX_SINGLE_REQUEST_MAX_BYTES = 150 * 1024 * 1024;
/** `upload_session/finish_batch_v2` takes at most 1000 entries. */
export const DROPBOX_BATCH_MAX_ENTRIES = 1000;
export const MIB = 1024 * 1024;
export const MIN_CHUNK_BYTES = 8 * MIB;
export const MAX_CHUNK_BYTES = 128 * MIB;
export const DEFAULT_CHUNK_BYTES = 64 * MIB;

export interface ChunkSpan {
  offset: number;
  length: number;
}

export type UploadPlan = { kind: 'single'; size: number } | { kind: 'session'; size: number; chunks: ChunkSpan[] };

export function planUpload(size: number, chunkBytes: number): UploadPlan {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`size ${size} is not a byte count`);
  checkChunkBytes(chunkBytes);
  if (size <= DROPBOX_SINGLE_REQUEST_MAX_BYTES) return { kind: 'single', size };
  const chunks: ChunkSpan[] = [];
  for (let offset = 0; offset < size; offset += chunkBytes) chunks.push({ offset, length: Math.min(chunkBytes, size - offset) });
  return { kind: 'session', size, chunks };
}

export function checkChunkBytes(chunkBytes: number): void {
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) {
    throw new Error(`chunk size ${chunkBytes} bytes: expected ${MIN_CHUNK_BYTES / MIB} to ${MAX_CHUNK_BYTES / MIB} MiB`);
  }
}

/** `items` cut into consecutive groups of at most `size`. */
export function inGroupsOf<T>(items: readonly T[], size: number): T[][] {
  const groups: T[][] = [];
  for (let i = 0; i < items.length; i += size) groups.push(items.slice(i, i + size));
  return groups;
}
