/**
 * S3 preload benchmark: `ferry preload` of 5 years of daily files (1,256 files) against the S3 emulator with 50 ms
 * added latency, and the same transfer by `rclone copy --transfers 20` against the same emulator, in the same run,
 * alternating. Then one 1 GB minute file through the worker, for its peak RSS.
 *
 *   npx tsx --conditions=ferry-source bench/s3-preload/run.ts [--latency-ms 50] [--rounds 2] [--big-mb 1024] [--quick]
 *     [--profile DIR]
 *
 * --quick: one round and a 256 MB minute file (what `npm run bench` runs). --profile: the workers and the CLI run with
 * `--cpu-prof` and write their CPU profiles into DIR.
 *
 * Needs Redis and PostgreSQL as the tests do, and rclone (Debian's `rclone`). ferry runs as the real download-worker
 * process (concurrency 20) plus the CLI; its time includes listing, verification, the PostgreSQL ingest and the Parquet
 * file, rclone's its listing and MD5 checks. The bound is 20 in flight / latency.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { DEFAULT_S3_CREDENTIALS, S3Counter, tradingDays } from '@ferry/emulators/s3';
import { createTestDatabase } from '../../test/support/database.js';
import { spawn } from 'node:child_process';
import { REPO_ROOT, spawnTs, type ServiceProcess } from '../../test/support/processes.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis.js';
import { waitFor } from '../../test/support/wait.js';
import { createRedis } from '@ferry/shared/redis';
import {
  exitedChildrenCpuSeconds, machineBusy, machineCpuTicks, mib, readProcessStats, sampleProcesses,
} from '../common/process-stats.js';
import { reportRows, type BenchRow } from '../common/report.js';

const { values } = parseArgs({
  options: {
    'latency-ms': { type: 'string', default: '50' }, rounds: { type: 'string' }, 'big-mb': { type: 'string' },
    quick: { type: 'boolean', default: false }, profile: { type: 'string' },
  },
});
const latencyMs = Number(values['latency-ms']);
const rounds = Number(values.rounds ?? (values.quick ? 1 : 2));
const bigBytes = Number(values['big-mb'] ?? (values.quick ? 256 : 1024)) * 1e6;
const END = '2025-10-31';
const START = '2020-11-01';
const FILES = tradingDays('us_stocks_sip', START, END).length;
const BIG_KEY = 'us_stocks_sip/minute_aggs_v1/2024/01/2024-01-02.csv.gz';
const run = promisify(execFile);

if (!(await run('rclone', ['version']).then(() => true, () => false))) {
  console.error('bench/s3-preload compares with rclone, which is not installed (Debian: apt-get install rclone)');
  process.exit(2);
}

// ferry as users run it: the built JavaScript (npm ci builds it; rebuilt here so it matches the sources).
await run('npx', ['tsc', '-b'], { cwd: REPO_ROOT });

function spawnBuilt(entry: string, args: readonly string[], env: NodeJS.ProcessEnv): ServiceProcess {
  const profile = values.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(values.profile)] : [];
  const child = spawn(process.execPath, [...profile, path.join(REPO_ROOT, entry), ...args], { cwd: REPO_ROOT, env: { ...process.env, LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { child, output: () => out, exited, kill: (signal = 'SIGTERM') => void child.kill(signal) };
}

const emulatorProcess = spawnTs('bench/s3-preload/emulator-process.ts', [JSON.stringify({
  firstDate: '2019-01-02', lastDate: '2025-12-31', latencyMs, bigObjects: bigBytes > 0 ? [{ key: BIG_KEY, sizeBytes: bigBytes }] : [],
})], {});
const announced = await waitFor(() => emulatorProcess.output().split('\n').find((l) => l.startsWith('{')), { timeoutMs: 60_000, what: 'the emulator' });
const { url } = JSON.parse(announced) as { url: string };
const counters = async () => ((await (await fetch(`${url}/__control/counters`)).json()) as { counters: Record<string, number> }).counters;
const baseEnv = {
  REDIS_URL: TEST_REDIS_URL, S3_ENDPOINT: url, S3_ACCESS_KEY_ID: DEFAULT_S3_CREDENTIALS.accessKeyId,
  S3_SECRET_ACCESS_KEY: DEFAULT_S3_CREDENTIALS.secretAccessKey, DOWNLOAD_CONCURRENCY: '20', LOG_LEVEL: 'info', SYNC_TARGET: 'none',
};

interface Timed {
  seconds: number;
  bytes: number;
  gets: number;
  peakRss?: number;
  /** Where ferry's time went, from the CLI's start, in ms: the run recorded (CLI start-up and listing), the first and last file in. */
  phases?: { runCreated: number; firstFile: number; lastFile: number };
  cpu: CpuSeconds;
}

/**
 * CPU seconds (user + system) each process spent during one side, and how busy the machine was. `client` is rclone,
 * or ferry's CLI; `workers` the download workers; `postgres` the backends serving the side's database (read before the
 * workers stop; the CLI's own connections, closed earlier, are missed); `redis` the whole server, other people's
 * clients included.
 */
