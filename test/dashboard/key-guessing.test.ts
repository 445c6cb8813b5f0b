import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@ferry/shared/auth';
import { type Pool } from '@ferry/shared/postgres';
import { FAILURES_ALLOWED } from '../../services/dashboard/src/failed-attempts.js';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';

/**
 * Wrong keys are limited per client address however the key arrives, a correct key gets in from an address that is
 * over its limit (a shared NAT), and a guess does not cost a database query of its own.
 */
describe('dashboard: guessing keys', () => {
  let dash: DashboardHarness<'admin' | 'viewer'>;
  let keyQueries = 0;

  beforeAll(async () => {
    dash = await startDashboard({
      label: 'guess', keys: ['admin', 'viewer'], trustProxy: ['loopback'],
      // Counts what the dashboard asks of the key table.
      pool: (real) => new Proxy(real, {
        get(target, prop) {
          if (prop !== 'query') return Reflect.get(target, prop) as unknown;
          return (...args: Parameters<Pool['query']>) => {
            if (typeof args[0] === 'string' && args[0].includes('api_keys')) keyQueries++;
            return (target.query as (...a: unknown[]) => unknown)(...args);
          };
        },
      }),
    });
  });
  afterAll(() => dash.close());

  const ways: Array<[string, (key: string) => { headers: Record<string, string>; query: string }]> = [
    ['X-API-Key', (key) => ({ headers: { 'x-api-key': key }, query: '' })],
    ['Bearer', (key) => ({ headers: { authorization: `Bearer ${key}` }, query: '' })],
    ['Basic', (key) => ({ headers: { authorization: `Basic ${Buffer.from(`x:${key}`).toString('base64')}` }, query: '' })],
    ['?api_key=', (key) => ({ headers: {}, query: `?api_key=${encodeURIComponent(key)}` })],
  ];

  it.each(ways.map(([name, how], i) => [name, how, `192.0.2.${10 + i}`] as const))(
    'a key sent as %s: wrong ones get 429 after the limit, the right one still gets in',
    async (_name, how, client) => {
      const get = (key: string) => {
        const { headers, query } = how(key);
        return fetch(`${dash.base}/admin/queues/api/queues${query}`, { headers: { ...headers, 'x-forwarded-for': client } });
      };
      for (let i = 0; i < FAILURES_ALLOWED; i++) expect((await get(`ferry_wrong${i}`)).status).toBe(401);
      const limited = await get('ferry_wrong');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await get(dash.keys.viewer)).status).toBe(200);
      expect((await get('ferry_wrong')).status).toBe(429);
      // Other addresses are not affected.
      expect((await fetch(`${dash.base}/admin/queues/api/queues`, { headers: { 'x-api-key': 'ferry_wrong', 'x-forwarded-for': '192.0.2.99' } })).status).toBe(401);
    },
  );

  it('many parallel wrong keys cost a few queries of the key table, not one each', async () => {
    const before = keyQueries;
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      fetch(`${dash.base}/admin/queues/api/queues`, { headers: { 'x-api-key': `ferry_guess${i}`, 'x-forwarded-for': `198.18.${i >> 8}.${i & 255}` } })));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 401));
    expect(keyQueries - before).toBeLessThanOrEqual(5);
    // A key created a moment ago is still found.
    const fresh = await createApiKey(dash.db.pool, 'fresh', 'viewer');
    expect((await fetch(`${dash.base}/admin/queues/api/queues`, { headers: { 'x-api-key': fresh } })).status).toBe(200);
  });
});
