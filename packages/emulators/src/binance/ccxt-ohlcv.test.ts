import ccxt, { type Exchange, type OHLCV } from 'ccxt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCcxtExchange, lastUsedWeight } from '@ferry/shared/exchange';
import {
  DEFAULT_OUTAGE, emulatorCandles, findSymbol, startBinanceEmulator, universe, type BinanceEmulator, type EmulatedCandle,
} from './index.js';

const MIN = 60_000;
const H = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 9, 20, 5, 30); // half past: the 05:00 hourly candle is open

const asCandle = ([openTime, open, high, low, close, volume]: OHLCV): EmulatedCandle =>
  ({ openTime: openTime!, open: open!, high: high!, low: low!, close: close!, volume: volume! });

describe('Binance klines through ccxt fetchOHLCV', () => {
  let emu: BinanceEmulator;
  let ex: Exchange;
  beforeEach(async () => {
    emu = await startBinanceEmulator({ settings: { nowMs: NOW } });
    ex = await createCcxtExchange({ exchangeId: 'binance', baseUrl: emu.url });
    await ex.loadMarkets();
  });
  afterEach(async () => emu.close());

  it('pages since + limit 1000 into exactly the emulator candles, with the still-open candle served last', async () => {
    const start = NOW - 2500 * H;
    const rows: OHLCV[] = [];
    for (let since = start; ;) {
      const page = await ex.fetchOHLCV('ETH/USDT', '1h', since, 1000);
      rows.push(...page);
      if (page.length < 1000) break;
      since = page.at(-1)![0]! + H;
    }
    const truth = emulatorCandles('ETH/USDT', '1h', start, NOW + H, { nowMs: NOW });
    expect(truth).toHaveLength(2495);
    expect(rows.slice(0, -1).map(asCandle)).toEqual(truth);
    expect(emu.candles('ETHUSDT', '1h', start, NOW + H)).toEqual(truth);
    const [open] = emu.klines('ETHUSDT', '1h', { limit: 1 });
    expect(rows.at(-1)).toEqual(open!.slice(0, 6).map(Number));
    expect(rows.at(-1)![0]).toBe(NOW - 30 * MIN);
    expect(emu.control.counter('klines:ETHUSDT')).toBe(3);
    expect(emu.control.counter('weight:/api/v3/klines')).toBe(6);
    expect(lastUsedWeight(ex)).toBe(26);
  });

  it('moves the open candle\'s close with the clock, so a client that stored it holds a wrong candle', async () => {
    const [before] = await ex.fetchOHLCV('BTC/USDT', '1h', undefined, 1);
    emu.control.configure({ nowMs: NOW + 20 * MIN });
    const [later] = await ex.fetchOHLCV('BTC/USDT', '1h', undefined, 1);
    emu.control.configure({ nowMs: NOW + 40 * MIN });
    const [final] = emu.candles('BTC/USDT', '1h', NOW - 30 * MIN, NOW + 30 * MIN);
    expect(later![0]).toBe(before![0]);
    expect(later![4]).not.toBe(before![4]);
    expect(later![5]).toBeGreaterThan(before![5]!);
    expect(final!.openTime).toBe(before![0]);
    expect(final!.close).not.toBe(later![4]);
  });

  it('has no candles before a listing: hourly ones start at the listing hour, the daily one at its midnight', async () => {
    const shib = findSymbol(universe({ nowMs: NOW }), 'SHIBUSDT')!;
    const hourly = await ex.fetchOHLCV('SHIB/USDT', '1h', shib.listedAt - 100 * H, 5);
    expect(hourly.map((r) => r[0])).toEqual([0, 1, 2, 3, 4].map((i) => shib.listedAt + i * H));
    const daily = await ex.fetchOHLCV('SHIB/USDT', '1d', shib.listedAt - 10 * DAY, 2);
    expect(daily.map((r) => r[0])).toEqual([shib.listedAt - 8 * H, shib.listedAt + 16 * H]);
    expect(await ex.fetchOHLCV('SHIB/USDT', '1h', undefined, 10, { until: shib.listedAt - 1 })).toEqual([]);
  });

  it('leaves the outage out of hourly candles and keeps the daily candle around it', async () => {
    const hourly = await ex.fetchOHLCV('BTC/USDT', '1h', DEFAULT_OUTAGE.start - 2 * H, 5);
    expect(hourly.map((r) => (r[0]! - DEFAULT_OUTAGE.start) / H)).toEqual([-2, -1, 4, 5, 6]);
    const day = Math.floor(DEFAULT_OUTAGE.start / DAY) * DAY;
    const daily = await ex.fetchOHLCV('BTC/USDT', '1d', day, 1);
    expect(daily.map(asCandle)).toEqual(emulatorCandles('BTCUSDT', '1d', day, day + DAY, { nowMs: NOW }));
  });

  it('serves a halted pair up to its halt only', async () => {
    const waves = findSymbol(universe({ nowMs: NOW }), 'WAVESUSDT')!;
    const last = await ex.fetchOHLCV('WAVES/USDT', '1h', undefined, 3);
    expect(last.map((r) => r[0])).toEqual([3, 2, 1].map((i) => waves.haltedAt! - i * H));
  });

  it('raises Binance\'s answers as ccxt does: -1121 BadSymbol, -1120 and -1104 BadRequest', async () => {
    // A pair ccxt still knows but the exchange no longer lists (the universe shrank).
    emu.control.configure({ coinCount: 100 });
    const delisted: unknown = await ex.fetchOHLCV('COIN200/USDT', '1h').catch((e: unknown) => e);
    expect(delisted).toBeInstanceOf(ccxt.BadSymbol);
    expect(String(delisted)).toContain('{"code":-1121,"msg":"Invalid symbol."}');
    const interval: unknown = await ex.fetchOHLCV('BTC/USDT', '7h').catch((e: unknown) => e);
    expect(interval).toBeInstanceOf(ccxt.BadRequest);
    expect(String(interval)).toContain('{"code":-1120,"msg":"Invalid interval."}');
    const unread: unknown = await ex.fetchOHLCV('BTC/USDT', '1h', undefined, 5, { foo: 'bar' }).catch((e: unknown) => e);
    expect(unread).toBeInstanceOf(ccxt.BadRequest);
    expect(String(unread)).toContain("read '3' parameter(s) but was sent '4'");
    expect(emu.control.counter('status:400')).toBe(3);
    expect(emu.control.counter('klines')).toBe(0);
  });

  it('words request errors as Binance does, with the used weight on every answer', async () => {
    const get = async (query: string) => {
      const res = await fetch(`${emu.url}/api/v3/klines?${query}`);
      return { status: res.status, used: res.headers.get('x-mbx-used-weight-1m'), type: res.headers.get('content-type'), body: await res.json() };
    };
    expect(await get('interval=1h')).toMatchObject({ status: 400, type: 'application/json;charset=UTF-8', body: {
      code: -1102, msg: "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed." } });
    expect((await get('symbol=BTCUSDT&interval=1h&limit=1001')).body).toEqual({ code: -1130, msg: "Data sent for parameter 'limit' is not valid." });
    expect((await get('symbol=btcusdt&interval=1h')).body).toEqual({
      code: -1100, msg: "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'." });
    expect((await get('symbol=BTCUSDT&interval=1h&startTime=2000&endTime=1000')).body).toEqual({ code: -1023, msg: 'Start time is greater than end time.' });
    expect((await get('symbol=BTCUSDT&interval=1h&limit=1&limit=2')).body).toEqual({ code: -1101, msg: 'Duplicate values for a parameter detected.' });
    const ok = await get(`symbol=BTCUSDT&interval=1h&startTime=${(NOW - 2 * H) * 1000}`); // microseconds are accepted
    expect(ok.status).toBe(200);
    expect((ok.body as number[][]).map((r) => r[0])).toEqual([NOW - 90 * MIN, NOW - 30 * MIN]);
    expect(ok.used).toBe(String(20 + 6 * 2));
  });

  it('corrupts one candle of a chosen symbol on request (invalid-candle)', async () => {
    emu.control.addFault({ name: 'invalid-candle', remaining: 1, pathIncludes: 'symbol=ETHUSDT' });
    const btc = await ex.fetchOHLCV('BTC/USDT', '1h', undefined, 5);
    expect(btc.every(([, , high, low]) => high! >= low!)).toBe(true);
    const eth = await ex.fetchOHLCV('ETH/USDT', '1h', undefined, 5);
    expect(eth.filter(([, , high, low]) => high! < low!)).toHaveLength(1);
    expect(emu.control.counter('fault:invalid-candle')).toBe(1);
  });

  it('passes faults through ccxt as ccxt raises or returns them', async () => {
    emu.control.addFault({ name: 'empty-page', remaining: 1 });
    expect(await ex.fetchOHLCV('BTC/USDT', '1h', NOW - 10 * H, 5)).toEqual([]);

    emu.control.addFault({ name: 'server-error', remaining: 1, params: { status: 503 } });
    const gateway: unknown = await ex.fetchOHLCV('BTC/USDT', '1h').catch((e: unknown) => e);
    expect(gateway).toBeInstanceOf(ccxt.ExchangeNotAvailable);
    expect(String(gateway)).toContain('503 Service Unavailable <html>');

    emu.control.addFault({ name: 'server-error', remaining: 1, params: { status: 500, body: 'json' } });
    const internal: unknown = await ex.fetchOHLCV('BTC/USDT', '1h').catch((e: unknown) => e);
    expect(internal).toBeInstanceOf(ccxt.OperationFailed);
    expect(String(internal)).toContain('"code":-1001');

    emu.control.addFault({ name: 'connection-reset', remaining: 1 });
    const reset: unknown = await ex.fetchOHLCV('BTC/USDT', '1h').catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(ccxt.NetworkError);
    expect(String(reset)).toContain('ECONNRESET');

    // ccxt does not raise on a 200 HTML page: the caller gets rows of undefined, which it must reject itself.
    emu.control.addFault({ name: 'html', remaining: 1 });
    const html = await ex.fetchOHLCV('BTC/USDT', '1h', undefined, 3);
    expect(html.length).toBeGreaterThan(0);
    expect(html.every((row) => row.every((v) => v === undefined))).toBe(true);

    expect(emu.control.snapshot()).toMatchObject({
      'fault:empty-page': 1, 'fault:server-error': 2, 'fault:connection-reset': 1, 'fault:html': 1,
      'status:503': 1, 'status:500': 1,
    });
    // Gateway failures and resets are not the exchange's answers: they cost no weight.
    expect(emu.control.counter('weight:/api/v3/klines')).toBe(2);
  });
});
