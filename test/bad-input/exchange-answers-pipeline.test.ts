import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Timeframe } from '@ferry/shared/core';
import { ALL_QUEUES } from '@ferry/shared/jobs';
import { readCandles } from '@ferry/shared/postgres';
import { runSummary, type RunSummary } from '@ferry/shared/runs';
import { DEFAULT_OUTAGE, type BinanceFault } from '@ferry/emulators/binance';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { waitFor } from '../support/wait.js';

const H = 3_600_000;
const DAY = 24 * H;
const NOW = Date.UTC(2026, 9, 20, 5, 30);
const END = Math.floor(NOW / H) * H;

/** The run's item for a coin (1h). */
const itemOf = (summary: RunSummary, symbol: string) => summary.details.find((d) => d.item === `binance:${symbol}:1h`)!;

async function stored(h: CryptoHarness, symbol: string, start: number) {
  return readCandles(h.db.pool, { exchange: 'binance', symbol, timeframe: '1h' as Timeframe }, { start, end: NOW + DAY });
}

/** The holes recorded in the exchange's history of a coin, as [start, end) in epoch ms. */
async function gapsOf(h: CryptoHarness, symbol: string): Promise<Array<[number, number]>> {
  const gaps = await h.db.pool.query<{ start_time: Date; end_time: Date }>(
    'SELECT start_time, end_time FROM exchange_gaps WHERE symbol = $1 ORDER BY start_time', [symbol]);
  return gaps.rows.map((g) => [g.start_time.getTime(), g.end_time.getTime()]);
}

/** Jobs in any state, in every queue of the harness's prefix. */
async function jobsQueued(h: CryptoHarness): Promise<number> {
  let total = 0;
  for (const name of ALL_QUEUES) {
    const queue = new Queue(name, { connection: h.redis, prefix: h.prefix });
    total += Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
    await queue.close();
  }
  return total;
}

describe('bad exchange answers in a real collection: the coin fails or retries, nothing wrong is stored', () => {
  let h: CryptoHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('an unreadable answer fails its coin with the reason; the pages before it stay, nothing of it is stored', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW } });
    const start = Date.UTC(2026, 7, 21); // --days 60: two pages of 1h candles, the second from start + 1000 h
    const secondPage = `startTime=${start + 1000 * H}`;
    const add = (name: BinanceFault, symbol: string, extra: { pathIncludes?: string; remaining?: number; params?: Record<string, unknown> } = {}) =>
      h!.emulator.control.addFault({ name, pathIncludes: `symbol=${symbol}`, ...extra });
    // Klines queries read interval, limit, symbol, startTime in that order (ccxt builds them so).
    add('malformed-kline', 'ETHUSDT', { pathIncludes: `symbol=ETHUSDT&${secondPage}`, params: { shape: 'null' } });
    add('malformed-kline', 'SOLUSDT', { remaining: 1, params: { shape: 'short' } });
    add('malformed-kline', 'XRPUSDT', { remaining: 1, params: { shape: 'time-text' } });
    add('wrong-shape', 'DOGEUSDT', { remaining: 1 });
    add('html', 'ADAUSDT');
    add('empty-page', 'LINKUSDT');

    const run = await h.ferry(['collect', '--symbols', 'BTC,ETH,SOL,XRP,DOGE,ADA,LINK', '--days', '60', '--timeframe', '1h', '--wait', '--json']);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as RunSummary;
    expect(summary).toMatchObject({ total: 7, complete: 1, failed: 6 });
    expect(itemOf(summary, 'BTC/USDT').status).toBe('complete');
    expect(await stored(h, 'BTC/USDT', start)).toEqual(h.emulator.candles('BTC/USDT', '1h', start, END));

    const failures = Object.fromEntries(['ETH', 'SOL', 'XRP', 'DOGE', 'ADA', 'LINK'].map((coin) => {
      const item = itemOf(summary, `${coin}/USDT`);
      return [coin, { status: item.status, attempts: item.attempts, error: item.last_error }];
    }));
    expect(failures).toEqual({
      // Wrong data: permanent, one attempt, the coin, the page and the field named.
      ETH: { status: 'failed', attempts: 1, error: expect.stringMatching(/^binance ETH\/USDT 1h candles from 2026-10-01T16:00:00\.000Z: a kline is null: expected \[open time/) },
      SOL: { status: 'failed', attempts: 1, error: expect.stringMatching(/^binance SOL\/USDT 1h candles from 2026-08-21T00:00:00\.000Z: a kline is \[.*\]: its close is missing or not a number$/) },
      XRP: { status: 'failed', attempts: 1, error: expect.stringMatching(/^binance XRP\/USDT 1h candles from .*: a kline is \["yesterday",.*its open time is missing or not a number$/) },
      DOGE: { status: 'failed', attempts: 1, error: expect.stringMatching(/^binance GET \/api\/v3\/klines answered JSON of the wrong shape: expected a list of klines/) },
      // Passing faults that do not pass: retried, then failed with the reason.
      ADA: { status: 'failed', attempts: 3, error: expect.stringMatching(/^binance GET \/api\/v3\/klines answered HTTP 200 with an HTML page/) },
      LINK: { status: 'failed', attempts: 3, error: expect.stringMatching(/^binance LINK\/USDT 1h candles from .*: the exchange answered no candles at all from then on, although LINK\/USDT is trading/) },
    });

    // ETH's first page arrived whole and stays; nothing of the page with the unreadable kline was stored.
    expect(await stored(h, 'ETH/USDT', start)).toEqual(h.emulator.candles('ETH/USDT', '1h', start, start + 1000 * H));
    for (const coin of ['SOL', 'XRP', 'DOGE', 'ADA', 'LINK']) expect(await stored(h, `${coin}/USDT`, start)).toEqual([]);
    // No bad answer was taken for a hole in the exchange's history: the only hole is the real outage, in ETH's first page.
    const outage: [number, number] = [DEFAULT_OUTAGE.start, DEFAULT_OUTAGE.end];
    for (const coin of ['BTC', 'ETH']) expect(await gapsOf(h, `${coin}/USDT`)).toEqual([outage]);
    for (const coin of ['SOL', 'XRP', 'DOGE', 'ADA', 'LINK']) expect(await gapsOf(h, `${coin}/USDT`)).toEqual([]);
  });

  it('faults that pass are retried until every coin completes with exactly the exchange candles and no hole recorded', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, env: { JOB_ATTEMPTS: '5' }, startWorker: false });
    const queued = await h.ferry(['collect', '--symbols', 'BTC,ETH,SOL,XRP', '--days', '10', '--timeframe', '1h', '--json']);
    expect(queued.code).toBe(0);
    const runId = (JSON.parse(queued.stdout) as { run_id: string }).run_id;
    const { control } = h.emulator;
    // The worker's own market load meets a gateway error: it must load them again, not fail every job for good.
    control.addFault({ name: 'server-error', pathIncludes: 'exchangeInfo', remaining: 1, params: { status: 502 } });
    control.addFault({ name: 'html', pathIncludes: 'symbol=ETHUSDT', remaining: 1 });
    control.addFault({ name: 'empty-page', pathIncludes: 'symbol=SOLUSDT', remaining: 1 });
    control.addFault({ name: 'server-error', pathIncludes: 'symbol=XRPUSDT', remaining: 1, params: { status: 503 } });
    await h.startWorker();

    const summary = await waitFor(async () => {
      const s = await runSummary(h!.db.pool, runId);
      return s && s.pending === 0 ? s : undefined;
    }, { what: 'the run to finish', timeoutMs: 15_000 });
    expect(summary).toMatchObject({ total: 4, complete: 4, failed: 0 });
    expect(control.snapshot()).toMatchObject({ 'fault:server-error': 2, 'fault:html': 1, 'fault:empty-page': 1 });
    const start = Date.UTC(2026, 9, 10);
    for (const symbol of ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT']) {
      expect(await stored(h, symbol, start)).toEqual(h.emulator.candles(symbol, '1h', start, END));
      expect(await gapsOf(h, symbol)).toEqual([]);
    }
    for (const symbol of ['ETH/USDT', 'SOL/USDT', 'XRP/USDT']) expect(itemOf(summary, symbol).attempts).toBeGreaterThan(1);
  });
});

