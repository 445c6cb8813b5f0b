import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { barSpan, ingestFlatFile, readBarPages, readBars } from '@ferry/shared/postgres';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('flat-file tables', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());

  it('key bars by (source, ticker, timeframe, time) so a file ingested twice adds nothing', async () => {
    const insert = `INSERT INTO bars VALUES ('flatfiles','TSLA','1d','2024-01-02T05:00Z',1,2,0.5,1.5,10,7)
                    ON CONFLICT DO NOTHING`;
    await db.pool.query(insert);
    await db.pool.query(insert);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n, max(transactions)::int AS t FROM bars');
    expect(rows[0]).toEqual({ n: 1, t: 7 });
  });

  it('record ingested files by (key, etag): a changed ETag is a new row', async () => {
    const insert = `INSERT INTO ingested_files (key, etag, size, tickers) VALUES ($1, $2, 100, ARRAY['TSLA'])
                    ON CONFLICT DO NOTHING`;
    const key = 'us_stocks_sip/day_aggs_v1/2024/01/2024-01-02.csv.gz';
    await db.pool.query(insert, [key, 'aaa']);
    await db.pool.query(insert, [key, 'aaa']);
    await db.pool.query(insert, [key, 'bbb']);
    const { rows } = await db.pool.query('SELECT etag, tickers FROM ingested_files ORDER BY etag');
    expect(rows).toEqual([{ etag: 'aaa', tickers: ['TSLA'] }, { etag: 'bbb', tickers: ['TSLA'] }]);
  });

  it('read bars a page at a time, in order, exactly as a single read', async () => {
    const bars = Array.from({ length: 5 }, (_, i) => ({
      ticker: 'AAPL', openTime: Date.UTC(2024, 0, 2, 14, 30 + i), open: 10, high: 11, low: 9, close: 10.5, volume: 100 + i, transactions: i,
    }));
    await ingestFlatFile(db.pool, { key: 'k.csv.gz', etag: 'e', size: 1, source: 'us_stocks_sip', timeframe: '1m', tickers: ['AAPL'] },
      (async function* () { yield bars; })());
    const series = { source: 'us_stocks_sip', ticker: 'AAPL', timeframe: '1m' };
    const range = { start: Date.UTC(2024, 0, 2), end: Date.UTC(2024, 0, 3) };
    const pages = [];
    for await (const page of readBarPages(db.pool, series, range, 2)) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(await readBars(db.pool, series, range));
    expect(await barSpan(db.pool, series, range)).toEqual({ first: bars[0]!.openTime, last: bars[4]!.openTime, count: 5 });
    expect(await barSpan(db.pool, { ...series, ticker: 'MSFT' }, range)).toBeUndefined();
  });
});
