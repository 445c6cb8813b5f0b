import type { Range } from '../core/range.js';
import { timeframeMs, type Timeframe } from '../core/timeframes.js';
import { candleFilePath } from './file-name.js';

/**
 * Which rows each file of a series holds, decided purely (unit-tested).
 *  - Daily timeframes (1d): one file for the whole series, replaced by each update (a few thousand rows at most).
 *  - Intraday timeframes (below 1d): one file per UTC calendar month. A daily update then rewrites only the current
 *    month's small file; a closed month's file keeps its bytes, so neither the file nor its backup changes again.
 * A file is still named by its first and last candle's UTC dates (file-name.ts): a month file of 1m candles is
 * `BTC-USDT_1m_20260101_20260131.parquet`, the month still open `BTC-USDT_1m_20260201_20260214.parquet`.
 */

const DAY_MS = 86_400_000;

/** Open times before this are not stored; a range from 0 to it covers the whole series. */
export const ALL_TIME: Range = { start: 0, end: 253_402_300_800_000 };

/** Whether a timeframe's series is kept as one file per calendar month (intraday) rather than one file (daily). */
export function filesPerMonth(timeframe: Timeframe): boolean {
  return timeframeMs(timeframe) < DAY_MS;
}

/** 00:00 UTC on the first day of the month holding `ms`. */
export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** 00:00 UTC on the first day of the month after the one holding `ms`. */
export function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The open times the file holding a candle that opens at `openTime` covers: its month, or all time for daily series. */
export function filePeriodOf(timeframe: Timeframe, openTime: number): Range {
  return filesPerMonth(timeframe) ? { start: monthStart(openTime), end: nextMonthStart(openTime) } : ALL_TIME;
}

/** Whether `period` is exactly the period of one of the series' files (a whole month of an intraday series). */
export function isFilePeriod(timeframe: Timeframe, period: Range): boolean {
  const own = filePeriodOf(timeframe, period.start);
  return own.start === period.start && own.end === period.end;
}

/** What PostgreSQL holds of a series in one period (one row of a GROUP BY month, or the whole series). */
export interface PeriodSpan {
  /** Open time of the first and of the last row in the period. */
  first: number;
  last: number;
  count: number;
}

export interface SeriesFilesInput {
  symbol: string;
  timeframe: Timeframe;
  /** One span per period that has rows, ascending (for a daily series: one span, the whole series). */
  spans: readonly PeriodSpan[];
  /**
   * Row counts of the files already on disk, by relative path, for the paths the spans name (a missing path: no such
   * file). Read from the Parquet footers, so no file is read whole.
   */
  rowsOnDisk: ReadonlyMap<string, number>;
}

export interface PlannedSeriesFile {
  relativePath: string;
  /** The rows of the file: from its first to its last open time. */
  rows: Range;
  count: number;
  /**
   * `keep` when a file of exactly this name (same first and last candle) is on disk with as many rows: candles are
   * only ever inserted, never changed (ON CONFLICT DO NOTHING), so the same span and count are the same rows and the
   * file's bytes would come out the same. `render` otherwise: new, grown, or filled in.
   */
  action: 'render' | 'keep';
  /** The series' last period (the current month, or the whole daily series): the one an update keeps changing. */
  latest: boolean;
}

/** The files a series is made of now, and which of them need rendering. */
export function planSeriesFiles(input: SeriesFilesInput): PlannedSeriesFile[] {
  return input.spans.map((span, i) => {
    const relativePath = candleFilePath({ symbol: input.symbol, timeframe: input.timeframe, startMs: span.first, endMs: span.last });
    const unchanged = input.rowsOnDisk.get(relativePath) === span.count;
    return {
      relativePath,
      rows: { start: span.first, end: span.last + 1 },
      count: span.count,
      action: unchanged ? 'keep' : 'render',
      latest: i === input.spans.length - 1,
    };
  });
}
