import { openQueue } from '../support/workers.js';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@ferry/shared/auth';
import { createLogger, loadConfig, Secret } from '@ferry/shared/core';
import { ALL_QUEUES } from '@ferry/shared/jobs';
import { createPool, type Pool } from '@ferry/shared/postgres';
import { createRedis } from '@ferry/shared/redis';
import { createDashboardApp } from '../../services/dashboard/src/app.js';
import { HEALTH_TIMEOUT_MS } from '../../services/dashboard/src/health-checks.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { uniquePrefix } from '../support/redis.js';

/** Nothing listens on port 1: a Redis or PostgreSQL that is down. */
const DEAD_REDIS = 'redis://127.0.0.1:1';

describe('health when Redis or PostgreSQL is down', () => {
  let db: TestDatabase;
  let deadDb: Pool;
  let deadRedis: Redis;
  let queues: Queue[];
  const servers: Server[] = [];
  const logger = createLogger({ name: 'test', level: 'silent' });
  let admin: string;

  const listen = async (app: ReturnType<typeof createDashboardApp>) => {
    const server = app.listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const timed = async (url: string, init?: RequestInit) => {
    const started = Date.now();
    const res = await fetch(url, init);
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, ms: Date.now() - started };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    admin = await createApiKey(db.pool, 'admin', 'admin');
    deadDb = createPool({ url: new Secret('postgres://postgres@127.0.0.1:1/postgres'), poolSize: 2, applicationName: 'ferry-test' });
    // The worst case: a worker-role connection, which would wait for Redis forever.
    deadRedis = createRedis(DEAD_REDIS, 'worker');
    deadRedis.on('error', () => undefined);
    queues = ALL_QUEUES.map((name) => openQueue(name, deadRedis, uniquePrefix('health')));
    for (const q of queues) q.on('error', () => undefined);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    deadRedis.disconnect();
    await deadDb.end();
    await db.drop();
  });

  it('/readyz and system info answer 503 / unreachable within the health timeout when Redis does not answer', async () => {
    const config = loadConfig({ REDIS_URL: DEAD_REDIS, DATABASE_URL: db.url });
    const base = await listen(createDashboardApp({ db: db.pool, redis: deadRedis, queues, logger, config }));
    const [ready, info] = await Promise.all([timed(`${base}/readyz`), timed(`${base}/api/admin/system/info`, { headers: { 'x-api-key': admin } })]);
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'not ready', redis: 'unreachable', postgres: 'ok' });
    expect(ready.ms).toBeLessThan(HEALTH_TIMEOUT_MS + 1_000);

    expect(info.status).toBe(200);
    expect(info.body).toMatchObject({ queues: [], workers_online: 0, health: { redis: { status: 'unreachable' }, postgres: { status: 'ok' } } });
    expect(info.ms).toBeLessThan(HEALTH_TIMEOUT_MS + 1_000);
  });

  it('/readyz says which one is down when PostgreSQL is', async () => {
    const redis = createRedis('redis://127.0.0.1:6379', 'queue');
    try {
      const base = await listen(createDashboardApp({ db: deadDb, redis, queues: [], logger }));
      const ready = await timed(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: 'not ready', redis: 'ok', postgres: 'unreachable' });
      expect(ready.ms).toBeLessThan(HEALTH_TIMEOUT_MS + 1_000);
    } finally {
      redis.disconnect();
    }
  });
});
