import { stat } from 'node:fs/promises';
import type pg from 'pg';
import { resolveInsideDataDir } from '../backup/path-inside-data-dir.js';
import { contentHashOfFile } from '../core/content-hash.js';
import { PermanentError } from '../core/errors.js';
import type { SyncFilePayload } from '../jobs/payloads.js';
import { assertSafeRelativePath } from '../backup/remote-layout.js';
import { filePeriodOf } from './file-periods.js';
import { compareRenders, parseSeriesRender, planRenderReplacement } from './renders.js';
import {
  currentRenderPath, describeSeries, localRendersBeside, renderSeriesFile, seriesOfSource, type SeriesFileFacts,
} from './render-series-file.js';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * What a sync-file job uploads. A sync job may run after its file was replaced by a newer render of the series (the
 * next collection ran first): then it is `superseded`, and neither uploads the stale file nor renders it again (the
 * newer render has its own job). A sync job may also run on a host that does not share the download worker's disk:
 * then the file is rendered from PostgreSQL with the job's `source`, and the same rows through the one Parquet writer
 * give the same bytes.
 */
export type LocalSyncFile =
  | {
    status: 'ready';
    localPath: string;
    /** True when the file was not on this host's disk and was rendered from PostgreSQL. */
    rendered: boolean;
    /** Size and content hash already known (from the payload or the render): the file is not hashed again. */
    facts?: SeriesFileFacts;
  }
  | { status: 'superseded'; supersededBy: string; reason: string };

export async function localFileForSync(
  payload: Pick<SyncFilePayload, 'relativePath' | 'source' | 'file'>,
  deps: { db: Queryable; dataDir: string },
): Promise<LocalSyncFile> {
  const { relativePath } = payload;
  assertSafeRelativePath(relativePath);
  // The file must resolve inside DATA_DIR: a job may not upload or overwrite what a link points to.
  const localPath = await resolveInsideDataDir(deps.dataDir, relativePath);
  const beside = await localRendersBeside(deps.dataDir, relativePath);
  const newerHere = planRenderReplacement(relativePath, beside).newest;
  if (newerHere !== relativePath) return superseded(relativePath, newerHere, 'on this disk');

  const info = await stat(localPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (info) {
    const known = payload.file;
    if (!known) return { status: 'ready', localPath, rendered: false };
    if (info.size === known.size && Math.trunc(info.mtimeMs) === known.mtimeMs) return { status: 'ready', localPath, rendered: false, facts: known };
    // Rewritten under the same name since the job was queued (same dates, other rows): only the hash can tell
    // whether these are still the job's bytes. If not, the rewrite queued its own job.
    const contentHash = await contentHashOfFile(localPath);
    if (contentHash !== known.contentHash) return superseded(relativePath, relativePath, 'rewritten with other bytes under the same name');
    return { status: 'ready', localPath, rendered: false, facts: { size: info.size, mtimeMs: Math.trunc(info.mtimeMs), contentHash } };
  }

  const series = seriesOfSource(payload.source);
  const what = describeSeries(series);
  if ((await currentRenderPath(deps.db, series, { start: payload.source.startMs, end: payload.source.endMs })) === undefined) {
    throw new PermanentError(`cannot render ${relativePath}: PostgreSQL holds no ${what} in its range`);
  }
  // The file's period (file-periods.ts): the whole series, or the month of its last row, which is its slot (renders.ts).
  const period = filePeriodOf(series.timeframe, payload.source.endMs - 1);
  const current = await currentRenderPath(deps.db, series, period);
  if (current !== relativePath) {
    const mine = parseSeriesRender(relativePath);
    const now = current === undefined ? undefined : parseSeriesRender(current);
    if (mine && now && now.slot === mine.slot && compareRenders(now, mine) < 0) return superseded(relativePath, now.relativePath, 'in PostgreSQL');
    // Rows deleted since the file was written would render different bytes under another name; say so instead.
    throw new PermanentError(`cannot render ${relativePath}: PostgreSQL's ${what} now render as ${current}`);
  }
  const rendered = await renderSeriesFile(series, deps, { period });
  if (!rendered || rendered.relativePath !== relativePath) {
    throw new PermanentError(`cannot render ${relativePath}: PostgreSQL's ${what} changed while it was rendered`);
  }
  if (rendered.supersededBy) return superseded(relativePath, rendered.supersededBy, 'on this disk');
  const { size, mtimeMs, contentHash } = rendered;
  return { status: 'ready', localPath, rendered: true, facts: { size, mtimeMs, contentHash } };
}

function superseded(relativePath: string, by: string, where: string): LocalSyncFile {
  const reason = by === relativePath
    ? `${relativePath} was ${where}; its new bytes have a sync job of their own`
    : `${relativePath} is superseded by ${by} ${where}; the newer render has a sync job of its own`;
  return { status: 'superseded', supersededBy: by, reason };
}
