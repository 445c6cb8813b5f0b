/**
 * Benchmark (issue 14): 1m candle backfill from scratch, archive-first (`ferry collect --source auto`, Binance's
 * archive files through the data.binance.vision emulator, REST for the tail) against REST-only (`--source rest`),
 * both through ferry (the CLI in-process, one download-worker process with concurrency 20) against the emulators with
 * the same 30 ms latency and Binance's real weight limit (6,000 a minute), each into its own fresh database. Then the
 * same rows by COPY FROM STDIN (CSV, 4 streams) into a fresh database: the ingest ceiling of this machine in this run.
 * Checks that both databases hold identical rows, and counts 429s.
 *
 *   npx tsx --conditions=ferry-source bench/archive-backfill/run.ts [--coins 6] [--days 365] [--quick] [--full] [--profile DIR]
 *
 * default: 6 coins x 365 days (3.15 million candles): REST-only needs about 3,150 klines requests, more than one
 *          weight window, so it is bound by the limit as the full size is; runs in a few minutes here.
 * --full:  the size, 20 coins x 365 days (10.5 million candles; REST-only cannot beat about 3.5 minutes).
 * --quick: 2 coins x 60 days (what `npm run bench` runs; REST-only fits in one window there, so the ratio says less).
 * --profile: the download worker runs with `--cpu-prof` and writes its CPU profiles into DIR.
 * --archive-only: archive-first and the COPY ceiling only, no REST-only side (to compare two versions of the code
 *          quickly, alternated on a shared machine); no wall-time ratio and no comparison of rows then.
 *
 * Each side also reports the CPU seconds of the worker process and of this process (the CLI, both emulators, the
 * progress polling) while it ran: where the 2 cores went, besides PostgreSQL.
 *
 * The archive emulator builds its zips before the clock starts (data.binance.vision serves static files); the REST
 * emulator computes its pages as they are asked for, in this process, as in the crypto-backfill bench.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { QueueName } from '@ferry/shared/jobs';
import { createRedis } from '@ferry/shared/redis';
import { parseArgs } from 'node:util';
import type { CliIo } from '../../services/producer/src/io.js';
import { main } from '../../services/producer/src/program.js';
import { waitForRun } from '../../services/producer/src/progress.js';
import { startBinanceEmulator, type BinanceEmulator } from '@ferry/emulators/binance';
import { startBinanceArchiveEmulator, type ArchiveFile } from '@ferry/emulators/binance-archive';
import { findBinary, postgresBinDirs } from '../../scripts/local-services.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.js';
import { REPO_ROOT, spawnService, TS_NODE_ARGS, type ServiceProcess } from '../../test/support/processes.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis.js';
import { machineBusy as machineBusyBetween, machineCpuTicks, readProcessStats } from '../common/process-stats.js';
import { reportRows, type BenchRow } from '../common/report.js';

const { values } = parseArgs({
  options: {
    coins: { type: 'string' },
    days: { type: 'string' },
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    profile: { type: 'string' },
    'archive-only': { type: 'boolean', default: false },
  },
});
const coins = Number(values.coins ?? (values.full ? 20 : values.quick ? 2 : 6));
const days = Number(values.days ?? (values.quick ? 60 : 365));
const DAY = 86_400_000;
// A fixed exchange clock, so the data (and the files the archive has) are the same in every run.
const NOW = Date.UTC(2026, 9, 14, 5, 30);
const LATENCY_MS = 30;
const CONCURRENCY = '20';

const binance = await startBinanceEmulator({ settings: { latencyMs: LATENCY_MS, nowMs: NOW, weightLimit: 6000, windowMs: 60_000 } });
const archive = await startBinanceArchiveEmulator({ settings: { latencyMs: LATENCY_MS, nowMs: NOW }, cacheBytes: 2 * 1024 ** 3 });
const start = Math.floor((NOW - days * DAY) / DAY) * DAY;
// Coins listed before the range starts, so every one is a full backfill.
const symbols = binance.symbols().filter((s) => s.kind === 'coin' && s.status === 'TRADING' && s.listedAt < start).slice(0, coins);

/** The files ferry will ask for: monthly inside the range, daily for the other days (as planArchiveFiles does). */
function filesToPrepare(): ArchiveFile[] {
  const inside = (f: ArchiveFile) => f.start >= start && f.end <= NOW;
  return symbols.flatMap((s) => {
    const monthly = archive.files(s.symbol, '1m', 'monthly').filter(inside);
    return [...monthly, ...archive.files(s.symbol, '1m', 'daily').filter((d) => inside(d) && !monthly.some((m) => d.start >= m.start && d.end <= m.end))];
  });
}

