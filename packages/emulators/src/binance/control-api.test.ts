import ccxt from 'ccxt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCcxtExchange } from '@ferry/shared/exchange';
import { DEFAULT_SETTINGS, startBinanceEmulator, type BinanceEmulator } from './index.js';

const NOW = Date.UTC(2026, 9, 20, 5, 30);

describe('the Binance emulator steered over HTTP (/__control/)', () => {
  let emu: BinanceEmulator;
  beforeEach(async () => {
    emu = await startBinanceEmulator({ settings: { nowMs: NOW } });
  });
  afterEach(async () => emu.close());

  const control = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${emu.url}/__control/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('reads and changes settings; the exchange follows them', async () => {
    expect((await control('GET', 'settings')).body).toEqual({ ...DEFAULT_SETTINGS, nowMs: NOW });
    const later = NOW + 3_600_000;
    expect((await control('POST', 'settings', { nowMs: later, weightLimit: 1200, windowMs: 10_000 })).body)
      .toMatchObject({ nowMs: later, weightLimit: 1200, windowMs: 10_000, coinCount: 300 });
    const time = (await (await fetch(`${emu.url}/api/v3/time`)).json()) as { serverTime: number };
    expect(time.serverTime).toBe(later);
    const info = (await (await fetch(`${emu.url}/api/v3/exchangeInfo?symbol=BTCUSDT`)).json()) as { rateLimits: unknown[] };
    expect(info.rateLimits[0]).toEqual({ rateLimitType: 'REQUEST_WEIGHT', interval: 'SECOND', intervalNum: 10, limit: 1200 });
  });

  it('runs on real time, shifted by clockOffsetMs, when nowMs is null', async () => {
    const ex = await createCcxtExchange({ exchangeId: 'binance', baseUrl: emu.url });
    await control('POST', 'settings', { nowMs: null, clockOffsetMs: -86_400_000 });
    const before = Date.now();
    const serverTime = await ex.fetchTime();
    expect(serverTime).toBeGreaterThanOrEqual(before - 86_400_000);
    expect(serverTime).toBeLessThanOrEqual(Date.now() - 86_400_000);
    expect(emu.now()).toBeLessThanOrEqual(Date.now() - 86_400_000);
  });

  it('refuses settings it cannot emulate, naming them, and keeps the old ones', async () => {
    expect(await control('POST', 'settings', { windowMs: 1_500 })).toEqual({
      status: 400, body: { error: 'binance emulator setting windowMs: expected a whole number of seconds, got 1500' },
    });
    expect((await control('POST', 'settings', { weightLimit: -1 })).body['error']).toMatch(/weightLimit: expected a positive integer/);
    expect(emu.control.settings.windowMs).toBe(60_000);
  });

  it('adds and clears faults, counts them, and resets counters, faults, settings and bans', async () => {
    const ex = await createCcxtExchange({ exchangeId: 'binance', baseUrl: emu.url });
    expect((await control('POST', 'faults', { name: 'server-error', remaining: 1, params: { status: 502 } })).body)
      .toEqual({ faults: [{ name: 'server-error', remaining: 1, params: { status: 502 } }] });
    expect(await ex.fetchTime().catch((e: unknown) => e)).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    expect(await ex.fetchTime()).toBe(NOW);

    await control('POST', 'faults', { name: 'html' });
    expect((await control('DELETE', 'faults?name=html')).body).toEqual({ faults: [{ name: 'server-error', remaining: 0, params: { status: 502 } }] });
    await control('POST', 'faults', { name: 'ban', params: { banMs: 60_000 } });
    expect((await fetch(`${emu.url}/api/v3/ping`)).status).toBe(418);
    await control('POST', 'settings', { latencyMs: 5 });

    expect((await control('GET', 'counters')).body['counters']).toEqual({
      requests: 3, 'endpoint:/api/v3/time': 2, 'endpoint:/api/v3/ping': 1, 'fault:server-error': 1, 'fault:ban': 1,
      'status:502': 1, 'status:200': 1, 'status:418': 1, bans: 1, weight: 1, 'weight:/api/v3/time': 1, maxWindowWeight: 1,
    });
    expect(await control('POST', 'reset')).toEqual({ status: 200, body: {} });
    expect((await control('GET', 'counters')).body).toEqual({ counters: {} });
    expect(emu.control.settings).toEqual({ ...DEFAULT_SETTINGS, nowMs: NOW });
    expect(emu.control.listFaults()).toEqual([]);
    expect((await fetch(`${emu.url}/api/v3/ping`)).status).toBe(200);
  });

  it('adds latency and random server errors from the base settings', async () => {
    await control('POST', 'settings', { latencyMs: 120 });
    const started = Date.now();
    expect((await fetch(`${emu.url}/api/v3/ping`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    await control('POST', 'settings', { latencyMs: 0, errorRate: 1 });
    const ex = await createCcxtExchange({ exchangeId: 'binance', baseUrl: emu.url });
    const err: unknown = await ex.fetchTime().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ccxt.OperationFailed);
    expect(String(err)).toContain('{"code":-1001,"msg":"Internal error; unable to process your request. Please try again."}');
    expect(emu.control.snapshot()).toMatchObject({ 'injected:server-error': 1, 'status:503': 1 });
  });
});
