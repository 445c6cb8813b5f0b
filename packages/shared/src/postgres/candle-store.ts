import type pg from 'pg';
import type { Candle, CandleSeries } from '../core/candle.js';
import { timeframeMs } from '../core/timeframes.js';
import type { Range, StoredIsland } from '../collect/plan.js';

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
export async function candleSpan(db: Queryable, series: CandleSeries, range: Range): Promise<{ first: number; last: number; count: number } | undefined> {
  const { rows } = await db.query<{ first: string | null; last: string | null; n: string }>(
    `SELECT (extract(epoch FROM min(open_time)) * 1000)::bigint AS first, (extract(epoch FROM max(open_time)) * 1000)::bigint AS last,
            count(*) AS n
     FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= $4 AND open_time < $5`,
    [series.exchange, series.symbol, series.timeframe, toDate(range.start), toDate(range.end)],
  );
  const r = rows[0];
  return r?.first == null || r.last == null ? undefined : { first: Number(r.first), last: Number(r.last), count: Number(r.n) };
}

/**
 * candleSpan of each UTC calendar month that has candles in `range`, ascending: which month files an intraday series
 * is made of. One index-only pass in PostgreSQL; a row per month comes back, whatever the series' length.
 */
export async function candleSpansByMonth(db: Queryable, series: CandleSeries, range: Range): Promise<Array<{ first: number; last: number; count: number }>> {
  const { rows } = await db.query<{ first: string; last: string; n: string }>(
    `SELECT (extract(epoch FROM min(open_time)) * 1000)::bigint AS first, (extract(epoch FROM max(open_time)) * 1000)::bigint AS last,
            count(*) AS n
     FROM candles WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= $4 AND open_time < $5
     GROUP BY date_trunc('month', open_time AT TIME ZONE 'UTC') ORDER BY first`,
    [series.exchange, series.symbol, series.timeframe, toDate(range.start), toDate(range.end)],
  );
  return rows.map((r) => ({ first: Number(r.first), last: Number(r.last), count: Number(r.n) }));
}

/**
 * Rows per keyset page of a render: about 2 MB of row objects. A worker renders up to its concurrency (20) of files at
 * once, so this times 20 is what renders hold; 50,000-row pages made that 300 MB.
 */
export const RENDER_PAGE_ROWS = 10_000;

/**
 * The candles of readCandles a page at a time (keyset on open_time, so each page is an index range scan): years of
 * minute candles never sit in memory at once.
 */
export async function* readCandlePages(db: Queryable, series: CandleSeries, range: Range, pageRows = RENDER_PAGE_ROWS): AsyncGenerator<Candle[]> {
  let from = range.start;
  for (;;) {
    const { rows } = await db.query<{ t: string; open: number; high: number; low: number; close: number; volume: number }>(
      `SELECT (extract(epoch FROM open_time) * 1000)::bigint AS t, open, high, low, close, volume FROM candles
       WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND open_time >= $4 AND open_time < $5
       ORDER BY open_time LIMIT $6`,
      [series.exchange, series.symbol, series.timeframe, toDate(from), toDate(range.end), pageRows],
    );
    if (rows.length === 0) return;
    yield rows.map((r) => ({ openTime: Number(r.t), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume }));
    if (rows.length < pageRows) return;
    from = Number(rows.at(-1)!.t) + 1;
  }
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
