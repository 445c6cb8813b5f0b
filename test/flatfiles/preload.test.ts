import path from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName } from '@ferry/shared/jobs';
import type { PreloadReport } from '../../services/producer/src/commands/preload.js';
import { flatFileKey, flatFileRows, S3Counter, S3Fault, tradingDays } from '@ferry/emulators/s3';
import { startFlatFileHarness, type FlatFileHarness } from '../support/flatfile-harness.js';

// `--period 5y --end 2025-10-31` starts on 2020-11-01: 1,256 trading days.
const START = '2020-11-01';
const END = '2025-10-31';
const DAYS = tradingDays('us_stocks_sip', START, END);

/** The emulator's truth for a ticker over the range, as PostgreSQL should hold it. */
function truth(ticker: string, days: readonly string[] = DAYS, versions: Record<string, number> = {}) {
  return days.flatMap((d) => flatFileRows('us_stocks_sip', 'day_aggs_v1', d, undefined, versions[d] ?? 0)
    .filter((r) => r.ticker === ticker)
    .map((r) => ({
      time: Number(r.window_start / 1_000_000n), open: r.open, high: r.high, low: r.low, close: r.close,
      volume: r.volume, transactions: r.transactions,
    })));
}

async function stored(h: FlatFileHarness, ticker: string) {
  const { rows } = await h.db.pool.query<{ t: string; open: number; high: number; low: number; close: number; volume: number; transactions: string }>(
    `SELECT (extract(epoch FROM time) * 1000)::bigint AS t, open, high, low, close, volume, transactions
     FROM bars WHERE source = 'us_stocks_sip' AND ticker = $1 AND timeframe = '1d' ORDER BY time`,
    [ticker],
  );
  return rows.map((r) => ({ time: Number(r.t), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume, transactions: Number(r.transactions) }));
}

const gets = (h: FlatFileHarness) => h.emulator!.control.counter(S3Counter.operation('get'));

describe('ferry preload TSLA --period 5y against the S3 emulator', () => {
  let h: FlatFileHarness;
  let first: PreloadReport;
  let firstRun: { code: number; stderr: string };

  beforeAll(async () => {
    h = await startFlatFileHarness();
    await h.startWorkers();
    const run = await h.ferry(['preload', 'TSLA', '--period', '5y', '--end', END, '--wait', '--json']);
    firstRun = run;
    expect(run.stderr).toContain('');
    first = JSON.parse(run.stdout) as PreloadReport;
  }, 180_000);
  afterAll(async () => h?.close());

  it('downloads one file per trading day, once, and exits 0', () => {
    expect(firstRun.code).toBe(0);
    expect(first).toMatchObject({ status: 'completed', files: DAYS.length, ingested: DAYS.length, skipped: 0, failed: 0, rows: DAYS.length });
    expect(gets(h)).toBe(DAYS.length);
    expect(h.emulator!.control.counter(S3Counter.getKey(flatFileKey('us_stocks_sip', 'day_aggs_v1', DAYS[0]!)))).toBe(1);
    // Market holidays have no file and are not gaps: 2024-07-04 is not asked for.
    expect(h.emulator!.control.counter(S3Counter.getKey(flatFileKey('us_stocks_sip', 'day_aggs_v1', '2024-07-04')))).toBe(0);
  });

  it('stores exactly the emulator rows for TSLA', async () => {
    expect(await stored(h, 'TSLA')).toEqual(truth('TSLA'));
  });

  it('prints progress in the agreed shape and ends with a summary', () => {
    expect(firstRun.stderr).toMatch(/\d+\/1256 files \(\d+\.\d%\) \| elapsed: [\d.]+s \| ETA: [\d.?s]+ \| resumed: 0 skipped/);
    expect(firstRun.stderr).toContain('1256/1256 files (100.0%)');
  });

  it('writes one Parquet file named after the first and last bar, equal to the rows, and chains its sync', async () => {
    expect(first.parquet).toHaveLength(1);
    const file = first.parquet[0]!;
    expect(file.path).toBe(`candles/TSLA/TSLA_1d_${DAYS[0]!.replaceAll('-', '')}_${DAYS.at(-1)!.replaceAll('-', '')}.parquet`);
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(path.join(h.dataDir, file.path)) });
    expect(rows.map((r) => ({ time: (r.timestamp as Date).getTime(), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume })))
      .toEqual(truth('TSLA').map(({ transactions: _t, ...rest }) => rest));
    expect(await h.jobCount(QueueName.Sync)).toBe(1);
  });

  it('a second ticker over the same range downloads nothing: the verified files come from the cache', async () => {
    const before = gets(h);
    const run = await h.ferry(['preload', 'AAPL', '--period', '5y', '--end', END, '--wait', '--json']);
    expect(run.code).toBe(0);
    expect(gets(h)).toBe(before);
    expect(await stored(h, 'AAPL')).toEqual(truth('AAPL'));
    expect((JSON.parse(run.stdout) as PreloadReport).parquet.map((p) => p.ticker)).toEqual(['AAPL']);
  }, 120_000);

  it('running the same preload again skips every file without a request', async () => {
    const before = gets(h);
    const run = await h.ferry(['preload', 'TSLA', 'AAPL', '--period', '5y', '--end', END, '--wait']);
    expect(run.code).toBe(0);
    expect(gets(h)).toBe(before);
    expect(run.stderr).toContain(`resumed: ${DAYS.length} skipped`);
    expect(run.stdout).toContain(`${DAYS.length} skipped, 0 failed`);
  }, 60_000);

  it('a file re-published upstream (new ETag) is fetched again and its bars take the new values', async () => {
    const day = DAYS[100]!;
    const key = flatFileKey('us_stocks_sip', 'day_aggs_v1', day);
    h.emulator!.control.addFault({ name: S3Fault.EtagChange, pathIncludes: key });
    const run = await h.ferry(['preload', 'TSLA', '--period', '5y', '--end', END, '--wait', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ files: DAYS.length, ingested: 1, skipped: DAYS.length - 1 });
    expect(h.emulator!.control.counter(S3Counter.getKey(key))).toBe(2);
    expect(await stored(h, 'TSLA')).toEqual(truth('TSLA', DAYS, { [day]: 1 }));
    // Its Parquet file too: same span and row count as before, the new values.
    const report = JSON.parse(run.stdout) as PreloadReport;
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(path.join(h.dataDir, report.parquet[0]!.path)) });
    expect(rows.map((r) => ({ time: (r.timestamp as Date).getTime(), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume })))
      .toEqual(truth('TSLA', DAYS, { [day]: 1 }).map(({ transactions: _t, ...rest }) => rest));
  }, 60_000);
});
