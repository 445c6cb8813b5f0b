import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';

/**
 * Requests to the dashboard that no browser of ours sends: oversized or undecodable bodies before sign-in. Each gets a
 * short JSON 4xx, never Express's HTML error page (a stack trace with server paths outside production). And what every
 * answer carries or leaves out: framing and script rules, no X-Powered-By, no Redis details for viewers.
 */
describe('dashboard: bad requests get short answers', () => {
  let dash: DashboardHarness<'admin' | 'viewer'>;

  beforeAll(async () => {
    dash = await startDashboard({ label: 'badreq', keys: ['admin', 'viewer'], sessionSecret: 'd'.repeat(32) });
  });
  afterAll(() => dash.close());

  /** Posts raw bytes with node:http, which (unlike fetch) sends any content encoding and copes with an early answer. */
  function post(path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; type: string; text: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${dash.base}${path}`, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'] ?? '', text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  const FORM = 'application/x-www-form-urlencoded';
  it.each([
    ['a 10 MB body', { 'content-type': FORM }, Buffer.alloc(10 * 1024 * 1024, 'a'), 413],
    ['an unknown Content-Encoding', { 'content-type': FORM, 'content-encoding': 'x-unknown' }, Buffer.from('api_key=x'), 415],
    ['charset=utf-7', { 'content-type': `${FORM}; charset=utf-7` }, Buffer.from('api_key=x'), 415],
    ['a body that does not inflate', { 'content-type': FORM, 'content-encoding': 'gzip' }, Buffer.from('not gzip'), 400],
  ])('POST /login with %s answers a short JSON 4xx, without a stack', async (_what, headers, body, status) => {
    const res = await post('/login', headers, body);
    expect(res.status).toBe(status);
    expect(res.type).toMatch(/^application\/json/);
    expect(res.text.length).toBeLessThan(300);
    expect(res.text).not.toMatch(/node_modules|\/work\/|at \w+ \(|<pre>/);
  });

  it('every answer forbids framing and sets a Content-Security-Policy; none says X-Powered-By', async () => {
    const admin = { 'x-api-key': dash.keys.admin };
    for (const [path, headers] of [
      ['/login', {}], ['/healthz', {}], ['/admin/queues', admin], ['/admin/queues/api/queues', admin],
      ['/admin/queues/static/favicon-32x32.png', admin], ['/admin/queues/no-such-page', admin],
    ] as const) {
      const res = await fetch(`${dash.base}${path}`, { headers, redirect: 'manual' });
      expect(res.status, path).toBeLessThan(500);
      expect(res.headers.get('x-powered-by'), path).toBeNull();
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
      expect(res.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(res.headers.get('content-security-policy'), path).toContain("script-src 'self'");
    }
  });

  it("a viewer does not see Redis's host details or the workers' client addresses; an admin does", async () => {
    for (const path of ['/admin/queues/api/redis/stats', '/admin/queues/api/queues/candles/workers']) {
      expect((await fetch(`${dash.base}${path}`, { headers: { 'x-api-key': dash.keys.viewer } })).status, path).toBe(403);
      expect((await fetch(`${dash.base}${path}`, { headers: { 'x-api-key': dash.keys.admin } })).status, path).toBe(200);
    }
  });
});
