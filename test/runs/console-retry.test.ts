import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueName } from '@ferry/shared/jobs';
import { closeRunIfDone, createOrReuseRun, finishItem, markItemRunning, runSummary, type RunSummary } from '@ferry/shared/runs';
import { flatFileKey, S3Fault, tradingDays } from '@ferry/emulators/s3';
import type { PreloadReport } from '../../services/producer/src/commands/preload.js';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { startFlatFileHarness, type FlatFileHarness } from '../support/flatfile-harness.js';
import { openQueue } from '../support/workers.js';
import { createTestDatabase } from '../support/database.js';
import { waitFor } from '../support/wait.js';

const NOW = Date.UTC(2026, 9, 20, 5, 30);

describe('a run follows its items, whatever moved them', () => {
  it('closes failed, reopens when a failed item runs again, and closes completed when it is done', async () => {
    const db = await createTestDatabase();
    try {
      const { runId } = await createOrReuseRun(db.pool, 'candles', { test: 'reopen' }, ['a', 'b']);
      await markItemRunning(db.pool, runId, 'a', 1);
      await finishItem(db.pool, runId, 'a', { status: 'complete', records: 1 });
      await markItemRunning(db.pool, runId, 'b', 1);
      await finishItem(db.pool, runId, 'b', { status: 'failed', error: 'exchange down' });
      const failed = (await runSummary(db.pool, runId))!;
      expect(failed).toMatchObject({ status: 'failed', complete: 1, failed: 1 });
      expect(failed.finished_at).not.toBeNull();

      // A retry from the console: the job runs again.
      await markItemRunning(db.pool, runId, 'b', 1);
      expect(await runSummary(db.pool, runId)).toMatchObject({ status: 'running', finished_at: null, pending: 1 });
      await finishItem(db.pool, runId, 'b', { status: 'complete', records: 2 });
      const completed = (await runSummary(db.pool, runId))!;
      expect(completed).toMatchObject({ status: 'completed', complete: 2, failed: 0 });
      expect(Date.parse(completed.finished_at!)).toBeGreaterThanOrEqual(Date.parse(failed.finished_at!));
      // Closing again changes nothing.
      await closeRunIfDone(db.pool, runId);
      expect((await runSummary(db.pool, runId))!.finished_at).toBe(completed.finished_at);
    } finally {
      await db.drop();
    }
  });
});

describe('retrying failed jobs from Bull Board', () => {
  let h: CryptoHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a run that failed while the exchange was down completes after "retry all", and status says so', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, env: { JOB_ATTEMPTS: '1' } });
    // The exchange answers every klines request with a 5xx: both jobs fail on their one attempt.
    h.emulator.control.addFault({ name: 'server-error', pathIncludes: 'klines', remaining: 1_000 });
    const failedRun = await h.ferry(['collect', '--symbols', 'BTC,ETH', '--days', '30', '--timeframe', '1d', '--wait', '--json']);
    expect(failedRun.code).toBe(1);
    const before = JSON.parse(failedRun.stdout) as RunSummary;
    expect(before).toMatchObject({ status: 'failed', failed: 2 });

    // The exchange is back; the user clicks "Retry all" on the failed candles jobs (Bull Board calls job.retry()).
    h.emulator.control.reset();
    const queue = new Queue(QueueName.Candles, { connection: h.redis, prefix: h.prefix });
    try {
      const failedJobs = await queue.getFailed();
      expect(failedJobs).toHaveLength(2);
      for (const job of failedJobs) await job.retry();
      const after = await waitFor(async () => {
        const s = await runSummary(h!.db.pool, before.run_id);
        return s?.status === 'completed' ? s : undefined;
      }, { what: 'the retried run to complete' });
      expect(after).toMatchObject({ complete: 2, failed: 0, pending: 0 });
      expect(Date.parse(after.finished_at!)).toBeGreaterThan(Date.parse(before.finished_at!));
    } finally {
      await queue.close();
    }
    const status = await h.ferry(['status', before.run_id, '--json']);
    expect(status.code).toBe(0);
    const shown = JSON.parse(status.stdout) as RunSummary & { sync: { total: number; pending: number } };
    expect(shown).toMatchObject({ status: 'completed', complete: 2, failed: 0 });
    // Each coin's file is chained for backup and counted from that moment (no sync worker runs here).
    expect(shown.sync).toMatchObject({ total: 2, pending: 2 });
  });
});

describe('retrying a failed flat file from Bull Board', () => {
  let f: FlatFileHarness | undefined;
  afterEach(async () => {
    await f?.close();
    f = undefined;
  });

  it('brings its preload to the end of an uninterrupted run: the Parquet file is written again with the file, the run completes', async () => {
    f = await startFlatFileHarness({ env: { JOB_ATTEMPTS: '1' } });
    await f.startWorkers();
    const start = '2024-04-01';
    const end = '2024-04-30';
    const days = tradingDays('us_stocks_sip', start, end);
    const key = flatFileKey('us_stocks_sip', 'day_aggs_v1', days[4]!);
    f.emulator!.control.addFault({ name: S3Fault.TruncatedBody, pathIncludes: key });
    const first = await f.ferry(['preload', 'TSLA', '--start', start, '--end', end, '--wait', '--json']);
    expect(first.code).toBe(1);
    const failed = JSON.parse(first.stdout) as PreloadReport;
    expect(failed).toMatchObject({ status: 'failed', failed: 1, rows: days.length - 1 });
    expect(failed.parquet).toHaveLength(1);

    f.emulator!.control.clearFaults();
    const queue = openQueue(QueueName.FlatFiles, f.redis, f.prefix);
    try {
      const [job] = await queue.getFailed();
      expect(job!.data.key).toBe(key);
      await job!.retry();
    } finally {
      await queue.close();
    }
    const after = await waitFor(async () => {
      const s = await runSummary(f!.db.pool, failed.run_id);
      return s?.status === 'completed' ? s : undefined;
    }, { what: 'the preload to complete after the retry' });
    const series = after.details.find((d) => d.item === 'series:TSLA')!;
    expect(series).toMatchObject({ status: 'complete', records: days.length });
    const file = String(series.details.file);
    expect(file).toBe(`candles/TSLA/TSLA_1d_${days[0]!.replaceAll('-', '')}_${days.at(-1)!.replaceAll('-', '')}.parquet`);
    const status = JSON.parse((await f.ferry(['status', failed.run_id, '--json'])).stdout) as RunSummary;
    expect(status).toMatchObject({ status: 'completed', failed: 0 });
  }, 90_000);
});
