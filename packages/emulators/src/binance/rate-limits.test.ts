import { setTimeout as sleep } from 'node:timers/promises';
import ccxt, { type Exchange } from 'ccxt';
import { afterEach, describe, expect, it } from 'vitest';
import { budgetFromDeclaredLimits, createCcxtExchange, lastResponseHeader, lastUsedWeight, type DeclaredRateLimit } from '@ferry/shared/exchange';
import { startBinanceEmulator, type BinanceEmulator, type BinanceSettings } from './index.js';

const NOW = Date.UTC(2026, 9, 20, 5, 30);

/**
 * Weight windows are aligned to the real clock: a burst that must fit in one window starts in a fresh one when too
 * little of the current one is left.
 */
async function startOfWindowWithRoom(windowMs: number, roomMs: number): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < roomMs) await sleep(left + 5);
}

async function raised(call: Promise<unknown>): Promise<Error> {
  const result = await call.then(() => undefined, (e: unknown) => e);
  if (!(result instanceof Error)) throw new Error('expected the call to fail');
  return result;
}

describe('Binance request-weight limits through ccxt', () => {
  let emu: BinanceEmulator;
  let ex: Exchange;
  const start = async (settings: Partial<BinanceSettings>) => {
    emu = await startBinanceEmulator({ settings: { nowMs: NOW, ...settings } });
    ex = await createCcxtExchange({ exchangeId: 'binance', baseUrl: emu.url });
  };
  afterEach(async () => emu.close());

  it('declares the configured window and limit in exchangeInfo, where ferry reads its budget', async () => {
    await start({ weightLimit: 600, windowMs: 10_000 });
    const api = ex as unknown as { publicGetExchangeInfo(p: object): Promise<{ rateLimits: DeclaredRateLimit[] }> };
    const info = await api.publicGetExchangeInfo({ symbol: 'BTCUSDT' });
    expect(info.rateLimits[0]).toEqual({ rateLimitType: 'REQUEST_WEIGHT', interval: 'SECOND', intervalNum: 10, limit: 600 });
    expect(budgetFromDeclaredLimits(info.rateLimits, 1)).toEqual({ windowMs: 10_000, limit: 600 });
    expect(lastUsedWeight(ex, 'X-MBX-USED-WEIGHT-10S')).toBe(20);
  });

  it('reports the used weight of the minute in X-MBX-USED-WEIGHT-1M after every answer', async () => {
    await start({});
    await startOfWindowWithRoom(60_000, 3_000);
    await ex.loadMarkets();
    expect(lastUsedWeight(ex)).toBe(20);
    await ex.fetchOHLCV('BTC/USDT', '1h', undefined, 10);
    expect(lastUsedWeight(ex)).toBe(22);
    await ex.fetchTicker('BTC/USDT');
    expect(lastUsedWeight(ex)).toBe(24);
    expect(lastResponseHeader(ex, 'x-mbx-used-weight-1m')).toBe('24');
  });

  it('answers 429 with Retry-After past the limit (ccxt: DDoSProtection), then 418 to a client that keeps sending, until the ban ends', async () => {
    await start({ weightLimit: 10, windowMs: 2_000, banMs: 1_500, violationsBeforeBan: 0 });
    await startOfWindowWithRoom(2_000, 1_200);
    for (let i = 1; i <= 10; i++) {
      await ex.fetchTime(); // weight 1
      expect(lastUsedWeight(ex, 'X-MBX-USED-WEIGHT-2S')).toBe(i);
    }
    const limited = await raised(ex.fetchTime());
    // ccxt's binance raises DDoSProtection for both 429 and 418, not its RateLimitExceeded subclass.
    expect(limited).toBeInstanceOf(ccxt.DDoSProtection);
    expect(limited).not.toBeInstanceOf(ccxt.RateLimitExceeded);
    expect(limited.message).toContain('binance 429 Too Many Requests {"code":-1003,"msg":"Too much request weight used; ' +
      'current limit is 10 request weight per 2 SECOND.');
    expect(['1', '2']).toContain(lastResponseHeader(ex, 'Retry-After'));
    expect(lastUsedWeight(ex, 'X-MBX-USED-WEIGHT-2S')).toBe(10);

    const banStarted = Date.now();
    const banned = await raised(ex.fetchTime());
    expect(banned).toBeInstanceOf(ccxt.DDoSProtection);
    expect(banned.message).toMatch(/^binance 418 I'm a Teapot \{"code":-1003,"msg":"Way too much request weight used; IP banned until (\d{13})\./);
    const until = Number(/banned until (\d{13})/.exec(banned.message)![1]);
    expect(until - banStarted).toBeGreaterThanOrEqual(1_400);
    expect(until - banStarted).toBeLessThanOrEqual(1_600);
    expect(lastResponseHeader(ex, 'Retry-After')).toBe('2');

    // The ban holds, in later windows too, and lifts at its end (the window may still be full then: 429).
    let refusedDuringBan = 0;
    let afterBan: number;
    for (;;) {
      afterBan = (await fetch(`${emu.url}/api/v3/ping`)).status;
      if (afterBan !== 418) {
        expect([200, 429]).toContain(afterBan);
        break;
      }
      refusedDuringBan += 1;
      expect(Date.now()).toBeLessThan(until + 1_000);
      await sleep(100);
    }
    expect(Date.now()).toBeGreaterThanOrEqual(until);
    expect(refusedDuringBan).toBeGreaterThan(5);
    const windowStillFull = afterBan === 429 ? 1 : 0;
    expect(emu.control.snapshot()).toMatchObject({
      'status:429': 1 + windowStillFull, 'status:418': 1 + refusedDuringBan, bans: 1, maxWindowWeight: 12 + windowStillFull,
    });
  });

  it('forgives requests already in flight when a 429 went out (violationsBeforeBan)', async () => {
    await start({ weightLimit: 4, windowMs: 2_000, violationsBeforeBan: 2 });
    await startOfWindowWithRoom(2_000, 1_200);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await fetch(`${emu.url}/api/v3/ping`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429, 429, 418]);
    expect(emu.control.counter('maxWindowWeight')).toBe(8);
  });

  it('sends the Retry-After a forced rate-limit names, and bans on the ban fault', async () => {
    await start({ violationsBeforeBan: 0 });
    emu.control.addFault({ name: 'rate-limit', remaining: 1, pathIncludes: '/api/v3/time', params: { retryAfterSeconds: 7 } });
    const limited = await raised(ex.fetchTime());
    expect(limited).toBeInstanceOf(ccxt.DDoSProtection);
    expect(lastResponseHeader(ex, 'Retry-After')).toBe('7');
    // Ignoring that Retry-After is failing to back off: banned.
    expect(await raised(ex.fetchTime())).toBeInstanceOf(ccxt.DDoSProtection);
    expect(lastResponseHeader(ex, 'Retry-After')).toBe('120');

    emu.control.reset();
    emu.control.addFault({ name: 'ban', remaining: 1, params: { banMs: 30_000 } });
    const banned = await raised(ex.fetchTime());
    expect(banned.message).toContain('418');
    expect(lastResponseHeader(ex, 'Retry-After')).toBe('30');
    expect(emu.control.snapshot()).toMatchObject({ 'fault:ban': 1, 'status:418': 1, bans: 1 });
  });
});
