import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '@ferry/shared/core';
import { createPool, type Pool } from '@ferry/shared/postgres';
import { freePort } from '../../scripts/local-services.js';
import { FAILURES_ALLOWED } from '../../services/dashboard/src/failed-attempts.js';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';

function cookiesFrom(res: Response): Map<string, string> {
  return new Map(res.headers.getSetCookie().map((c) => {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    return [pair!.slice(0, eq), pair!.slice(eq + 1)];
  }));
}

/**
 * While PostgreSQL (the key store) does not answer, the dashboard cannot tell a good key from a bad one: it answers
 * 503 with Retry-After and changes nothing, so sessions survive and correct sign-ins do not count as failures.
 * "Down" is the dashboard's pool switched to one pointed at a port nothing listens on.
 */
describe('dashboard while PostgreSQL does not answer', () => {
  let dash: DashboardHarness<'admin'>;
  let deadPool: Pool;
  let down = false;

  beforeAll(async () => {
    deadPool = createPool({ url: new Secret(`postgres://postgres@127.0.0.1:${await freePort()}/none`), poolSize: 1, applicationName: 'dead' });
    dash = await startDashboard({
      label: 'pgdown', keys: ['admin'], sessionSecret: 's'.repeat(32), trustProxy: ['loopback'],
      pool: (real) => new Proxy(real, {
        get(_target, prop) {
          const pool = down ? deadPool : real;
          const value: unknown = Reflect.get(pool, prop);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(pool) : value;
        },
      }),
    });
  });
  afterAll(async () => {
    await dash.close();
    await deadPool.end();
  });

  const signIn = async (key: string, client: string) => {
    const page = await fetch(`${dash.base}/login`, { headers: { 'x-forwarded-for': client } });
    const csrf = /name="csrf" value="([^"]*)"/.exec(await page.text())![1]!;
    return fetch(`${dash.base}/login`, {
      method: 'POST', redirect: 'manual',
      headers: { 'x-forwarded-for': client, 'content-type': 'application/x-www-form-urlencoded', cookie: `ferry.login=${cookiesFrom(page).get('ferry.login')}` },
      body: new URLSearchParams({ api_key: key, csrf, next: '/admin/queues' }).toString(),
    });
  };
  const queuesWith = (headers: Record<string, string>) => fetch(`${dash.base}/admin/queues/api/queues`, { headers, redirect: 'manual' });

  it('a signed-in browser gets 503 and keeps its session for when PostgreSQL is back', async () => {
    const cookie = `ferry.sid=${cookiesFrom(await signIn(dash.keys.admin, '198.51.100.1')).get('ferry.sid')}`;
    expect((await queuesWith({ cookie })).status).toBe(200);
    down = true;
    try {
      const during = await queuesWith({ cookie });
      expect(during.status).toBe(503);
      expect(during.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await during.text()).not.toContain('revoked');
    } finally {
      down = false;
    }
    expect((await queuesWith({ cookie })).status).toBe(200);
  });

  it('a key in a header gets 503, right or wrong, and no failure is counted', async () => {
    down = true;
    try {
      for (const key of [dash.keys.admin, 'ferry_wrong']) {
        const res = await queuesWith({ 'x-api-key': key, 'x-forwarded-for': '198.51.100.2' });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      }
    } finally {
      down = false;
    }
    expect((await queuesWith({ 'x-api-key': dash.keys.admin })).status).toBe(200);
  });

  it('a correct sign-in gets 503 and does not count toward the lockout', async () => {
    const client = '198.51.100.3';
    down = true;
    try {
      for (let i = 0; i <= FAILURES_ALLOWED; i++) expect((await signIn(dash.keys.admin, client)).status).toBe(503);
    } finally {
      down = false;
    }
    expect((await signIn('ferry_wrong', client)).status).toBe(401);
    expect((await signIn(dash.keys.admin, client)).status).toBe(303);
  });
});
