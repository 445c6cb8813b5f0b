import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Candle, CandleSeries } from '../core/candle.js';
import { copyBinaryHeader, copyBinaryTrailer, encodeCandleRows } from './copy-binary-candles.js';
import { timeframeMs } from '../core/timeframes.js';
import type { Range, StoredIsland } from '../core/range.js';
import { CANDLES_TABLE, RENDER_PAGE_ROWS, seriesPages, seriesSpan, seriesSpansByMonth } from './series-rows.js';

/**
 * PostgreSQL I/O for candles. Inserts are conflict-safe on (exchange, symbol, timeframe, open_time), so a page
 * stored twice (a retried or repeated job) never duplicates a row.
 */
type Queryable = Pick<pg.Pool, 'query'>;

const toDate = (ms: number) => new Date(ms);

/** Stores one page; returns how many rows were new. */
export async function insertCandles(db: Queryable, series: CandleSeries, candles: readonly Candle[]): Promise<number> {
  if (candles.length === 0) return 0;
  // One statement per page, columns passed as arrays: a 1000-candle page is one round trip.
  const result = await db.query(
    `INSERT INTO candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume)
     SELECT $1, $2, $3, to_timestamp(t / 1000.0), o, h, l, c, v
     FROM unnest($4::bigint[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[]) AS x(t, o, h, l, c, v)
     ON CONFLICT (exchange, symbol, timeframe, open_time) DO NOTHING`,
    [
      series.exchange, series.symbol, series.timeframe,
      candles.map((c) => c.openTime), candles.map((c) => c.open), candles.map((c) => c.high),
      candles.map((c) => c.low), candles.map((c) => c.close), candles.map((c) => c.volume),
    ],
  );
  return result.rowCount ?? 0;
}

/** Runs of consecutive stored candles inside `range` (gaps-and-islands over the primary key index). */
export async function storedIslands(db: Queryable, series: CandleSeries, range: Range): Promise<StoredIsland[]> {
  const step = timeframeMs(series.timeframe);
  const { rows } = await db.query<{ first: string; last: string }>(
    `SELECT min(t) AS first, max(t) AS last FROM (
       SELECT t, t - (row_number() OVER (ORDER BY t)) * $6::bigint AS grp FROM (
         SELECT (extract(epoch FROM open_time) * 1000)::bigint AS t FROM candles
         WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= $4 AND open_time < $5
       ) times
     ) numbered GROUP BY grp ORDER BY first`,
    [series.exchange, series.symbol, series.timeframe, toDate(range.start), toDate(range.end), step],
  );
  return rows.map((r) => ({ first: Number(r.first), last: Number(r.last) }));
}

