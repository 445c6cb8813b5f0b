/**
 * Benchmark: a download worker's peak memory against the length of the series it collects (issue 12). One
 * download-worker process (concurrency 20) collects 1m candles from the Binance emulator (no latency, a weight limit
 * too high to matter) into a fresh database and renders their Parquet files; its resident set is sampled from /proc
 * (VmHWM, so a short peak is not missed). Not a test: it prints figures.
 *
 *   npx tsx --conditions=ferry-source bench/worker-memory/run.ts [--quick] [--sizes 1x30,1x1000,20x1095] [--tsx]
 *                                                                [--node-args="--max-semi-space-size=4"]
 *
 * full (default): 1 coin x 30 days, 1 coin x 1000 days (1.44 million candles), 20 coins x 3 years (about 31 million
 *                 candles, 20 series at once; the target: under 512 MiB).
 * --quick:        1 coin x 30 days and 1 coin x 180 days (a few minutes on 2 cores).
 * --sizes:        any list of <coins>x<days>.
 * --tsx:          the worker runs from TypeScript through tsx (whose compiler stays loaded in the process, about
 *                 100 MiB more) rather than compiled (`services/download-worker/dist/main.js`, as the image runs it;
 *                 `npm ci` or `npm run build` compiles it).
 * --node-args:    Node.js options for the worker process (space-separated), to compare V8 settings.
 *
 * What to read: the peak RSS by size. Memory is flat when the 1000-day peak is that of the 30-day one, give or take
 * the garbage collector's slack; the worker's baseline (Node, ccxt, BullMQ, pg) is the 30-day figure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { CliIo } from '../../services/producer/src/io.js';
import { main } from '../../services/producer/src/program.js';
import { waitForRun } from '../../services/producer/src/progress.js';
import { startBinanceEmulator } from '@ferry/emulators/binance';
import { createTestDatabase } from '../../test/support/database.js';
import { spawnNode, TS_NODE_ARGS } from '../../test/support/processes.js';
import { TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis.js';
import { mib, readProcessStats, sampleProcesses } from '../common/process-stats.js';
import { reportRows, type BenchRow } from '../common/report.js';
import { releaseWorkerRun } from '../common/worker-run.js';

interface Size {
  coins: number;
  days: number;
}

const TARGET_BYTES = 512 * 1024 * 1024;

const FULL: Size[] = [{ coins: 1, days: 30 }, { coins: 1, days: 1000 }, { coins: 20, days: 1095 }];
const QUICK: Size[] = [{ coins: 1, days: 30 }, { coins: 1, days: 180 }];

function parseSizes(text: string): Size[] {
  return text.split(',').map((part) => {
    const match = /^(\d+)x(\d+)$/.exec(part.trim());
    if (!match) throw new Error(`--sizes: ${JSON.stringify(part)} is not <coins>x<days>, e.g. 20x1095`);
    return { coins: Number(match[1]), days: Number(match[2]) };
  });
}

async function runSize(size: Size, how: { tsx: boolean; nodeArgs: string[] }) {
  const emulator = await startBinanceEmulator({ settings: { latencyMs: 0, weightLimit: 1_000_000_000, windowMs: 60_000, coinCount: 300 } });
  const db = await createTestDatabase();
  const prefix = uniquePrefix('bench-mem');
  const dataDir = `/tmp/${prefix}`;
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, EXCHANGE_URL: emulator.url,
    DATA_DIR: dataDir, LOG_LEVEL: 'warn', DOWNLOAD_CONCURRENCY: '20',
  };
  const worker = how.tsx
    ? spawnNode([...how.nodeArgs, ...TS_NODE_ARGS, 'services/download-worker/src/main.ts'], env)
    : spawnNode([...how.nodeArgs, 'services/download-worker/dist/main.js'], env);
  const pid = worker.child.pid!;
  const sampler = sampleProcesses([pid], 250);
  try {
    // The worker's own start (ccxt, migrations, connections) before any job: the baseline every size shares.
    await sleep(4_000);
    const idle = readProcessStats(pid);
    let out = '';
    const io: CliIo = { stdout: (t) => (out += t), stderr: () => undefined, isTty: false, env };
    const started = Date.now();
    const args = ['collect', '--top', String(size.coins), '--days', String(size.days), '--timeframe', '1m', '--json'];
    const code = await main(args, io);
    if (code !== 0) throw new Error(`collect failed: ${out}`);
    const { run_id: runId } = JSON.parse(out) as { run_id: string };
    const s = await waitForRun(db.pool, runId, () => undefined, { intervalMs: 500 });
    const wallMs = Date.now() - started;
    const [stats] = sampler.stop();
    return {
      coins: size.coins,
      days: size.days,
      complete: s.complete,
      candles: s.total_records,
      wall_s: +(wallMs / 1000).toFixed(1),
      candles_per_s: Math.round(s.total_records / (wallMs / 1000)),
      idle_rss_bytes: idle?.peakRssBytes ?? 0,
      peak_rss_bytes: stats?.peakRssBytes ?? 0,
      cpu_s: +(stats?.cpuSeconds ?? 0).toFixed(1),
    };
  } finally {
    await releaseWorkerRun({ sampler, worker, emulator, prefix, db, dataDir });
  }
}

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, sizes: { type: 'string' }, tsx: { type: 'boolean', default: false }, 'node-args': { type: 'string', default: '' } },
});
const how = { tsx: values.tsx, nodeArgs: values['node-args'].split(' ').filter(Boolean) };
const sizes = values.sizes ? parseSizes(values.sizes) : values.quick ? QUICK : FULL;
const results = [];
for (const size of sizes) {
  const r = await runSize(size, how);
  console.log(JSON.stringify(r));
  results.push(r);
}
const smallest = results[0]!;
const rows: BenchRow[] = results.map((r) => ({
  bench: 'worker-memory',
  measure: `peak RSS (VmHWM) of one download-worker process (${how.tsx ? 'tsx' : 'compiled'}${how.nodeArgs.length ? ` ${how.nodeArgs.join(' ')}` : ''}), ${r.coins} coin(s) x ${r.days} days of 1m at once, concurrency 20`,
  result: `${mib(r.peak_rss_bytes)} (idle before the jobs ${mib(r.idle_rss_bytes)}); ${r.complete}/${r.coins} complete, ` +
    `${r.candles.toLocaleString('en-US')} candles in ${r.wall_s} s (${r.candles_per_s.toLocaleString('en-US')}/s), CPU ${r.cpu_s} s`,
  ...(r === smallest ? {} : {
    baseline: `${mib(smallest.peak_rss_bytes)} for ${smallest.coins} x ${smallest.days} days`,
    // Oriented so that higher is better: 1.0 means the longer series cost no memory more.
    ratio: smallest.peak_rss_bytes / r.peak_rss_bytes,
  }),
  target: '< 512 MiB',
  met: r.peak_rss_bytes < TARGET_BYTES,
}));
reportRows(rows);
