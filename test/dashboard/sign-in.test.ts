import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey } from '@ferry/shared/auth';
import { ConfigError, loadConfig } from '@ferry/shared/core';
import { QueueName } from '@ferry/shared/jobs';
import { FAILURES_ALLOWED } from '../../services/dashboard/src/failed-attempts.js';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';

/** A browser's cookie jar, reduced to what these tests need. */
function cookiesFrom(res: Response): Map<string, string> {
  return new Map(res.headers.getSetCookie().map((c) => {
    const [pair] = c.split(';');
    const eq = pair!.indexOf('=');
    return [pair!.slice(0, eq), pair!.slice(eq + 1)];
  }));
}

const PAGE_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('dashboard: signing in with a key in a browser', () => {
  let dash: DashboardHarness<'admin' | 'viewer'>;
  let base: string;
  let admin: string;
  let viewer: string;

  beforeAll(async () => {
    dash = await startDashboard({
      label: 'signin', keys: ['admin', 'viewer'], sessionSecret: 'x'.repeat(32),
      // The tests are the proxy: X-Forwarded-For from loopback says which client a request stands for.
      trustProxy: ['loopback'],
    });
    ({ base, keys: { admin, viewer } } = dash);
  });
  afterAll(() => dash.close());

  /** What a browser does: load the form (its CSRF cookie and token), then post it. */
  const signIn = async (key: string, options: { client?: string; next?: string } = {}) => {
    const client: Record<string, string> = options.client ? { 'x-forwarded-for': options.client } : {};
    const page = await fetch(`${base}/login${options.next ? `?next=${encodeURIComponent(options.next)}` : ''}`, { headers: client });
    const html = await page.text();
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? '';
    return fetch(`${base}/login`, {
      method: 'POST', redirect: 'manual',
      headers: { ...client, 'content-type': 'application/x-www-form-urlencoded', cookie: `ferry.login=${cookiesFrom(page).get('ferry.login')}` },
      body: new URLSearchParams({ api_key: key, csrf: field('csrf'), next: field('next').replaceAll('&#38;', '&') }).toString(),
    });
  };
  const sessionHeaders = (res: Response) => {
    const jar = cookiesFrom(res);
    return { cookie: `ferry.sid=${jar.get('ferry.sid')}; XSRF-TOKEN=${jar.get('XSRF-TOKEN')}`, 'x-xsrf-token': jar.get('XSRF-TOKEN')! };
  };

  it('shows the sign-in page without a key', async () => {
    const res = await fetch(`${base}/login`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<form method="post" action="/login">');
  });

  it('sends a browser without credentials to the sign-in page, and back where it was going after signing in', async () => {
    const page = await fetch(`${base}/admin/queues/queue/candles?status=failed`, { headers: { accept: PAGE_ACCEPT }, redirect: 'manual' });
    expect(page.status).toBe(303);
    const login = page.headers.get('location')!;
    expect(login).toBe(`/login?next=${encodeURIComponent('/admin/queues/queue/candles?status=failed')}`);
    const signedIn = await signIn(admin, { next: new URL(login, base).searchParams.get('next')! });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/admin/queues/queue/candles?status=failed');
  });

  it('still answers scripts and Bull Board API calls without credentials with a JSON 401', async () => {
    for (const accept of [undefined, 'application/json', '*/*']) {
      const res = await fetch(`${base}/admin/queues/api/queues`, { headers: accept ? { accept } : {}, redirect: 'manual' });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ success: false, error: 'unauthorized' });
    }
    // A page request with a wrong key is a wrong key, not a missing sign-in.
    expect((await fetch(`${base}/admin/queues`, { headers: { accept: PAGE_ACCEPT, 'x-api-key': 'ferry_wrong' }, redirect: 'manual' })).status).toBe(401);
  });

  it('never sends anyone to another site after signing in', async () => {
    for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example']) {
      expect((await signIn(admin, { next })).headers.get('location')).toBe('/admin/queues');
    }
  });

  it('a good key gives an HttpOnly SameSite=Strict session cookie that opens Bull Board; the session is kept in Redis', async () => {
    const res = await signIn(admin);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/admin/queues');
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('ferry.sid='))!;
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Strict/);
    const cookie = `ferry.sid=${cookiesFrom(res).get('ferry.sid')}`;
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: { cookie } })).status).toBe(200);
    expect((await dash.redis.keys(`${dash.prefix}:session:*`)).length).toBeGreaterThan(0);
  });

  it('refuses a sign-in form that does not carry its CSRF token (login CSRF)', async () => {
    const form = (fields: Record<string, string>, cookie?: string) => fetch(`${base}/login`, {
      method: 'POST', redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.1', ...(cookie ? { cookie } : {}) },
      body: new URLSearchParams(fields).toString(),
    });
    const page = await fetch(`${base}/login`);
    const token = /name="csrf" value="([^"]*)"/.exec(await page.text())![1]!;
    const cookie = `ferry.login=${cookiesFrom(page).get('ferry.login')}`;
    for (const res of [
      await form({ api_key: admin }),
      await form({ api_key: admin, csrf: token }),
      await form({ api_key: admin }, cookie),
      await form({ api_key: admin, csrf: 'forged' }, cookie),
    ]) {
      expect(res.status).toBe(403);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('ferry.sid='))).toBe(false);
      expect(await res.text()).toContain('sign in again');
    }
    expect((await form({ api_key: admin, csrf: token }, cookie)).status).toBe(303);
  });

  it('a cookie-authenticated write needs the CSRF token', async () => {
    const { cookie, 'x-xsrf-token': token } = sessionHeaders(await signIn(admin));
    const url = `${base}/admin/queues/api/queues/candles/pause`;
    expect((await fetch(url, { method: 'PUT', headers: { cookie } })).status).toBe(403);
    expect((await fetch(url, { method: 'PUT', headers: { cookie, 'x-xsrf-token': 'wrong' } })).status).toBe(403);
    expect((await fetch(`${base}/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' })).status).toBe(403);
    expect((await fetch(url, { method: 'PUT', headers: { cookie, 'x-xsrf-token': token } })).status).toBeLessThan(300);
    expect(await dash.queues.find((q) => q.name === QueueName.Candles)!.isPaused()).toBe(true);
  });

  it("a viewer's session can look but not change anything", async () => {
    const headers = sessionHeaders(await signIn(viewer));
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers })).status).toBe(200);
    expect((await fetch(`${base}/admin/queues/api/queues/candles/resume`, { method: 'PUT', headers })).status).toBe(403);
  });

  it('signing out ends the session; revoking the key ends its sessions, and so does recreating it under the same name', async () => {
    let headers = sessionHeaders(await signIn(admin));
    const out = await fetch(`${base}/logout`, { method: 'POST', headers, redirect: 'manual' });
    expect(out.status).toBe(303);
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers })).status).toBe(401);

    const ops = await createApiKey(dash.db.pool, 'ops', 'admin');
    headers = sessionHeaders(await signIn(ops));
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers })).status).toBe(200);
    await revokeApiKey(dash.db.pool, 'ops');
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers })).status).toBe(401);

    const opsAgain = await createApiKey(dash.db.pool, 'ops', 'viewer');
    const revived = sessionHeaders(await signIn(ops));
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: revived })).status).toBe(401);
    const fresh = sessionHeaders(await signIn(opsAgain));
    expect((await fetch(`${base}/admin/queues/api/queues`, { headers: fresh })).status).toBe(200);
    // Revoking the new key also ends sessions a page opens: the browser is sent to sign in again.
    await revokeApiKey(dash.db.pool, 'ops');
    const page = await fetch(`${base}/admin/queues`, { headers: { ...fresh, accept: PAGE_ACCEPT }, redirect: 'manual' });
    expect(page.status).toBe(303);
    expect(page.headers.get('location')).toMatch(/^\/login\?next=/);
  });

  it('rate limits failed sign-ins per client address (behind a trusted proxy, the forwarded one); a correct key still signs in', async () => {
    const attacker = '203.0.113.7';
    for (let i = 0; i < FAILURES_ALLOWED; i++) expect((await signIn('ferry_wrong', { client: attacker })).status).toBe(401);
    const limited = await signIn('ferry_wrong', { client: attacker });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await limited.text()).toContain('Too many failed sign-ins');
    // Someone else behind the same address (a shared NAT) is not locked out with the right key.
    expect((await signIn(admin, { client: attacker })).status).toBe(303);
    expect((await signIn('ferry_wrong', { client: attacker })).status).toBe(429);
    expect((await signIn(admin, { client: '203.0.113.8' })).status).toBe(303);
  });
});

describe('TRUST_PROXY', () => {
  it('is off by default', () => {
    expect(loadConfig({}).dashboard.trustProxy).toBe(false);
  });

  it.each([
    ['1', 1],
    ['loopback', ['loopback']],
    ['10.0.0.0/8, 192.168.1.10,fd00::/8', ['10.0.0.0/8', '192.168.1.10', 'fd00::/8']],
  ])('accepts %s', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).dashboard.trustProxy).toEqual(expected);
  });

  it.each(['true', '0', '10.0.0.0/33', 'proxy.example', 'loopback,'])('refuses %j, naming the variable', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(ConfigError);
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(/TRUST_PROXY/);
  });
});
