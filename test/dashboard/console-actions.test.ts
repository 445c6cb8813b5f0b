import { Job } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobName, JobProducer, QueueName, type DownloadFlatFilePayload } from '@ferry/shared/jobs';
import { createOrReuseRun, finishItem, markRunRunning, runSummary } from '@ferry/shared/runs';
import { REMOVED_FROM_CONSOLE } from '../../services/dashboard/src/board-runs.js';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';

/** Every test drives Bull Board's own HTTP API, as its buttons do; no worker runs, so jobs stay where they are put. */
let dash: DashboardHarness<'admin'>;
let producer: JobProducer;

beforeEach(async () => {
  dash = await startDashboard({ label: 'console-actions', keys: ['admin'] });
  producer = new JobProducer({ connection: dash.redis, prefix: dash.prefix, attempts: 1 });
});
afterEach(async () => {
  await producer.close();
  await dash.close();
});

function board(method: 'PUT', path: string): Promise<Response> {
  return fetch(`${dash.base}/admin/queues/api/queues/${path}`, { method, headers: { 'X-API-Key': dash.keys.admin } });
}

const queue = (name: QueueName) => dash.queues.find((q) => q.name === name)!;

async function queuedCandleRun(symbols: string[]): Promise<{ runId: string; jobIds: string[] }> {
  const items = symbols.map((s) => `binance:${s}:1d`);
  const { runId } = await createOrReuseRun(dash.db.pool, 'candles', { symbols }, items);
  await markRunRunning(dash.db.pool, runId);
  const jobIds = await producer.add(JobName.CollectCandles, symbols.map((symbol) => ({
    runId, exchange: 'binance', symbol, timeframe: '1d', mode: 'backward' as const, startMs: 0, endMs: null,
  })));
  return { runId, jobIds };
}

async function queuedPreload(keys: string[]): Promise<{ runId: string; parentId: string; childIds: string[] }> {
  const { runId } = await createOrReuseRun(dash.db.pool, 'flat_files', { keys }, [...keys, 'series:TSLA']);
  await markRunRunning(dash.db.pool, runId);
  const children = keys.map((key) => ({
    name: JobName.DownloadFlatFile,
    data: {
      runId, bucket: 'flatfiles', key, etag: 'a'.repeat(32), size: 1, market: 'us_stocks_sip', interval: '1d', tickers: ['TSLA'],
    } satisfies DownloadFlatFilePayload,
  }));
  await producer.addFlow(
    { name: JobName.FinishPreload, data: { runId, interval: '1d', tickers: [{ ticker: 'TSLA', market: 'us_stocks_sip', start: '2024-04-01', end: '2024-04-02' }] } },
    children,
  );
  const childIds = children.map((c) => producer.optionsFor(c.name, c.data).jobId!);
  return { runId, parentId: `preload.${runId}`, childIds };
}

describe('removing one job from Bull Board', () => {
  it('a queued candle job: its item fails as removed from the console, and the run closes once nothing else is left', async () => {
    const { runId, jobIds } = await queuedCandleRun(['BTC/USDT', 'ETH/USDT']);
    expect((await board('PUT', `candles/${jobIds[0]}/clean`)).ok).toBe(true);
    expect(await Job.fromId(queue(QueueName.Candles), jobIds[0]!)).toBeUndefined();
    expect(await runSummary(dash.db.pool, runId)).toMatchObject({ status: 'running', failed: 1, pending: 1 });

    expect((await board('PUT', `candles/${jobIds[1]}/clean`)).ok).toBe(true);
    const run = (await runSummary(dash.db.pool, runId))!;
    expect(run).toMatchObject({ status: 'failed', failed: 2, pending: 0 });
    expect(run.details.map((d) => d.last_error)).toEqual([REMOVED_FROM_CONSOLE, REMOVED_FROM_CONSOLE]);
    expect(run.finished_at).not.toBeNull();
  });

  it('a flat-file child: its item fails, and the parent no longer waits for it (it renders the files without it)', async () => {
    const { runId, parentId, childIds } = await queuedPreload(['us_stocks_sip/day_aggs_v1/2024/04/2024-04-01.csv.gz']);
    expect((await board('PUT', `flat-files/${childIds[0]}/clean`)).ok).toBe(true);
    expect(await Job.fromId(queue(QueueName.FlatFiles), childIds[0]!)).toBeUndefined();
    expect(await (await Job.fromId(queue(QueueName.Preloads), parentId))!.getState()).toBe('waiting');
    const run = (await runSummary(dash.db.pool, runId))!;
    expect(run.details.find((d) => d.item.endsWith('.csv.gz'))).toMatchObject({ status: 'failed', last_error: REMOVED_FROM_CONSOLE });
    // The Parquet file is still to be written by the parent: the run goes on.
    expect(run).toMatchObject({ status: 'running', pending: 1 });
  });

  it('the finish-preload parent: BullMQ removes its children with it, so every unfinished item fails and the run closes', async () => {
    const { runId, parentId, childIds } = await queuedPreload([
      'us_stocks_sip/day_aggs_v1/2024/04/2024-04-01.csv.gz', 'us_stocks_sip/day_aggs_v1/2024/04/2024-04-02.csv.gz',
    ]);
    expect((await board('PUT', `preloads/${parentId}/clean`)).ok).toBe(true);
    for (const id of childIds) expect(await Job.fromId(queue(QueueName.FlatFiles), id)).toBeUndefined();
    expect(await runSummary(dash.db.pool, runId)).toMatchObject({ status: 'failed', failed: 3, pending: 0 });
  });
});

