import { describe, expect, it } from 'vitest';
import { alignOffGridCandles, assertValidCandles, type Candle } from './candle.js';
import { DataValidationError } from './errors.js';

const series = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
const H = 3_600_000;
const good = (openTime: number): Candle => ({ openTime, open: 10, high: 12, low: 9, close: 11, volume: 5 });

describe('assertValidCandles', () => {
  it('accepts aligned, ascending, sane candles', () => {
    expect(() => assertValidCandles(series, [good(0), good(H), good(3 * H)])).not.toThrow();
  });

  it.each([
    ['high below the body', { ...good(H), high: 10.5 }, 'high is below max(open, close)'],
    ['low above the body', { ...good(H), low: 10.5 }, 'low is above min(open, close)'],
    ['negative volume', { ...good(H), volume: -1 }, 'volume is negative'],
    ['misaligned', good(H + 1), 'open time is not aligned'],
    ['NaN', { ...good(H), close: Number.NaN }, 'not a finite number'],
  ])('rejects %s, naming the coin and the candle', (_name, bad, reason) => {
    let error: unknown;
    try {
      assertValidCandles(series, [good(0), bad]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as Error).message).toContain(`binance BTC/USDT 1h candle at ${new Date(bad.openTime).toISOString()}`);
    expect((error as Error).message).toContain(reason);
  });

  it('rejects repeated or descending open times', () => {
    expect(() => assertValidCandles(series, [good(H), good(H)])).toThrow(/strictly ascending/);
    expect(() => assertValidCandles(series, [good(2 * H), good(H)])).toThrow(/strictly ascending/);
  });
});

describe('alignOffGridCandles', () => {
  // Binance's BTCUSDT 1h candle of 2018-02-09 09:00 opens at 09:28:14.789 (binance-public-data #77).
  const slot = Date.UTC(2018, 1, 9, 9);
  const offGrid = 1518168494789;

  it('stores an off-grid candle at the free grid slot it falls in, values unchanged, and reports it', () => {
    const { candles, offGrid: anomalies } = alignOffGridCandles(series, [good(slot - H), good(offGrid), good(slot + H)]);
    expect(candles.map((c) => c.openTime)).toEqual([slot - H, slot, slot + H]);
    expect(candles[1]).toEqual({ ...good(offGrid), openTime: slot });
    expect(anomalies).toEqual([{ exchangeOpenTime: offGrid, storedAt: slot }]);
    expect(() => assertValidCandles(series, candles)).not.toThrow();
  });

  it('passes a page on the grid untouched', () => {
    expect(alignOffGridCandles(series, [good(0), good(H)])).toEqual({ candles: [good(0), good(H)], offGrid: [] });
  });

  it('refuses an off-grid candle whose slot already holds a candle of the page', () => {
    expect(() => alignOffGridCandles(series, [good(slot), good(offGrid), good(slot + H)]))
      .toThrow(/BTC\/USDT 1h candle at 2018-02-09T09:28:14.789Z .*off the 3600000 ms grid and its slot 2018-02-09T09:00:00.000Z already holds a candle/);
    expect(() => alignOffGridCandles(series, [good(offGrid), good(offGrid + 1)])).toThrow(DataValidationError);
  });
});

describe('zero-volume candles', () => {
  it('are valid: Binance creates them for intervals in which nothing traded', () => {
    expect(() => assertValidCandles(series, [{ openTime: 0, open: 10, high: 10, low: 10, close: 10, volume: 0 }])).not.toThrow();
  });
});
