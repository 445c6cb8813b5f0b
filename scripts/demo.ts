/**
 * `npm run demo`: ferry end to end on this machine, offline. Starts the emulated exchange, S3 bucket and Dropbox,
 * finds Redis and PostgreSQL (REDIS_URL / DATABASE_URL when they answer, else private instances in a temp dir),
 * starts the workers and the dashboard, runs `ferry collect --top 20 --days 90 --timeframe 1h --wait` and
 * `ferry preload TSLA AAPL BTC-USD --period 1y --wait`, and prints
 * where to look. Ctrl+C stops everything it started. `--exit` stops right after the collection (for CI).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Redis } from 'ioredis';
import { JobProducer, QueueName } from '@ferry/shared/jobs';
import { startEmulators, type RunningEmulators } from '@ferry/emulators/start-all';
import { spawnTs, type ServiceProcess } from '../test/support/processes.js';
import { freePort, startPrivatePostgres, startPrivateRedis, type PrivatePostgres, type PrivateRedis } from './local-services.js';

const exitAfterCollect = process.argv.includes('--exit');
const cleanups: Array<() => Promise<unknown> | unknown> = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(130));
process.on('SIGTERM', () => void stopAll(143));

async function redisAnswers(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1500 });
  r.on('error', () => undefined);
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

async function postgresAnswers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A fresh `ferry_demo` database on the server, so the demo never touches your data. */
async function demoDatabase(serverUrl: string): Promise<string> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    const exists = await c.query(`SELECT 1 FROM pg_database WHERE datname = 'ferry_demo'`);
    if (exists.rowCount === 0) await c.query('CREATE DATABASE ferry_demo');
  } finally {
    await c.end();
  }
  const u = new URL(serverUrl);
  u.pathname = '/ferry_demo';
  return u.toString();
}

function say(text: string): void {
  process.stderr.write(`\x1b[1mdemo\x1b[0m ${text}\n`);
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

  let redis: string = redisUrl;
  if (!(await redisAnswers(redisUrl))) {
    say(`no Redis at ${redisUrl}: starting a private redis-server`);
    let privateRedis: PrivateRedis;
    try {
      privateRedis = await startPrivateRedis();
    } catch (err) {
      say(`${(err as Error).message}\nInstall Redis (Debian/Ubuntu: sudo apt-get install redis-server) or set REDIS_URL.`);
      return stopAll(1);
    }
    cleanups.push(() => privateRedis.destroy());
    redis = privateRedis.url;
  }
  let database: string;
  if (await postgresAnswers(serverUrl)) {
    database = await demoDatabase(serverUrl);
  } else {
    say(`no PostgreSQL at ${serverUrl.replace(/:[^:@/]*@/, ':***@')}: starting a private one`);
    let privatePg: PrivatePostgres;
    try {
      privatePg = await startPrivatePostgres();
    } catch (err) {
      say(`${(err as Error).message}\nInstall PostgreSQL (Debian/Ubuntu: sudo apt-get install postgresql) or set DATABASE_URL.`);
      return stopAll(1);
    }
    cleanups.push(() => privatePg.destroy());
    database = await demoDatabase(privatePg.url);
  }

  const emulators: RunningEmulators = await startEmulators({ binanceLatencyMs: 5 });
  cleanups.push(() => emulators.close());
  say(`emulators: exchange ${emulators.binance.url}, S3 ${emulators.s3.url}, Dropbox ${emulators.dropbox.url}`);

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-demo-'));
  const env: NodeJS.ProcessEnv = {
    ...emulators.env,
    REDIS_URL: redis,
    DATABASE_URL: database,
    QUEUE_PREFIX: 'ferry-demo',
    DATA_DIR: path.join(workDir, 'data'),
    SYNC_LOCAL_DIR: path.join(workDir, 'backup'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const services: ServiceProcess[] = [];
  const start = (entry: string, args: string[] = []) => {
    const p = spawnTs(entry, args, env);
    services.push(p);
    cleanups.push(async () => {
      p.kill('SIGTERM');
      await p.exited;
    });
    void p.exited.then((code) => {
      if (!stopping && code !== 0) say(`${entry} stopped (${code}):\n${p.output().slice(-2000)}`);
    });
    return p;
  };
  start('services/download-worker/src/main.ts');
  start('services/sync-worker/src/main.ts');

  // The dashboard wants an API key: make one for this demo (shown once, like `ferry keys create`).
  const keyRun = spawnTs('services/producer/src/cli.ts', ['keys', 'create', '--name', `demo-${Date.now()}`, '--role', 'admin'], env);
  await keyRun.exited;
  const apiKey = /ferry_[A-Za-z0-9_-]+/.exec(keyRun.output())?.[0];
  env.DASHBOARD_PORT = String(await freePort());
  start('services/dashboard/src/main.ts');
  const board = `http://127.0.0.1:${env.DASHBOARD_PORT}/admin/queues`;
  say(`Bull Board: ${board}  (sign in with any user name and the API key as password: ${apiKey ?? 'see above'})`);

  await downloadWorkerConnected(redis, env.QUEUE_PREFIX!);

  say('running: ferry collect --top 20 --days 90 --timeframe 1h --wait');
  const collect = spawnTs('services/producer/src/cli.ts', ['collect', '--top', '20', '--days', '90', '--timeframe', '1h', '--wait'], env);
  collect.child.stdout?.pipe(process.stdout);
  collect.child.stderr?.pipe(process.stderr);
  const collected = await collect.exited;
  say(`collection finished with exit code ${collected}; Parquet files under ${env.DATA_DIR}/candles, backups in the Dropbox emulator`);

  say('running: ferry preload TSLA AAPL BTC-USD --period 1y --wait   (flat files from the emulated S3 bucket)');
  const preload = spawnTs('services/producer/src/cli.ts', ['preload', 'TSLA', 'AAPL', 'BTC-USD', '--period', '1y', '--wait'], env);
  preload.child.stdout?.pipe(process.stdout);
  preload.child.stderr?.pipe(process.stderr);
  const preloaded = await preload.exited;
  const code = collected === 0 && preloaded === 0 ? 0 : 1;
  say(`preload finished with exit code ${preloaded}`);
  say(`Bull Board: ${board}  (API key: ${apiKey ?? '?'})`);
  if (exitAfterCollect) return stopAll(code === 0 ? 0 : 1);
  say('press Ctrl+C to stop everything the demo started');
  await new Promise(() => undefined);
}

/**
 * Waits for the download worker to take its queue before queueing work: it starts from source (tsx) in a few seconds,
 * and `--wait` would otherwise tell the user, rightly, that no worker is connected yet.
 */
async function downloadWorkerConnected(redisUrl: string, prefix: string): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
  const producer = new JobProducer({ connection, prefix, attempts: 1 });
  try {
    const deadline = Date.now() + 60_000;
    while ((await producer.queue(QueueName.Candles).getWorkers()).length === 0) {
      if (Date.now() > deadline) throw new Error('the download worker did not connect to Redis within a minute');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    await producer.close();
    connection.disconnect();
  }
}

void main().catch((err: unknown) => {
  say(`failed: ${err instanceof Error ? err.stack : String(err)}`);
  void stopAll(1);
});
