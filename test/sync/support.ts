import { Writable } from 'node:stream';
import { Job, type Queue } from 'bullmq';
import { contentHashOfFile, createLogger, loadConfig, timeframeMs, type Candle, type FerryConfig, type Logger } from '@ferry/shared/core';
import { type SyncFilePayload } from '@ferry/shared/jobs';
import { writeCandlesParquet } from '@ferry/shared/parquet';
import { candleFilePath } from '@ferry/shared/series-files';
import path from 'node:path';
import type { DropboxEmulator } from '@ferry/emulators/dropbox';
import { TEST_REDIS_URL } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** Shared set-up of the sync tests: configuration, candle files, a logger that keeps its lines, waiting for jobs. */

export const DAY = 86_400_000;
export const T0 = Date.UTC(2024, 0, 1);

/** A configuration as a sync worker would load it, with every directory schedule off unless a test turns it on. */
export function syncConfig(env: Record<string, string>): FerryConfig {
  return loadConfig({
    REDIS_URL: TEST_REDIS_URL,
    SYNC_LEARNING_EVERY: 'off',
    SYNC_LOGS_EVERY: 'off',
    SYNC_MODELS_EVERY: 'off',
    SYNC_CANDLES_EVERY: 'off',
    JOB_LOCK_MS: '30000',
    ...env,
  });
}

/** The environment that points the Dropbox target at the emulator, with a refresh token. */
export function dropboxEnv(emulator: Pick<DropboxEmulator, 'url' | 'credentials'>, root = '/ferry'): Record<string, string> {
  return {
    SYNC_TARGET: 'dropbox',
    DROPBOX_ROOT: root,
    DROPBOX_API_URL: emulator.url,
    DROPBOX_CONTENT_URL: emulator.url,
    DROPBOX_APP_KEY: emulator.credentials.appKey,
    DROPBOX_APP_SECRET: emulator.credentials.appSecret,
    DROPBOX_REFRESH_TOKEN: emulator.credentials.refreshToken,
  };
}

/** `days` daily candles from T0, different for each coin. */
export function dailyCandles(coin: number, days: number): Candle[] {
  return Array.from({ length: days }, (_, d) => {
    const open = 100 + coin + (d % 7);
    return { openTime: T0 + d * DAY, open, high: open + 3, low: open - 2, close: open + 1, volume: 1000 + coin * 10 + d };
  });
}

export interface WrittenCandleFile {
  payload: SyncFilePayload;
  contentHash: string;
  localPath: string;
  candles: Candle[];
}

/** Writes one candle file per coin (`C<n>/USDT`, 1d) under dataDir, as the download worker does, with its sync payload. */
export async function writeCandleFiles(dataDir: string, coins: number, days = 30, exchange = 'binance'): Promise<WrittenCandleFile[]> {
  const files: WrittenCandleFile[] = [];
  for (let coin = 0; coin < coins; coin++) {
    const candles = dailyCandles(coin, days);
    const symbol = `C${coin}/USDT`;
    const last = candles.at(-1)!.openTime;
    const relativePath = candleFilePath({ symbol, timeframe: '1d', startMs: T0, endMs: last });
    const localPath = path.join(dataDir, relativePath);
    await writeCandlesParquet(localPath, candles);
    files.push({
      payload: {
        relativePath,
        source: { kind: 'candles', exchange, symbol, timeframe: '1d', startMs: T0, endMs: last + timeframeMs('1d') },
      },
      contentHash: await contentHashOfFile(localPath),
      localPath,
      candles,
    });
  }
  return files;
}

export interface CapturedLogger {
  logger: Logger;
  lines(): Array<Record<string, unknown>>;
}

export function capturedLogger(name: string): CapturedLogger {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ name, level: 'info', format: 'json', destination }), lines: () => lines };
}

/** Waits until `count` jobs of the queue are completed or failed; returns the counts. */
export async function waitForFinished(queue: Queue, count: number, timeoutMs = 30_000): Promise<{ completed: number; failed: number }> {
  return waitFor(async () => {
    const counts = await queue.getJobCounts('completed', 'failed');
    const finished = (counts.completed ?? 0) + (counts.failed ?? 0);
    return finished >= count ? { completed: counts.completed ?? 0, failed: counts.failed ?? 0 } : undefined;
  }, { timeoutMs, intervalMs: 50, what: `${count} finished jobs` });
}

/** Waits for one job to finish and returns it. */
export async function finishedJob(queue: Queue, id: string, timeoutMs = 30_000): Promise<Job> {
  return waitFor(async () => {
    const job = await Job.fromId(queue, id);
    return job?.finishedOn ? job : undefined;
  }, { timeoutMs, intervalMs: 50, what: `job ${id} to finish` });
}
