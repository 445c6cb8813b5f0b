import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncTarget } from '@ferry/shared/backup';
import { QueueName } from '@ferry/shared/jobs';
import { readCandleFile } from '@ferry/shared/parquet';
import { readCandles } from '@ferry/shared/postgres';
import { timeframeMs, type Candle, type Timeframe } from '@ferry/shared/core';
import { startDropboxEmulator, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { openQueue, startSyncWorker, type RunningSyncWorker } from '../support/workers.js';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { waitFor } from '../support/wait.js';
import { capturedLogger, dropboxEnv } from './support.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 1, 5, 30);
const TIMEFRAMES: Timeframe[] = ['1d', '4h'];

/**
 * The data contract end to end: a backfill, then the next day's update of the same coins, each followed by the sync
 * worker. Every series ends with exactly its current Parquet files (one, or one per month below 1d), holding its rows
 * in PostgreSQL, and the backup holds
 * exactly the same files, byte for byte: the earlier renders are gone locally and on the target.
 */
describe.each(['dropbox', 'local'] as const)('a backfill and the next day\'s update, backed up to the %s target', (kind) => {
  let h: CryptoHarness;
  let dropbox: DropboxEmulator | undefined;
  let backupDir: string;
  let syncQueue: Queue;
  let syncWorker: RunningSyncWorker;
  let coins: string[];

  beforeAll(async () => {
    backupDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-backup-'));
    dropbox = kind === 'dropbox' ? await startDropboxEmulator() : undefined;
    const target = dropbox ? dropboxEnv(dropbox) : { SYNC_TARGET: 'local', SYNC_LOCAL_DIR: backupDir };
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, env: { ...target, SYNC_BATCH_WAIT_MS: '20' } });
    syncQueue = openQueue(QueueName.Sync, h.redis, h.prefix);
    syncWorker = await startSyncWorker({
      config: h.config, logger: capturedLogger('sync').logger, db: h.db.pool, redis: h.redis, target: createSyncTarget(h.config.sync), schedules: false,
    });
    coins = h.emulator.symbols().filter((s) => s.kind === 'coin' && s.status === 'TRADING').slice(0, 3).map((s) => s.base);
  }, 60_000);
  afterAll(async () => {
    await syncWorker.close(5_000);
    await syncQueue.close();
    await h.close();
    await dropbox?.close();
    await rm(backupDir, { recursive: true, force: true });
  });

  async function collectAndSync(): Promise<void> {
    const run = await h.ferry(['collect', '--symbols', coins.join(','), '--days', '20', '--timeframe', TIMEFRAMES.join(','), '--wait']);
    expect(run.code, run.stderr).toBe(0);
    // Every chained sync job has run: nothing waiting, delayed or active.
    const counts = await waitFor(async () => {
      const c = await syncQueue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'completed', 'failed');
      return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.active ?? 0) + (c.prioritized ?? 0) === 0 ? c : undefined;
    }, { timeoutMs: 60_000, what: 'the sync queue to drain' });
    expect(counts.failed).toBe(0);
  }

  async function localFiles(): Promise<string[]> {
    const entries = await readdir(path.join(h.dataDir, 'candles'), { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => path.relative(h.dataDir, path.join(e.parentPath, e.name)).split(path.sep).join('/')).sort();
  }

  async function backupFiles(): Promise<Map<string, Buffer>> {
    const files = new Map<string, Buffer>();
    if (dropbox) {
      for (const file of dropbox.listFilePaths().filter((p) => p.startsWith('/ferry/data/candles/'))) {
        files.set(file.slice('/ferry/data/'.length), await dropbox.readFile(file));
      }
      return files;
    }
    const root = path.join(backupDir, 'data');
    for (const e of await readdir(path.join(root, 'candles'), { recursive: true, withFileTypes: true })) {
      if (!e.isFile()) continue;
      const absolute = path.join(e.parentPath, e.name);
      files.set(path.relative(root, absolute).split(path.sep).join('/'), await readFile(absolute));
    }
    return files;
  }

  /** The UTC day of the last closed candle at `now`: what the name of a complete series file ends with. */
  function lastDay(timeframe: Timeframe, now: number): string {
    const step = timeframeMs(timeframe);
    return new Date(Math.floor(now / step) * step - step).toISOString().slice(0, 10).replaceAll('-', '');
  }

  /**
   * Each series is exactly its current files: one for 1d; one per UTC month for 4h (the 20 days reach back into
   * November), each named by its first and last candle, the last one ending on the last closed candle's day. Their
   * rows, in order, are PostgreSQL's.
   */
  async function expectCurrentFilesMirrored(now: number): Promise<void> {
    const local = await localFiles();
    let expectedFiles = 0;
    for (const coin of coins) {
      for (const timeframe of TIMEFRAMES) {
        const files = local.filter((f) => f.startsWith(`candles/${coin}/${coin}-USDT_${timeframe}_`));
        const all = await readCandles(h.db.pool, { exchange: 'binance', symbol: `${coin}/USDT`, timeframe }, { start: 0, end: NOW + 10 * DAY });
        const months = new Set(all.map((c) => new Date(c.openTime).toISOString().slice(0, 7)));
        expect(files, `${coin} ${timeframe}`).toHaveLength(timeframe === '1d' ? 1 : months.size);
        expect(files.at(-1)).toMatch(new RegExp(`_\\d{8}_${lastDay(timeframe, now)}\\.parquet$`));
        expectedFiles += files.length;
        const rows: Candle[] = [];
        for (const file of files) for await (const group of readCandleFile(path.join(h.dataDir, file))) rows.push(...group);
        expect(rows, `${coin} ${timeframe}`).toEqual(all);
      }
    }
    expect(local).toHaveLength(expectedFiles);

    const backup = await backupFiles();
    expect([...backup.keys()].sort()).toEqual(local);
    for (const file of local) expect(Buffer.compare(backup.get(file)!, await readFile(path.join(h.dataDir, file))), file).toBe(0);
  }

  it('leaves each series\' current files after the backfill, and the same files in the backup', async () => {
    await collectAndSync();
    await expectCurrentFilesMirrored(NOW);
  }, 120_000);

  it('replaces each series\' latest file after the next day\'s update, locally and in the backup', async () => {
    h.emulator.control.configure({ nowMs: NOW + DAY });
    await collectAndSync();
    await expectCurrentFilesMirrored(NOW + DAY);
  }, 120_000);
});
