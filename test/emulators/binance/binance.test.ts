import ccxt from 'ccxt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCcxtExchange } from '@ferry/shared';
import { startBinanceEmulator, type BinanceEmulator, DEFAULT_OUTAGE, LISTING_ANCHOR } from './index.js';

const H = 3_600_000;
const NOW = Date.UTC(2026, 9, 20, 5, 30); // half past an hour: the 05:00 candle is still open

describe('Binance emulator through ccxt', () => {
  let emu: BinanceEmulator;
  beforeEach(async () => {
    emu = await startBinanceEmulator({ settings: { nowMs: NOW } });
  });
  afterEach(async () => emu.close());

  const exchange = () => createCcxtExchange({ exchangeId: 'binance', baseUrl: emu.url });

  it('loads spot markets with one exchangeInfo request; halted pairs are inactive', async () => {
    const ex = exchange();
    const markets = await ex.loadMarkets();
    expect(Object.keys(markets)).toHaveLength(emu.symbols().length);
    expect(markets['BTC/USDT']).toMatchObject({ spot: true, active: true, base: 'BTC', quote: 'USDT' });
    expect(markets['LUNA/USDT']?.active).toBe(false);
    expect(markets['ETH/BTC']?.quote).toBe('BTC');
    expect(emu.control.snapshot()).toMatchObject({ requests: 1, 'endpoint:/api/v3/exchangeInfo': 1, weight: 20 });
  });

  it('serves 24h tickers whose quote volume ranks the universe', async () => {
    const ex = exchange();
    const tickers = await ex.fetchTickers();
    for (const info of emu.symbols()) {
      const unified = `${info.base}/${info.quote}`;
      expect(tickers[unified]?.quoteVolume).toBe(info.quoteVolume);
    }
    expect(emu.control.counter('weight')).toBe(20 + 80);
  });

  it('paginates OHLCV exactly as the emulator truth, with the still-open candle served last', async () => {
    const ex = exchange();
    const start = NOW - 2500 * H;
    const rows: number[][] = [];
    for (let since = start; ;) {
      const page = (await ex.fetchOHLCV('ETH/USDT', '1h', since, 1000)) as number[][];
      rows.push(...page);
      if (page.length < 1000) break;
      since = page.at(-1)![0]! + H;
    }
    const truth = emu.candles('ETH/USDT', '1h', start, NOW + H);
    const open = rows.at(-1)!;
    expect(open[0]).toBe(Math.floor(NOW / H) * H);
    const closed = rows.slice(0, -1).map(([t, o, h, l, c, v]) => ({ openTime: t!, open: o, high: h, low: l, close: c, volume: v }));
    expect(closed).toEqual(truth);
    // The outage window has no candles.
    expect(closed.some((c) => c.openTime >= DEFAULT_OUTAGE.start && c.openTime < DEFAULT_OUTAGE.end)).toBe(false);
    expect(emu.control.counter('klines:ETHUSDT')).toBe(3);
  });

  it('has no candles before a listing', async () => {
    const recent = emu.symbols().find((s) => s.listedAt === LISTING_ANCHOR - 12 * 86_400_000)!;
    const rows = (await exchange().fetchOHLCV(`${recent.base}/USDT`, '1h', recent.listedAt - 100 * H, 50)) as number[][];
    expect(rows[0]![0]).toBe(recent.listedAt);
  });

  it('maps -1121 to BadSymbol and -1120 to a bad request', async () => {
    await expect(exchange().fetchOHLCV('NOPE/USDT', '1h')).rejects.toBeInstanceOf(ccxt.BadSymbol);
    const raw = await fetch(`${emu.url}/api/v3/klines?symbol=BTCUSDT&interval=7h`);
    expect(raw.status).toBe(400);
    expect(await raw.json()).toEqual({ code: -1120, msg: 'Invalid interval.' });
  });

  it('answers 429 with Retry-After over the weight limit, then 418 to a client that keeps sending', async () => {
    emu.control.configure({ weightLimit: 10, windowMs: 5_000, banMs: 60_000, violationsBeforeBan: 1 });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${emu.url}/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1`);
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers.get('retry-after');
      if (r.status === 200) expect(Number(r.headers.get('x-mbx-used-weight-5s'))).toBe(2 * statuses.length);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 418]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    const banned = await fetch(`${emu.url}/api/v3/ping`);
    expect(banned.status).toBe(418);
    expect(Number(banned.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(((await banned.json()) as { msg: string }).msg).toMatch(/IP banned until \d{13}/);
    expect(emu.control.counter('maxWindowWeight')).toBe(10);
  });

  it('ccxt sees the 429 as RateLimitExceeded/DDoSProtection and the 418 as DDoSProtection', async () => {
    const ex = exchange();
    await ex.loadMarkets();
    emu.control.configure({ violationsBeforeBan: 0 });
    emu.control.addFault({ name: 'rate-limit', remaining: 1, pathIncludes: 'klines', params: { retryAfterSeconds: 3 } });
    const limited = await ex.fetchOHLCV('BTC/USDT', '1h').catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(ccxt.DDoSProtection);
    const banned = await ex.fetchOHLCV('BTC/USDT', '1h').catch((e: unknown) => e);
    expect(banned).toBeInstanceOf(ccxt.DDoSProtection);
    expect(String(banned)).toMatch(/418/);
    expect(emu.control.snapshot()).toMatchObject({ 'status:429': 1, 'status:418': 1 });
  });

  it('is steered over HTTP: settings, faults, counters, reset', async () => {
    const post = (path: string, body: unknown) =>
      fetch(`${emu.url}${path}`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());
    expect(await post('/__control/settings', { latencyMs: 5 })).toMatchObject({ latencyMs: 5, nowMs: NOW });
    await post('/__control/faults', { name: 'empty-page', remaining: 1 });
    expect(await (await fetch(`${emu.url}/api/v3/klines?symbol=BTCUSDT&interval=1h`)).json()).toEqual([]);
    const counters = (await (await fetch(`${emu.url}/__control/counters`)).json()) as { counters: Record<string, number> };
    expect(counters.counters).toMatchObject({ 'fault:empty-page': 1, klines: 1 });
    await post('/__control/reset', {});
    expect(emu.control.snapshot()).toEqual({});
  });
});
