import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PreloadReport } from '../../services/producer/src/commands/preload.js';
import { flatFileKey, S3Counter, tradingDays } from '@ferry/emulators/s3';
import { startFlatFileHarness, type FlatFileHarness } from '../support/flatfile-harness.js';
import { deleteKeys } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

const END = '2025-10-31';
const DAYS = tradingDays('us_stocks_sip', '2020-11-01', END);
const ARGS = ['preload', 'TSLA', '--period', '5y', '--end', END];

describe('a preload interrupted at ~60% and run again downloads only the rest', () => {
  let h: FlatFileHarness;
  let ingestedBefore: string[];
  let report: PreloadReport;
  let rerun: { code: number; stderr: string };

  beforeAll(async () => {
    // Latency keeps the run slow enough to stop it in the middle.
    h = await startFlatFileHarness({ emulator: { latencyMs: 20 } });
    await h.startWorkers();
    expect((await h.ferry(ARGS)).code).toBe(0);
    const ingestedCount = async () => Number((await h.db.pool.query('SELECT count(*) AS n FROM ingested_files')).rows[0].n);
    await waitFor(async () => (await ingestedCount()) >= DAYS.length * 0.6, { timeoutMs: 120_000, intervalMs: 50 });
    // The interruption: workers stop at once (downloads in flight are abandoned) and the queue is lost with Redis.
    await h.stopWorkers();
    await deleteKeys(h.prefix);
    ingestedBefore = (await h.db.pool.query<{ key: string }>('SELECT key FROM ingested_files')).rows.map((r) => r.key);
    await h.startWorkers();
    const run = await h.ferry([...ARGS, '--wait', '--json']);
    rerun = run;
    report = JSON.parse(run.stdout) as PreloadReport;
  }, 240_000);
  afterAll(async () => h?.close());

  it('was stopped in the middle', () => {
    expect(ingestedBefore.length).toBeGreaterThanOrEqual(DAYS.length * 0.6);
    expect(ingestedBefore.length).toBeLessThan(DAYS.length);
  });

  it('completes, skipping what was ingested without a request', () => {
    expect(rerun.code).toBe(0);
    expect(report).toMatchObject({ status: 'completed', files: DAYS.length, skipped: ingestedBefore.length, failed: 0 });
    expect(rerun.stderr).toContain(`resumed: ${ingestedBefore.length} skipped`);
    for (const key of ingestedBefore) expect(h.emulator!.control.counter(S3Counter.getKey(key))).toBe(1);
  });

  it('downloads every other file once more at most (only those in flight when it stopped twice)', () => {
    const counts = DAYS.map((d) => h.emulator!.control.counter(S3Counter.getKey(flatFileKey('us_stocks_sip', 'day_aggs_v1', d))));
    expect(counts.every((n) => n === 1 || n === 2)).toBe(true);
    // At most the 20 downloads in flight at the interruption are repeated.
    expect(counts.filter((n) => n === 2).length).toBeLessThanOrEqual(20);
    expect(h.emulator!.control.counter(S3Counter.operation('get'))).toBeLessThanOrEqual(DAYS.length + 20);
  });

  it('holds every bar exactly once', async () => {
    const { rows } = await h.db.pool.query(`SELECT count(*)::int AS n, count(DISTINCT time)::int AS d FROM bars WHERE ticker = 'TSLA'`);
    expect(rows[0]).toEqual({ n: DAYS.length, d: DAYS.length });
  });
});
