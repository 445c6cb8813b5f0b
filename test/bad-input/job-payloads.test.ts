import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, type Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncTarget } from '@ferry/shared/backup';
import { createLogger, type Timeframe } from '@ferry/shared/core';
import { JobName, QueueName } from '@ferry/shared/jobs';
import { readCandles } from '@ferry/shared/postgres';
import { startSyncWorker, type RunningSyncWorker } from '../support/workers.js';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { waitFor } from '../support/wait.js';
import { writeCandleFiles, type WrittenCandleFile } from '../sync/support.js';

const H = 3_600_000;
const DAY = 24 * H;
const NOW = Date.UTC(2026, 9, 20, 5, 30);
const START = Math.floor((NOW - 3 * DAY) / H) * H;
const END = Math.floor(NOW / H) * H;

/** A collect-candles payload as `ferry collect` writes it, with `over` changed. */
const candlePayload = (over: Record<string, unknown> = {}) => ({
  runId: randomUUID(), exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h', mode: 'backward', startMs: START, endMs: END, ...over,
});

/** Attempts left to spend, so a retried job would show: a poisoned job must fail on its first. */
const ATTEMPTS = { attempts: 3, backoff: { type: 'ferry' } };

interface Case {
  what: string;
  name: string;
  data: unknown;
  /** What the failed reason must say: the field, or what was wrong. */
  says: string;
}

const BAD_CANDLE_JOBS: Case[] = [
  { what: 'missing fields', name: JobName.CollectCandles, data: { symbol: 'BTC/USDT' }, says: 'runId' },
  { what: 'text where a time belongs', name: JobName.CollectCandles, data: candlePayload({ startMs: 'yesterday' }), says: 'startMs' },
  { what: 'a fractional time', name: JobName.CollectCandles, data: candlePayload({ startMs: START + 0.5 }), says: 'startMs' },
  { what: 'a negative time', name: JobName.CollectCandles, data: candlePayload({ startMs: -1 }), says: 'startMs' },
  { what: 'endMs before startMs', name: JobName.CollectCandles, data: candlePayload({ endMs: START - H }), says: 'endMs must be after startMs' },
  { what: 'an extra field', name: JobName.CollectCandles, data: candlePayload({ priority: 'high' }), says: 'priority' },
  { what: 'a string, not an object', name: JobName.CollectCandles, data: 'BTC/USDT', says: '(payload)' },
  { what: 'null', name: JobName.CollectCandles, data: null, says: '(payload)' },
  { what: 'a list', name: JobName.CollectCandles, data: [candlePayload()], says: '(payload)' },
  { what: 'a lowercase symbol', name: JobName.CollectCandles, data: candlePayload({ symbol: 'btc/usdt' }), says: 'symbol' },
  { what: 'a symbol without its quote', name: JobName.CollectCandles, data: candlePayload({ symbol: 'BTC' }), says: 'symbol' },
  { what: 'an unknown timeframe', name: JobName.CollectCandles, data: candlePayload({ timeframe: '7h' }), says: 'timeframe' },
  { what: 'an unknown mode', name: JobName.CollectCandles, data: candlePayload({ mode: 'sideways' }), says: 'mode' },
  { what: 'a huge run id', name: JobName.CollectCandles, data: candlePayload({ runId: 'x'.repeat(200_000) }), says: 'runId' },
  { what: 'a symbol the exchange does not list', name: JobName.CollectCandles, data: candlePayload({ symbol: 'NOPE/USDT' }), says: 'does not have market symbol NOPE/USDT' },
  { what: 'a huge symbol', name: JobName.CollectCandles, data: candlePayload({ symbol: `${'A'.repeat(200_000)}/USDT` }), says: 'symbol: Too big' },
  { what: 'an exchange ccxt does not have', name: JobName.CollectCandles, data: candlePayload({ exchange: 'nosuchexchange' }), says: 'unknown exchange "nosuchexchange"' },
  { what: 'a huge exchange id', name: JobName.CollectCandles, data: candlePayload({ exchange: 'a'.repeat(200_000) }), says: 'exchange: Too big' },
  // Well-formed data under a name the queue does not run: refused, not collected as if it were a collect-candles job.
  { what: 'an unknown job name', name: 'download-everything', data: candlePayload({ symbol: 'ADA/USDT' }), says: 'the candles queue has no handler for download-everything jobs' },
  { what: "another queue's job name", name: JobName.SyncFile, data: candlePayload({ symbol: 'DOGE/USDT' }), says: 'no handler for sync-file jobs' },
];

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/')).sort();
}

