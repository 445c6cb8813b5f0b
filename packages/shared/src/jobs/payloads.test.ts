import { describe, expect, it } from 'vitest';
import { InvalidPayloadError, parsePayload } from './payloads.js';
import { JobName } from './names.js';

const valid = {
  runId: '0b9d3f4e-8a3c-4f55-9d5e-1f2a3b4c5d6e',
  exchange: 'binance',
  symbol: 'BTC/USDT',
  timeframe: '1h',
  mode: 'backward',
  startMs: 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000),
  endMs: null,
};

describe('parsePayload', () => {
  it('accepts a well-formed collect-candles payload', () => {
    expect(parsePayload(JobName.CollectCandles, valid)).toEqual(valid);
  });

  it('names every bad field and rejects unknown ones', () => {
    const bad = { ...valid, timeframe: '7h', startMs: -1, extra: true };
    let error: unknown;
    try {
      parsePayload(JobName.CollectCandles, bad);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidPayloadError);
    const message = (error as Error).message;
    expect(message).toMatch(/^invalid collect-candles payload: /);
    expect(message).toContain('timeframe:');
    expect(message).toContain('startMs:');
    expect(message).toContain('extra');
  });

  it('rejects a sync path that escapes the data directory', () => {
    const source = { kind: 'candles', exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1d', startMs: 0, endMs: 1 };
    expect(() => parsePayload(JobName.SyncFile, { relativePath: '../etc/passwd', source })).toThrow(/relativePath/);
    expect(parsePayload(JobName.SyncFile, { relativePath: 'candles/BTC/x.parquet', source }).relativePath).toBe(
      'candles/BTC/x.parquet',
    );
  });

  it('accepts flat-file tickers spelled with lower-case letters, as the files spell them', () => {
    const file = {
      runId: valid.runId, bucket: 'flatfiles', key: 'us_stocks_sip/day_aggs_v1/2024/03/2024-03-07.csv.gz',
      etag: '0123456789abcdef0123456789abcdef', size: 10, market: 'us_stocks_sip', interval: '1d',
      tickers: ['ABRpD', 'TYp', 'ACHR.WS', 'X:BTCUSD'],
    };
    expect(parsePayload(JobName.DownloadFlatFile, file).tickers).toEqual(['ABRpD', 'TYp', 'ACHR.WS', 'X:BTCUSD']);
    const finish = { runId: valid.runId, interval: '1d', tickers: [{ ticker: 'ABRpD', market: 'us_stocks_sip', start: '2024-03-01', end: '2024-03-31' }] };
    expect(parsePayload(JobName.FinishPreload, finish).tickers[0]!.ticker).toBe('ABRpD');
    expect(() => parsePayload(JobName.DownloadFlatFile, { ...file, tickers: ['AB pD'] })).toThrow(/tickers\.0: expected a ticker/);
  });
});
