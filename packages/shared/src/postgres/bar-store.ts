import type pg from 'pg';
import { inTransaction } from './pool.js';
import { BARS_TABLE, RENDER_PAGE_ROWS, rowToCandle, seriesPages, seriesSpan, seriesSpansByMonth } from './series-rows.js';
import type { Candle } from '../core/candle.js';
import type { Range } from '../core/range.js';
import type { IngestedFile, ListedFile } from '../preload/plan.js';

/**
 * PostgreSQL I/O for flat-file bars. A file is ingested in one transaction: its rows for the requested tickers and
 * its `ingested_files` record commit together or not at all, so an interrupted or failed file leaves nothing behind.
 */
type Queryable = Pick<pg.Pool, 'query'>;

/** A flat-file row: the one candle shape plus the ticker and the trade count the files carry. */
export interface Bar extends Candle {
  ticker: string;
  transactions: number | null;
}

/** Which bars: market (`us_stocks_sip`, `global_crypto`), ticker and timeframe (`1d`, `1m`). */
export interface BarSeries {
  source: string;
  ticker: string;
  timeframe: string;
}

export interface IngestResult {
  /** Rows of the requested tickers read from the file. */
  rows: number;
  /** Rows that were new or changed in PostgreSQL. */
  written: number;
  /**
   * Whether another version (ETag) of the file was ingested before this one: a re-published file, whose bars may now
   * hold other values under the same span and count.
   */
  replacesVersion: boolean;
}

/**
 * Stores every batch and records the file as ingested for `tickers`, atomically. A re-published file (new ETag)
 * overwrites its bars' values: the latest version upstream wins; the same values are left alone. A file of at most
 * one batch (a day file: a row per ticker) is one statement, its own transaction; a bigger one is a transaction of
 * one statement per batch.
 */
export async function ingestFlatFile(
  db: pg.Pool,
  file: IngestedFileSpec,
  batches: AsyncIterable<readonly Bar[]>,
): Promise<IngestResult> {
  const iterator = batches[Symbol.asyncIterator]();
  const first = await iterator.next();
  const second = first.done ? first : await iterator.next();
  if (second.done) {
    const bars = first.done ? [] : first.value;
    const stored = await storeBars(db, file, bars, true);
    return { rows: bars.length, ...stored };
  }
  return inTransaction(db, async (client) => {
    let rows = 0;
    let written = 0;
    for (let batch = first; !batch.done; batch = batch === first ? second : await iterator.next()) {
      rows += batch.value.length;
      written += (await storeBars(client, file, batch.value, false)).written;
    }
    const { replacesVersion } = await storeBars(client, file, [], true);
    return { rows, written, replacesVersion };
  });
}

export interface IngestedFileSpec extends ListedFile {
  source: string;
  timeframe: string;
  tickers: readonly string[];
  /**
   * Requested tickers the file holds only in another case (`abrpd` when it has `ABRpD`), filled while the batches are
   * read and so read when the file is recorded, after the last one. They are not recorded as taken from the file: the
   * next request for them reads it again and can name the spelling again, instead of skipping it and finding nothing.
   */
  caseOnlyMatches?: ReadonlyMap<string, unknown>;
}

/**
 * One statement: upserts `bars` and, with `record`, records the file as ingested (its tickers merged with earlier
 * ingests of the same version). Returns how many bars were new or changed, and whether another version of the file was
 * ingested before.
 */
