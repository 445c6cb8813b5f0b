import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalFolderTarget, type SyncTarget } from '@ferry/shared/backup';
import { createLogger, RateLimitedError } from '@ferry/shared/core';
import { JobName, QueueName } from '@ferry/shared/jobs';
import { candlesStored, ferryRegistry, observeWorkerJobs, startMetricsServer } from '@ferry/shared/metrics';
import { jobOptions, startSyncWorker } from '../support/workers.js';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';
import { waitFor } from '../support/wait.js';
import { finishedJob, syncConfig, writeCandleFiles } from '../sync/support.js';

/** The value of one sample in Prometheus text, 0 when the series does not exist yet. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

describe('Prometheus metrics', () => {
  let dash: DashboardHarness<'viewer'>;
  let base: string;
  let viewer: string;

  beforeAll(async () => {
    dash = await startDashboard({ label: 'metrics', keys: ['viewer'], redis: 'worker' });
    ({ base, keys: { viewer } } = dash);
  });
  afterAll(() => dash.close());

  it('the dashboard /metrics needs a key', async () => {
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
  });

  it('the dashboard /metrics shows each queue by state, read at scrape time', async () => {
    const candles = dash.queues.find((q) => q.name === QueueName.Candles)!;
    await candles.add(JobName.CollectCandles, {}, { jobId: 'm-1' });
    await candles.add(JobName.CollectCandles, {}, { jobId: 'm-2', delay: 60_000 });
    await dash.queues.find((q) => q.name === QueueName.Sync)!.pause();
    const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${viewer}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('ferry_queue_jobs{queue="candles",state="waiting"} 1');
    expect(text).toContain('ferry_queue_jobs{queue="candles",state="delayed"} 1');
    expect(text).toContain('ferry_queue_jobs{queue="flat-files",state="waiting"} 0');
    expect(text).toContain('ferry_queue_paused{queue="sync"} 1');
    expect(text).toContain('ferry_queue_paused{queue="candles"} 0');
    expect(text).toContain('ferry_queue_workers{queue="candles"} 0');
    for (const name of ['ferry_candles_stored_total', 'ferry_rate_limit_pauses_total', 'ferry_files_synced_total', 'ferry_bytes_synced_total', 'ferry_job_duration_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('a worker metrics server serves the shared counters on its own port', async () => {
    const metrics = await startMetricsServer(0, ferryRegistry, '127.0.0.1');
    try {
      candlesStored.inc({ exchange: 'kraken', timeframe: '4h' }, 42);
      const res = await fetch(`http://127.0.0.1:${metrics.port}/metrics`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('ferry_candles_stored_total{exchange="kraken",timeframe="4h"} 42');
      expect((await fetch(`http://127.0.0.1:${metrics.port}/`)).status).toBe(404);
    } finally {
      await metrics.close();
    }
  });

  it('records job durations by outcome, and retries (a job failed for good is not a retry)', async () => {
    const name = `${dash.prefix}-jobs`;
    const queue = new Queue(name, { connection: dash.redis, prefix: dash.prefix });
    const worker = new Worker(name, async (job) => {
      if (job.data === 'fail') throw new Error('boom');
      if (job.data === 'hopeless') throw new UnrecoverableError('no point retrying');
      return 'ok';
    }, { connection: dash.redis, prefix: dash.prefix });
    try {
      observeWorkerJobs(worker);
      await queue.add('ok', 'ok');
      await queue.add('hopeless', 'hopeless', { attempts: 3 });
      await queue.add('fail', 'fail', { attempts: 2, backoff: { type: 'fixed', delay: 10 } });
      const line = (text: string, metric: string) => text.split('\n').find((l) => l.startsWith(metric))?.split(' ')[1];
      const text = await waitFor(async () => {
        const t = await ferryRegistry.metrics();
        return line(t, `ferry_job_duration_seconds_count{queue="${name}",outcome="failed"}`) === '3' ? t : undefined;
      }, { what: 'both attempts of the failing job and the hopeless one' });
      expect(line(text, `ferry_job_duration_seconds_count{queue="${name}",outcome="completed"}`)).toBe('1');
      expect(line(text, `ferry_job_retries_total{queue="${name}"}`)).toBe('1');
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  it('counts files and bytes synced by outcome, and the sync queue pausing for a 429', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-metrics-data-'));
    const backupDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-metrics-backup-'));
    const local = new LocalFolderTarget(backupDir);
    let answer429 = true;
    // The local folder, except that its first commit is refused the way Dropbox refuses one: 429, retry after 200 ms.
    const target: SyncTarget = {
      kind: local.kind, description: local.description,
      stat: (key) => local.stat(key), upload: (r) => local.upload(r), list: (f) => local.list(f), download: (k, p) => local.download(k, p),
      listKeys: (f, o) => local.listKeys(f, o), delete: (keys) => local.delete(keys),
      uploadMany: async (requests) => {
        if (!answer429) return local.uploadMany(requests);
        answer429 = false;
        return requests.map(() => ({ ok: false as const, error: new RateLimitedError('429 too_many_write_operations', 200) }));
      },
    };
    const config = syncConfig({ QUEUE_PREFIX: dash.prefix, DATA_DIR: dataDir, SYNC_TARGET: 'local', SYNC_LOCAL_DIR: backupDir, SYNC_BATCH_WAIT_MS: '10' });
    const [file] = await writeCandleFiles(config.dataDir, 1);
    const sync = await startSyncWorker({ config, logger: createLogger({ name: 'test', level: 'silent' }), db: dash.db.pool, redis: dash.redis, target, schedules: false });
    const queue = dash.queues.find((q) => q.name === QueueName.Sync)!;
    await queue.resume();
    try {
      const before = await ferryRegistry.metrics();
      await queue.add(JobName.SyncFile, file!.payload, { ...jobOptions(3), jobId: 'synced-1' });
      expect(await (await finishedJob(queue, 'synced-1')).getState()).toBe('completed');
      await queue.add(JobName.SyncFile, file!.payload, { ...jobOptions(3), jobId: 'synced-2' });
      expect(await (await finishedJob(queue, 'synced-2')).getState()).toBe('completed');
      const after = await ferryRegistry.metrics();
      const grew = (series: string) => sample(after, series) - sample(before, series);
      expect(grew('ferry_rate_limit_pauses_total{queue="sync",kind="rate-limited"}')).toBe(1);
      expect(grew('ferry_files_synced_total{target="local",status="uploaded"}')).toBe(1);
      expect(grew('ferry_files_synced_total{target="local",status="skipped-identical"}')).toBe(1);
      const size = (await local.stat((await local.list('data'))[0]!.key))!.size;
      expect(grew('ferry_bytes_synced_total{target="local"}')).toBe(size);
    } finally {
      await sync.close(5_000);
      await rm(dataDir, { recursive: true, force: true });
      await rm(backupDir, { recursive: true, force: true });
    }
  });
});