interface CpuSeconds {
  client: number;
  workers: number;
  emulator: number;
  postgres: number;
  redis: number;
  busy: number;
}

const redisInfo = createRedis(TEST_REDIS_URL, 'cli');
async function redisCpuSeconds(): Promise<number> {
  const info = await redisInfo.info('cpu');
  const value = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return value('used_cpu_sys') + value('used_cpu_user');
}

/** Starts counting CPU seconds of the emulator, Redis and the machine; `workers` are the download workers' pids. */
async function cpuMeter(workers: readonly number[] = []) {
  const cpuOf = (pid: number | undefined) => (pid === undefined ? 0 : readProcessStats(pid)?.cpuSeconds ?? 0);
  const sum = (pids: readonly number[]) => pids.reduce((n, pid) => n + cpuOf(pid), 0);
  const before = {
    children: exitedChildrenCpuSeconds(), workers: sum(workers), emulator: cpuOf(emulatorProcess.child.pid),
    redis: await redisCpuSeconds(), machine: machineCpuTicks(),
  };
  return {
    /** After the side's client exited, before the workers stop. */
    async stop(postgresBackends: readonly number[] = []): Promise<CpuSeconds> {
      return {
        client: exitedChildrenCpuSeconds() - before.children,
        workers: sum(workers) - before.workers,
        emulator: cpuOf(emulatorProcess.child.pid) - before.emulator,
        postgres: sum(postgresBackends),
        redis: (await redisCpuSeconds()) - before.redis,
        busy: machineBusy(before.machine, machineCpuTicks()),
      };
    },
  };
}

/**
 * One ferry preload from scratch: fresh database, Redis prefix, data dir and cache; real worker processes sharing
 * `inFlight` downloads between them (DOWNLOAD_CONCURRENCY each = inFlight / processes), as `--scale` would run them.
 */
