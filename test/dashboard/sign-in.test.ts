import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_QUEUES, createApiKey, createLogger, createQueue, createRedis, QueueName, revokeApiKey } from '@ferry/shared';
import { createDashboardApp } from '../../services/dashboard/src/app.js';
import { SIGN_IN_FAILURES_ALLOWED } from '../../services/dashboard/src/session-auth.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

/** A browser's cookie jar, reduced to what these tests need. */
function cookiesFrom(res: Response): Map<string, string> {
  return new Map(res.headers.getSetCookie().map((c) => {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    return [pair!.slice(0, eq), pair!.slice(eq + 1)];
  }));
}

describe('dashboard: signing in with a key in a browser', () => {
  let db: TestDatabase;
  let redis: Redis;
  let queues: Queue[];
  let server: Server;
  let base: string;
  let admin: string;
  let viewer: string;
  const prefix = uniquePrefix('signin');

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = createRedis(TEST_REDIS_URL, 'worker');
    queues = ALL_QUEUES.map((name) => createQueue(name, redis, prefix));
    admin = await createApiKey(db.pool, 'admin', 'admin');
    viewer = await createApiKey(db.pool, 'viewer', 'viewer');
    const app = createDashboardApp({
      db: db.pool, redis, queues, logger: createLogger({ name: 'test', level: 'silent' }), sessionSecret: 'x'.repeat(32),
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await Promise.all(queues.map((q) => q.close()));
    redis.disconnect();
    await deleteKeys(prefix);
    await db.drop();
  });

  const signIn = (key: string) => fetch(`${base}/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ api_key: key }).toString(),
  });

  it('shows the sign-in page without a key', async () => {
    const res = await fetch(`${base}/login`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<form method="post" action="/login">');
  });

  it('a good key gives an HttpOnly SameSite=Strict session cookie that opens Bull Board; the session is kept in Redis', async () => {
    const res = await signIn(admin);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/queues');
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('ferry.sid='))!;
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    const jar = cookiesFrom(res);
    const cookie = `ferry.sid=${jar.get('ferry.sid')}`;
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { cookie } })).status).toBe(200);
    expect(await redis.keys(`${prefix}:session:*`)).toHaveLength(1);
  });

  it('a cookie-authenticated write needs the CSRF token', async () => {
    const jar = cookiesFrom(await signIn(admin));
    const cookie = `ferry.sid=${jar.get('ferry.sid')}; XSRF-TOKEN=${jar.get('XSRF-TOKEN')}`;
    const url = `${base}/admin/queues/api/queues/candles/pause`;
    expect((await fetch(url, { method: 'PUT', headers: { cookie } })).status).toBe(403);
    expect((await fetch(url, { method: 'PUT', headers: { cookie, 'x-xsrf-token': 'wrong' } })).status).toBe(403);
    expect((await fetch(url, { method: 'PUT', headers: { cookie, 'x-xsrf-token': jar.get('XSRF-TOKEN')! } })).status).toBeLessThan(300);
    expect(await queues.find((q) => q.name === QueueName.Candles)!.isPaused()).toBe(true);
  });

  it("a viewer's session can look but not change anything", async () => {
    const jar = cookiesFrom(await signIn(viewer));
    const headers = { cookie: `ferry.sid=${jar.get('ferry.sid')}`, 'x-xsrf-token': jar.get('XSRF-TOKEN')! };
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers })).status).toBe(200);
    expect((await fetch(`${base}/admin/queues/api/queues/candles/resume`, { method: 'PUT', headers })).status).toBe(403);
  });

  it('signing out ends the session, and revoking the key ends its sessions', async () => {
    let jar = cookiesFrom(await signIn(admin));
    let headers = { cookie: `ferry.sid=${jar.get('ferry.sid')}`, 'x-xsrf-token': jar.get('XSRF-TOKEN')! };
    const out = await fetch(`${base}/logout`, { method: 'POST', headers, redirect: 'manual' });
    expect(out.status).toBe(303);
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers })).status).toBe(401);

    const ops = await createApiKey(db.pool, 'ops', 'admin');
    jar = cookiesFrom(await signIn(ops));
    headers = { cookie: `ferry.sid=${jar.get('ferry.sid')}`, 'x-xsrf-token': jar.get('XSRF-TOKEN')! };
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers })).status).toBe(200);
    await revokeApiKey(db.pool, 'ops');
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers })).status).toBe(401);
  });

  it('rate limits failed sign-ins per client address; successful ones do not count', async () => {
    for (let i = 0; i < SIGN_IN_FAILURES_ALLOWED; i++) expect((await signIn('ferry_wrong')).status).toBe(401);
    const limited = await signIn('ferry_wrong');
    expect(limited.status).toBe(429);
    expect(await limited.text()).toContain('Too many failed sign-ins');
    expect((await signIn(admin)).status).toBe(429);
  });
});
