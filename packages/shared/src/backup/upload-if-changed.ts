import { readFile, stat } from 'node:fs/promises';
import { contentHashOfBuffer, contentHashOfFile } from '../core/content-hash.js';
import { mapConcurrently } from '../core/map-concurrently.js';
import type { RemoteFile, SyncTarget, UploadRequest } from './sync-target.js';

export interface FileToSync {
  localPath: string;
  key: string;
  /**
   * Size and content hash already known for the file (computed as it was written, carried by its sync job): it is
   * then not read to be hashed. Trusted only while the file still has this size.
   */
  known?: Pick<LocalFacts, 'size' | 'contentHash'>;
  onProgress?: UploadRequest['onProgress'];
}

/** What the local file was when it was looked at. */
export interface LocalFacts {
  size: number;
  mtimeMs: number;
  contentHash: string;
}

export type SyncOutcome =
  | ({ key: string; status: 'uploaded' | 'skipped-identical'; sentBytes: number } & LocalFacts)
  | { key: string; status: 'failed'; error: unknown; local?: LocalFacts };

/** The skip rule: Dropbox already has these bytes when its size and content hash equal the local ones. */
export function isIdentical(local: Pick<LocalFacts, 'size' | 'contentHash'>, remote: RemoteFile | undefined): boolean {
  return remote !== undefined && remote.size === local.size && remote.contentHash === local.contentHash;
}

/**
 * Syncs files to a target, skipping those it already holds: each local file is hashed (with the one content hasher,
 * unless its hash is `known`)
 * and compared with the target's size and hash; the others go up together in one `uploadMany` (one batch commit on
 * Dropbox). One outcome per file, in order; a file failing does not fail the others.
 */
export async function uploadIfChanged(
  target: SyncTarget,
  files: readonly FileToSync[],
  options: { parallel?: number } = {},
): Promise<SyncOutcome[]> {
  const outcomes = new Array<SyncOutcome>(files.length);
  const changed: Array<{ index: number; file: FileToSync; local: LocalFacts }> = [];
  await mapConcurrently(files, options.parallel ?? 16, async (file, index) => {
    let local: LocalFacts | undefined;
    try {
      local = await localFacts(file);
      const remote = await target.stat(file.key);
      if (isIdentical(local, remote)) outcomes[index] = { key: file.key, status: 'skipped-identical', sentBytes: 0, ...local };
      else changed.push({ index, file, local });
    } catch (err) {
      outcomes[index] = { key: file.key, status: 'failed', error: err, local };
    }
  });
  changed.sort((a, b) => a.index - b.index);
  const uploads = await target.uploadMany(
    changed.map(({ file, local }) => ({ localPath: file.localPath, key: file.key, contentHash: local.contentHash, onProgress: file.onProgress })),
  );
  changed.forEach(({ index, file, local }, i) => {
    const upload = uploads[i];
    outcomes[index] = upload?.ok
      ? { key: file.key, status: 'uploaded', sentBytes: upload.sentBytes, ...local }
      : { key: file.key, status: 'failed', error: upload?.error, local };
  });
  return outcomes;
}

/** A small file is read in one go (a stream costs more than the hashing); a large one is hashed as it streams. */
const READ_WHOLE_BELOW_BYTES = 4 * 1024 * 1024;

async function localFacts({ localPath, known }: FileToSync): Promise<LocalFacts> {
  const info = await stat(localPath);
  if (known && known.size === info.size) return { size: info.size, mtimeMs: info.mtimeMs, contentHash: known.contentHash };
  if (info.size >= READ_WHOLE_BELOW_BYTES) return { size: info.size, mtimeMs: info.mtimeMs, contentHash: await contentHashOfFile(localPath) };
  const data = await readFile(localPath);
  return { size: data.length, mtimeMs: info.mtimeMs, contentHash: contentHashOfBuffer(data) };
}
