import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteKeyFor } from '@ferry/shared/backup';
import { isTempFileName, loadConfig, Secret, type Timeframe } from '@ferry/shared/core';
import { ALL_QUEUES, JobName, JobProducer, QueueName, type CollectionMode } from '@ferry/shared/jobs';
import { createPool, readCandles, type Pool } from '@ferry/shared/postgres';
import { currentRenderPaths, newestRenders, type SeriesOfFile } from '@ferry/shared/series-files';
import { startEmulators, type RunningEmulators } from '@ferry/emulators/start-all';
import { flatFileRows, tradingDays } from '@ferry/emulators/s3';
import { freePort, startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from '../../scripts/local-services.js';
import type { ScheduledCollectionResult } from '../../services/dashboard/src/scheduler/schedule-worker.js';
import { ferryInProcess } from '../support/ferry-cli.js';
import { spawnService, type ServiceProcess } from '../support/processes.js';

/**
 * Thirty days of ferry's schedules, in a few minutes. The real processes run: a download worker, a sync worker and the
 * dashboard (whose schedule worker turns scheduled jobs into collections and prunes old runs). The emulated exchange's
 * and bucket's clocks move forward in steps; wall-clock cron cannot follow a moving clock, so the cron schedules are
 * turned off (COLLECTION_SCHEDULE=off) and this test fires them: at each time the default patterns name in the
 * simulated month (`0 *\/6 * * *` forward, `0 3 * * 0` gap_fill) it sets the exchange's clock there and adds the
 * scheduled-collection job the job scheduler would add, which the dashboard's real handler runs. After each forward
 * firing an operator's crontab-style `ferry collect --mode forward` keeps two coins' 1h candles current (schedules only
 * ask for the defaults, 1d), and once a simulated day `ferry preload --wait` fetches the last week's stock files (the
 * bucket publishes a trading day's file the next day). Directory syncs and run pruning run on their real job
 * schedulers, in wall time. Retention is set short (seconds stand in for days) so the plateau shows within the run.
 */
const DAY = 86_400_000;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 9, 5);
const DAYS = 30;
const TICKERS = ['AAPL', 'TSLA'];
const PRELOAD_FROM = '2026-09-28';
const HOURLY_COINS = 2;
const REPORT_DAYS = [1, 10, 20, 30];
/**
 * Wall time a simulated day lasts at least, so that wall-clock retention maps onto simulated days: with 12 s a day,
 * RUN_RETENTION=36s keeps three days of runs. A day whose work takes longer simply lasts longer.
 */
const WALL_MS_PER_DAY = 12_000;

interface Firing {
  at: number;
  mode: CollectionMode;
}

/** The default schedules' firings in [T0, T0 + DAYS): every 6 hours, and Sundays at 03:00 (both UTC). */
function firings(): Firing[] {
  const defaults = loadConfig({}).schedules;
  expect([defaults.collection, defaults.gapFill]).toEqual(['0 */6 * * *', '0 3 * * 0']);
  const out: Firing[] = [];
  for (let t = T0; t < T0 + DAYS * DAY; t += HOUR) {
    const d = new Date(t);
    if (d.getUTCHours() % 6 === 0) out.push({ at: t, mode: 'forward' });
    if (d.getUTCDay() === 0 && d.getUTCHours() === 3) out.push({ at: t, mode: 'gap_fill' });
  }
  return out;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

interface Figures {
  day: number;
  redisBytes: number;
  redisKeys: number;
  /** Entries in the queues' event streams. */
  redisEvents: number;
  runs: number;
  runItems: number;
  fileSyncs: number;
  ingestedFiles: number;
  cacheBytes: number;
  dataFiles: number;
}

async function walk(dir: string): Promise<Array<{ path: string; size: number }>> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const files = entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  return Promise.all(files.map(async (f) => ({ path: f, size: (await fs.stat(f)).size })));
}

