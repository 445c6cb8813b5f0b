import { chainSyncJob, openQueue } from '../support/workers.js';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueName } from '@ferry/shared/jobs';
import { createRedis } from '@ferry/shared/redis';
import { startDropboxEmulator, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { spawnService } from '../support/processes.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';
import { dropboxEnv, writeCandleFiles } from './support.js';

/** The sync-worker service as it runs in a container: env in, logs out, SIGTERM drains. */
describe('the sync-worker process', () => {
  let dropbox: DropboxEmulator;
  let db: TestDatabase;
  let dataDir: string;
  const prefix = uniquePrefix('syncproc');

  beforeAll(async () => {
    dropbox = await startDropboxEmulator();
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-syncproc-'));
  });
  afterAll(async () => {
    await dropbox.close();
    await db.drop();
    await deleteKeys(prefix);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('syncs chained files, says what it syncs at start, never logs a credential, and exits 0 on SIGTERM', async () => {
    const files = await writeCandleFiles(dataDir, 3);
    const redis = createRedis(TEST_REDIS_URL, 'cli');
    const queue = openQueue(QueueName.Sync, redis, prefix);
    const ids: string[] = [];
    for (const file of files) ids.push(await chainSyncJob(queue, file.payload, file.contentHash, 3));

    const env = { ...dropboxEnv(dropbox), DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, DATA_DIR: dataDir, SYNC_MODELS_EVERY: 'off' };
    const service = spawnService('sync-worker', env);
    try {
      // The schedules run once at start too (the candles rule syncs the same files); wait for the chained jobs.
      await waitFor(async () => (await Promise.all(ids.map((id) => queue.getJobState(id)))).every((state) => state === 'completed'),
        { timeoutMs: 30_000, what: 'the 3 chained sync jobs' });
      expect(dropbox.listFilePaths()).toEqual(files.map((f) => `/ferry/data/${f.payload.relativePath}`).sort());
      service.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    } finally {
      service.kill('SIGKILL');
      await queue.close();
      redis.disconnect();
    }
    const output = service.output();
    expect(output).toContain(
      'sync worker started: target dropbox /ferry; schedules: learning (learning) every 5m; logs (logs, monitoring) every 5m; ' +
        'models (models) off; candles (candles) every 2h',
    );
    for (const secret of [dropbox.credentials.refreshToken, dropbox.credentials.appSecret]) expect(output).not.toContain(secret);
  });
});
