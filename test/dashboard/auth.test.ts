import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, hashApiKey, verifyApiKey } from '@ferry/shared/auth';
import { ALL_QUEUES, JobName, QueueName } from '@ferry/shared/jobs';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';
import { runCli } from '../support/processes.js';
import { TEST_REDIS_URL } from '../support/redis.js';

describe('dashboard: API keys on every route', () => {
  let dash: DashboardHarness<'admin' | 'viewer'>;
  let base: string;
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    dash = await startDashboard({ label: 'dash', keys: ['admin', 'viewer'] });
    ({ base, keys: { admin, viewer } } = dash);
    const candles = dash.queues.find((q) => q.name === QueueName.Candles)!;
    await candles.add(JobName.CollectCandles, { hello: 'world' }, { jobId: 'job-1' });
  });
  afterAll(() => dash.close());

  const routes: Array<[string, string]> = [
    ['GET', '/'],
    ['GET', '/admin/queues'],
    ['GET', '/admin/queues/api/queues'],
    ['GET', '/admin/queues/api/queues/candles/job-1'],
    ['GET', '/admin/queues/static/favicon-32x32.png'],
    ['PUT', '/admin/queues/api/queues/candles/pause'],
    ['PUT', '/admin/queues/api/queues/candles/retry/failed'],
    ['PUT', '/admin/queues/api/queues/candles/job-1/promote'],
  ];

  it.each(routes)('%s %s answers 401 without a key, and with a wrong one', async (method, path) => {
    const none = await fetch(`${base}${path}`, { method, redirect: 'manual' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toContain('Basic');
    const wrong = await fetch(`${base}${path}`, { method, redirect: 'manual', headers: { 'x-api-key': 'ferry_not-a-key' } });
    expect(wrong.status).toBe(401);
  });

  it.each(routes.filter(([m]) => m !== 'GET'))('%s %s answers 403 to a viewer', async (method, path) => {
    const res = await fetch(`${base}${path}`, { method, headers: { 'x-api-key': viewer } });
    expect(res.status).toBe(403);
  });

  it('health endpoints answer without a key', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', redis: 'ok', postgres: 'ok' });
  });

  it('accepts the key as X-API-Key, Bearer, Basic password or ?api_key=', async () => {
    const path = `${base}/admin/queues/api/queues`;
    const basic = `Basic ${Buffer.from(`anyone:${viewer}`).toString('base64')}`;
    const inits: RequestInit[] = [{ headers: { 'x-api-key': viewer } }, { headers: { authorization: `Bearer ${viewer}` } }, { headers: { authorization: basic } }];
    for (const init of inits) {
      expect((await fetch(path, init)).status).toBe(200);
    }
    expect((await fetch(`${path}?api_key=${encodeURIComponent(viewer)}`)).status).toBe(200);
  });

  it('shows every ferry queue in Bull Board and lets an admin pause one', async () => {
    const res = await fetch(`${base}/admin/queues/api/queues`, { headers: { 'x-api-key': admin } });
    const body = (await res.json()) as { queues: Array<{ name: string }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual([...ALL_QUEUES].sort());
    const pause = await fetch(`${base}/admin/queues/api/queues/candles/pause`, { method: 'PUT', headers: { 'x-api-key': admin } });
    expect(pause.status).toBeLessThan(300);
    expect(await dash.queues.find((q) => q.name === QueueName.Candles)!.isPaused()).toBe(true);
    const page = await fetch(`${base}/admin/queues`, { headers: { 'x-api-key': admin } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
  });

  it('stores keys only as hashes', async () => {
    const { rows } = await dash.db.pool.query<{ key_hash: string }>('SELECT key_hash FROM api_keys ORDER BY name');
    expect(rows.map((r) => r.key_hash)).toEqual([hashApiKey(admin), hashApiKey(viewer)]);
    const dump = JSON.stringify((await dash.db.pool.query('SELECT * FROM api_keys')).rows);
    expect(dump).not.toContain(admin);
    expect(dump).not.toContain(viewer);
  });

  it('ferry keys create, list and revoke', async () => {
    const env = { DATABASE_URL: dash.db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: dash.prefix, LOG_LEVEL: 'silent' };
    const created = await runCli(['keys', 'create', '--name', 'ops', '--role', 'viewer'], env);
    expect(created.code).toBe(0);
    const key = /ferry_[A-Za-z0-9_-]{43}/.exec(created.output)?.[0];
    expect(key).toBeDefined();
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { 'x-api-key': key! } })).status).toBe(200);
    expect((await runCli(['keys', 'create', '--name', 'ops'], env)).code).toBe(2);
    expect((await runCli(['keys', 'list'], env)).output).toMatch(/ops\tviewer\tactive/);
    expect((await runCli(['keys', 'revoke', 'ops'], env)).code).toBe(0);
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { 'x-api-key': key! } })).status).toBe(401);
    expect((await runCli(['keys', 'revoke', 'ops'], env)).code).toBe(1);

    // The name is free again; the old key stays dead.
    const recreated = await runCli(['keys', 'create', '--name', 'ops', '--role', 'viewer'], env);
    expect(recreated.code, recreated.output).toBe(0);
    const newKey = /ferry_[A-Za-z0-9_-]{43}/.exec(recreated.output)![0];
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { 'x-api-key': newKey } })).status).toBe(200);
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { 'x-api-key': key! } })).status).toBe(401);
    expect((await runCli(['keys', 'list'], env)).output).toMatch(/ops\tviewer\trevoked [^\n]+\nops\tviewer\tactive/);
  });

  it('records when a key was last used at most once a minute, not on every request', async () => {
    const key = await createApiKey(dash.db.pool, 'busy', 'viewer');
    const lastUsed = async () =>
      (await dash.db.pool.query<{ t: Date | null; xmin: string }>(`SELECT last_used_at AS t, xmin::text FROM api_keys WHERE name = 'busy' AND revoked_at IS NULL`)).rows[0]!;
    expect((await lastUsed()).t).toBeNull();
    for (let i = 0; i < 5; i++) expect(await verifyApiKey(dash.db.pool, key)).toMatchObject({ name: 'busy', role: 'viewer' });
    const first = await lastUsed();
    expect(first.t).toBeInstanceOf(Date);
    await Promise.all(Array.from({ length: 5 }, () => fetch(`${base}/admin/queues/api/queues`, { headers: { 'x-api-key': key } })));
    // Same row version: no write happened for the requests inside the minute.
    expect(await lastUsed()).toEqual(first);
    await dash.db.pool.query(`UPDATE api_keys SET last_used_at = now() - interval '2 minutes' WHERE name = 'busy'`);
    await verifyApiKey(dash.db.pool, key);
    expect((await lastUsed()).t!.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });
});
