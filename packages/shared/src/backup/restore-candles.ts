import { stat } from 'node:fs/promises';
import type pg from 'pg';
import { assertValidCandles, type CandleSeries } from '../core/candle.js';
import { insertCandles } from '../postgres/candle-store.js';
import { errorMessage } from '../core/errors.js';
import { contentHashOfFile } from '../core/content-hash.js';
import { mapConcurrently } from '../core/map-concurrently.js';
import { parseCandleFilePath } from '../series-files/parse-file-name.js';
import { replaceEarlierRenders } from '../series-files/render-series-file.js';
import { newestRenders } from '../series-files/renders.js';
import { readCandleFile } from '../parquet/read-candle-file.js';
import { resolveInsideDataDir } from './path-inside-data-dir.js';
import { CANDLES_FOLDER_KEY, relativePathOfSharedKey } from './remote-layout.js';
import type { RemoteFile, SyncTarget } from './sync-target.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface RestoreCandlesOptions {
  target: SyncTarget;
  db: Queryable;
  /** DATA_DIR: files land in `<dataDir>/candles/...`, as the download worker writes them. */
  dataDir: string;
  /**
   * The exchange the restored candles are stored under (EXCHANGE). A candle file's bytes do not name their exchange
   * (they must stay byte-identical to what the download worker writes), so restore assumes the configured one.
   */
  exchange: string;
  /** Files handled at once. Default 4. */
  concurrency?: number;
  /** One line per notable event (a file restored, skipped or failed). */
  log?: (message: string) => void;
}

export interface RestoreCandlesResult {
  /** Candle files found on the target under data/candles. */
  files: number;
  /** Files fetched from the target; the others were already in DATA_DIR with the target's content hash. */
  downloaded: number;
  /** Candles read from the files. */
  rows: number;
  /** Of those, rows PostgreSQL did not hold yet. */
  inserted: number;
  /**
   * Files that are not candle files of an exchange pair, and files whose names are unsafe on disk (`..` parts,
   * backslashes, control characters: logged as a warning), with why. Neither makes the restore incomplete.
   */
  skipped: Array<{ key: string; reason: string }>;
  failed: Array<{ key: string; reason: string }>;
}

/**
 * Pulls the candle cache (`data/candles` on the target) into DATA_DIR and loads it into PostgreSQL, so that a new
 * machine does not download history again: a following `ferry collect` over the same range finds nothing missing.
 * Each file's content hash is checked against the target's metadata (a file already in DATA_DIR with that hash is
 * not fetched again); inserts are conflict-safe, so restoring twice changes nothing. An empty target is fine.
 * A backup that still holds several renders of a series (from before renders replaced each other) gives the newest
 * one, by series-files' rule (the latest last date); the others are skipped as superseded.
 */
export async function restoreCandles(options: RestoreCandlesOptions): Promise<RestoreCandlesResult> {
  const log = options.log ?? (() => undefined);
  const remote = await options.target.list(CANDLES_FOLDER_KEY);
  const result: RestoreCandlesResult = { files: remote.length, downloaded: 0, rows: 0, inserted: 0, skipped: [], failed: [] };
  if (remote.length === 0) {
    log(`nothing to restore: ${options.target.description} has no files under ${CANDLES_FOLDER_KEY}`);
    return result;
  }
  log(`restoring ${remote.length} candle file(s) from ${options.target.description} as exchange ${options.exchange}`);
  const supersededBy = supersededRenders(remote);
  await mapConcurrently(remote, options.concurrency ?? 4, async (file) => {
    const newer = supersededBy.get(file.key);
    if (newer !== undefined) {
      result.skipped.push({ key: file.key, reason: `superseded by ${newer}` });
      log(`skipped ${file.key}: superseded by ${newer}`);
      return;
    }
    try {
      const restored = await restoreFile(file, options);
      if ('skipped' in restored) {
        result.skipped.push({ key: file.key, reason: restored.skipped });
        // An unsafe name is quoted: it may hold control characters.
        log(restored.unsafe ? `warning: skipped ${JSON.stringify(file.key)}: ${restored.skipped}` : `skipped ${file.key}: ${restored.skipped}`);
        return;
      }
      result.rows += restored.rows;
      result.inserted += restored.inserted;
      if (restored.downloaded) result.downloaded += 1;
    } catch (err) {
      result.failed.push({ key: file.key, reason: errorMessage(err) });
      log(`failed ${file.key}: ${errorMessage(err)}`);
    }
  });
  result.skipped.sort((a, b) => a.key.localeCompare(b.key));
  result.failed.sort((a, b) => a.key.localeCompare(b.key));
  log(`restored ${result.rows} candle(s) (${result.inserted} new) from ${result.files - result.skipped.length - result.failed.length} file(s), ` +
    `${result.downloaded} downloaded, ${result.skipped.length} skipped, ${result.failed.length} failed`);
  return result;
}

const UNSAFE_NAME = 'unsafe name (".", ".." or empty parts, backslashes or control characters): not restored';

async function restoreFile(
  file: RemoteFile,
  options: RestoreCandlesOptions,
): Promise<{ rows: number; inserted: number; downloaded: boolean } | { skipped: string; unsafe?: true }> {
  let relativePath: string | undefined;
  try {
    relativePath = relativePathOfSharedKey(file.key);
  } catch {
    // Such a name would leave DATA_DIR or mean something else on disk. It is never restorable, so it is reported and
    // skipped, not failed: a failure would make every later restore exit 1 over a file no retry can bring back.
    return { skipped: UNSAFE_NAME, unsafe: true };
  }
  if (relativePath === undefined) return { skipped: 'not under data/' };
  const parsed = parseCandleFilePath(relativePath);
  if (!parsed.ok) return { skipped: parsed.reason };
  const localPath = await resolveInsideDataDir(options.dataDir, relativePath);
  const downloaded = !(await hasSameFile(localPath, file));
  if (downloaded) await options.target.download(file.key, localPath);
  // DATA_DIR keeps one file per series, as the download worker leaves it.
  await replaceEarlierRenders(options.dataDir, relativePath);
  const series: CandleSeries = { exchange: options.exchange, symbol: parsed.file.symbol, timeframe: parsed.file.timeframe };
  let rows = 0;
  let inserted = 0;
  for await (const candles of readCandleFile(localPath)) {
    assertValidCandles(series, candles);
    // insertCandles sends one statement per call; keep each to a page of a few thousand rows.
    for (let i = 0; i < candles.length; i += 5_000) {
      const page = candles.slice(i, i + 5_000);
      inserted += await insertCandles(options.db, series, page);
      rows += page.length;
    }
  }
  return { rows, inserted, downloaded };
}

/** Whether DATA_DIR already holds exactly the target's bytes. */
async function hasSameFile(localPath: string, remote: RemoteFile): Promise<boolean> {
  const info = await stat(localPath).catch(() => undefined);
  if (!info?.isFile() || info.size !== remote.size) return false;
  return (await contentHashOfFile(localPath)) === remote.contentHash;
}

/** Key -> the key of the newer render of the same series that supersedes it. */
function supersededRenders(remote: readonly RemoteFile[]): Map<string, string> {
  const keyOf = new Map<string, string>();
  for (const file of remote) {
    try {
      const relativePath = relativePathOfSharedKey(file.key);
      if (relativePath !== undefined) keyOf.set(relativePath, file.key);
    } catch {
      // Not a path under DATA_DIR: restoreFile skips it with its reason.
    }
  }
  const { superseded } = newestRenders([...keyOf.keys()]);
  return new Map(superseded.map((s) => [keyOf.get(s.relativePath)!, keyOf.get(s.by)!]));
}
