import type pg from 'pg';
import type { Candle } from '../core/candle.js';
import type { Range } from '../core/range.js';

/**
 * Reading a series' rows in time order, for the candle and bar stores alike: the span a file's name needs, and the
 * rows a page at a time (keyset on the time column, so each page is an index range scan and years of minute rows
 * never sit in memory at once).
 */
type Queryable = Pick<pg.Pool, 'query'>;

/** A series table: its name, its time column and the three columns that name a series, in order. Constants only. */
export interface SeriesTable {
  table: 'candles' | 'bars';
  time: 'open_time' | 'time';
  keys: readonly [string, string, string];
}

export const CANDLES_TABLE: SeriesTable = { table: 'candles', time: 'open_time', keys: ['exchange', 'symbol', 'timeframe'] };
export const BARS_TABLE: SeriesTable = { table: 'bars', time: 'time', keys: ['source', 'ticker', 'timeframe'] };

/**
 * Rows per keyset page of a render: about 2 MB of row objects. A worker renders up to its concurrency (20) of files at
 * once, so this times 20 is what renders hold; 50,000-row pages made that 300 MB.
 */
export const RENDER_PAGE_ROWS = 10_000;

type Row = { t: string; open: number; high: number; low: number; close: number; volume: number };

function where(t: SeriesTable): string {
  return `${t.keys[0]} = $1 AND ${t.keys[1]} = $2 AND ${t.keys[2]} = $3 AND ${t.time} >= $4 AND ${t.time} < $5`;
}

/** First and last row time and the count in `range`, or undefined when there is none. */
export async function seriesSpan(
  db: Queryable, t: SeriesTable, series: readonly [string, string, string], range: Range,
): Promise<{ first: number; last: number; count: number } | undefined> {
  const { rows } = await db.query<{ first: string | null; last: string | null; n: string }>(
    `SELECT (extract(epoch FROM min(${t.time})) * 1000)::bigint AS first, (extract(epoch FROM max(${t.time})) * 1000)::bigint AS last,
            count(*) AS n
     FROM ${t.table} WHERE ${where(t)}`,
    [...series, new Date(range.start), new Date(range.end)],
  );
  const r = rows[0];
  return r?.first == null || r.last == null ? undefined : { first: Number(r.first), last: Number(r.last), count: Number(r.n) };
}

/** seriesSpan of each UTC calendar month with rows in `range`, ascending; one pass in PostgreSQL, a row per month. */
export async function seriesSpansByMonth(
  db: Queryable, t: SeriesTable, series: readonly [string, string, string], range: Range,
): Promise<Array<{ first: number; last: number; count: number }>> {
  const { rows } = await db.query<{ first: string; last: string; n: string }>(
    `SELECT (extract(epoch FROM min(${t.time})) * 1000)::bigint AS first, (extract(epoch FROM max(${t.time})) * 1000)::bigint AS last,
            count(*) AS n
     FROM ${t.table} WHERE ${where(t)}
     GROUP BY date_trunc('month', ${t.time} AT TIME ZONE 'UTC') ORDER BY first`,
    [...series, new Date(range.start), new Date(range.end)],
  );
  return rows.map((r) => ({ first: Number(r.first), last: Number(r.last), count: Number(r.n) }));
}

export async function* seriesPages(
  db: Queryable, t: SeriesTable, series: readonly [string, string, string], range: Range, pageRows = RENDER_PAGE_ROWS,
): AsyncGenerator<Candle[]> {
  let from = range.start;
  for (;;) {
    const { rows } = await db.query<Row>(
      `SELECT (extract(epoch FROM ${t.time}) * 1000)::bigint AS t, open, high, low, close, volume FROM ${t.table}
       WHERE ${where(t)} ORDER BY ${t.time} LIMIT $6`,
      [...series, new Date(from), new Date(range.end), pageRows],
    );
    if (rows.length === 0) return;
    yield rows.map(rowToCandle);
    if (rows.length < pageRows) return;
    from = Number(rows.at(-1)!.t) + 1;
  }
}

export function rowToCandle(r: Row): Candle {
  return { openTime: Number(r.t), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume };
}
