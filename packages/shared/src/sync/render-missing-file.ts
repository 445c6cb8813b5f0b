import { access } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { readCandles } from '../candles/candle-store.js';
import { PermanentError } from '../errors.js';
import type { FileSource, SyncFilePayload } from '../jobs.js';
import { candleFilePath } from '../parquet/candle-file-path.js';
import { writeCandlesParquet } from '../parquet/write-candles.js';
import type { Timeframe } from '../timeframes.js';
import { assertSafeRelativePath } from './remote-layout.js';

type Queryable = Pick<pg.Pool, 'query'>;

export interface LocalSyncFile {
  localPath: string;
  /** True when the file was not on this host's disk and was rendered from PostgreSQL. */
  rendered: boolean;
}

/**
 * A sync job may run on a host that does not share the download worker's disk. Then the file is rendered again from
 * PostgreSQL with the job's `source`: the same rows through the one Parquet writer give the same bytes.
 */
export async function localFileForSync(
  payload: Pick<SyncFilePayload, 'relativePath' | 'source'>,
  deps: { db: Queryable; dataDir: string },
): Promise<LocalSyncFile> {
  assertSafeRelativePath(payload.relativePath);
  const localPath = path.join(deps.dataDir, ...payload.relativePath.split('/'));
  if (await exists(localPath)) return { localPath, rendered: false };
  await renderFromSource(payload.source, payload.relativePath, localPath, deps.db);
  return { localPath, rendered: true };
}

async function renderFromSource(source: FileSource, relativePath: string, localPath: string, db: Queryable): Promise<void> {
  switch (source.kind) {
    case 'candles': {
      const series = { exchange: source.exchange, symbol: source.symbol, timeframe: source.timeframe as Timeframe };
      const candles = await readCandles(db, series, { start: source.startMs, end: source.endMs });
      const first = candles[0];
      const last = candles.at(-1);
      if (!first || !last) {
        throw new PermanentError(`cannot render ${relativePath}: PostgreSQL holds no ${source.exchange} ${source.symbol} ${source.timeframe} candles in its range`);
      }
      // Rows deleted since the file was written would render different bytes under another name; say so instead.
      const rendersAs = candleFilePath({ symbol: series.symbol, timeframe: series.timeframe, startMs: first.openTime, endMs: last.openTime });
      if (rendersAs !== relativePath) {
        throw new PermanentError(`cannot render ${relativePath}: PostgreSQL's candles in its range now render as ${rendersAs}`);
      }
      await writeCandlesParquet(localPath, candles);
      return;
    }
    case 'bars':
      // Flat-file bars have no renderer in packages/shared yet.
      throw new PermanentError(
        `cannot render ${relativePath}: it is not on this host's disk (DATA_DIR), and flat-file bars (${source.source} ${source.ticker}) ` +
          'cannot be rendered from PostgreSQL yet; run this sync worker with the download workers\' DATA_DIR',
      );
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
