import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Candle, CandleSeries } from '../core/candle.js';
import { expectedCandleCount, planMissingRanges } from '../collect/plan.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.js';
import { expectedCandles, insertCandles, knownExchangeGaps, missingCandleRanges, recordExchangeGaps, storedIslands } from './candle-store.js';

const M = 60_000;
const T0 = Date.UTC(2025, 0, 1);
const series: CandleSeries = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' };
const candle = (i: number): Candle => ({ openTime: T0 + i * M, open: 1, high: 2, low: 0.5, close: 1.5, volume: 3 });

describe('planning in PostgreSQL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    // 0..999 stored except 100..149 (missing), 300..309 and 600..619 (the exchange's own holes, one of them recorded twice overlapping).
    const missing = (i: number) => (i >= 100 && i < 150) || (i >= 300 && i < 310) || (i >= 600 && i < 620);
    await insertCandles(db.pool, series, Array.from({ length: 1000 }, (_, i) => i).filter((i) => !missing(i)).map(candle));
    await recordExchangeGaps(db.pool, series, [
      { start: T0 + 300 * M, end: T0 + 310 * M }, { start: T0 + 600 * M, end: T0 + 615 * M }, { start: T0 + 605 * M, end: T0 + 620 * M },
    ]);
  });
  afterAll(async () => db.drop());

  it.each([
    ['the whole series and beyond', { start: T0 - 10 * M, end: T0 + 1010 * M }],
    ['a window starting inside a hole', { start: T0 + 120 * M, end: T0 + 700 * M }],
    ['a window inside one island', { start: T0 + 10 * M, end: T0 + 20 * M }],
    ['an empty window', { start: T0, end: T0 }],
  ])('returns only the missing ranges of %s, as the pure plan over islands and gaps does', async (_name, window) => {
    const pure = planMissingRanges({
      mode: 'backward', range: window, stepMs: M, stored: await storedIslands(db.pool, series, window), knownGaps: await knownExchangeGaps(db.pool, series, window),
    });
    expect(await missingCandleRanges(db.pool, series, window)).toEqual(pure);
    expect(await expectedCandles(db.pool, series, window)).toBe(expectedCandleCount(window, await knownExchangeGaps(db.pool, series, window), M));
  });

  it('finds the missing candles and the exchange\'s holes apart', async () => {
    const all = { start: T0, end: T0 + 1000 * M };
    expect(await missingCandleRanges(db.pool, series, all)).toEqual([{ start: T0 + 100 * M, end: T0 + 150 * M }]);
    expect(await expectedCandles(db.pool, series, all)).toBe(1000 - 30);
  });
});
