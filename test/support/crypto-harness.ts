import type { Redis } from 'ioredis';
import { createLogger, loadConfig, type FerryConfig } from '@ferry/shared/core';
import { createRedis } from '@ferry/shared/redis';
import { startCandleWorker, type RunningWorkers } from './workers.js';
import { startBinanceEmulator, type BinanceEmulator, type BinanceSettings } from '@ferry/emulators/binance';
import { type TestDatabase } from './database.js';
import { ferryInProcess } from './ferry-cli.js';
import { openOwnStores } from './own-stores.js';
import { TEST_REDIS_URL } from './redis.js';

/**
 * Everything a crypto pipeline test needs, real where it counts: the Binance emulator (through ccxt), a database of
 * its own, a Redis key prefix of its own, an in-process download worker, and the `ferry` CLI run in-process.
 */
export interface CryptoHarness {
  emulator: BinanceEmulator;
  db: TestDatabase;
  env: NodeJS.ProcessEnv;
  config: FerryConfig;
  dataDir: string;
  prefix: string;
  redis: Redis;
  worker: RunningWorkers | undefined;
  startWorker(): Promise<RunningWorkers>;
  ferry(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function startCryptoHarness(options: {
  emulator?: Partial<BinanceSettings>;
  env?: NodeJS.ProcessEnv;
  startWorker?: boolean;
} = {}): Promise<CryptoHarness> {
  const emulator = await startBinanceEmulator({ settings: options.emulator });
  const stores = await openOwnStores({ prefix: 'crypto', dataDir: 'ferry-data-' });
  const { db, prefix, dataDir } = stores;
  const env: NodeJS.ProcessEnv = { ...stores.env, EXCHANGE_URL: emulator.url, EXCHANGE_CLOCK_TTL_MS: '0', ...options.env };
  const config = loadConfig(env);
  const redis = createRedis(TEST_REDIS_URL, 'worker');
  const harness: CryptoHarness = {
    emulator, db, env, config, dataDir, prefix, redis, worker: undefined,
    async startWorker() {
      const worker = await startCandleWorker({ config, logger: createLogger({ name: 'test-worker', level: 'silent' }), db: db.pool, redis });
      harness.worker = worker;
      return worker;
    },
    ferry: (args) => ferryInProcess(args, env),
    async close() {
      await harness.worker?.close(0);
      await emulator.close();
      redis.disconnect();
      await stores.close();
    },
  };
  if (options.startWorker !== false) await harness.startWorker();
  return harness;
}
