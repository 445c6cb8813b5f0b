/**
 * Dashboard under flood (issue 13, findings 1 and 2): while clients flood the dashboard, does it still answer
 * `/healthz`, and does the Redis every worker shares still answer `PING`? Targets: /healthz under 100 ms and PING
 * under 50 ms, the maximum over the flood.
 *
 *   npx tsx --conditions=ferry-source bench/dashboard-flood/run.ts [--jobs 50000] [--requests 1000] [--connections 20] [--quick]
 *
 * Two floods, one after the other, each a bounded number of requests on `--connections` keep-alive connections from
 * this process to the dashboard, which runs in a process of its own:
 * - long URLs without a key: `/x?q=` + 'a.' x 7,900 + 'a://b:' (15.8 KB), the URL whose redaction was quadratic;
 * - huge pages with a viewer key over `--jobs` waiting jobs: half ask `jobsPerPage=1000000` (refused above 100), half
 *   ask the largest page allowed, at pages spread over the queue.
 * A probe asks /healthz (on a connection of its own) and PING (on a Redis connection of its own) every 50 ms, before
 * (idle) and during each flood. Needs Redis and PostgreSQL as the tests do; everything on 127.0.0.1.
 */
import { openQueue } from '../../test/support/workers.js';
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { createApiKey } from '@ferry/shared/auth';
import { JobName, QueueName } from '@ferry/shared/jobs';
import { createRedis } from '@ferry/shared/redis';
import { createTestDatabase } from '../../test/support/database.js';
import { spawnTs } from '../../test/support/processes.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis.js';
import { waitFor } from '../../test/support/wait.js';
import { count, median, reportRows, type BenchRow } from '../common/report.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string' },
    requests: { type: 'string' },
    connections: { type: 'string', default: '20' },
    quick: { type: 'boolean', default: false },
  },
});
const jobCount = Number(values.jobs ?? (values.quick ? 10_000 : 50_000));
const requestsPerFlood = Number(values.requests ?? (values.quick ? 300 : 1000));
const connections = Number(values.connections);
const HEALTHZ_TARGET_MS = 100;
const PING_TARGET_MS = 50;
const PROBE_EVERY_MS = 50;

const prefix = uniquePrefix('bench-flood');
const db = await createTestDatabase();
const viewer = await createApiKey(db.pool, 'viewer', 'viewer');
const redis = createRedis(TEST_REDIS_URL, 'queue');
const candles = openQueue(QueueName.Candles, redis, prefix);
for (let added = 0; added < jobCount; added += 1000) {
  const n = Math.min(1000, jobCount - added);
  await candles.addBulk(Array.from({ length: n }, (_, i) => ({
    name: JobName.CollectCandles, data: { i: added + i, pad: 'x'.repeat(200) }, opts: { delay: 3_600_000 },
  })));
}
console.log(`${count(jobCount)} delayed jobs in ${prefix}:candles`);

const dashboard = spawnTs('bench/dashboard-flood/dashboard-process.ts', [], {
  DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'info',
});
const announced = await waitFor(() => dashboard.output().split('\n').find((l) => l.startsWith('{"port"')), { timeoutMs: 60_000, what: 'the dashboard' });
const { port } = JSON.parse(announced) as { port: number };

/** One GET; resolves with its status and duration, after reading the whole body. */
function get(agent: Agent, path: string, headers: Record<string, string> = {}): Promise<{ status: number; ms: number; bytes: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode!, ms: performance.now() - started, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

interface Probes {
  healthz: number[];
  ping: number[];
}

/** Probes /healthz and PING every PROBE_EVERY_MS until `until` settles. */
async function probeWhile(until: Promise<unknown>): Promise<Probes> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const pinger = createRedis(TEST_REDIS_URL, 'queue');
  const probes: Probes = { healthz: [], ping: [] };
  let done = false;
  void until.finally(() => (done = true));
  while (!done) {
    const next = new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    const pingStarted = performance.now();
    const [health] = await Promise.all([
      get(agent, '/healthz'),
      pinger.ping().then(() => probes.ping.push(performance.now() - pingStarted)),
    ]);
    probes.healthz.push(health.ms);
    await next;
  }
  agent.destroy();
  pinger.disconnect();
  return probes;
}

