/**
 * The dashboard in a process of its own (as in production), so the flood's clients and probes do not share its event
 * loop: the app main.ts builds, over DATABASE_URL, REDIS_URL and QUEUE_PREFIX, at LOG_LEVEL (default info). Prints one
 * JSON line ({ port }), then serves until SIGTERM.
 */
import { openQueue } from '../../test/support/workers.js';
import type { AddressInfo } from 'node:net';
import { createLogger, Secret } from '@ferry/shared/core';
import { ALL_QUEUES } from '@ferry/shared/jobs';
import { createPool } from '@ferry/shared/postgres';
import { createRedis } from '@ferry/shared/redis';
import { createDashboardApp } from '../../services/dashboard/src/app.js';

const env = process.env;
const db = createPool({ url: new Secret(env.DATABASE_URL!), poolSize: 10, applicationName: 'bench-dashboard' });
const redis = createRedis(env.REDIS_URL!, 'queue');
const queues = ALL_QUEUES.map((name) => openQueue(name, redis, env.QUEUE_PREFIX!));
const logger = createLogger({ name: 'dashboard', level: env.LOG_LEVEL ?? 'info', format: 'json' });
const app = createDashboardApp({ db, redis, queues, logger, sessionSecret: 'bench'.repeat(8) });
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => {
  server.close();
  void Promise.all(queues.map((q) => q.close())).then(async () => {
    redis.disconnect();
    await db.end();
    process.exit(0);
  });
});