describe('ferry collect --top when the exchange answers nonsense: exit 1 with the reason, nothing queued, no run recorded', () => {
  let h: CryptoHarness;
  beforeAll(async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, startWorker: false });
  });
  afterAll(async () => h.close());
  beforeEach(() => h.emulator.control.clearFaults());

  it.each<[string, BinanceFault, string, RegExp]>([
    ['exchangeInfo lists no symbols', 'empty-list', 'exchangeInfo', /^ferry: binance loadMarkets: the exchange listed no markets/],
    ['exchangeInfo is an HTML page', 'html', 'exchangeInfo', /^ferry: binance GET \/api\/v3\/exchangeInfo answered HTTP 200 with an HTML page/],
    ['exchangeInfo has no list of symbols', 'wrong-shape', 'exchangeInfo', /^ferry: binance GET \/api\/v3\/exchangeInfo answered JSON of the wrong shape/],
    ['the ticker list is empty', 'empty-list', 'ticker', /^ferry: binance fetchTickers: the exchange answered no 24h tickers/],
    ['the ticker list is an HTML page', 'html', 'ticker', /^ferry: binance GET \/api\/v3\/ticker\/24hr answered HTTP 200 with an HTML page/],
    ['the ticker list is an object', 'wrong-shape', 'ticker', /^ferry: binance GET \/api\/v3\/ticker\/24hr answered JSON of the wrong shape: expected a list of 24h tickers/],
    ['the time is not a time', 'wrong-shape', '/time', /^ferry: binance GET \/api\/v3\/time answered JSON of the wrong shape: expected an object with serverTime/],
  ])('%s', async (_what, name, pathIncludes, message) => {
    h.emulator.control.addFault({ name, pathIncludes });
    const result = await h.ferry(['collect', '--top', '5', '--days', '3', '--timeframe', '1d']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(await jobsQueued(h)).toBe(0);
    expect((await h.db.pool.query('SELECT count(*)::int AS n FROM collection_runs')).rows[0].n).toBe(0);
  });
});
