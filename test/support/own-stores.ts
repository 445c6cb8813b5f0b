import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './database.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from './redis.js';

/** A database, a Redis key prefix and a DATA_DIR of a pipeline test's own, and the environment that points ferry at them. */
export interface OwnStores {
  db: TestDatabase;
  prefix: string;
  dataDir: string;
  /** DATABASE_URL, REDIS_URL, QUEUE_PREFIX and DATA_DIR for these stores, with silent logs and a 5 s job lock. */
  env: NodeJS.ProcessEnv;
  /** Deletes the keys, drops the database and removes DATA_DIR. */
  close(): Promise<void>;
}

export async function openOwnStores(names: { prefix: string; dataDir: string }): Promise<OwnStores> {
  const db = await createTestDatabase();
  const prefix = uniquePrefix(names.prefix);
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), names.dataDir));
  return {
    db, prefix, dataDir,
    env: { DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, JOB_LOCK_MS: '5000', LOG_LEVEL: 'silent' },
    async close() {
      await deleteKeys(prefix);
      await db.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