async function ferryOnce(args: string[], processes = 1, inFlight = 20): Promise<Timed> {
  const db = await createTestDatabase();
  const prefix = uniquePrefix('bench-s3');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-s3-'));
  const env = { ...baseEnv, DATABASE_URL: db.url, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, DOWNLOAD_CONCURRENCY: String(inFlight / processes) };
  const workers = Array.from({ length: processes }, () => spawnBuilt('services/download-worker/dist/main.js', [], env));
  try {
    for (const worker of workers) await waitFor(() => worker.output().includes('download worker started'), { timeoutMs: 60_000, what: 'the worker' });
    const sampler = sampleProcesses(workers.map((w) => w.child.pid!), 200);
    const meter = await cpuMeter(workers.map((w) => w.child.pid!));
    const before = await counters();
    const started = performance.now();
    const cliProcess = spawnBuilt('services/producer/dist/cli.js', ['preload', ...args, '--wait', '--json'], env);
    const cli = { code: await cliProcess.exited, output: cliProcess.output() };
    const seconds = (performance.now() - started) / 1000;
    const { rows: backends } = await db.pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    const cpu = await meter.stop(backends.map((b) => b.pid));
    const peakRss = Math.max(...sampler.stop().map((p) => p.peakRssBytes));
    if (cli.code !== 0) throw new Error(`ferry preload failed (${cli.code}):\n${cli.output.slice(-2000)}`);
    const after = await counters();
    const diff = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    const startedAt = performance.timeOrigin + started;
    const { rows: [at] } = await db.pool.query<{ created: number; first: number; last: number }>(
      `SELECT extract(epoch FROM r.created_at) * 1000 AS created, extract(epoch FROM min(i.updated_at)) * 1000 AS first,
              extract(epoch FROM max(i.updated_at)) * 1000 AS last
       FROM collection_runs r JOIN run_items i ON i.run_id = r.id GROUP BY r.id`);
    const phases = { runCreated: at!.created - startedAt, firstFile: at!.first - startedAt, lastFile: at!.last - startedAt };
    return { seconds, bytes: diff(S3Counter.bytesSent), gets: diff(S3Counter.operation('get')), peakRss, phases, cpu };
  } finally {
    for (const worker of workers) worker.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await deleteKeys(prefix);
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** rclone copy of the same five years (whole months 2020-11 .. 2025-10) into an empty folder. */
async function rcloneOnce(): Promise<Timed> {
  const dest = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-rclone-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env, RCLONE_CONFIG_EMU_TYPE: 's3', RCLONE_CONFIG_EMU_PROVIDER: 'Other', RCLONE_CONFIG_EMU_ENDPOINT: url,
    RCLONE_CONFIG_EMU_ACCESS_KEY_ID: DEFAULT_S3_CREDENTIALS.accessKeyId, RCLONE_CONFIG_EMU_SECRET_ACCESS_KEY: DEFAULT_S3_CREDENTIALS.secretAccessKey,
    RCLONE_CONFIG_EMU_REGION: 'us-east-1', RCLONE_CONFIG_EMU_FORCE_PATH_STYLE: 'true',
    // The emulator serves ListObjectsV2 only, as Massive documents; rclone asks v1 of unknown providers.
    RCLONE_CONFIG_EMU_LIST_VERSION: '2',
  };
  delete env.AWS_CA_BUNDLE;
  const include = ['/2020/1[12]/*', '/2021/**', '/2022/**', '/2023/**', '/2024/**', '/2025/0*/*', '/2025/10/*'].flatMap((p) => ['--include', p]);
  try {
    const meter = await cpuMeter();
    const before = await counters();
    const started = performance.now();
    await run('rclone', ['copy', 'emu:flatfiles/us_stocks_sip/day_aggs_v1', dest, '--transfers', '20', '--fast-list', ...include], { env, maxBuffer: 1 << 24 });
    const seconds = (performance.now() - started) / 1000;
    const cpu = await meter.stop();
    const after = await counters();
    const copied = await countFiles(dest);
    if (copied !== FILES) throw new Error(`rclone copied ${copied} files, expected ${FILES}`);
    const diff = (name: string) => (after[name] ?? 0) - (before[name] ?? 0);
    return { seconds, bytes: diff(S3Counter.bytesSent), gets: diff(S3Counter.operation('get')), cpu };
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += 1;
  return n;
}

function describeCpu({ client, workers, emulator, postgres, redis, busy }: CpuSeconds, clientName: string): string {
  const s = (seconds: number) => seconds.toFixed(2);
  return `CPU s: ${clientName} ${s(client)}${workers > 0 ? `, worker(s) ${s(workers)}` : ''}, emulator ${s(emulator)}` +
    `${postgres > 0 ? `, PostgreSQL ${s(postgres)}` : ''}, Redis ${s(redis)}; machine ${(busy * 100).toFixed(0)}% busy`;
}

function describe(t: Timed): string {
  const p = t.phases!;
  const s = (ms: number) => (ms / 1000).toFixed(2);
  return `${t.seconds.toFixed(2)} s (run recorded at ${s(p.runCreated)} s, first file in at ${s(p.firstFile)} s, last at ${s(p.lastFile)} s; ` +
    `${describeCpu(t.cpu, 'CLI')})`;
}

const best = (xs: Timed[]) => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
const rows: BenchRow[] = [];
try {
  // Warm the emulator's generated bodies (its first listing hashes every file), so neither side pays for it.
  await rcloneOnce();
  const oneProcess: Timed[] = [];
  const twoProcesses: Timed[] = [];
  const rcloneRuns: Timed[] = [];
  const args = ['TSLA', '--period', '5y', '--end', END];
  for (let i = 0; i < rounds; i++) {
    rcloneRuns.push(await rcloneOnce());
    oneProcess.push(await ferryOnce(args, 1));
    twoProcesses.push(await ferryOnce(args, 2));
    console.log(`round ${i + 1}: rclone ${rcloneRuns.at(-1)!.seconds.toFixed(2)} s (${describeCpu(rcloneRuns.at(-1)!.cpu, 'rclone')}), ferry 1 process ${describe(oneProcess.at(-1)!)}, ` +
      `2 processes ${describe(twoProcesses.at(-1)!)}`);
  }
  const r = best(rcloneRuns);
  const fps = (t: Timed) => FILES / t.seconds;
  const bound = 20 / (latencyMs / 1000);
  for (const [label, runs] of [['1 worker process x 20', oneProcess], ['2 worker processes x 10', twoProcesses]] as const) {
    const f = best(runs);
    if (f.gets !== FILES) throw new Error(`ferry made ${f.gets} GETs for ${FILES} files`);
    rows.push({
      bench: 's3-preload',
      measure: `files/s, ${FILES} daily files, ${latencyMs} ms latency, 20 in flight (bound ${bound.toFixed(0)} files/s), ${label}; best of ${rounds}`,
      result: `${fps(f).toFixed(0)} files/s (${(f.bytes / 1e6 / f.seconds).toFixed(1)} MB/s, ${f.seconds.toFixed(2)} s end to end: CLI, listing, ingest, Parquet; ` +
        `${(FILES / ((f.phases!.lastFile - f.phases!.firstFile) / 1000)).toFixed(0)} files/s from the first file in to the last; peak RSS ${mib(f.peakRss ?? 0)})`,
      baseline: `rclone copy --transfers 20: ${fps(r).toFixed(0)} files/s (${r.seconds.toFixed(2)} s)`,
      ratio: fps(f) / fps(r),
      target: '>= 1.0',
      met: fps(f) / fps(r) >= 1.0,
    });
  }
  if (bigBytes > 0) {
    const big = await ferryOnce(['AAPL', '--interval', '1m', '--start', '2024-01-02', '--end', '2024-01-02']);
    rows.push({
      bench: 's3-preload',
      measure: `one ${(bigBytes / 1e9).toFixed(1)} GB minute file through the download worker (stream, MD5/size, gunzip, CSV, ingest of AAPL)`,
      result: `peak worker RSS ${mib(big.peakRss ?? 0)}; ${(big.bytes / 1e6 / big.seconds).toFixed(1)} MB/s (${big.seconds.toFixed(1)} s)`,
    });
  }
} finally {
  redisInfo.disconnect();
  emulatorProcess.kill('SIGTERM');
  await emulatorProcess.exited;
}
reportRows(rows);
process.exit(0);