describe('dropping many queued jobs at once', () => {
  it('empty, obliterate and cleaning waiting jobs are refused with 409 while a run of the queue is unfinished, and allowed after', async () => {
    const { runId, jobIds } = await queuedCandleRun(['BTC/USDT']);
    for (const path of ['candles/empty', 'candles/obliterate', 'candles/clean/wait', 'candles/clean/delayed']) {
      const answer = await board('PUT', path);
      expect(answer.status, path).toBe(409);
      expect(((await answer.json()) as { message: string }).message).toContain(`queued jobs of run ${runId}, which is running`);
    }
    expect(await Job.fromId(queue(QueueName.Candles), jobIds[0]!)).toBeDefined();
    // History only: runs keep their records in PostgreSQL.
    expect((await board('PUT', 'candles/clean/completed')).ok).toBe(true);
    expect((await board('PUT', 'candles/clean/failed')).ok).toBe(true);
    // Queues without runs are not held back.
    expect((await board('PUT', 'sync/empty')).ok).toBe(true);

    await finishItem(dash.db.pool, runId, 'binance:BTC/USDT:1d', { status: 'failed', error: 'given up' });
    expect((await board('PUT', 'candles/empty')).ok).toBe(true);
    expect(await Job.fromId(queue(QueueName.Candles), jobIds[0]!)).toBeUndefined();
  });

  it("removing a preload's unprocessed children is refused while its run is unfinished", async () => {
    const { runId, parentId } = await queuedPreload(['us_stocks_sip/day_aggs_v1/2024/04/2024-04-01.csv.gz']);
    const answer = await board('PUT', `preloads/${parentId}/remove-unprocessed-children`);
    expect(answer.status).toBe(409);
    expect(((await answer.json()) as { message: string }).message).toContain(runId);
  });
});

describe('actions that need nothing from ferry', () => {
  it('promoting a delayed job only runs it sooner; pausing and resuming a queue only hold its jobs', async () => {
    const { runId } = await createOrReuseRun(dash.db.pool, 'candles', { symbols: ['BTC/USDT'] }, ['binance:BTC/USDT:1d']);
    const payload = { runId, exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1d', mode: 'backward' as const, startMs: 0, endMs: null };
    // As a job waiting out a rate-limit backoff is.
    const job = await queue(QueueName.Candles).add(JobName.CollectCandles, payload, { ...producer.optionsFor(JobName.CollectCandles, payload), delay: 60_000 });
    expect(await job.getState()).toBe('delayed');
    expect((await board('PUT', `candles/${job.id}/promote`)).ok).toBe(true);
    expect(await job.getState()).toBe('waiting');
    expect((await board('PUT', 'candles/pause')).ok).toBe(true);
    expect((await board('PUT', 'candles/resume')).ok).toBe(true);
    expect(await runSummary(dash.db.pool, runId)).toMatchObject({ status: 'queued', pending: 1 });
  });
});
