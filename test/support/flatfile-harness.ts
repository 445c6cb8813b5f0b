import type { Redis } from 'ioredis';
import type { QueueName } from '@ferry/shared/jobs';
import { createLogger, loadConfig, type FerryConfig } from '@ferry/shared/core';
import { createRedis } from '@ferry/shared/redis';
import { openQueue, startFlatFileWorkers, type RunningWorkers } from './workers.js';
import { DEFAULT_S3_CREDENTIALS, startS3Emulator, type S3Emulator, type S3Settings } from '@ferry/emulators/s3';
import { type TestDatabase } from './database.js';
import { ferryInProcess } from './ferry-cli.js';
import { openOwnStores } from './own-stores.js';
import { TEST_REDIS_URL } from './redis.js';

/**
 * A flat-file pipeline test's world: the S3 emulator (through the real S3Client), a database and a Redis prefix of
 * its own, in-process flat-file workers, and the `ferry` CLI run in-process. `endpoint` points at another S3.
 */
export interface FlatFileHarness {
  emulator: S3Emulator | undefined;
  db: TestDatabase;
  env: NodeJS.ProcessEnv;
  config: FerryConfig;
  dataDir: string;
  prefix: string;
  redis: Redis;
  workers: RunningWorkers | undefined;
  startWorkers(): Promise<RunningWorkers>;
  stopWorkers(): Promise<void>;
  /** The CLI with the harness's environment, `env` overriding it (unset a variable with undefined). */
  ferry(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Jobs in every state on a queue. */
  jobCount(queue: QueueName): Promise<number>;
  close(): Promise<void>;
}

/** Trading days 2019-2025: wide enough for every range the tests ask, whatever today is. */
export const TEST_BUCKET_DAYS: Partial<S3Settings> = { firstDate: '2019-01-02', lastDate: '2025-12-31' };

export async function startFlatFileHarness(options: {
  emulator?: Partial<S3Settings>;
  /** Use this S3 endpoint (and the env's credentials) instead of starting the emulator. */
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
  concurrency?: number;
} = {}): Promise<FlatFileHarness> {
  const emulator = options.endpoint ? undefined : await startS3Emulator({ settings: { ...TEST_BUCKET_DAYS, ...options.emulator } });
  const stores = await openOwnStores({ prefix: 'flat', dataDir: 'ferry-flat-' });
  const { db, prefix, dataDir } = stores;
  const env: NodeJS.ProcessEnv = {
    ...stores.env,
    S3_ENDPOINT: options.endpoint ?? emulator!.url,
    S3_ACCESS_KEY_ID: DEFAULT_S3_CREDENTIALS.accessKeyId,
    S3_SECRET_ACCESS_KEY: DEFAULT_S3_CREDENTIALS.secretAccessKey,
    DOWNLOAD_CONCURRENCY: String(options.concurrency ?? 20),
    ...options.env,
  };
  const config = loadConfig(env);
  const redis = createRedis(TEST_REDIS_URL, 'worker');
  const harness: FlatFileHarness = {
    emulator, db, env, config, dataDir, prefix, redis, workers: undefined,
    async startWorkers() {
      harness.workers = await startFlatFileWorkers({ config, logger: createLogger({ name: 'test-flat', level: 'silent' }), db: db.pool, redis });
      return harness.workers;
    },
    async stopWorkers() {
      await harness.workers?.close(0);
      harness.workers = undefined;
    },
    ferry: (args, overrides = {}) => ferryInProcess(args, { ...env, ...overrides }),
    async jobCount(name) {
      const queue = openQueue(name, redis, prefix);
      try {
        return Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0);
      } finally {
        await queue.close();
      }
    },
    async close() {
      await harness.stopWorkers();
      await emulator?.close();
      redis.disconnect();
      await stores.close();
    },
  };
  return harness;
}
