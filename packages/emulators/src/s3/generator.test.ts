import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BigObject } from './big-object.js';
import { bucketKeys, contentVariant, objectBody } from './bucket.js';
import {
  CSV_HEADER, DEFAULT_GENERATOR_SETTINGS, flatFileBody, flatFileCsv, flatFileKey, flatFileRows, parseFlatFileKey, publishedAt,
} from './generator.js';
import { decodeContinuationToken, listPage } from './listing.js';
import { decideRange } from './range.js';
import { defaultS3Settings } from './settings.js';
import { tickerUniverse, tickersOn } from './universe.js';

function parseCsv(text: string) {
  const [header, ...lines] = text.trimEnd().split('\n');
  return {
    header,
    rows: lines.map((line) => {
      const [ticker, volume, open, close, high, low, windowStart, transactions] = line.split(',');
      return {
        ticker: ticker!, volume: Number(volume), open: Number(open), close: Number(close), high: Number(high), low: Number(low),
        window_start: BigInt(windowStart!), transactions: Number(transactions),
      };
    }),
  };
}

describe('flat file keys', () => {
  it("follow Massive's layout", () => {
    expect(flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-03-07')).toBe('us_stocks_sip/day_aggs_v1/2024/03/2024-03-07.csv.gz');
    expect(parseFlatFileKey('global_crypto/minute_aggs_v1/2023/12/2023-12-31.csv.gz')).toEqual({ market: 'global_crypto', timeframe: 'minute_aggs_v1', date: '2023-12-31' });
    expect(parseFlatFileKey('global_crypto/minute_aggs_v1/2023/11/2023-12-31.csv.gz')).toBeUndefined(); // folder disagrees
    expect(parseFlatFileKey('global_crypto/minute_aggs_v1/2023/02/2023-02-30.csv.gz')).toBeUndefined();
    expect(parseFlatFileKey('us_stocks_sip/trades_v1/2024/03/2024-03-07.csv.gz')).toBeUndefined();
  });

  it('are published the next day around 11:00 New York time', () => {
    expect(publishedAt('2024-03-07').toISOString()).toBe('2024-03-08T16:00:00.000Z');
    expect(publishedAt('2024-07-05').toISOString()).toBe('2024-07-06T15:00:00.000Z');
  });

  it('exist for trading days of the range only, sorted as S3 lists them', () => {
    const keys = bucketKeys({ firstDate: '2024-03-28', lastDate: '2024-04-01', bigObjects: [{ key: 'extra/big.csv.gz', sizeBytes: 4096 }] });
    expect(keys).toEqual([
      'extra/big.csv.gz',
      ...['2024-03-28', '2024-03-29', '2024-03-30', '2024-03-31', '2024-04-01'].map((d) => flatFileKey('global_crypto', 'day_aggs_v1', d)),
      ...['2024-03-28', '2024-03-29', '2024-03-30', '2024-03-31', '2024-04-01'].map((d) => flatFileKey('global_crypto', 'minute_aggs_v1', d)),
      flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-03-28'),
      flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-04-01'),
      flatFileKey('us_stocks_sip', 'minute_aggs_v1', '2024-03-28'),
      flatFileKey('us_stocks_sip', 'minute_aggs_v1', '2024-04-01'),
    ]);
  });
});

describe('ticker universe', () => {
  it('starts with well-known names and fills up with synthetic ones', () => {
    expect(tickerUniverse('us_stocks_sip', 100).slice(0, 4).map((t) => t.ticker)).toEqual(['TSLA', 'AAPL', 'MSFT', 'NVDA']);
    expect(tickerUniverse('global_crypto', 2).map((t) => t.ticker)).toEqual(['X:BTCUSD', 'X:ETHUSD']);
    const names = tickerUniverse('us_stocks_sip', 300).map((t) => t.ticker);
    expect(new Set(names).size).toBe(300);
    expect(names).toContain('QAAA');
  });

  it('holds tickers spelled with lower-case letters, as Massive spells preferreds, next to upper-case ones', () => {
    const tickers = flatFileRows('us_stocks_sip', 'day_aggs_v1', '2024-03-07').map((r) => r.ticker);
    expect(tickers).toEqual(expect.arrayContaining(['ABRpD', 'TYp', 'ACHR.WS']));
    expect(tickers).not.toContain('ABRPD');
    expect(tickersOn('us_stocks_sip', 100, '2021-08-10').map((t) => t.ticker)).not.toContain('ABRpD');
  });

  it('lists tickers from their listing date to their delisting date', () => {
    const on = (date: string) => tickersOn('us_stocks_sip', 100, date).map((t) => t.ticker);
    expect(on('2021-11-09')).not.toContain('RIVN');
    expect(on('2021-11-10')).toContain('RIVN');
    expect(on('2022-06-08')).toEqual(expect.arrayContaining(['FB']));
    expect(on('2022-06-08')).not.toContain('META');
    expect(on('2022-06-09')).toContain('META');
    expect(on('2022-06-09')).not.toContain('FB');
    expect(on('2022-10-28')).not.toContain('TWTR');
    expect(on('2019-01-02').length).toBeLessThan(on('2024-12-31').length);
  });
});

describe('flat file contents', () => {
  it('are the rows, as CSV with the Massive header, sorted by ticker', () => {
    const rows = flatFileRows('us_stocks_sip', 'day_aggs_v1', '2024-03-07');
    const csv = parseCsv(flatFileCsv('us_stocks_sip', 'day_aggs_v1', '2024-03-07').toString());
    expect(csv.header).toBe(CSV_HEADER);
    expect(csv.rows).toEqual(rows);
    expect(rows.map((r) => r.ticker)).toEqual([...rows.map((r) => r.ticker)].sort());
    expect(rows).toHaveLength(tickersOn('us_stocks_sip', 100, '2024-03-07').length);
    const tsla = rows.find((r) => r.ticker === 'TSLA')!;
    // A stocks day bar starts at midnight New York time (EST on 2024-03-07), in nanoseconds.
    expect(tsla.window_start).toBe(1_709_787_600_000_000_000n);
  });

  it('are the same every time and differ between days and versions', () => {
    const body = flatFileBody({ market: 'global_crypto', timeframe: 'day_aggs_v1', date: '2024-01-05' });
    expect(flatFileBody({ market: 'global_crypto', timeframe: 'day_aggs_v1', date: '2024-01-05' })).toEqual(body);
    expect(flatFileBody({ market: 'global_crypto', timeframe: 'day_aggs_v1', date: '2024-01-06' })).not.toEqual(body);
    expect(flatFileRows('global_crypto', 'day_aggs_v1', '2024-01-05', DEFAULT_GENERATOR_SETTINGS, 1)).not.toEqual(flatFileRows('global_crypto', 'day_aggs_v1', '2024-01-05'));
  });

  it('hold consistent bars: low <= open, close <= high, positive volume and transactions', () => {
    for (const [market, timeframe] of [['us_stocks_sip', 'minute_aggs_v1'], ['global_crypto', 'day_aggs_v1'], ['global_crypto', 'minute_aggs_v1']] as const) {
      const rows = flatFileRows(market, timeframe, '2024-06-03');
      expect(rows.length).toBeGreaterThan(0);
      const broken = rows.filter((r) => !(r.low > 0 && r.low <= Math.min(r.open, r.close) && r.high >= Math.max(r.open, r.close)
        && r.volume > 0 && Number.isInteger(r.transactions) && r.transactions > 0));
      expect(broken).toEqual([]);
    }
  });

  it('write every number in plain decimal notation that parses back exactly', () => {
    const text = flatFileCsv('global_crypto', 'day_aggs_v1', '2024-03-07').toString();
    expect(text).not.toMatch(/e[-+]?\d/);
    expect(text).toContain('X:SHIBUSD,');
    expect(parseCsv(text).rows).toEqual(flatFileRows('global_crypto', 'day_aggs_v1', '2024-03-07'));
  });

  it('hold the first N minutes of the session per ticker in minute files', () => {
    const settings = { ...DEFAULT_GENERATOR_SETTINGS, stockTickers: 4, minuteBarsPerTicker: 3 };
    const rows = flatFileRows('us_stocks_sip', 'minute_aggs_v1', '2024-07-08', settings);
    expect(rows.map((r) => `${r.ticker}@${new Date(Number(r.window_start / 1_000_000n)).toISOString().slice(11, 16)}`)).toEqual([
      'AAPL@13:30', 'AAPL@13:31', 'AAPL@13:32', 'MSFT@13:30', 'MSFT@13:31', 'MSFT@13:32',
      'NVDA@13:30', 'NVDA@13:31', 'NVDA@13:32', 'TSLA@13:30', 'TSLA@13:31', 'TSLA@13:32',
    ]);
    const crypto = flatFileRows('global_crypto', 'minute_aggs_v1', '2024-07-08', { ...settings, cryptoTickers: 1 });
    expect(crypto.map((r) => r.window_start)).toEqual([0, 1, 2].map((m) => BigInt(Date.UTC(2024, 6, 8, 0, m)) * 1_000_000n));
  });

  it('is served only for keys the bucket has', () => {
    const settings = { ...defaultS3Settings('2024-12-31') };
    expect(objectBody(flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-03-29'), settings)).toBeUndefined(); // Good Friday
    expect(objectBody(flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-12-31'), settings)).toBeUndefined(); // not yet published
    expect(objectBody(flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-12-30'), settings)).toBeInstanceOf(Buffer);
  });
});

describe('content faults', () => {
  const id = { market: 'us_stocks_sip', timeframe: 'day_aggs_v1', date: '2024-03-07' } as const;
  const truth = flatFileCsv(id.market, id.timeframe, id.date).toString();

  it('select objects by key and carry their parameters', () => {
    const rules = [{ name: 'malformed-csv', pathIncludes: '2024-03-07', params: { line: 5 } }, { name: 'etag-change', pathIncludes: 'global_crypto' }];
    expect(contentVariant(flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-03-07'), rules)).toEqual({ variant: { version: 0, corruptGzip: false, malformedLine: 5 }, faults: ['malformed-csv'] });
    expect(contentVariant(flatFileKey('global_crypto', 'day_aggs_v1', '2024-03-08'), rules)).toEqual({ variant: { version: 1, corruptGzip: false }, faults: ['etag-change'] });
    expect(contentVariant('x', [{ name: 'slow-down' }])).toEqual({ variant: { version: 0, corruptGzip: false }, faults: [] });
  });

  it('malformed-csv breaks exactly the named line and keeps valid gzip', () => {
    const lines = gunzipSync(flatFileBody(id, DEFAULT_GENERATOR_SETTINGS, { version: 0, corruptGzip: false, malformedLine: 4 })).toString().split('\n');
    const expected = truth.split('\n');
    expect(lines.filter((l, i) => l !== expected[i])).toEqual([lines[3]]);
    expect(lines[3]).toMatch(/^[A-Za-z.]+,12x4,187\.1$/);
  });

  it('corrupt-gzip fails only when inflated', () => {
    const body = flatFileBody(id, DEFAULT_GENERATOR_SETTINGS, { version: 0, corruptGzip: true });
    expect(body.subarray(0, 3)).toEqual(Buffer.from([0x1f, 0x8b, 8]));
    expect(body.length).toBe(flatFileBody(id).length);
    expect(() => gunzipSync(body)).toThrow();
  });
});

describe('big objects', () => {
  it('are valid gzipped CSV of about the requested size, the same bytes in any slicing', () => {
    const big = new BigObject('bench/big.csv.gz', 300_000);
    expect(big.size).toBeLessThanOrEqual(300_000);
    expect(big.size).toBeGreaterThan(300_000 - 65 - 5);
    const whole = Buffer.concat([...big.bytes()]);
    expect(whole.length).toBe(big.size);
    const csv = gunzipSync(whole).toString();
    expect(csv.length).toBe(big.contentBytes);
    const parsed = parseCsv(csv);
    expect(parsed.header).toBe(CSV_HEADER);
    expect(parsed.rows).toHaveLength(big.rows);
    expect(parsed.rows[0]).toMatchObject({ ticker: 'AAPL', window_start: 1_577_836_800_000_000_000n });
    expect(parsed.rows.filter((r) => !(r.low <= Math.min(r.open, r.close) && r.high >= Math.max(r.open, r.close)))).toEqual([]);
    for (const [start, end] of [[0, 1], [5, 70_000], [65_540, 65_560], [big.size - 20, big.size], [123_456, 234_567]] as const) {
      const slice = Buffer.concat([...new BigObject('bench/big.csv.gz', 300_000).bytes(start, end)]);
      expect(slice.equals(whole.subarray(start, end)), `bytes ${start}-${end}`).toBe(true);
    }
  });

  it('carry a multipart-style ETag', () => {
    expect(new BigObject('bench/1gb.csv.gz', 1_000_000_000).etag).toMatch(/^"[0-9a-f]{32}-120"$/);
  });
});

describe('ListObjectsV2 paging', () => {
  const keys = ['a/1', 'a/2', 'b/x/1', 'b/x/2', 'b/y/1', 'c'];

  it('pages with continuation tokens until done', () => {
    const first = listPage(keys, { prefix: '', delimiter: '', maxKeys: 4, startAfter: '' })!;
    expect(first).toMatchObject({ keys: ['a/1', 'a/2', 'b/x/1', 'b/x/2'], isTruncated: true });
    expect(decodeContinuationToken(first.nextContinuationToken!)).toBe('b/x/2');
    const second = listPage(keys, { prefix: '', delimiter: '', maxKeys: 4, startAfter: '', continuationToken: first.nextContinuationToken })!;
    expect(second).toEqual({ keys: ['b/y/1', 'c'], commonPrefixes: [], isTruncated: false });
  });

  it('rolls keys up to common prefixes that count toward max-keys', () => {
    expect(listPage(keys, { prefix: 'b/', delimiter: '/', maxKeys: 1000, startAfter: '' })).toEqual({ keys: [], commonPrefixes: ['b/x/', 'b/y/'], isTruncated: false });
    const first = listPage(keys, { prefix: '', delimiter: '/', maxKeys: 2, startAfter: '' })!;
    expect(first).toMatchObject({ keys: [], commonPrefixes: ['a/', 'b/'], isTruncated: true });
    expect(listPage(keys, { prefix: '', delimiter: '/', maxKeys: 2, startAfter: '', continuationToken: first.nextContinuationToken })).toEqual({ keys: ['c'], commonPrefixes: [], isTruncated: false });
  });

  it('starts after start-after and refuses foreign tokens', () => {
    expect(listPage(keys, { prefix: 'b/', delimiter: '', maxKeys: 1000, startAfter: 'b/x/1' })!.keys).toEqual(['b/x/2', 'b/y/1']);
    expect(listPage(keys, { prefix: '', delimiter: '', maxKeys: 1000, startAfter: '', continuationToken: 'bm9wZQ==' })).toBeUndefined();
  });
});

describe('Range header', () => {
  it('reads S3 ranges', () => {
    expect(decideRange(undefined, 100)).toEqual({ kind: 'whole' });
    expect(decideRange('bytes=10-19', 100)).toEqual({ kind: 'partial', start: 10, end: 19 });
    expect(decideRange('bytes=90-', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(decideRange('bytes=90-500', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(decideRange('bytes=-10', 100)).toEqual({ kind: 'partial', start: 90, end: 99 });
    expect(decideRange('bytes=100-', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=-0', 100)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=0-1,5-6', 100)).toEqual({ kind: 'whole' });
    expect(decideRange('items=0-1', 100)).toEqual({ kind: 'whole' });
  });
});