async function settled(queue: Queue, jobs: readonly Job[]): Promise<void> {
  await waitFor(async () => {
    const states = await Promise.all(jobs.map((j) => queue.getJobState(j.id!)));
    return states.every((s) => s === 'completed' || s === 'failed');
  }, { what: `${jobs.length} ${queue.name} job(s) to finish`, timeoutMs: 15_000 });
}

describe('job payloads written straight into Redis: a poisoned job fails alone, once, with its reason', () => {
  let h: CryptoHarness;
  let backupDir: string;
  let syncWorker: RunningSyncWorker;
  let candles: Queue;
  let sync: Queue;

  beforeAll(async () => {
    backupDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-bad-backup-'));
    h = await startCryptoHarness({
      emulator: { nowMs: NOW },
      env: {
        SYNC_TARGET: 'local', SYNC_LOCAL_DIR: backupDir, SYNC_BATCH_WAIT_MS: '50',
        SYNC_LEARNING_EVERY: 'off', SYNC_LOGS_EVERY: 'off', SYNC_MODELS_EVERY: 'off', SYNC_CANDLES_EVERY: 'off',
      },
    });
    syncWorker = await startSyncWorker({
      config: h.config, logger: createLogger({ name: 'sync', level: 'silent' }), db: h.db.pool, redis: h.redis,
      target: createSyncTarget(h.config.sync), schedules: false,
    });
    candles = new Queue(QueueName.Candles, { connection: h.redis, prefix: h.prefix });
    sync = new Queue(QueueName.Sync, { connection: h.redis, prefix: h.prefix });
  });
  afterAll(async () => {
    await candles.close();
    await sync.close();
    await syncWorker.close(1_000);
    await h.close();
    await fs.rm(backupDir, { recursive: true, force: true });
  });

  describe('the candles queue', () => {
    let bad: Job[];
    let good: Job[];

    beforeAll(async () => {
      // Good jobs go first, between and last, so the worker meets poison on either side of real work.
      const goodFirst = await candles.add(JobName.CollectCandles, candlePayload({ symbol: 'BTC/USDT' }), { ...ATTEMPTS, jobId: 'good-btc' });
      bad = [];
      for (const [i, c] of BAD_CANDLE_JOBS.entries()) {
        bad.push(await candles.add(c.name, c.data, { ...ATTEMPTS, jobId: `bad-${i}` }));
        if (i === Math.floor(BAD_CANDLE_JOBS.length / 2)) {
          good = [goodFirst, await candles.add(JobName.CollectCandles, candlePayload({ symbol: 'ETH/USDT' }), { ...ATTEMPTS, jobId: 'good-eth' })];
        }
      }
      good.push(await candles.add(JobName.CollectCandles, candlePayload({ symbol: 'XRP/USDT' }), { ...ATTEMPTS, jobId: 'good-xrp' }));
      await settled(candles, [...bad, ...good]);
    });

    it.each(BAD_CANDLE_JOBS.map((c, i) => [c.what, i, c] as const))('%s: failed on its first attempt, naming what was wrong', async (_what, i, c) => {
      const job = (await candles.getJob(`bad-${i}`))!;
      expect(await job.getState()).toBe('failed');
      expect(job.attemptsMade).toBe(1);
      expect(job.failedReason).toContain(c.says);
      // A huge value is not echoed back whole: the reason stays readable (and Redis small).
      expect(job.failedReason.length).toBeLessThan(2_000);
    });

    it('the good jobs queued alongside complete, with exactly the exchange candles', async () => {
      for (const job of good) {
        expect(await candles.getJobState(job.id!)).toBe('completed');
        const symbol = (job.data as { symbol: string }).symbol;
        const stored = await readCandles(h.db.pool, { exchange: 'binance', symbol, timeframe: '1h' as Timeframe }, { start: 0, end: NOW + DAY });
        expect(stored).toEqual(h.emulator.candles(symbol, '1h', START, END));
      }
    });

    it('nothing was written for the poisoned jobs: no candles, holes, files or requests', async () => {
      const symbols = await h.db.pool.query<{ symbol: string }>('SELECT DISTINCT symbol FROM candles ORDER BY symbol');
      expect(symbols.rows.map((r) => r.symbol)).toEqual(['BTC/USDT', 'ETH/USDT', 'XRP/USDT']);
      const gaps = await h.db.pool.query<{ symbol: string }>('SELECT DISTINCT symbol FROM exchange_gaps');
      expect(gaps.rows.filter((r) => !['BTC/USDT', 'ETH/USDT', 'XRP/USDT'].includes(r.symbol))).toEqual([]);
      expect((await filesUnder(h.dataDir)).map((f) => f.split('/')[1])).toEqual(['BTC', 'ETH', 'XRP']);
      // One klines request per good coin, none for the well-formed jobs under a wrong name.
      expect(h.emulator.control.counter('klines')).toBe(3);
    });

    it('the worker stays up and takes the next job', async () => {
      expect(h.worker!.workers[0]!.isRunning()).toBe(true);
      const next = await candles.add(JobName.CollectCandles, candlePayload({ symbol: 'SOL/USDT' }), { ...ATTEMPTS, jobId: 'good-sol' });
      await settled(candles, [next]);
      expect(await next.getState()).toBe('completed');
    });
  });

  describe('the sync queue', () => {
    let file: WrittenCandleFile;
    let cases: Case[];

    beforeAll(async () => {
      file = (await writeCandleFiles(h.dataDir, 1))[0]!;
      const { relativePath, source } = file.payload;
      cases = [
        { what: 'missing relativePath', name: JobName.SyncFile, data: { source }, says: 'relativePath' },
        { what: 'a path out of the data directory', name: JobName.SyncFile, data: { relativePath: '../../etc/passwd', source }, says: 'relativePath' },
        { what: 'an absolute path', name: JobName.SyncFile, data: { relativePath: '/etc/passwd', source }, says: 'relativePath' },
        { what: 'a path with spaces', name: JobName.SyncFile, data: { relativePath: 'candles/my file.parquet', source }, says: 'relativePath' },
        { what: 'an unknown source kind', name: JobName.SyncFile, data: { relativePath, source: { ...source, kind: 'ftp' } }, says: 'source.kind' },
        { what: 'text where a time belongs', name: JobName.SyncFile, data: { relativePath, source: { ...source, startMs: 'monday' } }, says: 'source.startMs' },
        { what: 'a malformed run id', name: JobName.SyncFile, data: { relativePath, source, runId: 'run-1' }, says: 'runId' },
        { what: 'an extra field', name: JobName.SyncFile, data: { relativePath, source, overwrite: true }, says: 'overwrite' },
        { what: 'a number, not an object', name: JobName.SyncFile, data: 42, says: '(payload)' },
        { what: 'a file that is neither on disk nor in PostgreSQL', name: JobName.SyncFile,
          data: { relativePath: 'candles/NOPE/NOPE-USDT_1d_20240101_20240130.parquet', source: { ...source, symbol: 'NOPE/USDT' } },
          says: 'PostgreSQL holds no binance NOPE/USDT 1d candles' },
        { what: 'a huge path', name: JobName.SyncFile, data: { relativePath: `candles/${'a'.repeat(100_000)}.parquet`, source }, says: 'relativePath: Too big' },
        { what: 'an unknown directory rule', name: JobName.SyncDirectory, data: { rule: 'everything' }, says: 'rule' },
        { what: 'an unknown job name', name: JobName.CollectCandles, data: { rule: 'candles' }, says: 'the sync queue has no handler for collect-candles jobs' },
      ];
    });

    it('each poisoned job fails once with its reason; the good one is backed up; the worker stays up', async () => {
      const good = await sync.add(JobName.SyncFile, file.payload, { ...ATTEMPTS, jobId: 'good-file' });
      const bad: Job[] = [];
      for (const [i, c] of cases.entries()) bad.push(await sync.add(c.name, c.data, { ...ATTEMPTS, jobId: `bad-sync-${i}` }));
      await settled(sync, [good, ...bad]);

      const failures = await Promise.all(bad.map(async (job, i) => {
        const j = (await sync.getJob(job.id!))!;
        return { what: cases[i]!.what, state: await j.getState(), attemptsMade: j.attemptsMade, saysIt: j.failedReason.includes(cases[i]!.says) };
      }));
      expect(failures).toEqual(cases.map((c) => ({ what: c.what, state: 'failed', attemptsMade: 1, saysIt: true })));

      expect(await good.getState()).toBe('completed');
      const backedUp = await filesUnder(backupDir);
      expect(backedUp.some((f) => f.endsWith(file.payload.relativePath))).toBe(true);
      expect(backedUp.filter((f) => /NOPE|passwd|my file|aaaa/.test(f))).toEqual([]);
      expect(syncWorker.workers[0]!.isRunning()).toBe(true);
    });
  });
});