export async function countCandles(db: Queryable, series: CandleSeries, range: Range): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM candles
     WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= $4 AND open_time < $5`,
    [series.exchange, series.symbol, series.timeframe, toDate(range.start), toDate(range.end)],
  );
  return rows[0]?.n ?? 0;
}

/** Candles in `range`, ascending, all at once: for checks over short ranges. A file is rendered from readCandlePages. */
export async function readCandles(db: Queryable, series: CandleSeries, range: Range): Promise<Candle[]> {
  const { rows } = await db.query<{ t: string; open: number; high: number; low: number; close: number; volume: number }>(
    `SELECT (extract(epoch FROM open_time) * 1000)::bigint AS t, open, high, low, close, volume FROM candles
     WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= $4 AND open_time < $5
     ORDER BY open_time`,
    [series.exchange, series.symbol, series.timeframe, toDate(range.start), toDate(range.end)],
  );
  return rows.map((r) => ({ openTime: Number(r.t), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume }));
}

/** First and last open time and count of the candles in `range`, or undefined when there are none: a file's name needs both first. */
export function candleSpan(db: Queryable, series: CandleSeries, range: Range): Promise<{ first: number; last: number; count: number } | undefined> {
  return seriesSpan(db, CANDLES_TABLE, [series.exchange, series.symbol, series.timeframe], range);
}

/**
 * candleSpan of each UTC calendar month that has candles in `range`, ascending: which month files an intraday series
 * is made of. One pass in PostgreSQL; a row per month comes back, whatever the series' length.
 */
export function candleSpansByMonth(db: Queryable, series: CandleSeries, range: Range): Promise<Array<{ first: number; last: number; count: number }>> {
  return seriesSpansByMonth(db, CANDLES_TABLE, [series.exchange, series.symbol, series.timeframe], range);
}

/** The candles of readCandles a page at a time (keyset pages of RENDER_PAGE_ROWS): years of minute candles never sit in memory at once. */
export function readCandlePages(db: Queryable, series: CandleSeries, range: Range, pageRows = RENDER_PAGE_ROWS): AsyncGenerator<Candle[]> {
  return seriesPages(db, CANDLES_TABLE, [series.exchange, series.symbol, series.timeframe], range, pageRows);
}

/**
 * What is missing of a series in `window`: the window minus its stored candles and minus the exchange's known holes,
 * all in PostgreSQL (gaps-and-islands over the primary key index, then a multirange difference), so only the missing
 * ranges come back: nothing for a complete series, however long, and however many holes the exchange has in it.
 */
export async function missingCandleRanges(db: Queryable, series: CandleSeries, window: Range): Promise<Range[]> {
  if (window.end <= window.start) return [];
  const step = timeframeMs(series.timeframe);
  const { rows } = await db.query<{ s: string; e: string }>(
    `WITH islands AS (
       SELECT min(t) AS first, max(t) AS last FROM (
         SELECT t, t - (row_number() OVER (ORDER BY t)) * $6::bigint AS grp FROM (
           SELECT (extract(epoch FROM open_time) * 1000)::bigint AS t FROM candles
           WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= $4 AND open_time < $5
         ) times
       ) numbered GROUP BY grp
     ), covered AS (
       SELECT int8range(first, last + $6::bigint) AS r FROM islands
       UNION ALL
       SELECT int8range((extract(epoch FROM start_time) * 1000)::bigint, (extract(epoch FROM end_time) * 1000)::bigint)
       FROM exchange_gaps WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND end_time > $4 AND start_time < $5
     )
     SELECT lower(m) AS s, upper(m) AS e
     FROM unnest(int8multirange(int8range($7::bigint, $8::bigint)) - (SELECT coalesce(range_agg(r), '{}'::int8multirange) FROM covered)) AS m
     ORDER BY 1`,
    [series.exchange, series.symbol, series.timeframe, toDate(window.start), toDate(window.end), step, window.start, window.end],
  );
  return rows.map((r) => ({ start: Number(r.s), end: Number(r.e) }));
}

/** Candles the exchange can have in `range`: all of them minus its known holes (overlapping holes counted once). */
export async function expectedCandles(db: Queryable, series: CandleSeries, range: Range): Promise<number> {
  if (range.end <= range.start) return 0;
  const step = timeframeMs(series.timeframe);
  const { rows } = await db.query<{ ms: string }>(
    `SELECT coalesce(sum(upper(m) - lower(m)), 0) AS ms FROM unnest(
       int8multirange(int8range($6::bigint, $7::bigint)) * (
         SELECT coalesce(range_agg(int8range((extract(epoch FROM start_time) * 1000)::bigint, (extract(epoch FROM end_time) * 1000)::bigint)), '{}'::int8multirange)
         FROM exchange_gaps WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND end_time > $4 AND start_time < $5
       )
     ) AS m`,
    [series.exchange, series.symbol, series.timeframe, toDate(range.start), toDate(range.end), range.start, range.end],
  );
  return Math.max(0, Math.round((range.end - range.start) / step) - Math.round(Number(rows[0]?.ms ?? 0) / step));
}

/** Holes the exchange itself has, overlapping `range`. */
export async function knownExchangeGaps(db: Queryable, series: CandleSeries, range?: Range): Promise<Range[]> {
  const { rows } = await db.query<{ s: string; e: string }>(
    `SELECT (extract(epoch FROM start_time) * 1000)::bigint AS s, (extract(epoch FROM end_time) * 1000)::bigint AS e
     FROM exchange_gaps WHERE exchange = $1 AND symbol = $2 AND timeframe = $3
       AND ($4::timestamptz IS NULL OR end_time > $4) AND ($5::timestamptz IS NULL OR start_time < $5)
     ORDER BY start_time`,
    [series.exchange, series.symbol, series.timeframe, range ? toDate(range.start) : null, range ? toDate(range.end) : null],
  );
  return rows.map((r) => ({ start: Number(r.s), end: Number(r.e) }));
}

/** Remembers holes the exchange does not have candles for; recording one twice keeps the longer. */
export async function recordExchangeGaps(db: Queryable, series: CandleSeries, gaps: readonly Range[]): Promise<void> {
  if (gaps.length === 0) return;
  await db.query(
    `INSERT INTO exchange_gaps (exchange, symbol, timeframe, start_time, end_time)
     SELECT $1, $2, $3, to_timestamp(s / 1000.0), to_timestamp(e / 1000.0) FROM unnest($4::bigint[], $5::bigint[]) AS g(s, e)
     ON CONFLICT (exchange, symbol, timeframe, start_time) DO UPDATE SET end_time = greatest(exchange_gaps.end_time, excluded.end_time)`,
    [series.exchange, series.symbol, series.timeframe, gaps.map((g) => g.start), gaps.map((g) => g.end)],
  );
}

/**
 * Replaces every candle of `range` with `batches`, by binary COPY: the ingest of a whole archive file. Idempotent (the
 * range's rows are deleted first, so a repeated or re-published file leaves exactly its rows) and as fast as COPY
 * (nothing to check for conflicts). Runs on `client` inside the caller's transaction, so a file that fails half-way
 * leaves nothing behind. Returns the rows written.
 */
export async function replaceCandleRange(client: pg.PoolClient, series: CandleSeries, range: Range,
  batches: AsyncIterable<readonly Candle[]>): Promise<number> {
  await client.query(
    `DELETE FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= $4 AND open_time < $5`,
    [series.exchange, series.symbol, series.timeframe, toDate(range.start), toDate(range.end)],
  );
  let rows = 0;
  async function* encoded(): AsyncGenerator<Buffer> {
    yield copyBinaryHeader();
    for await (const candles of batches) {
      rows += candles.length;
      yield encodeCandleRows(series, candles);
    }
    yield copyBinaryTrailer();
  }
  const copy = client.query(copyFrom(
    'COPY candles (exchange, symbol, timeframe, open_time, open, high, low, close, volume) FROM STDIN (FORMAT binary)'));
  await pipeline(Readable.from(encoded()), copy);
  return rows;
}
