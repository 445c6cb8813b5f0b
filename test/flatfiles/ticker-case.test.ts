import path from 'node:path';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreloadReport } from '../../services/producer/src/commands/preload.js';
import { flatFileRows, S3Counter, tradingDays } from '@ferry/emulators/s3';
import { startFlatFileHarness, type FlatFileHarness } from '../support/flatfile-harness.js';

// Massive spells the Arbor Realty series D preferred `ABRpD`; the emulator's files do too.
const START = '2024-03-01';
const END = '2024-03-31';
const DAYS = tradingDays('us_stocks_sip', START, END);

const truth = (ticker: string) => DAYS.flatMap((d) => flatFileRows('us_stocks_sip', 'day_aggs_v1', d).filter((r) => r.ticker === ticker));

describe('tickers spelled with lower-case letters', () => {
  let h: FlatFileHarness;
  const preload = async (ticker: string, json = true) => {
    const run = await h.ferry(['preload', ticker, '--start', START, '--end', END, '--wait', ...(json ? ['--json'] : [])]);
    return { ...run, report: json ? (JSON.parse(run.stdout) as PreloadReport) : undefined };
  };
  const gets = () => h.emulator!.control.counter(S3Counter.operation('get'));

  beforeAll(async () => {
    h = await startFlatFileHarness();
    await h.startWorkers();
  });
  afterAll(async () => h?.close());

  it('`ferry preload ABRpD` stores its bars and writes its Parquet file', async () => {
    const { code, report } = await preload('ABRpD');
    expect(code).toBe(0);
    expect(truth('ABRpD')).toHaveLength(DAYS.length);
    expect(report).toMatchObject({ status: 'completed', files: DAYS.length, failed: 0, rows: DAYS.length, empty_tickers: [], near_matches: {} });
    const { rows } = await h.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM bars WHERE source = 'us_stocks_sip' AND ticker = 'ABRpD' AND timeframe = '1d'`,
    );
    expect(rows[0]!.n).toBe(DAYS.length);
    expect(report!.parquet).toHaveLength(1);
    const file = report!.parquet[0]!;
    expect(file.path).toBe(`candles/ABRpD/ABRpD_1d_${DAYS[0]!.replaceAll('-', '')}_${DAYS.at(-1)!.replaceAll('-', '')}.parquet`);
    const bars = await parquetReadObjects({ file: await asyncBufferFromFile(path.join(h.dataDir, file.path)) });
    expect(bars.map((b) => b.close)).toEqual(truth('ABRpD').map((r) => r.close));
  }, 60_000);

  it('`ferry preload abrpd` ends with no bars and names ABRpD as the near match', async () => {
    const { code, report } = await preload('abrpd');
    expect(code).toBe(0);
    expect(report).toMatchObject({ status: 'completed', rows: 0, parquet: [], empty_tickers: ['abrpd'], near_matches: { abrpd: ['ABRpD'] } });
    const { rows } = await h.db.pool.query<{ last_error: string }>(
      'SELECT last_error FROM run_items WHERE run_id = $1 AND item_key = $2',
      [report!.run_id, 'series:abrpd'],
    );
    expect(rows[0]!.last_error).toBe(`no bars for abrpd from ${START} to ${END}; did you mean ABRpD? (tickers are case-sensitive)`);
  }, 60_000);

  it('says so again on the next request rather than skipping the files as done, reading them from the cache', async () => {
    const before = gets();
    const { code, stdout } = await preload('ABRPD', false);
    expect(code).toBe(0);
    expect(stdout).toContain('no bars for ABRPD in its range; did you mean ABRpD? (tickers are case-sensitive)');
    const again = await preload('abrpd');
    expect(again.report).toMatchObject({ skipped: 0, empty_tickers: ['abrpd'], near_matches: { abrpd: ['ABRpD'] } });
    expect(gets()).toBe(before);
  }, 60_000);
});