async function storeBars(db: Queryable, file: IngestedFileSpec, bars: readonly Bar[], record: boolean): Promise<Omit<IngestResult, 'rows'>> {
  const { rows } = await db.query<{ written: number; replaces_version: boolean }>({
    // Named: each connection parses and plans it once, not once a file (it runs for every flat file).
    name: 'store-flat-file-bars',
    text: `WITH stored AS (
       INSERT INTO bars (source, ticker, timeframe, time, open, high, low, close, volume, transactions)
       SELECT $1, k, $2, to_timestamp(t / 1000.0), o, h, l, c, v, n
       FROM unnest($3::text[], $4::bigint[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::bigint[])
         AS x(k, t, o, h, l, c, v, n)
       ON CONFLICT (source, ticker, timeframe, time) DO UPDATE SET
         open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
         volume = EXCLUDED.volume, transactions = EXCLUDED.transactions
       WHERE (bars.open, bars.high, bars.low, bars.close, bars.volume, bars.transactions)
         IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume, EXCLUDED.transactions)
       RETURNING 1
     ), recorded AS (
       INSERT INTO ingested_files (key, etag, size, tickers) SELECT $11, $12, $13, $14 WHERE $15
       ON CONFLICT (key, etag) DO UPDATE SET
         tickers = ARRAY(SELECT DISTINCT t FROM unnest(ingested_files.tickers || EXCLUDED.tickers) AS t ORDER BY t),
         ingested_at = now()
     )
     SELECT (SELECT count(*)::int FROM stored) AS written,
       EXISTS (SELECT 1 FROM ingested_files WHERE key = $11 AND etag <> $12) AS replaces_version`,
    values: [
      file.source, file.timeframe,
      bars.map((b) => b.ticker), bars.map((b) => b.openTime), bars.map((b) => b.open), bars.map((b) => b.high),
      bars.map((b) => b.low), bars.map((b) => b.close), bars.map((b) => b.volume), bars.map((b) => b.transactions),
      file.key, file.etag, file.size, file.tickers.filter((t) => !file.caseOnlyMatches?.has(t)).sort(), record,
    ],
  });
  return { written: rows[0]?.written ?? 0, replacesVersion: rows[0]?.replaces_version ?? false };
}

/** What was already ingested of these keys, every version, with the tickers taken from each. */
export async function ingestedFiles(db: Queryable, keys: readonly string[]): Promise<IngestedFile[]> {
  if (keys.length === 0) return [];
  const { rows } = await db.query<IngestedFile>(
    'SELECT key, etag, tickers FROM ingested_files WHERE key = ANY($1::text[])',
    [keys],
  );
  return rows;
}

/** Bars of one series in `range` (epoch ms, end exclusive), ascending, as candles: what a Parquet file is made of. */
export async function readBars(db: Queryable, series: BarSeries, range: Range): Promise<Candle[]> {
  const { rows } = await db.query<{ t: string; open: number; high: number; low: number; close: number; volume: number }>(
    `SELECT (extract(epoch FROM time) * 1000)::bigint AS t, open, high, low, close, volume FROM bars
     WHERE source = $1 AND ticker = $2 AND timeframe = $3 AND time >= $4 AND time < $5
     ORDER BY time`,
    [series.source, series.ticker, series.timeframe, new Date(range.start), new Date(range.end)],
  );
  return rows.map(rowToCandle);
}

/** First and last bar time of a series in `range`, or undefined when it has none: a file's name needs both first. */
export function barSpan(db: Queryable, series: BarSeries, range: Range): Promise<{ first: number; last: number; count: number } | undefined> {
  return seriesSpan(db, BARS_TABLE, [series.source, series.ticker, series.timeframe], range);
}

/** barSpan of each UTC calendar month that has bars in `range`, ascending: which month files a series of minute bars is made of. */
export function barSpansByMonth(db: Queryable, series: BarSeries, range: Range): Promise<Array<{ first: number; last: number; count: number }>> {
  return seriesSpansByMonth(db, BARS_TABLE, [series.source, series.ticker, series.timeframe], range);
}

/** The same bars as readBars, a page at a time, so years of minute bars never sit in memory at once. */
export function readBarPages(db: Queryable, series: BarSeries, range: Range, pageRows = RENDER_PAGE_ROWS): AsyncGenerator<Candle[]> {
  return seriesPages(db, BARS_TABLE, [series.source, series.ticker, series.timeframe], range, pageRows);
}
