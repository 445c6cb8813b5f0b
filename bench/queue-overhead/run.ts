/**
 * Queue overhead: no-op jobs through ferry's worker wrapper against a raw BullMQ Worker, in the same run, on the same
 * Redis, with the same jobs and the same concurrency. Rounds alternate (ABBA) so that load from other processes on the
 * machine falls on both sides alike; the medians are compared. Target: ferry / raw >= 0.8.
 *
 *   npx tsx --conditions=ferry-source bench/queue-overhead/run.ts [--jobs 5000] [--concurrency 20] [--rounds 10] [--quick]
 *
 * "ferry's wrapper" is the job runtime every ferry worker runs in (packages/shared/src/jobs/runtime.ts): its worker
 * options (manual rate-limit enabler, lock and stall settings, ferry backoff), the handler table, the payload parsed
 * from `unknown`, the job context and the failure mapping, plus observeWorkerJobs. The handler itself does nothing,
 * so only the runtime and the queue are measured. Needs Redis (TEST_REDIS_URL, default 127.0.0.1:6379).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createLogger } from '@ferry/shared/core';
import { FERRY_BACKOFF, JobName, QueueName, startJobRuntime, type CollectCandlesPayload } from '@ferry/shared/jobs';
import { observeWorkerJobs } from '@ferry/shared/metrics';
import { createRedis } from '@ferry/shared/redis';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis.js';
import { count, median, reportRows, type BenchRow } from '../common/report.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    concurrency: { type: 'string', default: '20' },
    rounds: { type: 'string' },
    quick: { type: 'boolean', default: false },
  },
});
const jobCount = Number(values.jobs ?? 5000);
// DOWNLOAD_CONCURRENCY's default.
const concurrency = Number(values.concurrency);
// Per side; even, so the ABBA order gives each side every position equally often. A round takes well under a
// second, so there are many: one slow round (another process's burst on Redis) then does not move the median.
const rounds = Number(values.rounds ?? (values.quick ? 6 : 10));

type Side = 'ferry' | 'raw';

/** A payload ferry accepts: the wrapper really parses it. */
const PAYLOAD: CollectCandlesPayload = {
  runId: randomUUID(), exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h', mode: 'backward', startMs: 1_700_000_000_000, endMs: null,
};

const prefix = uniquePrefix('bench-queue');
const logger = createLogger({ name: 'bench', level: 'warn', format: 'json' });

function ferryWorker(roundPrefix: string): { worker: Worker; close: () => Promise<void> } {
  const connection = createRedis(TEST_REDIS_URL, 'worker');
  const runtime = startJobRuntime({
    handlers: { [JobName.CollectCandles]: { run: async () => ({ ok: true }) } },
    concurrency: { [QueueName.Candles]: concurrency },
    connection, prefix: roundPrefix, lockMs: 30_000, logger,
  });
  const worker = runtime.workers[0]!;
  observeWorkerJobs(worker);
  return { worker, close: async () => { await runtime.close(0); connection.disconnect(); } };
}

function rawWorker(roundPrefix: string): { worker: Worker; close: () => Promise<void> } {
  // BullMQ's documented minimum: a connection that waits out Redis, the queue's prefix, the concurrency.
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const worker = new Worker(QueueName.Candles, async () => ({ ok: true }), { connection, prefix: roundPrefix, concurrency });
  return { worker, close: async () => { await worker.close(); connection.disconnect(); } };
}

/** Queues `jobs` identical jobs, then times one worker from its start to the last completion. */
async function round(side: Side, jobs: number): Promise<number> {
  // Each round its own prefix: the runtime serves ferry's queue names, so rounds are kept apart by prefix.
  const roundPrefix = `${prefix}-${randomUUID().slice(0, 8)}`;
  const queueConnection = createRedis(TEST_REDIS_URL, 'queue');
  const queue = new Queue(QueueName.Candles, { connection: queueConnection, prefix: roundPrefix });
  try {
    for (let added = 0; added < jobs; added += 1000) {
      const n = Math.min(1000, jobs - added);
      await queue.addBulk(Array.from({ length: n }, () => ({ name: JobName.CollectCandles, data: PAYLOAD, opts: { attempts: 3, backoff: { type: FERRY_BACKOFF } } })));
    }
    const started = performance.now();
    const { worker, close } = side === 'ferry' ? ferryWorker(roundPrefix) : rawWorker(roundPrefix);
    try {
      let completed = 0;
      await new Promise<void>((resolve, reject) => {
        worker.on('completed', () => {
          if (++completed === jobs) resolve();
        });
        worker.on('failed', (_job, err) => reject(err));
      });
      const seconds = (performance.now() - started) / 1000;
      return jobs / seconds;
    } finally {
      await close();
    }
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
    queueConnection.disconnect();
  }
}

const rates: Record<Side, number[]> = { ferry: [], raw: [] };
try {
  // Warm-up (JIT, connections, Lua scripts loaded into Redis), not counted.
  await round('ferry', 2000);
  await round('raw', 2000);
  const order: Side[] = [];
  for (let i = 0; i < rounds; i++) order.push(...((i % 2 === 0 ? ['ferry', 'raw'] : ['raw', 'ferry']) as Side[]));
  for (const side of order) {
    const rate = await round(side, jobCount);
    rates[side].push(rate);
    console.log(`${side.padEnd(5)} ${count(rate)} jobs/s`);
  }
} finally {
  await deleteKeys(prefix);
}

const ferry = median(rates.ferry);
const raw = median(rates.raw);
const ratio = ferry / raw;
const spread = (side: Side) => `${count(Math.min(...rates[side]))}-${count(Math.max(...rates[side]))}`;
const rows: BenchRow[] = [{
  bench: 'queue-overhead',
  measure: `no-op jobs/s, ${count(jobCount)} jobs, concurrency ${concurrency}, median of ${rounds} alternated rounds`,
  result: `${count(ferry)} jobs/s via ferry's worker wrapper (range ${spread('ferry')})`,
  baseline: `${count(raw)} jobs/s via raw BullMQ Worker (range ${spread('raw')})`,
  ratio,
  target: '>= 0.8',
  met: ratio >= 0.8,
}];
reportRows(rows);
