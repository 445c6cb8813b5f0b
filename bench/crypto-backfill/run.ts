/**
 * Benchmark: crypto backfill against the Binance emulator (30 ms latency), one download-worker process with
 * concurrency 20, real Redis and PostgreSQL. Not a test: it prints figures.
 *
 *   npx tsx --conditions=ferry-source bench/crypto-backfill/run.ts [seeds|rate-bound|all] [--quick]
 *
 * seeds:      100 coins x 11 months x 1h at Binance's real limit (6000 weight a minute); the seeds took 8-12 minutes.
 * rate-bound: 100 coins x 3 years x 1h under 600 weight per 10 s; compares the wall time with the rate-limit lower
 *             bound (ceil(weight / limit) - 1) x window. Target: ratio >= 0.85 and no 429.
 * --quick:    rate-bound on 100 coins x 1 year under 150 weight per 5 s (about a minute; what `npm run bench` runs).
 *
 * BENCH_HEADROOMS=0.9,0.95 repeats each workload with those RATE_LIMIT_HEADROOM values. The worker process's peak RSS
 * (VmHWM) and CPU time are reported too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { CliIo } from '../../services/producer/src/io.js';
import { main } from '../../services/producer/src/program.js';
import { waitForRun } from '../../services/producer/src/progress.js';
import { startBinanceEmulator, type BinanceSettings } from '@ferry/emulators/binance';
import { createTestDatabase } from '../../test/support/database.js';
import { spawnService } from '../../test/support/processes.js';
import { TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis.js';
import { mib, sampleProcesses } from '../common/process-stats.js';
import { reportRows, type BenchRow } from '../common/report.js';
import { releaseWorkerRun } from '../common/worker-run.js';

interface Workload {
  name: string;
  days: number;
  top: number;
  emulator: Partial<BinanceSettings>;
  env?: NodeJS.ProcessEnv;
}

const WORKLOADS: Record<string, Workload> = {
  seeds: { name: 'seeds: 100 coins x 11 months x 1h, 6000 weight/min', days: 335, top: 100, emulator: { weightLimit: 6000, windowMs: 60_000 } },
  'rate-bound': { name: 'rate-bound: 100 coins x 3 years x 1h, 600 weight/10 s', days: 1095, top: 100, emulator: { weightLimit: 600, windowMs: 10_000 } },
};
// A third of the weight at the same pace in half-size windows: as many windows as the full run has, so that where in
// its window the run happens to start (up to one window of waiting) weighs no more than there.
const QUICK_RATE_BOUND: Workload = {
  name: 'rate-bound (quick): 100 coins x 1 year x 1h, 150 weight/5 s', days: 365, top: 100, emulator: { weightLimit: 150, windowMs: 5_000 },
};

async function runWorkload(w: Workload, headroom: string) {
  const emulator = await startBinanceEmulator({ settings: { latencyMs: 30, coinCount: 300, ...w.emulator } });
  const db = await createTestDatabase();
  const prefix = uniquePrefix('bench');
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, EXCHANGE_URL: emulator.url,
    DATA_DIR: `/tmp/${prefix}`, LOG_LEVEL: 'warn', DOWNLOAD_CONCURRENCY: '20', RATE_LIMIT_HEADROOM: headroom, ...w.env,
  };
  const worker = spawnService('download-worker', env);
  const sampler = sampleProcesses([worker.child.pid!]);
  try {
    // Let the worker start (migrations, connections) before the clock starts.
    await sleep(3_000);
    let out = '';
    const io: CliIo = { stdout: (t) => (out += t), stderr: () => undefined, isTty: false, env };
    const started = Date.now();
    const code = await main(['collect', '--top', String(w.top), '--days', String(w.days), '--timeframe', '1h', '--json'], io);
    if (code !== 0) throw new Error(`collect failed: ${out}`);
    const { run_id: runId } = JSON.parse(out) as { run_id: string };
    const s = await waitForRun(db.pool, runId, () => undefined, { intervalMs: 100 });
    const wallMs = Date.now() - started;
    const [workerStats] = sampler.stop();
    const c = emulator.control;
    const klinesWeight = 2 * c.counter('klines');
    const windowMs = emulator.control.settings.windowMs;
    const limit = emulator.control.settings.weightLimit;
    const bound = (w2: number) => (Math.ceil(w2 / limit) - 1) * windowMs;
    return {
      workload: w.name,
      headroom,
      wall_s: +(wallMs / 1000).toFixed(1),
      coins: s.total,
      complete: s.complete,
      candles: s.total_records,
      klines_requests: c.counter('klines'),
      total_requests: c.counter('requests'),
      weight_total: c.counter('weight'),
      status_429: c.counter('status:429'),
      status_418: c.counter('status:418'),
      max_window_weight: c.counter('maxWindowWeight'),
      window_limit: limit,
      bound_s_klines_weight: +(bound(klinesWeight) / 1000).toFixed(1),
      ratio_klines_weight: +(bound(klinesWeight) / wallMs).toFixed(3),
      bound_s_all_weight: +(bound(c.counter('weight')) / 1000).toFixed(1),
      ratio_all_weight: +(bound(c.counter('weight')) / wallMs).toFixed(3),
      candles_per_s: Math.round(s.total_records / (wallMs / 1000)),
      worker_peak_rss_bytes: workerStats?.peakRssBytes ?? 0,
      worker_cpu_s: +(workerStats?.cpuSeconds ?? 0).toFixed(1),
    };
  } finally {
    await releaseWorkerRun({ sampler, worker, emulator, prefix, db });
  }
}

const { values, positionals } = parseArgs({ options: { quick: { type: 'boolean', default: false } }, allowPositionals: true });
const which = positionals[0] ?? (values.quick ? 'rate-bound' : 'all');
const headrooms = (process.env.BENCH_HEADROOMS ?? '0.9').split(',');
const rows: BenchRow[] = [];
for (const [key, w] of Object.entries(WORKLOADS)) {
  if (which !== 'all' && which !== key) continue;
  const workload = values.quick && key === 'rate-bound' ? QUICK_RATE_BOUND : w;
  for (const headroom of headrooms) {
    const r = await runWorkload(workload, headroom);
    console.log(JSON.stringify(r));
    rows.push({
      bench: 'crypto-backfill',
      measure: `wall time vs the rate-limit bound, ${r.workload}, 1 worker process, concurrency 20, 30 ms latency, headroom ${headroom}`,
      result: `${r.wall_s} s, ${r.complete}/${r.coins} coins, ${r.candles.toLocaleString('en-US')} candles ` +
        `(${r.candles_per_s.toLocaleString('en-US')}/s); max weight in a window ${r.max_window_weight} of ${r.window_limit}; ` +
        `429: ${r.status_429}, 418: ${r.status_418}`,
      baseline: `bound ${r.bound_s_all_weight} s for ${r.weight_total} weight`,
      ratio: r.ratio_all_weight,
      target: '>= 0.85, no 429',
      met: r.ratio_all_weight >= 0.85 && r.status_429 === 0 && r.complete === r.coins,
    }, {
      bench: 'crypto-backfill',
      measure: `peak RSS (VmHWM) of the download-worker process, ${r.workload}`,
      result: `${mib(r.worker_peak_rss_bytes)}; CPU ${r.worker_cpu_s} s over its life`,
    });
  }
}
reportRows(rows);
