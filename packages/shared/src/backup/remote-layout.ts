import { PermanentError } from '../core/errors.js';

/**
 * Where a file under DATA_DIR goes on a sync target, as a pure function. Keys are relative to the target's root
 * (DROPBOX_ROOT for Dropbox, SYNC_LOCAL_DIR for the local folder), with forward slashes and no leading slash:
 *
 *  - shared data, overwritten in place:   `candles/BTC/BTC-USDT_1d_....parquet` -> `data/candles/BTC/BTC-USDT_1d_....parquet`
 *  - dated folders, one snapshot per UTC day of the sync:
 *                                          `logs/worker.log` -> `2025-11-11/logs/worker.log`
 *    for the top-level directories in DATED_DIRECTORIES (logs, models, monitoring, learning).
 *
 * Anything else under DATA_DIR is shared data too (`flatfiles/...` -> `data/flatfiles/...`).
 */

export const DATED_DIRECTORIES = ['logs', 'models', 'monitoring', 'learning'] as const;

/** The folder of shared data under a target's root. */
export const SHARED_DATA_FOLDER = 'data';

/** The folder of the candle cache on a target: what `restore` pulls. */
export const CANDLES_FOLDER_KEY = `${SHARED_DATA_FOLDER}/candles`;

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const UNSAFE_CHARACTERS = /[\\\x00-\x1f\x7f]/;

/**
 * Throws PermanentError unless `relativePath` is a plain relative path: no leading `/`, no `.`, `..` or empty parts,
 * no backslashes or control characters (a log file may have spaces in its name; Dropbox allows them).
 */
export function assertSafeRelativePath(relativePath: string, what = 'path'): void {
  const parts = relativePath.split('/');
  const bad = parts.find((p) => p === '' || p === '.' || p === '..' || UNSAFE_CHARACTERS.test(p));
  if (relativePath.length === 0 || bad !== undefined) {
    throw new PermanentError(
      `${what} ${JSON.stringify(relativePath)} cannot be synced: expected a relative path without ".", ".." or empty parts, backslashes or control characters`,
    );
  }
}

/** `2025-11-11`: the UTC day of `at`. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/** The key on the target of a file at `relativePath` under DATA_DIR, synced at `syncedAt`. */
export function remoteKeyFor(relativePath: string, syncedAt: Date): string {
  assertSafeRelativePath(relativePath);
  const top = relativePath.split('/')[0] as string;
  if ((DATED_DIRECTORIES as readonly string[]).includes(top)) return `${utcDay(syncedAt)}/${relativePath}`;
  return `${SHARED_DATA_FOLDER}/${relativePath}`;
}

/** The path under DATA_DIR of a shared-data key (`data/candles/x` -> `candles/x`); undefined for dated keys. */
export function relativePathOfSharedKey(key: string): string | undefined {
  const prefix = `${SHARED_DATA_FOLDER}/`;
  if (!key.startsWith(prefix)) return undefined;
  const relativePath = key.slice(prefix.length);
  assertSafeRelativePath(relativePath, 'key');
  return relativePath;
}

/** `/ferry` + `data/candles/x` -> `/ferry/data/candles/x`. */
export function joinRemotePath(root: string, key: string): string {
  const trimmed = root.replace(/\/+$/, '');
  return key === '' ? trimmed : `${trimmed}/${key}`;
}
