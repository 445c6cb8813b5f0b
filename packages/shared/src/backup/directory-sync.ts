import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isTempFileName } from '../core/atomic-file.js';
import { errorMessage, RateLimitedError } from '../core/errors.js';
import { unchangedSinceLastSync } from '../postgres/file-sync-store.js';
import { type Pool } from '../postgres/pool.js';
import { assertSafeRelativePath, remoteKeyFor } from './remote-layout.js';
import { type SyncOutcome } from './upload-if-changed.js';
import { PermanentError } from '../core/errors.js';
import { resolveInsideDataDir } from './path-inside-data-dir.js';
import type { BatchItem } from './sync-batch.js';

/**
 * One scheduled directory sync: every file under the rule's directories (in DATA_DIR) whose size and mtime differ
 * from its last successful sync goes through the worker's batcher (hashed, skipped when the target has the same
 * bytes, else uploaded in a batch commit). Files unchanged since their last sync are neither hashed nor uploaded.
 */
export interface DirectorySyncDeps {
  dataDir: string;
  db: Pool;
  /** The target's description, the `target` column of file_syncs. */
  targetName: string;
  /** Hands files to the worker's batcher. */
  sync(items: BatchItem[]): Promise<SyncOutcome[]>;
  syncedAt: Date;
  progress?(p: { files: number; unchanged: number; done: number }): void;
}

export interface DirectorySyncResult {
  files: number;
  unchanged: number;
  uploaded: number;
  skippedIdentical: number;
  sentBytes: number;
  /** Files that could not be synced; `key` is absent when the file's name cannot be synced at all. */
  failed: Array<{ relativePath: string; key?: string; reason: string }>;
  /** Set when the target asked us to wait: the job then pauses the queue and runs again later. */
  rateLimited?: RateLimitedError;
}

interface LocalEntry {
  relativePath: string;
  localPath: string;
  key: string;
  size: number;
  mtimeMs: number;
}

export async function syncDirectories(directories: readonly string[], deps: DirectorySyncDeps): Promise<DirectorySyncResult> {
  const result: DirectorySyncResult = { files: 0, unchanged: 0, uploaded: 0, skippedIdentical: 0, sentBytes: 0, failed: [] };
  const entries: LocalEntry[] = [];
  for (const directory of directories) {
    let listed: Awaited<ReturnType<typeof listFiles>>;
    try {
      listed = await listFiles(deps.dataDir, directory);
    } catch (err) {
      // A directory linked out of DATA_DIR: reported as failed, the other directories still sync.
      if (!(err instanceof PermanentError)) throw err;
      result.failed.push({ relativePath: directory, reason: errorMessage(err) });
      continue;
    }
    for (const found of listed) {
      try {
        assertSafeRelativePath(found.relativePath);
        entries.push({ ...found, key: remoteKeyFor(found.relativePath, deps.syncedAt) });
      } catch (err) {
        result.failed.push({ relativePath: found.relativePath, reason: errorMessage(err) });
      }
    }
  }
  result.files = entries.length + result.failed.length;
  const unchanged = await unchangedSinceLastSync(deps.db, deps.targetName, entries);
  const changed = entries.filter((e) => !unchanged.has(e.key));
  result.unchanged = entries.length - changed.length;
  deps.progress?.({ files: result.files, unchanged: result.unchanged, done: result.unchanged });

  const outcomes = await deps.sync(changed.map((e) => ({ localPath: e.localPath, key: e.key, relativePath: e.relativePath })));
  outcomes.forEach((outcome, i) => {
    const entry = changed[i]!;
    switch (outcome.status) {
      case 'uploaded':
        result.uploaded += 1;
        result.sentBytes += outcome.sentBytes;
        break;
      case 'skipped-identical':
        result.skippedIdentical += 1;
        break;
      case 'failed':
        if (outcome.error instanceof RateLimitedError) result.rateLimited ??= outcome.error;
        else result.failed.push({ relativePath: entry.relativePath, key: entry.key, reason: errorMessage(outcome.error) });
    }
  });
  deps.progress?.({ files: result.files, unchanged: result.unchanged, done: result.files });
  return result;
}

/** Regular files under `<dataDir>/<directory>`, without temp files being written; none when the directory is absent. */
async function listFiles(dataDir: string, directory: string): Promise<Array<{ relativePath: string; localPath: string; size: number; mtimeMs: number }>> {
  // Entries that are links are skipped below; the directory itself must not be one leading out of DATA_DIR.
  const root = await resolveInsideDataDir(dataDir, directory);
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
    throw err;
  });
  const files: Array<{ relativePath: string; localPath: string; size: number; mtimeMs: number }> = [];
  for (const entry of entries) {
    if (!entry.isFile() || isTempFileName(entry.name)) continue;
    const localPath = path.join(entry.parentPath, entry.name);
    // A file removed between the listing and here (a rotated log) is simply not synced this time.
    const info = await stat(localPath).catch(() => undefined);
    if (!info) continue;
    files.push({
      relativePath: [directory, ...path.relative(root, localPath).split(path.sep)].join('/'),
      localPath,
      size: info.size,
      mtimeMs: Math.trunc(info.mtimeMs),
    });
  }
  return files.sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1));
}
