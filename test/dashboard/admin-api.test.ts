import { openQueue } from '../support/workers.js';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '@ferry/shared/auth';
import { createLogger } from '@ferry/shared/core';
import { ALL_QUEUES, QueueName } from '@ferry/shared/jobs';
import { createDashboardApp } from '../../services/dashboard/src/app.js';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { waitFor } from '../support/wait.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 9, 20, 5, 30);
const START = new Date(NOW - 10 * DAY).toISOString().slice(0, 10);

describe('admin API: trigger, status, system info, scheduler', () => {
  let h: CryptoHarness;
  let queues: Queue[];
  let server: Server;
  let base: string;
  let admin: string;
  let viewer: string;

  const call = async (method: string, path: string, key: string | undefined, body?: unknown) => {
    const headers: Record<string, string> = key ? { 'x-api-key': key } : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    // The worker starts later, so a triggered run stays queued long enough to see the 409.
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, startWorker: false });
    queues = ALL_QUEUES.map((name) => openQueue(name, h.redis, h.prefix));
    admin = await createApiKey(h.db.pool, 'admin', 'admin');
    viewer = await createApiKey(h.db.pool, 'viewer', 'viewer');
    const app = createDashboardApp({
      db: h.db.pool, redis: h.redis, queues, config: h.config, logger: createLogger({ name: 'test', level: 'silent' }),
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await Promise.all(queues.map((q) => q.close()));
    await h.close();
  });

  const routes: Array<[string, string]> = [
    ['POST', '/api/admin/collect/trigger'],
    ['GET', '/api/admin/collect/status'],
    ['GET', '/api/admin/system/info'],
    ['POST', '/api/admin/scheduler/pause'],
    ['POST', '/api/admin/scheduler/resume'],
  ];

  it.each(routes)('%s %s answers 401 without a key', async (method, path) => {
    expect((await call(method, path, undefined)).status).toBe(401);
  });

  it.each(routes.filter(([m]) => m === 'POST'))('%s %s answers 403 to a viewer', async (method, path) => {
    expect((await call(method, path, viewer, { mode: 'forward' })).status).toBe(403);
  });

  it.each([
    [{ mode: 'sideways' }, 'mode', 'expected one of backward, forward, gap_fill'],
    [{}, 'mode', 'expected one of backward, forward, gap_fill'],
    [{ mode: 'forward', verbose: true }, 'verbose', 'unknown field'],
    [{ mode: 'forward', top: 0 }, 'top', 'expected a whole number from 1 to 1000'],
    [{ mode: 'forward', top: '5' }, 'top', 'expected a whole number from 1 to 1000'],
    [{ mode: 'forward', timeframe: '7m' }, 'timeframe', 'expected one of'],
    [{ mode: 'forward', symbols: 'BTC' }, 'symbols', 'expected an array of coins'],
    [{ mode: 'forward', symbols: ['BTC', 'not a coin'] }, 'symbols.1', 'expected coins such as BTC or BTC/USDT'],
    [{ mode: 'backward', start_date: 'yesterday' }, 'start_date', 'expected an ISO date'],
    [{ mode: 'backward', start_date: '2026-02-01', end_date: '2026-01-01' }, 'end_date', 'expected a date after start_date 2026-02-01'],
    ['[1,', '(body)', 'expected a JSON object'],
  ])('rejects the body %j with 400 naming %s', async (body, field, reason) => {
    const res = await call('POST', '/api/admin/collect/trigger', admin, body);
    expect(res.status).toBe(400);
    expect(res.body['error']).toBe('invalid_request');
    const problems = res.body['problems'] as Array<{ field: string; message: string }>;
    expect(problems.map((p) => p.field)).toEqual([field]);
    expect(problems[0]!.message).toContain(reason);
    expect((await h.db.pool.query('SELECT count(*)::int AS n FROM collection_runs')).rows[0].n).toBe(0);
  });

  it('reports idle with no results before any collection', async () => {
    const res = await call('GET', '/api/admin/collect/status', viewer);
    expect(res).toEqual({
      status: 200,
      body: {
        is_running: false, current_operation: null, status: 'idle', elapsed_seconds: null, next_run_time: null, scheduler_paused: false,
        last_results: null,
      },
    });
  });

  it('a trigger queues a run, refuses a second while it runs, completes on a worker and shows in status', async () => {
    // Two at once: the check and the queueing are one step under a lock, so exactly one is accepted.
    const body = { mode: 'backward', symbols: ['BTC', 'eth/usdt'], timeframe: '1d', start_date: START };
    const both = await Promise.all([call('POST', '/api/admin/collect/trigger', admin, body), call('POST', '/api/admin/collect/trigger', admin, body)]);
    expect(both.map((r) => r.status).sort(), JSON.stringify(both)).toEqual([202, 409]);
    expect((await h.db.pool.query('SELECT count(*)::int AS n FROM collection_runs')).rows[0].n).toBe(1);
    const trigger = both.find((r) => r.status === 202)!;
    expect(trigger.body).toEqual({
      success: true,
      message: 'backward collection of 2 coin(s) queued (2 job(s))',
      mode: 'backward',
      run_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status_endpoint: '/api/admin/collect/status',
    });
    const runId = trigger.body['run_id'] as string;

    const running = await call('GET', '/api/admin/collect/status', viewer);
    expect(running.body).toMatchObject({ is_running: true, status: 'queued', current_operation: `backward of 2 coin(s) x 1d (run ${runId})` });
    expect(typeof running.body['elapsed_seconds']).toBe('number');

    const again = await call('POST', '/api/admin/collect/trigger', admin, { mode: 'forward' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ success: false, error: 'conflict' });
    expect(again.body['message']).toContain(runId);

    await h.startWorker();
    const done = await waitFor(async () => {
      const s = await call('GET', '/api/admin/collect/status', viewer);
      return s.body['is_running'] === false ? s.body : undefined;
    }, { what: 'the triggered run to finish', timeoutMs: 60_000 });
    const truth = ['BTC/USDT', 'ETH/USDT'].map((s) => h.emulator.candles(s, '1d', Date.parse(`${START}T00:00:00Z`), Math.floor(NOW / DAY) * DAY).length);
    expect(done).toMatchObject({
      is_running: false, current_operation: null, status: 'completed', elapsed_seconds: null,
      last_results: { run_id: runId, total_cryptos: 2, complete: 2, partial: 0, failed: 0, skipped: 0, total_records: truth[0]! + truth[1]! },
    });
    const details = (done['last_results'] as { details: Array<{ item: string; status: string; records: number }> }).details;
    expect(details.map((d) => [d.item.split(':')[1], d.status, Number(d.records)])).toEqual([['BTC/USDT', 'complete', truth[0]], ['ETH/USDT', 'complete', truth[1]]]);
    const metrics = await (await fetch(`${base}/metrics`, { headers: { 'x-api-key': viewer } })).text();
    expect(metrics).toContain(`ferry_candles_stored_total{exchange="binance",timeframe="1d"} ${truth[0]! + truth[1]!}`);
  }, 90_000);

  it('system info gives the version, every queue with its counts and workers, and health', async () => {
    const res = await call('GET', '/api/admin/system/info', viewer);
    expect(res.status).toBe(200);
    expect(res.body['version']).toBe('0.1.0');
    const infos = res.body['queues'] as Array<{ name: string; counts: Record<string, number>; workers: number; paused: boolean }>;
    expect(infos.map((q) => q.name).sort()).toEqual([...ALL_QUEUES].sort());
    const candles = infos.find((q) => q.name === QueueName.Candles)!;
    expect(candles.counts['completed']).toBe(2);
    expect(candles.workers).toBe(1);
    expect(res.body['workers_online']).toBe(1);
    expect(res.body['health']).toMatchObject({ redis: { status: 'ok' }, postgres: { status: 'ok' } });
  });

  it('pauses and resumes the schedules queue', async () => {
    const schedules = queues.find((q) => q.name === QueueName.Schedules)!;
    expect(await call('POST', '/api/admin/scheduler/pause', admin)).toEqual({
      status: 200, body: { success: true, message: 'scheduled collections paused', paused: true },
    });
    expect(await schedules.isPaused()).toBe(true);
    expect((await call('GET', '/api/admin/collect/status', viewer)).body).toMatchObject({ scheduler_paused: true, next_run_time: null });
    expect((await call('POST', '/api/admin/scheduler/resume', admin)).body['paused']).toBe(false);
    expect(await schedules.isPaused()).toBe(false);
    expect((await call('GET', '/api/admin/collect/status', viewer)).body).toMatchObject({ scheduler_paused: false });
  });

  it('answers 404 in the same error shape for an unknown admin route', async () => {
    expect(await call('GET', '/api/admin/nothing', admin)).toEqual({
      status: 404, body: { success: false, error: 'not_found', message: 'no such admin API route' },
    });
  });
});
