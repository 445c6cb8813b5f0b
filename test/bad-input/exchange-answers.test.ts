import { DataValidationError, failureKindOf, PermanentError, RateLimitedError, TransientError, type FerryError } from '@ferry/shared/core';
import { listMarketsAndVolumes, openExchange, type CcxtCandleSource } from '@ferry/shared/exchange';
import { createRedis } from '@ferry/shared/redis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findSymbol, startBinanceEmulator, type BinanceEmulator, type BinanceFault } from '@ferry/emulators/binance';
import type { FaultRule } from '@ferry/emulators/control';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';

const H = 3_600_000;
const DAY = 24 * H;
const NOW = Date.UTC(2026, 9, 20, 5, 30);
const PAGE = { start: Math.floor(NOW / H) * H - 48 * H, end: Math.floor(NOW / H) * H - 24 * H };
const BTC = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;

/**
 * What ferry's exchange client makes of answers the exchange (or something in front of it) should never give: each
 * becomes an error of the right kind that says which call, which coin and page, and what was wrong, instead of empty
 * markets, dropped candles or a page mistaken for a hole in the exchange's history.
 */
describe('bad exchange answers become clear errors', () => {
  let emu: BinanceEmulator;
  let redis: Redis;
  const prefix = uniquePrefix('answers');

  beforeAll(async () => {
    emu = await startBinanceEmulator({ settings: { nowMs: NOW } });
    redis = createRedis(TEST_REDIS_URL, 'worker');
  });
  afterAll(async () => {
    await emu.close();
    redis.disconnect();
    await deleteKeys(prefix);
  });
  beforeEach(() => emu.control.clearFaults());

  /** A fresh client, as a worker opens one: its limits learned, its markets not loaded yet. */
  const open = async (): Promise<CcxtCandleSource> =>
    (await openExchange({ exchangeId: 'binance', baseUrl: emu.url, timeoutMs: 5_000, headroom: 1, redis, queuePrefix: prefix, learnLimits: true, clockTtlMs: 0 })).source;

  const fault = (name: BinanceFault, pathIncludes: string, params?: Record<string, unknown>): FaultRule =>
    ({ name, pathIncludes, ...(params ? { params } : {}) });

  const failureOf = async (call: Promise<unknown>): Promise<Error> => {
    const error = await call.then(() => undefined, (e: unknown) => e);
    expect(error, 'the call should have failed').toBeInstanceOf(Error);
    return error as Error;
  };
  /** Transient: retried with backoff. Permanent: failed at once. DataValidationError: permanent, about the data. */
  type Expected = abstract new (...args: never[]) => FerryError;

  type Call = (source: CcxtCandleSource) => Promise<unknown>;
  const fetchBtcPage: Call = (s) => s.fetchPage(BTC, PAGE);
  const loadMarkets: Call = (s) => s.loadMarkets();
  const listTickers: Call = (s) => listMarketsAndVolumes(s);
  const askTime: Call = (s) => s.now();
  const pageStart = new Date(PAGE.start).toISOString();

  it.each<[string, FaultRule, Call, Expected, RegExp]>([
    // klines
    ['an HTML page with 200 instead of klines', fault('html', 'klines'), fetchBtcPage, TransientError,
      /^binance GET \/api\/v3\/klines answered HTTP 200 with an HTML page \(text\/html: "<!DOCTYPE html>.*instead of JSON: something in front of the exchange/],
    ['a gateway error page (502)', fault('server-error', 'klines', { status: 502 }), fetchBtcPage, TransientError, /fetchOHLCV BTC\/USDT 1h: .*502 Bad Gateway/],
    ['an object where the list of klines belongs', fault('wrong-shape', 'klines'), fetchBtcPage, PermanentError,
      /^binance GET \/api\/v3\/klines answered JSON of the wrong shape: expected a list of klines, got \{"unexpected":true\}$/],
    ['a kline that is null', fault('malformed-kline', 'klines', { shape: 'null' }), fetchBtcPage, DataValidationError,
      new RegExp(`^binance BTC/USDT 1h candles from ${pageStart}: a kline is null: expected \\[open time, open, high, low, close, volume\\]$`)],
    ['a kline of four fields', fault('malformed-kline', 'klines', { shape: 'short' }), fetchBtcPage, DataValidationError,
      /^binance BTC\/USDT 1h candles from .*: a kline is \[\d{13},"[\d.]+","[\d.]+","[\d.]+"\]: its close is missing or not a number$/],
    ['words where prices belong', fault('malformed-kline', 'klines', { shape: 'text' }), fetchBtcPage, DataValidationError,
      /: a kline is \[\d{13},"n\/a","n\/a","n\/a","n\/a",.*: its open is missing or not a number$/],
    ['a word where the open time belongs', fault('malformed-kline', 'klines', { shape: 'time-text' }), fetchBtcPage, DataValidationError,
      /: a kline is \["yesterday",.*: its open time is missing or not a number$/],
    ['no klines at all for a pair that is trading', fault('empty-page', 'klines'), fetchBtcPage, TransientError,
      new RegExp(`^binance BTC/USDT 1h candles from ${pageStart}: the exchange answered no candles at all from then on, although BTC/USDT is trading`)],
    ['451 from a restricted location', fault('restricted-location', 'klines'), fetchBtcPage, PermanentError,
      /^binance answered HTTP 451 \(unavailable for legal reasons\): \{"code":0,"msg":"Service unavailable from a restricted location.*Set EXCHANGE_URL to a proxy/],
    ['403 from the firewall', fault('waf-block', 'klines'), fetchBtcPage, RateLimitedError,
      /^binance answered HTTP 403 \(its web application firewall refused the request\); pausing before asking again$/],
    // markets
    ['an HTML page instead of exchangeInfo', fault('html', 'exchangeInfo'), loadMarkets, TransientError, /GET \/api\/v3\/exchangeInfo answered HTTP 200 with an HTML page/],
    ['exchangeInfo listing no symbols', fault('empty-list', 'exchangeInfo'), loadMarkets, TransientError, /^binance loadMarkets: the exchange listed no markets/],
    ['exchangeInfo without a list of symbols', fault('wrong-shape', 'exchangeInfo'), loadMarkets, PermanentError,
      /GET \/api\/v3\/exchangeInfo answered JSON of the wrong shape: expected an object with a list of symbols/],
    // tickers (top N)
    ['an HTML page instead of tickers', fault('html', 'ticker'), listTickers, TransientError, /GET \/api\/v3\/ticker\/24hr answered HTTP 200 with an HTML page/],
    ['an empty ticker list', fault('empty-list', 'ticker'), listTickers, TransientError, /^binance fetchTickers: the exchange answered no 24h tickers, so there is nothing to rank its \d+ markets by/],
    ['an object where the ticker list belongs', fault('wrong-shape', 'ticker'), listTickers, PermanentError,
      /GET \/api\/v3\/ticker\/24hr answered JSON of the wrong shape: expected a list of 24h tickers/],
    // the clock
    ['an HTML page instead of the time', fault('html', 'time'), askTime, TransientError, /GET \/api\/v3\/time answered HTTP 200 with an HTML page/],
    ['a time answer without serverTime', fault('wrong-shape', 'time'), askTime, PermanentError, /GET \/api\/v3\/time answered JSON of the wrong shape: expected an object with serverTime/],
  ])('%s: %s', async (_what, rule, call, expected, message) => {
    const source = await open();
    emu.control.addFault(rule);
    const failure = await failureOf(call(source));
    expect(failure.message).toMatch(message);
    expect(failure).toBeInstanceOf(expected);
  });

  it.each<[string, FaultRule]>([
    ['a gateway error', { name: 'server-error', pathIncludes: 'exchangeInfo', remaining: 1 }],
    ['an HTML page', { name: 'html', pathIncludes: 'exchangeInfo', remaining: 1 }],
    ['no symbols', { name: 'empty-list', pathIncludes: 'exchangeInfo', remaining: 1 }],
  ])('a market load that met %s is tried again by the next call, not remembered for good', async (_what, rule) => {
    const source = await open();
    emu.control.addFault(rule);
    expect(failureKindOf(await source.fetchPage(BTC, PAGE).catch((e: unknown) => e))).toBe('transient');
    const candles = await source.fetchPage(BTC, PAGE);
    expect(candles.filter((c) => c.openTime < PAGE.end)).toEqual(emu.candles('BTC/USDT', '1h', PAGE.start, PAGE.end));
  });

  it('an answer with no candles is believed where the exchange really has none: before a listing, after a halt', async () => {
    const source = await open();
    // A coin listed a few days before the anchor: its candles resume after the page, so the page is a real hole.
    const listed = emu.symbols().find((s) => s.base !== 'BTC' && s.listedAt > NOW - 30 * DAY && s.haltedAt === undefined)!;
    const symbol = `${listed.base}/USDT`;
    const before = { start: Math.floor((listed.listedAt - 10 * DAY) / H) * H, end: Math.floor((listed.listedAt - DAY) / H) * H };
    const page = await source.fetchPage({ ...BTC, symbol }, before);
    expect(page.filter((c) => c.openTime < before.end)).toEqual([]);
    expect(page[0]!.openTime).toBeGreaterThanOrEqual(listed.listedAt - H);

    // WAVES stopped trading (BREAK): nothing after its halt, and that is the answer.
    const waves = findSymbol(emu.symbols(), 'WAVESUSDT')!;
    const afterHalt = { start: Math.ceil(waves.haltedAt! / H) * H + DAY, end: Math.ceil(waves.haltedAt! / H) * H + 2 * DAY };
    expect(await source.fetchPage({ ...BTC, symbol: 'WAVES/USDT' }, afterHalt)).toEqual([]);
  });
});
