import { access } from 'node:fs/promises';
import type pg from 'pg';
import type { Candle } from '../core/candle.js';
import { readCandles } from '../postgres/candle-store.js';
import { readBars } from '../postgres/bar-store.js';
import { PermanentError } from '../core/errors.js';
import type { FileSource, SyncFilePayload } from '../jobs/payloads.js';
import { candleFilePath } from './file-name.js';
import { writeCandlesParquet } from '../parquet/write-candles.js';
import type { Timeframe } from '../core/timeframes.js';
import { resolveInsideDataDir } from '../backup/path-inside-data-dir.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface LocalSyncFile {
  localPath: string;
  /** True when the file was not on this host's disk and was rendered from PostgreSQL. */
  rendered: boolean;
}

/**
 * A sync job may run on a host that does not share the download worker's disk. Then the file is rendered again from
 * PostgreSQL with the job's `source`: the same rows through the one Parquet writer give the same bytes. Either way the
 * file must resolve inside DATA_DIR (resolveInsideDataDir): a job may not upload or overwrite what a link points to.
 */
export async function localFileForSync(
  payload: Pick<SyncFilePayload, 'relativePath' | 'source'>,
  deps: { db: Queryable; dataDir: string },
): Promise<LocalSyncFile> {
  const localPath = await resolveInsideDataDir(deps.dataDir, payload.relativePath);
  if (await exists(localPath)) return { localPath, rendered: false };
  await renderFromSource(payload.source, payload.relativePath, localPath, deps.db);
  return { localPath, rendered: true };
}

async function renderFromSource(source: FileSource, relativePath: string, localPath: string, db: Queryable): Promise<void> {
  switch (source.kind) {
    case 'candles': {
      const series = { exchange: source.exchange, symbol: source.symbol, timeframe: source.timeframe as Timeframe };
      const candles = await readCandles(db, series, { start: source.startMs, end: source.endMs });
      await writeRendered(relativePath, localPath, candles, series, `${source.exchange} ${source.symbol} ${source.timeframe} candles`);
      return;
    }
    case 'bars': {
      const candles = await readBars(db, source, { start: source.startMs, end: source.endMs });
      await writeRendered(relativePath, localPath, candles, { symbol: source.ticker, timeframe: source.timeframe as Timeframe }, `${source.source} ${source.ticker} ${source.timeframe} bars`);
      return;
    }
  }
}

/** Writes the rows a file was made of, after checking they still render under its name. */
async function writeRendered(
  relativePath: string,
  localPath: string,
  candles: readonly Candle[],
  series: { symbol: string; timeframe: Timeframe },
  what: string,
): Promise<void> {
  const first = candles[0];
  const last = candles.at(-1);
  if (!first || !last) throw new PermanentError(`cannot render ${relativePath}: PostgreSQL holds no ${what} in its range`);
  // Rows deleted since the file was written would render different bytes under another name; say so instead.
  const rendersAs = candleFilePath({ ...series, startMs: first.openTime, endMs: last.openTime });
  if (rendersAs !== relativePath) {
    throw new PermanentError(`cannot render ${relativePath}: PostgreSQL's ${what} in its range now render as ${rendersAs}`);
  }
  await writeCandlesParquet(localPath, candles);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
