import { afterEach, describe, expect, it } from 'vitest';
import { readCandles } from '@ferry/shared/postgres';
import { runSummary } from '@ferry/shared/runs';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { spawnService, type ServiceProcess } from '../support/processes.js';
import { waitFor } from '../support/wait.js';

const NOW = Date.UTC(2026, 9, 20, 5, 30);
const DAY = 86_400_000;
const H = 3_600_000;

/** Worker processes, as in production: these tests kill them. */
describe('download workers that die', () => {
  let h: CryptoHarness | undefined;
  const workers: ServiceProcess[] = [];
  afterEach(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    workers.length = 0;
    await h?.close();
    h = undefined;
  });

  const startWorker = () => {
    const w = spawnService('download-worker', { ...h!.env, DOWNLOAD_CONCURRENCY: '4', JOB_LOCK_MS: '2000', LOG_LEVEL: 'warn' });
    workers.push(w);
    return w;
  };

  async function assertExact(runId: string, days: number) {
    const summary = (await runSummary(h!.db.pool, runId))!;
    expect(summary).toMatchObject({ pending: 0, failed: 0 });
    expect(summary.complete + summary.skipped).toBe(summary.total);
    const start = Math.floor((NOW - days * DAY) / DAY) * DAY;
    for (const d of summary.details) {
      const symbol = d.item.split(':')[1]!;
      const stored = await readCandles(h!.db.pool, { exchange: 'binance', symbol, timeframe: '1h' }, { start: 0, end: NOW + DAY });
      expect(stored, symbol).toEqual(h!.emulator.candles(symbol, '1h', start, Math.floor(NOW / H) * H));
    }
    const dupes = await h!.db.pool.query(
      'SELECT count(*)::int AS n FROM (SELECT symbol, open_time FROM candles GROUP BY 1, 2 HAVING count(*) > 1) d');
    expect(dupes.rows[0].n).toBe(0);
  }

  it('kill -9 mid-run: another worker completes the run with no duplicates and no holes', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW, latencyMs: 40 }, startWorker: false });
    const queued = await h.ferry(['collect', '--top', '16', '--days', '200', '--timeframe', '1h', '--json']);
    expect(queued.code).toBe(0);
    const { run_id: runId } = JSON.parse(queued.stdout) as { run_id: string };
    const first = startWorker();
    await waitFor(() => h!.emulator.control.counter('klines') >= 20, { what: 'the first worker to be downloading', timeoutMs: 30_000 });
    first.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    const progressAtKill = (await runSummary(h.db.pool, runId))!;
    expect(progressAtKill.pending).toBeGreaterThan(0);
    startWorker();
    await waitFor(async () => (await runSummary(h!.db.pool, runId))!.pending === 0, { what: 'the run to finish', timeoutMs: 60_000 });
    await assertExact(runId, 200);
  });

  it('SIGTERM: takes no new jobs, exits 0 within the grace period, and its jobs are finished by another worker', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW, latencyMs: 40 }, startWorker: false });
    const queued = await h.ferry(['collect', '--top', '16', '--days', '200', '--timeframe', '1h', '--json']);
    const { run_id: runId } = JSON.parse(queued.stdout) as { run_id: string };
    const first = spawnService('download-worker', { ...h.env, DOWNLOAD_CONCURRENCY: '4', SHUTDOWN_GRACE_MS: '300', LOG_LEVEL: 'info' });
    workers.push(first);
    await waitFor(() => h!.emulator.control.counter('klines') >= 10, { what: 'downloading', timeoutMs: 30_000 });
    const signalledAt = Date.now();
    first.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(first.output()).toContain('shutting down');
    expect((await runSummary(h.db.pool, runId))!.pending).toBeGreaterThan(0);
    startWorker();
    await waitFor(async () => (await runSummary(h!.db.pool, runId))!.pending === 0, { what: 'the run to finish', timeoutMs: 60_000 });
    await assertExact(runId, 200);
  });
});
