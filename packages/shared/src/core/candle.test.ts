import { describe, expect, it } from 'vitest';
import { assertValidCandles, type Candle } from './candle.js';
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
