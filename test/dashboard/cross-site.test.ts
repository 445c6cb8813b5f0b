import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName } from '@ferry/shared/jobs';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';

/**
 * A browser may hold credentials for the dashboard (cached Basic credentials, a session cookie, a key in a bookmarked
 * URL) and another site may make it send them. Writes a browser sends from another site are refused whatever
 * credentials they carry; scripts, which send no Origin, are not affected.
 */
describe('dashboard: writes from another site', () => {
  let dash: DashboardHarness<'admin'>;
  let basic: string;

  beforeAll(async () => {
    dash = await startDashboard({ label: 'xsite', keys: ['admin'], config: {}, sessionSecret: 'c'.repeat(32) });
    basic = `Basic ${Buffer.from(`x:${dash.keys.admin}`).toString('base64')}`;
  });
  afterAll(() => dash.close());

  const schedules = () => dash.queues.find((q) => q.name === QueueName.Schedules)!;
  const candles = () => dash.queues.find((q) => q.name === QueueName.Candles)!;

  it.each([
    ['Origin of another site', { origin: 'https://evil.example' }],
    ['Origin null (a sandboxed frame)', { origin: 'null' }],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'sec-fetch-site': 'same-site' }],
  ])('refuses an admin write with Basic credentials and %s', async (_what, extra: Record<string, string>) => {
    const pause = await fetch(`${dash.base}/api/admin/scheduler/pause`, {
      method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded', ...extra }, body: 'a=b',
    });
    expect(pause.status).toBe(403);
    expect(await schedules().isPaused()).toBe(false);
    const board = await fetch(`${dash.base}/admin/queues/api/queues/candles/pause`, { method: 'PUT', headers: { 'x-api-key': dash.keys.admin, ...extra } });
    expect(board.status).toBe(403);
    expect(await candles().isPaused()).toBe(false);
    const login = await fetch(`${dash.base}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra }, body: `api_key=${dash.keys.admin}` });
    expect(login.status).toBe(403);
  });

  it('reads from another site still work, and writes from the dashboard itself or from a script', async () => {
    expect((await fetch(`${dash.base}/admin/queues/api/queues`, { headers: { authorization: basic, origin: 'https://evil.example' } })).status).toBe(200);
    const own = await fetch(`${dash.base}/api/admin/scheduler/pause`, { method: 'POST', headers: { authorization: basic, origin: dash.base, 'sec-fetch-site': 'same-origin' } });
    expect(own.status).toBe(200);
    expect(await schedules().isPaused()).toBe(true);
    const script = await fetch(`${dash.base}/api/admin/scheduler/resume`, { method: 'POST', headers: { 'x-api-key': dash.keys.admin } });
    expect(script.status).toBe(200);
    expect(await schedules().isPaused()).toBe(false);
  });
});