describe('30-day soak', () => {
  let redis: PrivateRedis;
  let postgres: PrivatePostgres;
  let emulators: RunningEmulators;
  let processes: ServiceProcess[] = [];
  let db: Pool;
  let client: Redis;
  let producer: JobProducer;
  let work: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    [redis, postgres] = await Promise.all([startPrivateRedis({ appendOnly: false }), startPrivatePostgres()]);
    emulators = await startEmulators({ binance: { nowMs: T0, coinCount: 4 } });
    emulators.s3.control.configure({ lastDate: isoDay(T0 - DAY) });
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-soak-'));
    env = {
      ...emulators.env,
      REDIS_URL: redis.url,
      DATABASE_URL: postgres.url,
      QUEUE_PREFIX: 'soak',
      DATA_DIR: path.join(work, 'data'),
      SYNC_TARGET: 'local',
      SYNC_LOCAL_DIR: path.join(work, 'backup'),
      // The soak fires the schedules itself, at simulated times (see above).
      COLLECTION_SCHEDULE: 'off',
      GAP_FILL_SCHEDULE: 'off',
      SYNC_CANDLES_EVERY: '20s',
      SYNC_LOGS_EVERY: '20s',
      SYNC_LEARNING_EVERY: 'off',
      SYNC_MODELS_EVERY: 'off',
      SYNC_BATCH_WAIT_MS: '50',
      // Seconds standing in for days: a simulated day takes a few seconds, so these keep a few days.
      RUN_RETENTION: '36s',
      JOB_RETENTION: '36s',
      FAILED_JOB_RETENTION: '36s',
      // The emulated day files are a few KiB: 20 KiB holds about a week of them.
      FLAT_FILE_CACHE_MAX_MB: '0.02',
      // The exchange's clock jumps: every job asks for it.
      EXCHANGE_CLOCK_TTL_MS: '0',
      DOWNLOAD_CONCURRENCY: '4',
      API_KEY_REQUIRED: 'false',
      DASHBOARD_PORT: String(await freePort()),
      SHUTDOWN_GRACE_MS: '5000',
      LOG_LEVEL: 'warn',
    };
    db = createPool({ url: new Secret(postgres.url), poolSize: 4, applicationName: 'ferry-soak' });
    client = new Redis(redis.url, { maxRetriesPerRequest: null });
    producer = new JobProducer({ connection: client, prefix: 'soak', attempts: 3 });
    // The dashboard migrates; the workers wait on the same migration lock.
    processes = (['dashboard', 'download-worker', 'sync-worker'] as const).map((s) => spawnService(s, env));
  }, 180_000);

  afterAll(async () => {
    await Promise.all(processes.map(async (p) => {
      p.kill('SIGTERM');
      await p.exited;
    }));
    await producer?.close();
    client?.disconnect();
    await db?.end();
    await emulators?.close();
    await Promise.all([redis?.destroy(), postgres?.destroy()]);
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  const tail = () => processes.map((p) => p.output().trimEnd().split('\n').slice(-20).join('\n')).join('\n---\n');

  /** Jobs that are not finished, leaving out the next job each job scheduler keeps delayed. */
  async function unfinishedJobs(): Promise<string[]> {
    const out: string[] = [];
    for (const name of ALL_QUEUES) {
      const queue = producer.queue(name);
      const jobs = await queue.getJobs(['active', 'waiting', 'waiting-children', 'prioritized', 'delayed', 'paused']);
      for (const job of jobs) if (job && !job.id?.startsWith('repeat:')) out.push(`${name}/${job.id} ${job.name}`);
    }
    return out;
  }

  async function openRuns(): Promise<number> {
    return (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM collection_runs WHERE status IN ('queued', 'running')`)).rows[0]!.n;
  }

  /** Every run closed and every job finished (chained syncs included), twice in a row. */
  async function settled(what: string, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    let last = '';
    while (quiet < 2) {
      if (Date.now() > deadline) throw new Error(`${what}: not settled after ${timeoutMs / 1000} s: ${last}\n${tail()}`);
      await sleep(200);
      const [open, jobs] = await Promise.all([openRuns(), unfinishedJobs()]);
      last = `${open} run(s) open; jobs: ${jobs.slice(0, 5).join(', ')}`;
      quiet = open === 0 && jobs.length === 0 ? quiet + 1 : 0;
    }
  }

  async function fire(firing: Firing): Promise<ScheduledCollectionResult> {
    const [id] = await producer.add(JobName.ScheduledCollection, [{ mode: firing.mode }]);
    const queue = producer.queue(QueueName.Schedules);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const job = await Job.fromId(queue, id!);
      const state = await job?.getState();
      // Read again: the job fetched before it completed has no return value yet.
      if (state === 'completed') return (await Job.fromId(queue, id!))!.returnvalue as ScheduledCollectionResult;
      if (state === 'failed') throw new Error(`scheduled ${firing.mode} at ${new Date(firing.at).toISOString()} failed: ${job!.failedReason}`);
      if (Date.now() > deadline) throw new Error(`scheduled job ${id} is ${state ?? 'gone'}\n${tail()}`);
      await sleep(100);
    }
  }

  /** Resolves once a prune-runs job (from the dashboard's job scheduler) has completed after this call. */
  async function pruningRan(): Promise<void> {
    const since = Date.now();
    const queue = producer.queue(QueueName.Schedules);
    const deadline = since + 60_000;
    for (;;) {
      const done = await queue.getJobs(['completed'], 0, 50);
      if (done.some((j) => j?.name === JobName.PruneRuns && (j.finishedOn ?? 0) > since)) return;
      if (Date.now() > deadline) throw new Error(`no prune-runs job completed within a minute\n${tail()}`);
      await sleep(200);
    }
  }

  async function figures(day: number): Promise<Figures> {
    const info = await client.info('memory');
    const count = async (table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
    const cache = await walk(path.join(env.DATA_DIR!, 'cache', 'flat-files'));
    return {
      day,
      redisBytes: Number(/used_memory:(\d+)/.exec(info)![1]),
      redisKeys: await client.dbsize(),
      redisEvents: (await Promise.all(ALL_QUEUES.map((q) => client.xlen(`soak:${q}:events`)))).reduce((a, b) => a + b, 0),
      runs: await count('collection_runs'),
      runItems: await count('run_items'),
      fileSyncs: await count('file_syncs'),
      ingestedFiles: await count('ingested_files'),
      cacheBytes: cache.reduce((n, f) => n + f.size, 0),
      dataFiles: (await walk(path.join(env.DATA_DIR!, 'candles'))).length,
    };
  }

  it('keeps PostgreSQL, the files and the backup exact, and its own bookkeeping flat, over 30 days of schedules', async () => {
    const started = Date.now();
    const results: Array<Firing & { result: ScheduledCollectionResult }> = [];
    const hourly: { symbols?: string[]; startMs?: number } = {};
    const report: Figures[] = [];
    let preloadEnd = '';
    let lastDay = 0;
    let dayStarted = Date.now();

    for (const firing of firings()) {
      emulators.binance.control.configure({ nowMs: firing.at });
      const result = await fire(firing);
      results.push({ ...firing, result });
      await settled(`${firing.mode} at ${new Date(firing.at).toISOString()}`);

      if (firing.mode === 'forward') {
        if (!hourly.symbols) {
          const { rows } = await db.query<{ params: { symbols: string[] } }>('SELECT params FROM collection_runs WHERE id = $1', [result.runId]);
          hourly.symbols = rows[0]!.params.symbols.slice(0, HOURLY_COINS);
        }
        const run = await ferryInProcess(['collect', '--symbols', hourly.symbols.map((s) => s.split('/')[0]).join(','),
          '--timeframe', '1h', '--days', '3', '--mode', 'forward'], env);
        expect(run.code, run.stderr).toBe(0);
        if (hourly.startMs === undefined) {
          const id = /run ([0-9a-f-]{36})/.exec(run.stderr)![1];
          const { rows } = await db.query<{ params: { startMs: number } }>('SELECT params FROM collection_runs WHERE id = $1', [id]);
          hourly.startMs = rows[0]!.params.startMs;
        }
        await settled(`1h forward at ${new Date(firing.at).toISOString()}`);
      }

      const day = Math.floor((firing.at - T0) / DAY) + 1;
      if (day !== lastDay) {
        if (lastDay > 0) await sleep(dayStarted + WALL_MS_PER_DAY - Date.now());
        dayStarted = Date.now();
        // A new simulated day: yesterday's files are published; the daily preload fetches the last week.
        lastDay = day;
        preloadEnd = isoDay(firing.at - DAY);
        emulators.s3.control.configure({ lastDate: preloadEnd });
        const from = isoDay(Math.max(Date.parse(PRELOAD_FROM), firing.at - 8 * DAY));
        const run = await ferryInProcess(['preload', ...TICKERS, '--start', from, '--end', preloadEnd, '--wait'], env);
        expect(run.code, `${run.stderr}${run.stdout}`).toBe(0);
        expect(run.stderr).not.toContain('no download worker');
        await settled(`preload on day ${day}`);
      }
      const lastOfDay = (firing.at + 6 * HOUR) % DAY === 0 || firing.at + 6 * HOUR >= T0 + DAYS * DAY;
      if (lastOfDay && firing.mode === 'forward' && REPORT_DAYS.includes(day)) {
        // Measured right after the pruning ran, so every sample is at the same point of its cycle.
        await pruningRan();
        report.push(await figures(day));
        process.stdout.write(`soak day ${day}: ${JSON.stringify(report.at(-1))} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
      }
    }

    // Let the directory syncs (every 20 s) go round once more on the final state.
    await sleep(25_000);
    await settled('the end');
    const endMs = T0 + DAYS * DAY - 6 * HOUR;
    const problems: string[] = [];

    // Every schedule firing queued exactly one collection, none skipped.
    const fired = results.filter((r) => !r.result.runId);
    for (const r of fired) problems.push(`${r.mode} at ${new Date(r.at).toISOString()} queued nothing: ${r.result.skipped}`);
    if (new Set(results.map((r) => r.result.runId)).size !== results.length) problems.push('a run id came back from two firings');
    expect(results.filter((r) => r.mode === 'forward')).toHaveLength(DAYS * 4);
    expect(results.filter((r) => r.mode === 'gap_fill').length).toBeGreaterThanOrEqual(4);

    // PostgreSQL holds exactly the exchange's closed candles of every series collected, and the bucket's bars.
    const { rows: series } = await db.query<{ symbol: string; timeframe: Timeframe }>(
      `SELECT DISTINCT symbol, timeframe FROM candles ORDER BY symbol, timeframe`);
    const expectedSeries = series.filter((s) => s.timeframe === '1d').length;
    expect(expectedSeries).toBeGreaterThanOrEqual(2);
    expect(series.filter((s) => s.timeframe === '1h')).toHaveLength(HOURLY_COINS);
    const firstDaily = alignDay(T0 - 1095 * DAY);
    const current: SeriesOfFile[] = [];
    for (const s of series) {
      const from = s.timeframe === '1h' ? hourly.startMs! : firstDaily;
      const want = emulators.binance.candles(s.symbol, s.timeframe, from, endMs + DAY);
      const have = await readCandles(db, { exchange: 'binance', symbol: s.symbol, timeframe: s.timeframe }, { start: 0, end: endMs + DAY });
      if (JSON.stringify(have) !== JSON.stringify(want.map((c) => ({ openTime: c.openTime, open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume })))) {
        problems.push(`candles ${s.symbol} ${s.timeframe}: ${have.length} stored, the exchange has ${want.length}`);
      }
      current.push({ kind: 'candles', exchange: 'binance', symbol: s.symbol, timeframe: s.timeframe });
    }
    for (const ticker of TICKERS) {
      const want = tradingDays('us_stocks_sip', PRELOAD_FROM, preloadEnd)
        .flatMap((d) => flatFileRows('us_stocks_sip', 'day_aggs_v1', d).filter((r) => r.ticker === ticker))
        .map((r) => Number(r.window_start / 1_000_000n));
      const { rows } = await db.query<{ t: string }>(
        `SELECT (extract(epoch FROM time) * 1000)::bigint AS t FROM bars WHERE ticker = $1 AND timeframe = '1d' ORDER BY time`, [ticker]);
      if (JSON.stringify(rows.map((r) => Number(r.t))) !== JSON.stringify(want)) problems.push(`bars ${ticker}: ${rows.length} stored, the bucket has ${want.length}`);
      current.push({ kind: 'bars', source: 'us_stocks_sip', ticker, timeframe: '1d' });
    }

    // Every series is covered by exactly its current files (as the series-file rules name them), locally and in the
    // backup, byte for byte; no other render is left anywhere.
    const expected = new Set<string>();
    for (const s of current) {
      const files = await currentRenderPaths(db, s);
      for (const rel of files) expected.add(rel);
      if (files.length === 0) problems.push(`no rows for ${JSON.stringify(s)}`);
    }
    const dataDir = env.DATA_DIR!;
    const backupDir = env.SYNC_LOCAL_DIR!;
    const local = (await walk(path.join(dataDir, 'candles'))).map((f) => path.relative(dataDir, f.path).split(path.sep).join('/'));
    expect(local.sort()).toEqual([...expected].sort());
    expect(newestRenders(local).superseded).toEqual([]);
    const backedUp = (await walk(path.join(backupDir, 'data', 'candles'))).map((f) => path.relative(path.join(backupDir, 'data'), f.path).split(path.sep).join('/'));
    expect(backedUp.sort()).toEqual([...expected].sort());
    for (const rel of expected) {
      const [a, b] = await Promise.all([fs.readFile(path.join(dataDir, rel)), fs.readFile(path.join(backupDir, remoteKeyFor(rel, new Date())))]);
      if (!a.equals(b)) problems.push(`${rel}: the backup differs from the local file`);
    }

    // The directory syncs ran on their job schedulers, one scheduler per rule.
    const sync = producer.queue(QueueName.Sync);
    expect((await sync.getJobSchedulers()).map((j) => j.name).sort()).toEqual([JobName.SyncDirectory, JobName.SyncDirectory]);
    const directorySyncs = (await sync.getJobs(['completed'], 0, 200)).filter((j) => j?.name === JobName.SyncDirectory);
    expect(directorySyncs.length).toBeGreaterThan(0);
    expect(directorySyncs.every((j) => (j.returnvalue as { status?: string }).status === 'synced-directory')).toBe(true);

    // No temp files, no job stuck or failed.
    const temp = [...await walk(dataDir), ...await walk(backupDir)].filter((f) => isTempFileName(path.basename(f.path)));
    for (const f of temp) problems.push(`temp file left: ${f.path}`);
    for (const name of ALL_QUEUES) {
      for (const job of await producer.queue(name).getFailed()) problems.push(`${name}/${job.id} failed: ${job.failedReason}`);
    }
    expect(await unfinishedJobs()).toEqual([]);
    expect(problems).toEqual([]);

    // Bookkeeping reaches a plateau: day 30 at most 20% above day 10, for every figure. Left out, because they grow with
    // the data itself and are checked exactly above: ingested_files (one row per flat file ingested, like the bars), and
    // the Parquet files with their file_syncs rows (one file per intraday series and month: a new month adds one each).
    process.stdout.write(`soak: ${results.length} schedule firings, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    const [, d10, d20, d30] = report as [Figures, Figures, Figures, Figures];
    expect(report.map((f) => f.day)).toEqual(REPORT_DAYS);
    for (const key of ['redisBytes', 'redisKeys', 'runs', 'runItems', 'cacheBytes'] as const) {
      expect(d30[key], `${key}: day 10 ${d10[key]}, day 20 ${d20[key]}, day 30 ${d30[key]}`).toBeLessThanOrEqual(1.2 * d10[key]);
    }
    // One sync record per current file: superseded renders' records are forgotten with them.
    expect(d30.fileSyncs).toBe(d30.dataFiles);
    expect(processes.filter((p) => p.child.exitCode !== null)).toEqual([]);
  });
});

function alignDay(ms: number): number {
  return ms - (ms % DAY);
}
