import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Secret } from '@ferry/shared/core';
import { ALL_QUEUES } from '@ferry/shared/jobs';
import { createPool, type Pool } from '@ferry/shared/postgres';
import { startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from '../../scripts/local-services.js';
import { startEmulators, type RunningEmulators } from '@ferry/emulators/start-all';
import { ferryInProcess } from '../support/ferry-cli.js';
import { WorkerFleet } from './worker-fleet.js';

/**
 * The world every chaos scenario runs in: a private Redis (AOF on) and PostgreSQL that the scenarios may stop, the
 * three emulators, and per scenario a fresh database, queue prefix, data dir and Dropbox root with its own worker
 * processes. The emulated exchange's clock is frozen, so what it can have is fixed and the truth is computable.
 */
export const NOW = Date.UTC(2026, 9, 20, 5, 30);

/** The mixed run: a crypto collection and a stock preload, whose Parquet files are chained to Dropbox. */
export const WORKLOAD = {
  collect: ['collect', '--top', '16', '--days', '240', '--timeframe', '1h,1d'],
  preload: ['preload', 'AAPL', 'TSLA', '--period', '2y', '--end', '2025-10-31'],
  tickers: ['AAPL', 'TSLA'],
  preloadStart: '2023-11-01',
  preloadEnd: '2025-10-31',
} as const;

/**
 * Latencies, concurrency and a weight budget that make the run last about half a minute, so that the chaos happens
 * during it: the collection is paced by the budget (some 600 weight in 150-weight windows of 5 s), the preload's
 * ~500 files by latency over 2 x 3 download slots.
 */
const LATENCY = { binance: 150, s3: 250, dropbox: 20 } as const;
const EXCHANGE_BUDGET = { weightLimit: 150, windowMs: 5_000 } as const;

export interface ChaosWorld {
  redis: PrivateRedis;
  postgres: PrivatePostgres;
  emulators: RunningEmulators;
  scenario(name: string): Promise<Scenario>;
  close(): Promise<void>;
}

export interface Scenario {
  name: string;
  env: NodeJS.ProcessEnv;
  db: Pool;
  prefix: string;
  dataDir: string;
  dropboxRoot: string;
  fleet: WorkerFleet;
  /** Runs the CLI commands that queue the mixed run; throws with their output if one fails. */
  enqueue(): Promise<void>;
  /** Whether any queue of the scenario still holds unfinished jobs (false while Redis is unreachable). */
  busy(): Promise<boolean>;
  /** Resolves once every run is closed and no queue holds unfinished jobs, twice in a row. */
  settled(timeoutMs: number): Promise<void>;
  queueCounts(): Promise<Record<string, Record<string, number>>>;
  close(): Promise<void>;
}

export const UNFINISHED_STATES = ['active', 'waiting', 'waiting-children', 'delayed', 'prioritized', 'paused'] as const;

export async function startChaosWorld(): Promise<ChaosWorld> {
  const redis = await startPrivateRedis({ appendOnly: true });
  const postgres = await startPrivatePostgres();
  const emulators = await startEmulators({
    binance: { nowMs: NOW, latencyMs: LATENCY.binance, banMs: 3_000, ...EXCHANGE_BUDGET },
  });
  emulators.s3.control.configure({ latencyMs: LATENCY.s3 });
  emulators.dropbox.control.configure({ latencyMs: LATENCY.dropbox });
  let count = 0;
  return {
    redis,
    postgres,
    emulators,
    scenario: (name) => startScenario(name, ++count, { redis, postgres, emulators }),
    async close() {
      await emulators.close();
      await Promise.all([redis.destroy(), postgres.destroy()]);
    },
  };
}

async function startScenario(
  name: string,
  n: number,
  world: { redis: PrivateRedis; postgres: PrivatePostgres; emulators: RunningEmulators },
): Promise<Scenario> {
  const database = `chaos_${n}`;
  const admin = new pg.Client({ connectionString: world.postgres.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const dbUrl = new URL(world.postgres.url);
  dbUrl.pathname = `/${database}`;
  const prefix = `chaos${n}`;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), `ferry-chaos-${n}-`));
  const dropboxRoot = `/chaos-${n}`;
  const env: NodeJS.ProcessEnv = {
    ...world.emulators.env,
    DATABASE_URL: dbUrl.toString(),
    REDIS_URL: world.redis.url,
    QUEUE_PREFIX: prefix,
    DATA_DIR: dataDir,
    DROPBOX_ROOT: dropboxRoot,
    // The candles come from the REST emulator, as before the archive existed: the archive path has its own tests, and
    // a thousand archive files would make every scenario several times longer.
    ARCHIVE_URL: undefined,
    // Crashed workers' jobs come back within seconds, not the default half a minute.
    JOB_LOCK_MS: '4000',
    DOWNLOAD_CONCURRENCY: '3',
    // 10% 5xx and 5% resets fail about one request in seven: with the default 3 attempts, a 1h coin (6 requests, each
    // attempt going on from what the last one stored) would fail for good about once in ten. 8 is what a flaky
    // source needs (see JOB_ATTEMPTS in the README); kills, restarts and outages spend no attempts at all.
    JOB_ATTEMPTS: '8',
    SHUTDOWN_GRACE_MS: '3000',
    // Only chained syncs: scheduled directory syncs would keep repeating jobs in the queues.
    SYNC_LEARNING_EVERY: 'off',
    SYNC_LOGS_EVERY: 'off',
    SYNC_MODELS_EVERY: 'off',
    SYNC_CANDLES_EVERY: 'off',
    LOG_LEVEL: 'warn',
  };
  const db = createPool({ url: new Secret(env.DATABASE_URL!), poolSize: 4, applicationName: 'ferry-chaos' });
  // Rides out Redis restarts: every command waits for the connection to come back.
  const redis = new Redis(world.redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 200 });
  const queues = ALL_QUEUES.map((q) => new Queue(q, { connection: redis, prefix }));
  const fleet = new WorkerFleet(env, { 'download-worker': 2, 'sync-worker': 1 });

  const queueCounts = async () => Object.fromEntries(await Promise.all(
    queues.map(async (q) => [q.name, await q.getJobCounts(...UNFINISHED_STATES, 'completed', 'failed')] as const)));
  const unfinishedIn = (counts: Record<string, Record<string, number>>) =>
    Object.values(counts).reduce((sum, c) => sum + UNFINISHED_STATES.reduce((a, s) => a + (c[s] ?? 0), 0), 0);

  async function runsOpen(): Promise<number> {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM collection_runs WHERE status IN ('queued', 'running')`);
    return rows[0]!.n;
  }

  const withTimeout = <T>(p: Promise<T>, ms: number) =>
    Promise.race([p, sleep(ms).then(() => { throw new Error('timed out'); })]);

  async function busy(): Promise<boolean> {
    try {
      return unfinishedIn(await withTimeout(queueCounts(), 2_000)) > 0;
    } catch {
      return false;
    }
  }

  return {
    name, env, db, prefix, dataDir, dropboxRoot, fleet, queueCounts, busy,
    async enqueue() {
      for (const args of [WORKLOAD.collect, WORKLOAD.preload]) {
        const run = await ferryInProcess(args, env);
        if (run.code !== 0) throw new Error(`ferry ${args.join(' ')} exited ${run.code}:\n${run.stderr}${run.stdout}`);
      }
    },
    async settled(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      let quietPolls = 0;
      let last = '';
      while (quietPolls < 2) {
        if (Date.now() > deadline) {
          throw new Error(`${name}: not settled after ${timeoutMs / 1000} s; last seen: ${last}\n${fleet.tail()}`);
        }
        await sleep(1_000);
        try {
          const [open, counts] = await withTimeout(Promise.all([runsOpen(), queueCounts()]), 5_000);
          last = `${open} run(s) open; ${JSON.stringify(counts)}`;
          quietPolls = open === 0 && unfinishedIn(counts) === 0 ? quietPolls + 1 : 0;
        } catch (err) {
          last = `unreachable: ${err instanceof Error ? err.message : String(err)}`;
          quietPolls = 0;
        }
      }
    },
    async close() {
      await fleet.stop();
      await Promise.all(queues.map((q) => q.close()));
      redis.disconnect();
      await db.end();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
