import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncTarget, restoreCandles } from '@ferry/shared/backup';
import { QueueName } from '@ferry/shared/jobs';
import { readCandles } from '@ferry/shared/postgres';
import { DropboxCounter, startDropboxEmulator, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { createTestDatabase } from '../support/database.js';
import { openQueue, startSyncWorker, type RunningSyncWorker } from '../support/workers.js';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { waitFor } from '../support/wait.js';
import { capturedLogger, dropboxEnv } from './support.js';

const DAY = 86_400_000;
/** 05:30 UTC on 2 March 2026: 41 days back reach into January, so 1m candles span three months. */
const NOW = Date.UTC(2026, 2, 2, 5, 30);

/**
 * Intraday series are one Parquet file per UTC month (the data contract in the README): a daily update rewrites and
 * re-uploads only the current month's file; the closed months' files keep their bytes, locally and in the backup.
 */
describe('month files of a 1m series, backed up to Dropbox', () => {
  let h: CryptoHarness;
  let dropbox: DropboxEmulator;
  let syncQueue: Queue;
  let syncWorker: RunningSyncWorker;
  let coin: string;

  beforeAll(async () => {
    dropbox = await startDropboxEmulator();
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, env: { ...dropboxEnv(dropbox), SYNC_BATCH_WAIT_MS: '20' } });
    syncQueue = openQueue(QueueName.Sync, h.redis, h.prefix);
    syncWorker = await startSyncWorker({
      config: h.config, logger: capturedLogger('sync').logger, db: h.db.pool, redis: h.redis, target: createSyncTarget(h.config.sync), schedules: false,
    });
    coin = h.emulator.symbols().find((s) => s.kind === 'coin' && s.status === 'TRADING')!.base;
  }, 60_000);
  afterAll(async () => {
    await syncWorker.close(5_000);
    await syncQueue.close();
    await h.close();
    await dropbox.close();
  });

  async function collectAndSync(): Promise<void> {
    const run = await h.ferry(['collect', '--symbols', coin, '--start', '2026-01-20', '--timeframe', '1m', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    const counts = await waitFor(async () => {
      const c = await syncQueue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'failed');
      return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) === 0 ? c : undefined;
    }, { timeoutMs: 60_000, what: 'the sync queue to drain' });
    expect(counts.failed).toBe(0);
  }

  async function localFiles(): Promise<string[]> {
    return (await readdir(path.join(h.dataDir, 'candles', coin))).sort();
  }
  /** The log lines of the newest finished collect job. */
  async function lastCollectLogs(): Promise<string> {
    const candles = openQueue(QueueName.Candles, h.redis, h.prefix);
    try {
      const [job] = (await candles.getJobs(['completed'])).sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0));
      return (await candles.getJobLogs(job!.id!)).logs.join('\n');
    } finally {
      await candles.close();
    }
  }
  const remoteFiles = () => dropbox.listFilePaths().filter((p) => p.startsWith(`/ferry/data/candles/${coin}/`)).map((p) => path.posix.basename(p));

  let closedMonths: Array<{ name: string; mtimeMs: number; bytes: Buffer; rev: unknown }>;

  it('writes one file per month, named by its first and last candle, and backs them up', async () => {
    await collectAndSync();
    expect(await localFiles()).toEqual([
      `${coin}-USDT_1m_20260120_20260131.parquet`,
      `${coin}-USDT_1m_20260201_20260228.parquet`,
      `${coin}-USDT_1m_20260301_20260302.parquet`,
    ]);
    expect(remoteFiles()).toEqual(await localFiles());
    closedMonths = await Promise.all((await localFiles()).slice(0, 2).map(async (name) => {
      const local = path.join(h.dataDir, 'candles', coin, name);
      return { name, mtimeMs: (await stat(local)).mtimeMs, bytes: await readFile(local), rev: dropbox.fileMetadata(`/ferry/data/candles/${coin}/${name}`)?.rev };
    }));
  }, 120_000);

  it('rewrites and uploads only the current month\'s file after the next day\'s update', async () => {
    h.emulator.control.configure({ nowMs: NOW + DAY });
    dropbox.control.reset();
    await collectAndSync();
    const current = `${coin}-USDT_1m_20260301_20260303.parquet`;
    expect(await localFiles()).toEqual([...closedMonths.map((m) => m.name), current]);
    expect(remoteFiles()).toEqual(await localFiles());
    for (const month of closedMonths) {
      const local = path.join(h.dataDir, 'candles', coin, month.name);
      expect((await stat(local)).mtimeMs, month.name).toBe(month.mtimeMs);
      expect(Buffer.compare(await readFile(local), month.bytes), month.name).toBe(0);
      expect(dropbox.fileMetadata(`/ferry/data/candles/${coin}/${month.name}`)?.rev, month.name).toBe(month.rev);
    }
    // One commit, of the current month's bytes; the month's earlier render deleted.
    expect(dropbox.control.counter(DropboxCounter.commits)).toBe(1);
    expect(dropbox.control.counter(DropboxCounter.bytesReceived)).toBe((await stat(path.join(h.dataDir, 'candles', coin, current))).size);
    expect(dropbox.control.counter(DropboxCounter.deletes)).toBe(1);
    // Their sync records said the backup holds them as they are: not even read again to be hashed.
    const logs = await lastCollectLogs();
    expect(logs).toContain('2 closed month file(s) unchanged, kept as they are');
    expect(logs.match(/chained sync job/g)).toHaveLength(1);
  }, 120_000);

  it('backs up again a closed month that has no sync on record (a worker killed between writing it and chaining it)', async () => {
    const lost = closedMonths[0]!.name;
    // As if its sync had never been chained: no job, no record, nothing in the backup.
    for (const job of await syncQueue.getJobs(['completed'])) {
      if ((job.data as { relativePath?: string }).relativePath === `candles/${coin}/${lost}`) await job.remove();
    }
    await h.db.pool.query('DELETE FROM file_syncs WHERE relative_path = $1', [`candles/${coin}/${lost}`]);
    dropbox.deleteFile(`/ferry/data/candles/${coin}/${lost}`);
    h.emulator.control.configure({ nowMs: NOW + 2 * DAY });
    await collectAndSync();
    const logs = await lastCollectLogs();
    expect(logs).toContain('1 closed month file(s) unchanged, kept as they are');
    expect(logs.match(/chained sync job/g)).toHaveLength(2);
    expect(remoteFiles()).toEqual(await localFiles());
    const local = path.join(h.dataDir, 'candles', coin, lost);
    expect((await stat(local)).mtimeMs).toBe(closedMonths[0]!.mtimeMs);
    expect(Buffer.compare(await dropbox.readFile(`/ferry/data/candles/${coin}/${lost}`), await readFile(local))).toBe(0);
  }, 120_000);

  it('restores every month of the series into an empty PostgreSQL', async () => {
    const db = await createTestDatabase();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-restored-'));
    try {
      const result = await restoreCandles({ target: createSyncTarget(h.config.sync), db: db.pool, dataDir, exchange: 'binance' });
      expect(result.failed).toEqual([]);
      expect(result.files).toBe(3);
      const series = { exchange: 'binance', symbol: `${coin}/USDT`, timeframe: '1m' } as const;
      const everything = { start: 0, end: NOW + 10 * DAY };
      const restored = await readCandles(db.pool, series, everything);
      expect(restored.length).toBeGreaterThan(40 * 1440);
      expect(restored).toEqual(await readCandles(h.db.pool, series, everything));
      expect((await readdir(path.join(dataDir, 'candles', coin))).sort()).toEqual(await localFiles());
    } finally {
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