/** `total` requests on `connections` connections; the paths come from `pathOf(i)`. */
async function flood(total: number, pathOf: (i: number) => string, headers: Record<string, string>) {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const statuses = new Map<number, number>();
  let bytes = 0;
  let nextIndex = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, async () => {
    while (nextIndex < total) {
      const res = await get(agent, pathOf(nextIndex++), headers);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      bytes += res.bytes;
    }
  }));
  agent.destroy();
  const seconds = (performance.now() - started) / 1000;
  return { seconds, perSecond: total / seconds, bytes, statuses: [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${n}x ${s}`).join(', ') };
}

const LONG_URL = `/x?q=${'a.'.repeat(7900)}a://b:`;
const pages = Math.max(1, Math.floor(jobCount / 100));
const hugePage = (i: number) => `/admin/queues/api/queues?activeQueue=${QueueName.Candles}&status=delayed&page=${i % 2 ? 1 + (i * 7) % pages : 1}&jobsPerPage=${i % 2 ? 100 : 1_000_000}`;

const ms = (n: number) => `${n.toFixed(1)} ms`;
const rows: BenchRow[] = [];
function record(name: string, probes: Probes, extra: string): void {
  const healthMax = Math.max(...probes.healthz);
  const pingMax = Math.max(...probes.ping);
  console.log(`${name}: /healthz median ${ms(median(probes.healthz))} max ${ms(healthMax)}; PING median ${ms(median(probes.ping))} max ${ms(pingMax)} (${probes.healthz.length} probes); ${extra}`);
  rows.push({
    bench: 'dashboard-flood', measure: `/healthz during ${name} (${probes.healthz.length} probes)`,
    result: `median ${ms(median(probes.healthz))}, max ${ms(healthMax)}; ${extra}`, target: `max < ${HEALTHZ_TARGET_MS} ms`, met: healthMax < HEALTHZ_TARGET_MS,
  });
  rows.push({
    bench: 'dashboard-flood', measure: `Redis PING during ${name}`,
    result: `median ${ms(median(probes.ping))}, max ${ms(pingMax)}`, target: `max < ${PING_TARGET_MS} ms`, met: pingMax < PING_TARGET_MS,
  });
}

try {
  const idle = await probeWhile(new Promise((r) => setTimeout(r, 1_000)));
  record('idle', idle, 'no flood');

  let urls!: Awaited<ReturnType<typeof flood>>;
  const urlProbes = await probeWhile(flood(requestsPerFlood, () => LONG_URL, {}).then((r) => (urls = r)));
  record(`${count(requestsPerFlood)} long URLs (15.8 KB) without a key, ${connections} connections`, urlProbes,
    `${urls.perSecond.toFixed(0)} requests/s (${urls.statuses})`);

  let huge!: Awaited<ReturnType<typeof flood>>;
  const hugeProbes = await probeWhile(flood(requestsPerFlood, hugePage, { 'x-api-key': viewer }).then((r) => (huge = r)));
  record(`${count(requestsPerFlood)} huge pages with a viewer key over ${count(jobCount)} jobs, ${connections} connections`, hugeProbes,
    `${huge.perSecond.toFixed(0)} requests/s (${huge.statuses}), ${(huge.bytes / 2 ** 20).toFixed(1)} MiB served`);
} finally {
  dashboard.kill();
  await dashboard.exited;
  await candles.obliterate({ force: true }).catch(() => undefined);
  await candles.close();
  redis.disconnect();
  await deleteKeys(prefix);
  await db.drop();
}
reportRows(rows);
