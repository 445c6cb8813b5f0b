import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { countActiveApiKeys } from '@ferry/shared/auth';
import { ALL_QUEUES, createServiceContext, JobProducer } from '@ferry/shared/jobs';
import { observeWorkerJobs } from '@ferry/shared/metrics';
import { createRedis } from '@ferry/shared/redis';
import { createDashboardApp } from './app.js';
import { HEALTH_TIMEOUT_MS } from './health-checks.js';
import { ScheduleError, upsertCollectionSchedules } from './scheduler/collection-schedules.js';
import { upsertRunPruning } from './scheduler/run-pruning.js';
import { startScheduleWorker } from './scheduler/schedule-worker.js';

/** dashboard: env -> config -> create -> listen; SIGTERM closes the server, then the queues, then the connections. */
const ctx = await createServiceContext('dashboard');
const { config, logger } = ctx;

if (config.dashboard.apiKeyRequired && (await countActiveApiKeys(ctx.db)) === 0) {
  logger.fatal('no API key exists: create one with `npx ferry keys create --name admin --role admin` (or set API_KEY_REQUIRED=false)');
  await ctx.lifecycle.shutdown('no API key');
  process.exit(1);
}

// The worker-role ctx.redis waits out a Redis restart, as the schedule worker must; pages, the admin API and sessions
// get an error instead, and health checks give up after HEALTH_TIMEOUT_MS.
const redis = ctx.lifecycle.add('redis (queues, sessions)', createRedis(config.redis.url, 'queue'), (r) => r.quit());
const probeRedis = ctx.lifecycle.add('redis (health checks)', createRedis(config.redis.url, 'queue', { commandTimeout: HEALTH_TIMEOUT_MS, maxRetriesPerRequest: 1 }), (r) => r.quit());
const producer = ctx.lifecycle.add('queues', new JobProducer({ connection: redis, prefix: config.redis.prefix, attempts: config.jobs.attempts, retention: config.jobs.retention }), (p) => p.close());
const queues = ALL_QUEUES.map((name) => producer.queue(name));
try {
  for (const notice of await upsertCollectionSchedules(producer, config)) logger.warn(notice);
  await upsertRunPruning(producer, config);
} catch (err) {
  if (!(err instanceof ScheduleError)) throw err;
  logger.fatal(err.message);
  await ctx.lifecycle.shutdown('bad schedule');
  process.exit(1);
}
const scheduleWorker = ctx.lifecycle.add('schedule worker', await startScheduleWorker(ctx), (w) => w.close(config.jobs.shutdownGraceMs));
for (const w of scheduleWorker.workers) observeWorkerJobs(w);
// Without SESSION_SECRET, sign-ins last until this process restarts.
const sessionSecret = config.dashboard.sessionSecret?.reveal() ?? randomBytes(32).toString('hex');
const app = createDashboardApp({ db: ctx.db, redis, probeRedis, queues, logger, config, sessionSecret, trustProxy: config.dashboard.trustProxy });
const server = app.listen(config.dashboard.port, config.dashboard.host);
await new Promise<void>((resolve, reject) => {
  server.once('listening', resolve);
  server.once('error', reject);
});
ctx.lifecycle.add('http server', server, (s) => new Promise((resolve) => s.close(() => resolve(undefined))));
const { port } = server.address() as AddressInfo;
logger.info({ url: `http://${config.dashboard.host}:${port}/admin/queues` }, 'dashboard listening (Bull Board at /admin/queues)');
