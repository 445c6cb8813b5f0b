import { openQueue } from './workers.js';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createApiKey, type Role } from '@ferry/shared/auth';
import { createLogger, loadConfig } from '@ferry/shared/core';
import { ALL_QUEUES } from '@ferry/shared/jobs';
import { type Pool } from '@ferry/shared/postgres';
import { createRedis } from '@ferry/shared/redis';
import { createDashboardApp, type DashboardDeps } from '../../services/dashboard/src/app.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from './redis.js';

/**
 * The dashboard on a free local port, over a database and a Redis prefix of its own with every ferry queue, and an
 * API key for each role asked for (named after the role). `close()` takes it all down again.
 */
export interface DashboardHarness<R extends Role> {
  db: TestDatabase;
  redis: Redis;
  prefix: string;
  queues: Queue[];
  /** `http://127.0.0.1:<port>` */
  base: string;
  keys: Record<R, string>;
  close(): Promise<void>;
}

export async function startDashboard<R extends Role>(options: {
  /** Names the Redis prefix. */
  label: string;
  keys: R[];
  /** 'worker' when the test runs BullMQ workers on the same connection. Default: 'queue', as the dashboard has. */
  redis?: 'queue' | 'worker';
  /** Serves the admin API too, with a config from the harness's database, Redis and prefix plus these variables. */
  config?: NodeJS.ProcessEnv;
  /** What the dashboard queries through, given the test database's pool (an outage test switches it to a dead one). */
  pool?: (real: Pool) => Pool;
  /** Serves the database and Redis prefix of another harness (a pipeline the test runs), which `close()` leaves alone. */
  over?: { db: TestDatabase; prefix: string };
} & Pick<DashboardDeps, 'sessionSecret' | 'trustProxy'> & Partial<Pick<DashboardDeps, 'logger'>>): Promise<DashboardHarness<R>> {
  const db = options.over?.db ?? await createTestDatabase();
  const redis = createRedis(TEST_REDIS_URL, options.redis ?? 'queue');
  const prefix = options.over?.prefix ?? uniquePrefix(options.label);
  const config = options.config && loadConfig({
    DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'silent', ...options.config,
  });
  const queues = ALL_QUEUES.map((name) => openQueue(name, redis, prefix));
  const keys = {} as Record<R, string>;
  for (const role of options.keys) keys[role] = await createApiKey(db.pool, role, role);
  const app = createDashboardApp({
    db: options.pool ? options.pool(db.pool) : db.pool, redis, queues, config, logger: options.logger ?? createLogger({ name: 'test', level: 'silent' }),
    sessionSecret: options.sessionSecret, trustProxy: options.trustProxy,
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    db, redis, prefix, queues, keys,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await new Promise((r) => server.close(r));
      await Promise.all(queues.map((q) => q.close()));
      redis.disconnect();
      if (options.over) return;
      await deleteKeys(prefix);
      await db.drop();
    },
  };
}
