import { Job, Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Secret } from '@ferry/shared/core';
import { failJob, ferryWorkerOptions } from '@ferry/shared/jobs';
import { createPool, databaseAnswers, type Pool } from '@ferry/shared/postgres';
import { createRedis } from '@ferry/shared/redis';
import { freePort } from '../../scripts/local-services.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../support/redis.js';
import { waitFor } from '../support/wait.js';

/**
 * While PostgreSQL is down a job's failure is the store's, not the job's: it must wait for the store without spending
 * its attempts, and a final failure that cannot be recorded must not leave the job failed unrecorded.
 * "Down" is a real pool pointed at a port nothing listens on.
 */
describe('failJob while PostgreSQL does not answer', () => {
  let db: TestDatabase;
  let deadPool: Pool;
  const prefix = uniquePrefix('outage');
  const redis = createRedis(TEST_REDIS_URL, 'worker');

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    deadPool = createPool({ url: new Secret(`postgres://postgres@127.0.0.1:${await freePort()}/none`), poolSize: 1, applicationName: 'dead' });
  });
  afterAll(async () => {
    await deadPool.end();
    await db.drop();
    redis.disconnect();
    await deleteKeys(prefix);
  });

  it('databaseAnswers tells a live server from an absent one', async () => {
    expect(await databaseAnswers(db.pool)).toBe(true);
    expect(await databaseAnswers(deadPool)).toBe(false);
  });

  async function runOne(name: string, processor: (job: Job, queue: Queue, token?: string) => Promise<string>) {
    const queue = new Queue(name, { connection: redis, prefix });
    const worker = new Worker(name, (job, token) => processor(job, queue, token), ferryWorkerOptions({ connection: redis, prefix, concurrency: 1, lockMs: 5_000 }));
    const job = await queue.add('job', {}, { attempts: 1 });
    const finished = await waitFor(async () => {
      const state = await job.getState();
      return state === 'completed' || state === 'failed' ? state : undefined;
    }, { timeoutMs: 30_000 });
    await worker.close();
    const after = (await Job.fromId(queue, job.id!))!;
    await queue.close();
    return { state: finished, job: after };
  }

  it('a job failing while the store is down is handed back without spending its one attempt, and completes after', async () => {
    let runs = 0;
    const { state, job } = await runOne('down-then-up', async (job, queue, token) => {
      runs++;
      const storeDown = runs <= 3;
      try {
        if (storeDown) throw new Error('connect ECONNREFUSED (the store is down)');
        return 'done';
      } catch (err) {
        throw await failJob(err, { job, token, queue, interrupted: false,
          store: storeDown ? deadPool : db.pool });
      }
    });
    expect(state).toBe('completed');
    expect(runs).toBe(4);
    expect(job.attemptsMade).toBeLessThanOrEqual(1);
  });

  it('a final failure that cannot be recorded runs again, and fails once it is recorded', async () => {
    let runs = 0;
    const recorded: string[] = [];
    const { state, job } = await runOne('unrecorded', async (job, queue, token) => {
      runs++;
      try {
        throw new Error('the exchange says no');
      } catch (err) {
        throw await failJob(err, { job, token, queue, interrupted: false,
          store: db.pool,
          onFinalFailure: async (reason) => {
            if (runs < 2) throw new Error('Connection terminated unexpectedly');
            recorded.push(reason);
          } });
      }
    });
    expect(state).toBe('failed');
    expect(runs).toBe(2);
    expect(recorded).toEqual(['the exchange says no']);
    expect(job.failedReason).toBe('the exchange says no');
  });
});
