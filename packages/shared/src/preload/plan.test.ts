import { describe, expect, it } from 'vitest';
import {
  dayOfKey, filesInRange, isSinglePartEtag, marketDayStartMs, marketRangeMs, planDateRange, planDownloads,
  planPrefixes, resolveTicker,
} from './plan.js';

describe('resolveTicker', () => {
  it('maps stock tickers to us_stocks_sip', () => {
    expect(resolveTicker('TSLA')).toEqual({ ticker: 'TSLA', market: 'us_stocks_sip' });
    expect(resolveTicker(' BRK.B ')).toEqual({ ticker: 'BRK.B', market: 'us_stocks_sip' });
  });
  it('keeps a stock ticker as given: the files spell preferreds and warrants with lower-case letters', () => {
    expect(resolveTicker('ABRpD')).toEqual({ ticker: 'ABRpD', market: 'us_stocks_sip' });
    expect(resolveTicker('TYp')).toEqual({ ticker: 'TYp', market: 'us_stocks_sip' });
    expect(resolveTicker('ACHR.WS')).toEqual({ ticker: 'ACHR.WS', market: 'us_stocks_sip' });
    expect(resolveTicker('tsla')).toEqual({ ticker: 'tsla', market: 'us_stocks_sip' });
  });
  it('maps both crypto spellings to global_crypto as X:BTCUSD, in any case', () => {
    expect(resolveTicker('BTC-USD')).toEqual({ ticker: 'X:BTCUSD', market: 'global_crypto' });
    expect(resolveTicker('btc-usd')).toEqual({ ticker: 'X:BTCUSD', market: 'global_crypto' });
    expect(resolveTicker('X:BTCUSD')).toEqual({ ticker: 'X:BTCUSD', market: 'global_crypto' });
    expect(resolveTicker('x:btcusd')).toEqual({ ticker: 'X:BTCUSD', market: 'global_crypto' });
  });
  it('rejects garbage naming the value', () => {
    expect(() => resolveTicker('not a ticker')).toThrow('ticker: "not a ticker"');
  });
});

describe('planDateRange', () => {
  const today = new Date('2025-11-02T15:00:00Z');
  it('defaults to 5 years for stocks, ending yesterday', () => {
    expect(planDateRange({ market: 'us_stocks_sip', today })).toEqual({ start: '2020-11-02', end: '2025-11-01' });
  });
  it('defaults to 2 years for crypto', () => {
    expect(planDateRange({ market: 'global_crypto', today })).toEqual({ start: '2023-11-02', end: '2025-11-01' });
  });
  it('lets --start/--end win over the period', () => {
    expect(planDateRange({ market: 'us_stocks_sip', today, period: '1y', start: '2024-01-01', end: '2024-03-31' }))
      .toEqual({ start: '2024-01-01', end: '2024-03-31' });
  });
  it('rejects bad periods, bad dates and inverted ranges', () => {
    expect(() => planDateRange({ market: 'us_stocks_sip', today, period: '5x' })).toThrow('period: "5x"');
    expect(() => planDateRange({ market: 'us_stocks_sip', today, start: '2024-02-30' })).toThrow('start: "2024-02-30"');
    expect(() => planDateRange({ market: 'us_stocks_sip', today, start: '2024-03-01', end: '2024-02-01' }))
      .toThrow('start: 2024-03-01 is after end 2024-02-01');
  });
});

describe('planPrefixes', () => {
  it('lists one prefix per year touched, across a year boundary', () => {
    expect(planPrefixes('us_stocks_sip', 'day_aggs_v1', { start: '2023-11-15', end: '2024-02-03' })).toEqual([
      'us_stocks_sip/day_aggs_v1/2023/', 'us_stocks_sip/day_aggs_v1/2024/',
    ]);
  });
  it('lists only the month when the range lies in one', () => {
    expect(planPrefixes('global_crypto', 'minute_aggs_v1', { start: '2024-02-01', end: '2024-02-29' }))
      .toEqual(['global_crypto/minute_aggs_v1/2024/02/']);
  });
});

describe('files, ids and skips', () => {
  const k = (d: string) => `us_stocks_sip/day_aggs_v1/${d.slice(0, 4)}/${d.slice(5, 7)}/${d}.csv.gz`;
  const etag = '"0123456789abcdef0123456789abcdef"';
  it('keeps only listed days inside the range, in key order', () => {
    const listed = ['2024-02-05', '2024-01-31', '2024-02-01'].map((d) => ({ key: k(d), etag, size: 1 }));
    expect(filesInRange(listed, { start: '2024-02-01', end: '2024-02-29' }).map((f) => dayOfKey(f.key)))
      .toEqual(['2024-02-01', '2024-02-05']);
  });
  it('skips files ingested with the same ETag for every ticker and refetches changed ones', () => {
    const a = { key: k('2024-02-01'), etag, size: 1 };
    const b = { key: k('2024-02-02'), etag, size: 1 };
    const plan = planDownloads([a, b], [
      { key: a.key, etag: '0123456789abcdef0123456789abcdef', tickers: ['TSLA'] },
      { key: b.key, etag: 'changed', tickers: ['TSLA'] },
    ], ['TSLA']);
    expect(plan.skipped).toEqual([a]);
    expect(plan.toDownload).toEqual([{ ...b, tickers: ['TSLA'] }]);
  });
  it('asks a file only for the tickers it still lacks, merging what several ingests took', () => {
    const a = { key: k('2024-02-01'), etag, size: 1 };
    const ingested = [
      { key: a.key, etag, tickers: ['TSLA'] },
      { key: a.key, etag, tickers: ['MSFT'] },
    ];
    expect(planDownloads([a], ingested, ['TSLA', 'AAPL', 'MSFT']).toDownload).toEqual([{ ...a, tickers: ['AAPL'] }]);
    expect(planDownloads([a], ingested, ['MSFT', 'TSLA']).skipped).toEqual([a]);
  });
  it('tells single-part ETags from multipart ones', () => {
    expect(isSinglePartEtag(etag)).toBe(true);
    expect(isSinglePartEtag('"0123456789abcdef0123456789abcdef-3"')).toBe(false);
  });
});

describe('marketRangeMs', () => {
  it('starts stock days at midnight New York, summer and winter', () => {
    expect(new Date(marketDayStartMs('us_stocks_sip', '2024-07-01')).toISOString()).toBe('2024-07-01T04:00:00.000Z');
    expect(new Date(marketDayStartMs('us_stocks_sip', '2024-01-02')).toISOString()).toBe('2024-01-02T05:00:00.000Z');
  });
  it('starts crypto days at midnight UTC and ends after the last day', () => {
    expect(marketRangeMs('global_crypto', { start: '2024-03-09', end: '2024-03-10' }))
      .toEqual({ start: Date.parse('2024-03-09T00:00:00Z'), end: Date.parse('2024-03-11T00:00:00Z') });
  });
  it('spans a daylight-saving change', () => {
    const r = marketRangeMs('us_stocks_sip', { start: '2024-03-08', end: '2024-03-10' });
    expect(new Date(r.start).toISOString()).toBe('2024-03-08T05:00:00.000Z');
    expect(new Date(r.end).toISOString()).toBe('2024-03-11T04:00:00.000Z');
  });
});
