import { EventEmitter } from 'node:events';
import type { NextFunction, Request, Response } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobName, QueueName } from '@ferry/shared/jobs';
import { boardReadLimits, MAX_CONCURRENT_BOARD_READS, MAX_JOBS_PER_PAGE } from '../../services/dashboard/src/board-limits.js';
import { startDashboard, type DashboardHarness } from '../support/dashboard-harness.js';

/** What one Bull Board request may make the dashboard read from the Redis every worker shares, for every role. */
describe('dashboard: Bull Board reads are bounded', () => {
  let dash: DashboardHarness<'admin' | 'viewer'>;

  beforeAll(async () => {
    dash = await startDashboard({ label: 'pages', keys: ['admin', 'viewer'] });
    const candles = dash.queues.find((q) => q.name === QueueName.Candles)!;
    await candles.addBulk(Array.from({ length: MAX_JOBS_PER_PAGE + 50 }, (_, i) => ({ name: JobName.CollectCandles, data: { i } })));
  });
  afterAll(() => dash.close());

  const page = (key: string, jobsPerPage: string) =>
    fetch(`${dash.base}/admin/queues/api/queues?activeQueue=candles&status=waiting&page=1&jobsPerPage=${jobsPerPage}`, { headers: { 'x-api-key': key } });

  it.each(['1000000', String(MAX_JOBS_PER_PAGE + 1), '1e6', '0xF4240'])('refuses jobsPerPage=%s to a viewer and to an admin', async (size) => {
    for (const key of [dash.keys.viewer, dash.keys.admin]) {
      const res = await page(key, size);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ success: false, problems: [{ field: 'jobsPerPage' }] });
    }
  });

  it('serves a page of the maximum size', async () => {
    const res = await page(dash.keys.viewer, String(MAX_JOBS_PER_PAGE));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: Array<{ name: string; jobs: unknown[] }> };
    expect(body.queues.find((q) => q.name === QueueName.Candles)!.jobs).toHaveLength(MAX_JOBS_PER_PAGE);
  });
});

/** A response that stays open until the test closes it, and records what was sent. */
function openResponse() {
  const res = Object.assign(new EventEmitter(), {
    statusCode: 200,
    headers: {} as Record<string, string>,
    body: undefined as unknown,
    setHeader(name: string, value: string) {
      res.headers[name.toLowerCase()] = value;
    },
    status(code: number) {
      res.statusCode = code;
      return res;
    },
    json(body: unknown) {
      res.body = body;
      return res;
    },
  });
  return res;
}

describe('boardReadLimits', () => {
  it(`answers 503 with Retry-After while ${MAX_CONCURRENT_BOARD_READS} reads are in flight, and serves again when one ends`, () => {
    const limit = boardReadLimits();
    const request = { method: 'GET', originalUrl: '/admin/queues/api/queues' } as Request;
    let passed = 0;
    const next: NextFunction = () => void passed++;
    const open = Array.from({ length: MAX_CONCURRENT_BOARD_READS }, () => openResponse());
    for (const res of open) limit(request, res as unknown as Response, next);
    expect(passed).toBe(MAX_CONCURRENT_BOARD_READS);

    const refused = openResponse();
    limit(request, refused as unknown as Response, next);
    expect(passed).toBe(MAX_CONCURRENT_BOARD_READS);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);

    open[0]!.emit('close');
    limit(request, openResponse() as unknown as Response, next);
    expect(passed).toBe(MAX_CONCURRENT_BOARD_READS + 1);
  });

  it('does not hold writes', () => {
    const limit = boardReadLimits();
    let passed = 0;
    for (let i = 0; i < MAX_CONCURRENT_BOARD_READS * 2; i++) {
      limit({ method: 'PUT', originalUrl: '/admin/queues/api/queues/candles/pause' } as Request, openResponse() as unknown as Response, () => void passed++);
    }
    expect(passed).toBe(MAX_CONCURRENT_BOARD_READS * 2);
  });
});
