import { describe, expect, it } from 'vitest';
import { PermanentError } from '../core/errors.js';
import type { Timeframe } from '../core/timeframes.js';
import { candleFileName, candleFileNamePrefix, candleFilePath, candleSeriesDirectory } from './file-name.js';

const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`);

describe('candleFilePath', () => {
  it('puts a pair in its base asset directory, dated by the first and the last candle (both inclusive)', () => {
    // Three years of daily candles: 1096 candles, the last one opening on 2025-11-11.
    const spec = { symbol: 'BTC/USDT', timeframe: '1d', startMs: day('2022-11-12'), endMs: day('2025-11-11') } as const;
    expect(candleFileName(spec)).toBe('BTC-USDT_1d_20221112_20251111.parquet');
    expect(candleFilePath(spec)).toBe('candles/BTC/BTC-USDT_1d_20221112_20251111.parquet');
  });

  it('dates intraday candles by their UTC day, whatever the hour', () => {
    const spec = {
      symbol: 'ETH/BTC',
      timeframe: '1h',
      startMs: Date.parse('2024-02-29T23:00:00Z'),
      endMs: Date.parse('2024-03-01T00:00:00Z'),
    } as const;
    expect(candleFilePath(spec)).toBe('candles/ETH/ETH-BTC_1h_20240229_20240301.parquet');
  });

  it('names a single-candle file by the same day twice', () => {
    expect(candleFileName({ symbol: 'SOL/USDT', timeframe: '4h', startMs: 0, endMs: 0 })).toBe('SOL-USDT_4h_19700101_19700101.parquet');
  });

  it('keeps the settle currency of a ccxt derivative symbol in the name', () => {
    const spec = { symbol: 'BTC/USDT:USDT', timeframe: '1d', startMs: day('2025-01-01'), endMs: day('2025-01-31') } as const;
    expect(candleFilePath(spec)).toBe('candles/BTC/BTC-USDT-USDT_1d_20250101_20250131.parquet');
  });

  it('gives a stock ticker its own directory', () => {
    const spec = { symbol: 'TSLA', timeframe: '1d', startMs: day('2020-11-02'), endMs: day('2025-11-01') } as const;
    expect(candleFilePath(spec)).toBe('candles/TSLA/TSLA_1d_20201102_20251101.parquet');
    expect(candleFilePath({ ...spec, symbol: 'BRK.B' })).toBe('candles/BRK.B/BRK.B_1d_20201102_20251101.parquet');
  });

  it('keeps the market prefix of a flat-file ticker, with "-" for ":"', () => {
    const spec = { symbol: 'X:BTCUSD', timeframe: '1m', startMs: day('2025-01-01'), endMs: day('2025-01-02') } as const;
    expect(candleFilePath(spec)).toBe('candles/X-BTCUSD/X-BTCUSD_1m_20250101_20250102.parquet');
    expect(candleSeriesDirectory('C:EURUSD')).toBe('candles/C-EURUSD');
  });

  it('gives every file of a series the same directory and name prefix, whatever its dates', () => {
    expect(candleSeriesDirectory('BTC/USDT')).toBe('candles/BTC');
    expect(candleFileNamePrefix({ symbol: 'BTC/USDT', timeframe: '1d' })).toBe('BTC-USDT_1d_');
    expect(candleFileName({ symbol: 'BTC/USDT', timeframe: '1d', startMs: 0, endMs: day('2001-01-01') })).toMatch(/^BTC-USDT_1d_/);
    // The "_" after the stem keeps the perpetual's files apart from the spot pair's.
    expect(candleFileNamePrefix({ symbol: 'BTC/USDT:USDT', timeframe: '1d' })).toBe('BTC-USDT-USDT_1d_');
  });
});

describe('candleFilePath rejects what cannot safely name a file', () => {
  const valid = { symbol: 'BTC/USDT', timeframe: '1d' as Timeframe, startMs: day('2024-01-01'), endMs: day('2024-12-31') };

  it.each([
    ['path traversal', '../etc'],
    ['a traversal part', 'BTC/..'],
    ['a leading dot', '.hidden'],
    ['a backslash', 'BTC\\USDT'],
    ['a space', 'BTC USDT'],
    ['an underscore, which separates the name fields', 'BTC_X/USDT'],
    ['an empty part', 'BTC/'],
    ['the empty string', ''],
    ['two slashes', 'A/B/C'],
    ['two colons', 'X:Y:Z'],
    ['a colon before the slash', 'X:BTC/USD'],
    ['a NUL byte', 'BTC\u0000/USDT'],
    ['non-ASCII letters', 'BTC/USDТ'],
    ['a very long symbol', `${'A'.repeat(61)}/USDT`],
  ])('a symbol with %s', (_name, symbol) => {
    expect(() => candleFilePath({ ...valid, symbol })).toThrow(PermanentError);
    expect(() => candleFilePath({ ...valid, symbol })).toThrow(`symbol ${JSON.stringify(symbol)} cannot name a file`);
  });

  it('an unknown timeframe', () => {
    expect(() => candleFilePath({ ...valid, timeframe: '1w/../x' as Timeframe })).toThrow('timeframe "1w/../x" is not a known timeframe');
  });

  it.each([
    ['startMs', { startMs: 1.5 }],
    ['startMs', { startMs: Number.NaN }],
    ['startMs', { startMs: -86_400_000 }],
    ['endMs', { endMs: Date.parse('+010000-01-01T00:00:00Z') }],
  ])('a %s that is not an open time', (field, change) => {
    expect(() => candleFilePath({ ...valid, ...change })).toThrow(new RegExp(`^${field} .* is not an open time`));
  });

  it('an end before the start', () => {
    expect(() => candleFilePath({ ...valid, startMs: valid.endMs, endMs: valid.startMs })).toThrow(
      `endMs ${valid.startMs} is before startMs ${valid.endMs}`,
    );
  });
});
