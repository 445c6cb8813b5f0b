import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSyncTarget } from '@ferry/shared/backup';
import { createLogger } from '@ferry/shared/core';
import { QueueName } from '@ferry/shared/jobs';
import { readCandles } from '@ferry/shared/postgres';
import { type RunSummary } from '@ferry/shared/runs';
import { startSyncWorker } from '../support/workers.js';
import { startDropboxEmulator, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';
import { dropboxEnv, waitForFinished } from './support.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 9, 20, 5, 30);

/**
 * The whole round trip: a machine collects two coins from the emulated Binance and backs them up to Dropbox; a new
 * machine with an empty PostgreSQL runs `ferry restore`, and the same `ferry collect` then sends no klines request.
 */
describe('a new machine restored from Dropbox', () => {
  let dropbox: DropboxEmulator;
  let oldMachine: CryptoHarness;
  let newMachine: CryptoHarness;

  beforeAll(async () => {
    dropbox = await startDropboxEmulator();
    const env = {
      ...dropboxEnv(dropbox),
      SYNC_LEARNING_EVERY: 'off', SYNC_LOGS_EVERY: 'off', SYNC_MODELS_EVERY: 'off', SYNC_CANDLES_EVERY: 'off', SYNC_BATCH_WAIT_MS: '50',
    };
    oldMachine = await startCryptoHarness({ emulator: { nowMs: NOW }, env });
    newMachine = await startCryptoHarness({ emulator: { nowMs: NOW }, env });
  });
  afterAll(async () => {
    await oldMachine.close();
    await newMachine.close();
    await dropbox.close();
  });

  it('downloads no history after `ferry restore`', async () => {
    const collect = ['collect', '--symbols', 'BTC,ETH', '--days', '30', '--timeframe', '1d', '--wait', '--json'];
    expect((await oldMachine.ferry(collect)).code).toBe(0);
    const sync = await startSyncWorker({
      config: oldMachine.config, logger: createLogger({ name: 'sync', level: 'silent' }), db: oldMachine.db.pool,
      redis: oldMachine.redis, target: createSyncTarget(oldMachine.config.sync),
    });
    const syncQueue = new Queue(QueueName.Sync, { connection: oldMachine.redis, prefix: oldMachine.prefix });
    try {
      expect(await waitForFinished(syncQueue, 2)).toEqual({ completed: 2, failed: 0 });
    } finally {
      await syncQueue.close();
      await sync.close(5_000);
    }

    const restored = await newMachine.ferry(['restore']);
    expect(restored).toMatchObject({ code: 0 });
    expect(restored.stdout).toBe(
      'restored 2 of 2 candle file(s) from dropbox /ferry: 60 candle(s), 60 new in PostgreSQL; 2 downloaded, 0 already in DATA_DIR\n',
    );
    for (const symbol of ['BTC/USDT', 'ETH/USDT']) {
      const series = { exchange: 'binance', symbol, timeframe: '1d' } as const;
      const range = { start: 0, end: NOW + DAY };
      expect(await readCandles(newMachine.db.pool, series, range)).toEqual(await readCandles(oldMachine.db.pool, series, range));
    }

    const again = await newMachine.ferry(collect);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout) as RunSummary).toMatchObject({ total: 2, skipped: 2, failed: 0, total_records: 60 });
    expect(newMachine.emulator.control.counter('klines')).toBe(0);
    expect(oldMachine.emulator.control.counter('klines')).toBeGreaterThan(0);
  });
});
