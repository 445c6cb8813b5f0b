import { openQueue } from '../support/workers.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QueueName } from '@ferry/shared/jobs';
import { createRedis } from '@ferry/shared/redis';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { spawnTs } from '../support/processes.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/** `npm run scale`: several worker processes against one Redis and PostgreSQL, drained together, never restarted. */
describe('npm run scale', () => {
  it.each([
    [[], 'nothing to start: --download and --sync are both 0'],
    [['--download', 'four'], '--download: expected a whole number from 0 to 64, got "four"'],
    [['--download', '-1'], '--download: expected a whole number from 0 to 64, got "-1"'],
    [['--sync', '2.5'], '--sync: expected a whole number from 0 to 64, got "2.5"'],
    [['--download', '65'], '--download: expected a whole number from 0 to 64, got "65"'],
    [['--download', '1', '--workers', '2'], "Unknown option '--workers'"],
  ])('refuses %j with exit status 2, the reason and the usage', async (args, reason) => {
    const p = spawnTs('scripts/scale.ts', args, {});
    expect(await p.exited).toBe(2);
    expect(p.output()).toContain(`scale: ${reason}`);
    expect(p.output()).toContain('usage: npm run scale -- --download N --sync M');
  });

  describe('with 2 download workers and 1 sync worker', () => {
    let db: TestDatabase;
    let dataDir: string;
    const prefix = uniquePrefix('scale');

    beforeAll(async () => {
      db = await createTestDatabase();
      dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-scale-'));
    });
    afterAll(async () => {
      await deleteKeys(prefix);
      await db.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    });

    it('prefixes each child\'s lines, reports a dead one without restarting it, and drains the rest on one Ctrl+C', async () => {
      const scale = spawnTs('scripts/scale.ts', ['--download', '2', '--sync', '1'], {
        REDIS_URL: TEST_REDIS_URL, DATABASE_URL: db.url, QUEUE_PREFIX: prefix, DATA_DIR: dataDir,
        SYNC_TARGET: 'local', SYNC_LOCAL_DIR: path.join(dataDir, 'backup'), LOG_LEVEL: 'info',
      });
      const redis = createRedis(TEST_REDIS_URL, 'queue');
      const candles = openQueue(QueueName.Candles, redis, prefix);
      const sync = openQueue(QueueName.Sync, redis, prefix);
      let pids: number[] = [];
      try {
        // `sync-worker-1     | {"level":30,"pid":123,...,"msg":"sync worker started: ..."}`
        const pidOf = (name: string, message: string) => {
          const line = scale.output().split('\n').find((l) => new RegExp(`^${name} *\\| `).test(l) && l.includes(`"msg":"${message}`));
          return line ? (JSON.parse(line.slice(line.indexOf('| ') + 2)) as { pid: number }).pid : undefined;
        };
        pids = await waitFor(() => {
          const found = [pidOf('download-worker-1', 'download worker started'), pidOf('download-worker-2', 'download worker started'),
            pidOf('sync-worker-1', 'sync worker started')];
          return found.every((pid) => pid !== undefined) ? (found as number[]) : undefined;
        }, { timeoutMs: 60_000, what: 'three workers to start' });
        expect(new Set(pids).size).toBe(3);
        // Independent processes on one Redis: each is a BullMQ worker of the shared queues.
        await waitFor(async () => (await candles.getWorkersCount()) === 2 && (await sync.getWorkersCount()) === 1,
          { what: 'the workers to connect' });

        process.kill(pids[1]!, 'SIGKILL');
        await waitFor(() => scale.output().includes('download-worker-2 (pid'), { what: 'the death to be reported' });
        expect(scale.output()).toMatch(/download-worker-2 \(pid \d+\) exited with SIGKILL; not restarting it, 2 still running/);
        expect(await candles.getWorkersCount()).toBe(1);

        // A terminal's Ctrl+C often arrives twice (from the terminal and again via npm): still one graceful stop.
        scale.kill('SIGINT');
        scale.kill('SIGINT');
        // Exit 1: one child died on its own; the others drained and exited cleanly (a forced exit would be 130).
        expect(await scale.exited).toBe(1);
        expect(scale.output()).toContain('scale: exited uncleanly: download-worker-2 (SIGKILL)\n');
        expect(scale.output()).not.toContain('forcing');
        expect(scale.output().match(/\| .*"msg":"shutting down"/g)).toHaveLength(2);
        for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
      } finally {
        // The children have process groups of their own: after a failed assertion they must not outlive the test.
        for (const pid of pids) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // exited already
          }
        }
        scale.kill('SIGKILL');
        await candles.close();
        await sync.close();
        redis.disconnect();
      }
    });
  });
});
