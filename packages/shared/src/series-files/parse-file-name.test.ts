import { describe, expect, it } from 'vitest';
import { candleFilePath } from './file-name.js';
import { parseCandleFilePath } from './parse-file-name.js';

const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);

describe('parseCandleFilePath', () => {
  it.each([
    ['BTC/USDT', '1h'],
    ['BTC/USDT:USDT', '1d'],
    ['1000SHIB/USDT', '4h'],
    ['ETH/BTC', '1m'],
  ] as const)('reads back the series of %s %s from candleFilePath', (symbol, timeframe) => {
    const relativePath = candleFilePath({ symbol, timeframe, startMs: day('2024-01-01'), endMs: day('2024-03-01') });
    expect(parseCandleFilePath(relativePath)).toEqual({
      ok: true,
      file: { symbol, timeframe, firstDayMs: day('2024-01-01'), lastDayMs: day('2024-03-01') },
    });
  });

  it.each([
    ['candles/TSLA/TSLA_1d_20240101_20240301.parquet', 'not the file of an exchange pair'],
    ['candles/X-BTCUSD/X-BTCUSD_1m_20250101_20250102.parquet', 'not the file of an exchange pair'],
    ['candles/BTC/BTC-USDT_7h_20240101_20240301.parquet', 'unknown timeframe 7h'],
    ['candles/BTC/BTC-USDT_1h_20240231_20240301.parquet', 'bad dates in the name'],
    ['candles/BTC/BTC-A-B-C_1h_20240101_20240301.parquet', 'cannot tell the quote currency'],
    ['candles/BTC/BTC-USDT_1h_20240101_20240301.csv', 'not named like'],
    ['candles/BTC/notes.txt', 'not named like'],
  ])('refuses %s', (relativePath, reason) => {
    const parsed = parseCandleFilePath(relativePath);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain(reason);
  });
});
