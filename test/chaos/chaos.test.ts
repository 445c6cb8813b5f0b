import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BinanceFault } from '@ferry/emulators/binance';
import { DropboxFault } from '@ferry/emulators/dropbox';
import { S3Fault } from '@ferry/emulators/s3';
import { NOW, startChaosWorld, type ChaosWorld, type Scenario } from './chaos-world.js';
import { checkInvariants } from './invariants.js';

/**
 * `npm run test:chaos`: the whole system as separate processes (2 download workers, 1 sync worker) on a private
 * Redis and PostgreSQL, collecting 16 coins x 2 timeframes and preloading 2 years of 2 stocks while their Parquet
 * files are synced to Dropbox, each scenario breaking something during the run. After each, the invariants hold.
 */
const SETTLE_MS = 300_000;
const DAY = 86_400_000;

describe('chaos: a mixed run (collection, preload, chained syncs) keeps every invariant', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await startChaosWorld();
  }, 120_000);
  afterAll(async () => world?.close());
  afterEach(() => {
    for (const e of [world.emulators.binance, world.emulators.s3, world.emulators.dropbox]) {
      e.control.clearFaults();
      e.control.configure({ errorRate: 0 });
    }
    world.emulators.binance.control.configure({ offGridKlines: [] });
    world.emulators.s3.control.configure({ serverSideEncryption: null });
  });

  /** Queues the mixed run, lets `chaos` loose on it, waits until it is over, and checks the invariants. */
  async function mixedRun(name: string, chaos: (s: Scenario) => Promise<void>): Promise<void> {
    const s = await world.scenario(name);
    try {
      await s.enqueue();
      await chaos(s);
      await s.settled(SETTLE_MS);
      expect(s.fleet.crashed(), s.fleet.tail()).toEqual([]);
      const { problems, counts } = await checkInvariants(s, { binance: world.emulators.binance, dropbox: world.emulators.dropbox, endMs: NOW + DAY });
      expect(problems, `${problems.length} invariant(s) broken\n${s.fleet.tail()}`).toEqual([]);
      // 16 coins x (1h, 1d) and 2 stocks: a file per daily series and per month of an hourly one, all synced; which
      // files and their rows are checked above.
      expect(counts.parquetFiles).toBeGreaterThan(34);
      expect(counts.syncedFiles).toBe(counts.parquetFiles);
      expect(counts.candles).toBeGreaterThan(16 * 24 * 200);
      expect(counts.bars).toBe(2 * 502);
    } finally {
      await s.close();
    }
  }

  /** Waits `ms`, then checks the run is still going: the chaos must hit it in flight, not after. */
  async function midRun(s: Scenario, ms: number): Promise<void> {
    await sleep(ms);
    expect(await s.busy(), `${s.name}: the run was already over`).toBe(true);
  }

  /** Six seconds into the run, the service goes away for `ms` and comes back on the same port with its data. */
  async function outage(s: Scenario, service: { stop(): Promise<void>; start(): Promise<void> }, ms: number): Promise<void> {
    await midRun(s, 6_000);
    await service.stop();
    await sleep(ms);
    await service.start();
  }

  it('kill -9 a random worker every few seconds, ten times, restarting it each time', async () => {
    await mixedRun('kill -9', async (s) => {
      const names = s.fleet.names();
      for (let i = 0; i < 10; i++) {
        await midRun(s, 1_500 + Math.random() * 1_500);
        await s.fleet.killAndRestart(names[Math.floor(Math.random() * names.length)]!);
      }
    });
  }, 600_000);

  it('Redis restarts mid-run (AOF on): the queues, the locks and the weight budget come back', async () => {
    await mixedRun('redis restart', (s) => outage(s, world.redis, 3_000));
  }, 600_000);

  it('PostgreSQL is stopped for 20 s mid-run', async () => {
    await mixedRun('postgres outage', (s) => outage(s, world.postgres, 20_000));
  }, 600_000);

  it('emulator faults: 10% 5xx, 5% connection resets, 2% truncated S3 bodies, a Dropbox token expiry, 429 storms, ' +
    'firewall 403s, off-grid candles, SSE-KMS ETags, wrong S3 checksums, Dropbox plain-text 429s and 409 write contention', async () => {
    const { binance, s3, dropbox } = world.emulators;
    // The real services' quirks, on from the start: a BTC 1h candle off the grid (stored at its slot, so the truth
    // still holds), flat files whose ETags are not MD5s.
    const slot = Math.floor((NOW - 30 * DAY) / DAY) * DAY + 9 * 3_600_000;
    binance.control.configure({ offGridKlines: [{ symbol: 'BTCUSDT', interval: '1h', slot, offsetMs: 1_694_789 }] });
    s3.control.configure({ serverSideEncryption: 'aws:kms' });
    await mixedRun('emulator faults', async (s) => {
      binance.control.addFault({ name: BinanceFault.WafBlock, remaining: 3, pathIncludes: 'klines' });
      s3.control.addFault({ name: S3Fault.WrongChecksum, probability: 0.02, pathIncludes: 'day_aggs' });
      // Dropbox's other ways of saying "slow down": a 429 in plain text, too_many_write_operations inside a 409.
      dropbox.control.addFault({ name: DropboxFault.TooManyRequests, remaining: 3, params: { retryAfterSeconds: 1, body: 'text' } });
      dropbox.control.addFault({ name: DropboxFault.WriteContention, remaining: 3 });
      for (const e of [binance, s3, dropbox]) e.control.configure({ errorRate: 0.1 });
      binance.control.addFault({ name: BinanceFault.ConnectionReset, probability: 0.05 });
      s3.control.addFault({ name: S3Fault.ConnectionReset, probability: 0.05 });
      s3.control.addFault({ name: S3Fault.TruncatedBody, probability: 0.02, pathIncludes: 'day_aggs' });
      dropbox.control.addFault({ name: DropboxFault.ConnectionReset, probability: 0.05 });
      await midRun(s, 5_000);
      dropbox.expireAccessTokens();
      binance.control.addFault({ name: BinanceFault.RateLimit, remaining: 15, params: { retryAfterSeconds: 2 } });
      s3.control.addFault({ name: S3Fault.SlowDown, remaining: 15 });
      dropbox.control.addFault({ name: DropboxFault.TooManyRequests, remaining: 15, params: { retryAfterSeconds: 2 } });
    });
    const injected = Object.fromEntries([binance, s3, dropbox].map((e, i) => [['binance', 's3', 'dropbox'][i],
      Object.fromEntries(Object.entries(e.control.snapshot()).filter(([k]) => k.startsWith('fault:') || k.startsWith('injected:') || k === 'requests'))]));
    process.stderr.write(`faults met by the run: ${JSON.stringify(injected)}\n`);
    expect(binance.control.counter(`fault:${BinanceFault.RateLimit}`)).toBe(15);
    expect(s3.control.counter(`fault:${S3Fault.TruncatedBody}`)).toBeGreaterThan(0);
    expect(dropbox.control.counter(`fault:${DropboxFault.TooManyRequests}`)).toBeGreaterThan(0);
  }, 600_000);
});
