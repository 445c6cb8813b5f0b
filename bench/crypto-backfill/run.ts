/**
 * Benchmark: crypto backfill against the Binance emulator (30 ms latency), one download-worker process with
 * concurrency 20, real Redis and PostgreSQL. Not a test: it prints figures.
 *
 *   npx tsx --conditions=ferry-source bench/crypto-backfill/run.ts [seeds|rate-bound|all]
 *
 * seeds:      100 coins x 11 months x 1h at Binance's real limit (6000 weight a minute); the seeds took 8-12 minutes.
 * rate-bound: 100 coins x 3 years x 1h under 600 weight per 10 s; compares the wall time with the rate-limit lower
 *             bound (ceil(weight / limit) - 1) x window. Target: ratio >= 0.85 and no 429.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runSummary } from '@ferry/shared';
import { main, type CliIo } from '../../services/producer/src/program.js';
import { startBinanceEmulator, type BinanceSettings } from '../../test/emulators/binance/index.js';
import { createTestDatabase } from '../../test/support/database.js';
import { spawnService } from '../../test/support/processes.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis.js';

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

async function runWorkload(w: Workload, headroom: string) {
  const emulator = await startBinanceEmulator({ settings: { latencyMs: 30, coinCount: 300, ...w.emulator } });
  const db = await createTestDatabase();
  const prefix = uniquePrefix('bench');
  const env: NodeJS.ProcessEnv = {
    DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, EXCHANGE_URL: emulator.url,
    DATA_DIR: `/tmp/${prefix}`, LOG_LEVEL: 'warn', DOWNLOAD_CONCURRENCY: '20', RATE_LIMIT_HEADROOM: headroom, ...w.env,
  };
  const worker = spawnService('download-worker', env);
  try {
    // Let the worker start (migrations, connections) before the clock starts.
    await sleep(3_000);
    let out = '';
    const io: CliIo = { stdout: (t) => (out += t), stderr: () => undefined, isTty: false, env };
    const started = Date.now();
    const code = await main(['collect', '--top', String(w.top), '--days', String(w.days), '--timeframe', '1h', '--json'], io);
    if (code !== 0) throw new Error(`collect failed: ${out}`);
    const { run_id: runId } = JSON.parse(out) as { run_id: string };
    for (;;) {
      const s = (await runSummary(db.pool, runId))!;
      if (s.pending === 0) break;
      await sleep(100);
    }
    const wallMs = Date.now() - started;
    const s = (await runSummary(db.pool, runId))!;
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
    };
  } finally {
    worker.kill('SIGTERM');
    await worker.exited;
    await emulator.close();
    await deleteKeys(prefix);
    await db.drop();
  }
}

const which = process.argv[2] ?? 'all';
const headrooms = (process.env.BENCH_HEADROOMS ?? '0.9').split(',');
for (const [key, w] of Object.entries(WORKLOADS)) {
  if (which !== 'all' && which !== key) continue;
  for (const headroom of headrooms) console.log(JSON.stringify(await runWorkload(w, headroom)));
}
