import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { JobName, JobProducer, QueueName } from '@ferry/shared/jobs';
import { readCandles } from '@ferry/shared/postgres';
import { createOrReuseRun, runSummary, type RunSummary } from '@ferry/shared/runs';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { waitFor } from '../support/wait.js';

const NOW = Date.UTC(2026, 9, 20, 5, 30);

describe('ferry collect when things go wrong', () => {
  let h: CryptoHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a job for a market the exchange does not have fails alone, with its reason, and is not retried', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW } });
    // `ferry collect --symbols` refuses unlisted coins (terminal.test.ts); a queued job can still name one (a coin
    // delisted after its run was queued): that job fails at once, the other coins of the run go on.
    const { runId } = await createOrReuseRun(h.db.pool, 'candles', { test: 'delisted' }, ['binance:NOPE/USDT:1h', 'binance:BTC/USDT:1h']);
    const producer = new JobProducer({ connection: h.redis, prefix: h.prefix, attempts: 3 });
    const startMs = NOW - (NOW % 86_400_000) - 10 * 86_400_000;
    await producer.add(JobName.CollectCandles, ['NOPE/USDT', 'BTC/USDT'].map((symbol) =>
      ({ runId, exchange: 'binance', symbol, timeframe: '1h' as const, mode: 'backward' as const, startMs, endMs: null })));
    await producer.close();
    const summary = await waitFor(async () => {
      const s = await runSummary(h!.db.pool, runId);
      return s && s.pending === 0 ? s : undefined;
    }, { what: 'the run to end', timeoutMs: 30_000 });
    expect(summary).toMatchObject({ total: 2, complete: 1, failed: 1 });
    const nope = summary.details.find((d) => d.item === 'binance:NOPE/USDT:1h')!;
    expect(nope.status).toBe('failed');
    // ccxt knows the exchange's markets and refuses before asking (the exchange would answer -1121).
    expect(nope.last_error).toContain('binance does not have market symbol NOPE/USDT');
    expect(h.emulator.control.counter('klines:NOPEUSDT')).toBe(0);
    const queue = new Queue(QueueName.Candles, { connection: h.redis, prefix: h.prefix });
    const [failed] = await queue.getFailed();
    await queue.close();
    expect(failed?.attemptsMade).toBe(1);
    expect(failed?.failedReason).toContain('NOPE/USDT');
  });

  it('an insane candle fails that coin alone, naming the coin and the candle', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW } });
    h.emulator.control.addFault({ name: 'invalid-candle', remaining: 1, pathIncludes: 'ETHUSDT' });
    const run = await h.ferry(['collect', '--symbols', 'BTC,ETH', '--days', '10', '--timeframe', '1h', '--wait', '--json']);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as RunSummary;
    const eth = summary.details.find((d) => d.item === 'binance:ETH/USDT:1h')!;
    expect(eth.status).toBe('failed');
    expect(eth.last_error).toMatch(/invalid binance ETH\/USDT 1h candle at 2026-\d\d-\d\dT\d\d:00:00.000Z .*high is below max\(open, close\)/);
    expect(summary.details.find((d) => d.item === 'binance:BTC/USDT:1h')!.status).toBe('complete');
  });

  it('an off-grid candle is stored at its grid slot and shown by ferry status; the series completes', async () => {
    const slot = Date.UTC(2026, 9, 15, 9);
    // Binance's BTCUSDT 1h of 2018-02-09 opened at xx:28:14.789 (binance-public-data #77); here 1,694,789 ms late too.
    h = await startCryptoHarness({ emulator: { nowMs: NOW, offGridKlines: [{ symbol: 'BTCUSDT', interval: '1h', slot, offsetMs: 1_694_789 }] } });
    const run = await h.ferry(['collect', '--symbols', 'BTC', '--days', '10', '--timeframe', '1h', '--wait', '--json']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    const [btc] = summary.details;
    expect(btc).toMatchObject({ status: 'complete', attempts: 1 });
    expect(btc!.details['off_grid_candles']).toEqual([{ exchange_open_time: '2026-10-15T09:28:14.789Z', stored_at: '2026-10-15T09:00:00.000Z' }]);
    const stored = await readCandles(h.db.pool, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' }, { start: 0, end: NOW });
    expect(stored).toEqual(h.emulator.candles('BTC/USDT', '1h', stored[0]!.openTime, NOW));
    const status = await h.ferry(['status', summary.run_id]);
    expect(status.stdout).toContain('binance:BTC/USDT:1h: 1 candle(s) the exchange sent off the grid: 2026-10-15T09:28:14.789Z stored at 2026-10-15T09:00:00.000Z');
  });

  it('an off-grid candle whose slot is already taken is refused as corrupt', async () => {
    const slot = Date.UTC(2026, 9, 15, 9);
    // Shifted past its own slot into the next one, which holds a candle.
    h = await startCryptoHarness({ emulator: { nowMs: NOW, offGridKlines: [{ symbol: 'BTCUSDT', interval: '1h', slot, offsetMs: 3_614_000 }] } });
    const run = await h.ferry(['collect', '--symbols', 'BTC', '--days', '10', '--timeframe', '1h', '--wait', '--json']);
    expect(run.code).toBe(1);
    const [btc] = (JSON.parse(run.stdout) as RunSummary).details;
    expect(btc).toMatchObject({ status: 'failed', attempts: 1 });
    expect(btc!.last_error).toMatch(/off the 3600000 ms grid and its slot 2026-10-15T10:00:00.000Z already holds a candle/);
  });

  it('top N skips symbols that are not TRADING (END_OF_DAY, HALT, CANCEL_ONLY); one asked for by name is collected', async () => {
    const statuses = { ETHUSDT: 'HALT', SOLUSDT: 'END_OF_DAY', BNBUSDT: 'CANCEL_ONLY' } as const;
    h = await startCryptoHarness({ emulator: { nowMs: NOW, symbolStatuses: statuses } });
    const top = await h.ferry(['collect', '--top', '5', '--days', '2', '--timeframe', '1d', '--wait', '--json']);
    expect(top.code).toBe(0);
    const coins = (JSON.parse(top.stdout) as RunSummary).details.map((d) => d.item.split(':')[1]);
    expect(coins).toHaveLength(5);
    for (const skipped of ['ETH/USDT', 'SOL/USDT', 'BNB/USDT']) expect(coins).not.toContain(skipped);
    // Its history up to the halt is still there: asked for by name, it is collected.
    const named = await h.ferry(['collect', '--symbols', 'ETH', '--days', '2', '--timeframe', '1d', '--wait', '--json']);
    expect(named.code).toBe(0);
    expect((JSON.parse(named.stdout) as RunSummary).details[0]).toMatchObject({ item: 'binance:ETH/USDT:1d', status: 'complete' });
  });

  it('a 451 from a restricted location fails every coin at once, saying why and pointing at EXCHANGE_URL', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW } });
    h.emulator.control.addFault({ name: 'restricted-location', pathIncludes: 'klines' });
    const run = await h.ferry(['collect', '--symbols', 'BTC,ETH', '--days', '10', '--timeframe', '1h', '--wait', '--json']);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as RunSummary;
    expect(summary).toMatchObject({ total: 2, failed: 2 });
    for (const d of summary.details) {
      expect(d.attempts).toBe(1);
      expect(d.last_error).toMatch(/HTTP 451 .*restricted location.*EXCHANGE_URL/);
    }
    // One request per coin: nothing retried into the refusal.
    expect(h.emulator.control.counter('status:451')).toBe(2);
  });

  it('a 403 from the firewall pauses the queue like a rate limit and spends no attempt', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW } });
    h.emulator.control.addFault({ name: 'waf-block', pathIncludes: 'klines', remaining: 1 });
    const run = await h.ferry(['collect', '--symbols', 'BTC', '--days', '10', '--timeframe', '1h', '--wait', '--json']);
    expect(run.code).toBe(0);
    const [btc] = (JSON.parse(run.stdout) as RunSummary).details;
    expect(btc).toMatchObject({ status: 'complete', attempts: 1 });
    expect(btc!.details['rate_limit_pauses']).toBe(1);
    expect(h.emulator.control.counter('status:403')).toBe(1);
  });

  it('a 429 storm: the run completes, pauses are counted, and the exchange never bans us', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW } });
    // The first 6 klines requests are refused (10 coins make 10 at least), and whatever is sent before Retry-After ends.
    h.emulator.control.addFault({ name: 'rate-limit', pathIncludes: 'klines', remaining: 6, params: { retryAfterSeconds: 1 } });
    const run = await h.ferry(['collect', '--top', '10', '--days', '30', '--timeframe', '1h', '--wait', '--json']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as RunSummary;
    expect(summary).toMatchObject({ total: 10, complete: 10, failed: 0 });
    expect(h.emulator.control.counter('status:429')).toBeGreaterThanOrEqual(6);
    expect(h.emulator.control.counter('status:418')).toBe(0);
    const pauses = summary.details.reduce((n, d) => n + Number(d.details['rate_limit_pauses'] ?? 0), 0);
    expect(pauses).toBe(h.emulator.control.counter('status:429'));
    // A rate-limit pause hands the job back without spending an attempt.
    expect(summary.details.some((d) => Number(d.details['rate_limit_pauses'] ?? 0) > 0)).toBe(true);
    for (const d of summary.details) expect(d.attempts).toBe(1);
  });

  it('stays under a tight weight limit shared by every job without a single 429', async () => {
    // 100 weight per 2 s: the ticker list alone (80) nearly fills a window.
    h = await startCryptoHarness({ emulator: { nowMs: NOW, weightLimit: 100, windowMs: 2_000 }, env: { RATE_LIMIT_HEADROOM: '1' } });
    const run = await h.ferry(['collect', '--top', '8', '--days', '90', '--timeframe', '1h', '--wait', '--json']);
    expect(run.code).toBe(0);
    expect(h.emulator.control.counter('status:429')).toBe(0);
    expect(h.emulator.control.counter('maxWindowWeight')).toBeLessThanOrEqual(100);
    expect(h.emulator.control.counter('klines')).toBeGreaterThan(16);
  });

  it('network faults and 5xx are retried with backoff until the run completes', async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW } });
    h.emulator.control.addFault({ name: 'connection-reset', pathIncludes: 'klines', remaining: 2 });
    h.emulator.control.addFault({ name: 'server-error', pathIncludes: 'klines', remaining: 2 });
    const run = await h.ferry(['collect', '--symbols', 'BTC,ETH,SOL', '--days', '5', '--timeframe', '1h', '--wait', '--json']);
    expect(run.code).toBe(0);
    expect(h.emulator.control.counter('fault:connection-reset') + h.emulator.control.counter('fault:server-error')).toBe(4);
  });
});
