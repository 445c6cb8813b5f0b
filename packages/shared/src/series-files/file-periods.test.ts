import { describe, expect, it } from 'vitest';
import { ALL_TIME, filePeriodOf, filesPerMonth, monthStart, nextMonthStart, planSeriesFiles, type PeriodSpan } from './file-periods.js';

const at = (iso: string): number => Date.parse(`${iso}Z`);

describe('filesPerMonth', () => {
  it('keeps intraday timeframes as month files and daily ones as one file', () => {
    expect(filesPerMonth('1m')).toBe(true);
    expect(filesPerMonth('12h')).toBe(true);
    expect(filesPerMonth('1d')).toBe(false);
  });
});

describe('filePeriodOf', () => {
  it('gives an intraday candle its UTC calendar month, leap days and year ends included', () => {
    expect(filePeriodOf('1m', at('2024-02-29T23:59:00'))).toEqual({ start: at('2024-02-01T00:00:00'), end: at('2024-03-01T00:00:00') });
    expect(filePeriodOf('1h', at('2025-12-31T23:00:00'))).toEqual({ start: at('2025-12-01T00:00:00'), end: at('2026-01-01T00:00:00') });
    expect(monthStart(at('2026-01-01T00:00:00'))).toBe(at('2026-01-01T00:00:00'));
    expect(nextMonthStart(at('2026-01-31T23:59:00'))).toBe(at('2026-02-01T00:00:00'));
  });

  it('gives a daily candle the whole series', () => {
    expect(filePeriodOf('1d', at('2024-02-29T00:00:00'))).toEqual(ALL_TIME);
  });
});

describe('planSeriesFiles', () => {
  // Three months of 1m candles: January and February closed, March open up to the 14th.
  const spans: PeriodSpan[] = [
    { first: at('2026-01-01T00:00:00'), last: at('2026-01-31T23:59:00'), count: 31 * 1440 },
    { first: at('2026-02-01T00:00:00'), last: at('2026-02-28T23:59:00'), count: 28 * 1440 },
    { first: at('2026-03-01T00:00:00'), last: at('2026-03-14T23:59:00'), count: 14 * 1440 },
  ];
  const names = ['BTC-USDT_1m_20260101_20260131', 'BTC-USDT_1m_20260201_20260228', 'BTC-USDT_1m_20260301_20260314'].map(
    (n) => `candles/BTC/${n}.parquet`,
  );
  const plan = (rowsOnDisk: Array<[string, number]>, s = spans) =>
    planSeriesFiles({ symbol: 'BTC/USDT', timeframe: '1m', spans: s, rowsOnDisk: new Map(rowsOnDisk) });

  it('names one file per month by its first and last candle, and renders them all the first time', () => {
    const files = plan([]);
    expect(files.map((f) => f.relativePath)).toEqual(names);
    expect(files.map((f) => f.action)).toEqual(['render', 'render', 'render']);
    expect(files.map((f) => f.latest)).toEqual([false, false, true]);
    expect(files[0]!.rows).toEqual({ start: at('2026-01-01T00:00:00'), end: at('2026-01-31T23:59:00') + 1 });
  });

  it('keeps the closed months a daily update does not touch, and renders the month it adds to', () => {
    const nextDay = [...spans.slice(0, 2), { first: at('2026-03-01T00:00:00'), last: at('2026-03-15T23:59:00'), count: 15 * 1440 }];
    const files = plan([[names[0]!, 31 * 1440], [names[1]!, 28 * 1440], [names[2]!, 14 * 1440]], nextDay);
    expect(files.map((f) => f.action)).toEqual(['keep', 'keep', 'render']);
    expect(files[2]!.relativePath).toBe('candles/BTC/BTC-USDT_1m_20260301_20260315.parquet');
  });

  it('renders a closed month again when a gap fill added rows inside it (same name, more rows)', () => {
    const files = plan([[names[0]!, 31 * 1440 - 3], [names[1]!, 28 * 1440], [names[2]!, 14 * 1440]]);
    expect(files.map((f) => f.action)).toEqual(['render', 'keep', 'keep']);
  });

  it('renders a month whose first candle moved earlier (a backward collection), whose name is new', () => {
    const earlier = [{ first: at('2025-12-31T00:00:00'), last: at('2025-12-31T23:59:00'), count: 1440 }, ...spans];
    expect(plan([[names[0]!, 31 * 1440]], earlier).map((f) => f.action)).toEqual(['render', 'keep', 'render', 'render']);
  });

  it('keeps a daily series as one file, kept when its rows did not change', () => {
    const daily = [{ first: at('2023-01-01T00:00:00'), last: at('2026-03-14T00:00:00'), count: 1169 }];
    const files = planSeriesFiles({ symbol: 'BTC/USDT', timeframe: '1d', spans: daily, rowsOnDisk: new Map([['candles/BTC/BTC-USDT_1d_20230101_20260314.parquet', 1169]]) });
    expect(files).toEqual([{
      relativePath: 'candles/BTC/BTC-USDT_1d_20230101_20260314.parquet', rows: { start: daily[0]!.first, end: daily[0]!.last + 1 }, count: 1169,
      action: 'keep', latest: true,
    }]);
  });

  it('plans nothing for a series with no rows', () => {
    expect(plan([], [])).toEqual([]);
  });
});