interface Side {
  source: 'rest' | 'auto';
  wallS: number;
  candles: number;
  complete: number;
  klines: number;
  status429: number;
  status418: number;
  maxWindowWeight: number;
  zips: number;
  /** From the first archive file job starting to the last one finishing (0 without archive files). */
  filePhaseS: number;
  /** Rows the archive files brought. */
  fileRows: number;
  /** CPU seconds (user + system) of the download worker, and of this process, during the side. */
  workerCpuS: number;
  /** The download worker's peak resident set (VmHWM) over its life: start, then this side's backfill. */
  workerPeakRssMiB: number;
  benchCpuS: number;
  /** CPU seconds of the PostgreSQL backends serving the side's database, read just before the worker stops (a connection closed earlier is missed). */
  postgresCpuS: number;
  /** Share of the machine's CPU time that was busy (all processes, PostgreSQL and other people's work included). */
  machineBusy: number;
  db: TestDatabase;
}

async function backfill(source: Side['source'], emulator: BinanceEmulator): Promise<Side> {
  emulator.control.reset();
  emulator.control.configure({ latencyMs: LATENCY_MS, nowMs: NOW, weightLimit: 6000, windowMs: 60_000 });
  archive.control.counters.clear();
  const db = await createTestDatabase();
  const prefix = uniquePrefix('bench');
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-'));
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, EXCHANGE_URL: emulator.url, ARCHIVE_URL: archive.url,
    DATA_DIR: dataDir, LOG_LEVEL: 'warn', DOWNLOAD_CONCURRENCY: CONCURRENCY, SYNC_TARGET: 'local', SYNC_LOCAL_DIR: path.join(dataDir, 'backup'),
  };
  const worker = values.profile ? spawnProfiledWorker(env, path.resolve(values.profile)) : spawnService('download-worker', env);
  try {
    await workerReady(prefix);
    const workerCpuBefore = processCpuS(worker.child.pid);
    const benchCpuBefore = process.cpuUsage();
    const machineBefore = machineCpuTicks();
    let out = '';
    let err = '';
    const io: CliIo = { stdout: (t) => (out += t), stderr: (t) => (err += t), isTty: false, env };
    const started = Date.now();
    const code = await main(['collect', '--symbols', symbols.map((s) => s.base).join(','), '--days', String(days), '--timeframe', '1m',
      '--source', source, '--json'], io);
    if (code !== 0) throw new Error(`collect --source ${source} failed: ${out}${err}`);
    const { run_id: runId } = JSON.parse(out) as { run_id: string };
    const s = await waitForRun(db.pool, runId, () => undefined, { intervalMs: 100 });
    const wallS = (Date.now() - started) / 1000;
    const workerCpuS = processCpuS(worker.child.pid) - workerCpuBefore;
    // Under tsx, whose compiler adds about 100 MiB to what the compiled worker would hold (bench/worker-memory).
    const workerPeakRssMiB = Math.round((readProcessStats(worker.child.pid!)?.peakRssBytes ?? 0) / 1024 ** 2);
    const benchCpu = process.cpuUsage(benchCpuBefore);
    const benchCpuS = (benchCpu.user + benchCpu.system) / 1e6;
    const machineBusy = machineBusyBetween(machineBefore, machineCpuTicks());
    const { rows: backends } = await db.pool.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()');
    const postgresCpuS = backends.map((b) => processCpuS(b.pid)).reduce((a, b) => a + b, 0);
    if (process.env.BENCH_TIMELINE) await timeline(prefix, started);
    const filePhase = await archiveFilePhase(prefix);
    const c = emulator.control;
    return {
      source, wallS, candles: s.total_records, complete: s.complete, klines: c.counter('klines'), status429: c.counter('status:429'),
      status418: c.counter('status:418'), maxWindowWeight: c.counter('maxWindowWeight'), zips: archive.control.counter('zips'), ...filePhase,
      workerCpuS, workerPeakRssMiB, benchCpuS, postgresCpuS, machineBusy, db,
    };
  } finally {
    worker.kill('SIGTERM');
    await worker.exited;
    await deleteKeys(prefix);
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** The download worker as spawnService starts it, with `--cpu-prof` (not allowed in NODE_OPTIONS). */
function spawnProfiledWorker(env: NodeJS.ProcessEnv, dir: string): ServiceProcess {
  const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, ...TS_NODE_ARGS, path.join(REPO_ROOT, 'services/download-worker/src/main.ts')],
    { cwd: REPO_ROOT, env: { ...process.env, LOG_FORMAT: 'json', ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return { child, output: () => '', exited, kill: (signal = 'SIGTERM') => void child.kill(signal) };
}

/** CPU seconds (user + system) a process has used so far, from /proc (0 where there is none). */
function processCpuS(pid: number | undefined): number {
  return (pid === undefined ? undefined : readProcessStats(pid))?.cpuSeconds ?? 0;
}

/** Until the worker process serves both queues (starting it under tsx takes seconds, and must not count). */
async function workerReady(prefix: string): Promise<void> {
  const redis = createRedis(TEST_REDIS_URL, 'worker');
  const queues = [QueueName.Candles, QueueName.ArchiveFiles].map((name) => new Queue(name, { connection: redis, prefix }));
  try {
    const deadline = Date.now() + 120_000;
    while ((await Promise.all(queues.map((q) => q.getWorkersCount()))).some((n) => n === 0)) {
      if (Date.now() > deadline) throw new Error('the download worker did not start within 2 minutes');
      await sleep(200);
    }
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
  }
}

/** How long the archive file jobs took together, and the rows they brought (their results say). */
async function archiveFilePhase(prefix: string): Promise<{ filePhaseS: number; fileRows: number }> {
  const redis = createRedis(TEST_REDIS_URL, 'worker');
  const queue = new Queue(QueueName.ArchiveFiles, { connection: redis, prefix });
  try {
    const jobs = await queue.getJobs(['completed']);
    if (jobs.length === 0) return { filePhaseS: 0, fileRows: 0 };
    const first = Math.min(...jobs.map((j) => j.processedOn ?? Infinity));
    const last = Math.max(...jobs.map((j) => j.finishedOn ?? 0));
    return { filePhaseS: (last - first) / 1000, fileRows: jobs.reduce((n, j) => n + ((j.returnvalue as { rows?: number } | null)?.rows ?? 0), 0) };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** When the jobs of each queue ran, in seconds from the start (BENCH_TIMELINE=1). */
async function timeline(prefix: string, started: number): Promise<void> {
  const redis = createRedis(TEST_REDIS_URL, 'worker');
  for (const name of [QueueName.ArchiveFiles, QueueName.Candles]) {
    const queue = new Queue(name, { connection: redis, prefix });
    const jobs = await queue.getJobs(['completed', 'failed']);
    const s = (t: number | undefined) => (((t ?? 0) - started) / 1000).toFixed(1);
    const first = Math.min(...jobs.map((j) => j.timestamp));
    console.log(`${name}: ${jobs.length} jobs, added ${s(first)} s, ran ${s(Math.min(...jobs.map((j) => j.processedOn ?? Infinity)))}` +
      `..${s(Math.max(...jobs.map((j) => j.finishedOn ?? 0)))} s`);
    await queue.close();
  }
  redis.disconnect();
}

/** Per symbol: row count and an MD5 over every row in order. */
async function fingerprint(db: TestDatabase): Promise<string> {
  const { rows } = await db.pool.query<{ symbol: string; n: number; md5: string }>(
    `SELECT symbol, count(*)::int AS n, md5(string_agg(concat_ws(',', extract(epoch FROM open_time)::bigint, open, high, low, close, volume), ';' ORDER BY open_time)) AS md5
     FROM candles WHERE timeframe = '1m' GROUP BY symbol ORDER BY symbol`);
  return JSON.stringify(rows);
}

function psql(url: string, command: string): Promise<void> {
  const bin = findBinary('psql', postgresBinDirs());
  if (!bin) throw new Error('psql not found');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql failed (${code}): ${stderr}`))));
  });
}

/** The same rows by COPY FROM STDIN (CSV, 4 streams, split by symbol) into a fresh database: candles/s. */
async function copyCeiling(from: TestDatabase): Promise<number> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-copy-'));
  const names = symbols.map((s) => `${s.base}/USDT`);
  const streams = 4;
  const files = Array.from({ length: streams }, (_, i) => path.join(dir, `part${i}.csv`));
  const columns = 'exchange, symbol, timeframe, open_time, open, high, low, close, volume';
  await Promise.all(files.map((file, i) => {
    const mine = names.filter((_, j) => j % streams === i).map((n) => `'${n}'`).join(',') || `''`;
    return psql(from.url, `\\copy (SELECT ${columns} FROM candles WHERE symbol IN (${mine})) TO '${file}' WITH (FORMAT csv)`);
  }));
  const into = await createTestDatabase();
  try {
    const started = performance.now();
    await Promise.all(files.map((file) => psql(into.url, `\\copy candles (${columns}) FROM '${file}' WITH (FORMAT csv)`)));
    const seconds = (performance.now() - started) / 1000;
    const { rows } = await into.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM candles');
    return rows[0]!.n / seconds;
  } finally {
    await into.drop();
    await rm(dir, { recursive: true, force: true });
  }
}

try {
  const files = filesToPrepare();
  const preparing = Date.now();
  await archive.prepare(files);
  console.log(`${symbols.length} coins x ${days} days x 1m; archive emulator built ${files.length} files in ${((Date.now() - preparing) / 1000).toFixed(0)} s (not counted)`);
  if (values['archive-only']) {
    const auto = await backfill('auto', binance);
    console.log(JSON.stringify({ ...auto, db: undefined }));
    const copy = await copyCeiling(auto.db);
    await auto.db.drop();
    console.log(JSON.stringify({ archiveFirstCandlesPerS: Math.round(auto.candles / auto.wallS), copyCandlesPerS: Math.round(copy),
      ratio: Number((auto.candles / auto.wallS / copy).toFixed(3)), filesAloneRatio: Number((auto.fileRows / auto.filePhaseS / copy).toFixed(3)) }));
    await binance.close();
    await archive.close();
    process.exit(0);
  }
  const rest = await backfill('rest', binance);
  console.log(JSON.stringify({ ...rest, db: undefined }));
  const auto = await backfill('auto', binance);
  console.log(JSON.stringify({ ...auto, db: undefined }));
  const identical = (await fingerprint(rest.db)) === (await fingerprint(auto.db));
  const copy = await copyCeiling(auto.db);
  await rest.db.drop();
  await auto.db.drop();
  const autoRate = auto.candles / auto.wallS;
  // REST-only cannot beat the weight it needs at 6,000 a minute: (windows - 1) whole minutes.
  const restBoundS = (Math.ceil((2 * rest.klines) / 6000) - 1) * 60;
  const size = `${symbols.length} coins x ${days} days x 1m (${auto.candles.toLocaleString('en-US')} candles), from scratch, ` +
    `30 ms latency, 6,000 weight/min, 1 worker process, concurrency 20`;
  const rows: BenchRow[] = [{
    bench: 'archive-backfill',
    measure: `wall time, ${size}; archive-first (--source auto) against REST-only (--source rest)`,
    result: `${auto.wallS.toFixed(1)} s archive-first (${auto.zips} zips, ${auto.klines} klines requests, ${Math.round(autoRate).toLocaleString('en-US')} candles/s)`,
    baseline: `${rest.wallS.toFixed(1)} s REST-only (${rest.klines} klines requests; weight bound ${restBoundS} s)`,
    ratio: rest.wallS / auto.wallS,
    target: '>= 2.5x, identical rows, 0 x 429',
    met: rest.wallS / auto.wallS >= 2.5 && identical && rest.status429 + auto.status429 === 0,
  }, {
    bench: 'archive-backfill',
    measure: `archive-first candles/s against COPY FROM STDIN of the same rows (CSV, 4 streams) in the same run; ${size}`,
    result: `${Math.round(autoRate).toLocaleString('en-US')} candles/s`,
    baseline: `${Math.round(copy).toLocaleString('en-US')} candles/s via COPY`,
    ratio: autoRate / copy,
    target: '>= 0.8',
    met: autoRate / copy >= 0.8,
  }, {
    bench: 'archive-backfill',
    measure: 'the same, the archive files alone: from the first file job starting to the last one in (download, verify, parse, ' +
      'ingest, each monthly file\'s month file), without planning, the REST tail and the coins\' jobs',
    result: `${Math.round(auto.fileRows / auto.filePhaseS).toLocaleString('en-US')} candles/s (${auto.fileRows.toLocaleString('en-US')} rows in ${auto.filePhaseS.toFixed(1)} s)`,
    baseline: `${Math.round(copy).toLocaleString('en-US')} candles/s via COPY`,
    ratio: auto.fileRows / auto.filePhaseS / copy,
  }, {
    bench: 'archive-backfill',
    measure: 'checks: rows of both databases (count and MD5 per coin), 429s and 418s, every coin complete',
    result: `${identical ? 'identical' : 'DIFFERENT'}; 429: ${rest.status429 + auto.status429}, 418: ${rest.status418 + auto.status418}; ` +
      `complete ${auto.complete}/${symbols.length} (auto), ${rest.complete}/${symbols.length} (rest); max window weight ${Math.max(rest.maxWindowWeight, auto.maxWindowWeight)} of 6000`,
  }, {
    bench: 'archive-backfill',
    measure: 'where PostgreSQL ingests faster: archive-first at the COPY ceiling measured here, against REST-only\'s weight bound',
    result: `${(auto.candles / copy).toFixed(1)} s at ${Math.round(copy).toLocaleString('en-US')} candles/s`,
    baseline: `${restBoundS} s REST-only bound (${rest.wallS.toFixed(1)} s measured)`,
    ratio: rest.wallS / (auto.candles / copy),
  }];
  if (!identical) console.log('rows differ between the two databases');
  reportRows(rows);
} finally {
  await binance.close();
  await archive.close();
}
