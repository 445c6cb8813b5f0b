import type { S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { backupFeature, type BackupFeatureOptions } from '@ferry/shared/backup';
import { collectFeature } from '@ferry/shared/collect';
import { FERRY_BACKOFF, JobProducer, startWorkers, type QueueName, type RunningWorkers, type SyncFilePayload, type WorkerDeps } from '@ferry/shared/jobs';
import { preloadFeature } from '@ferry/shared/preload';

/** The workers of one feature, as the services start them (services/*\/src/main.ts), for in-process tests. */
export function startCandleWorker(deps: WorkerDeps): Promise<RunningWorkers> {
  return startWorkers(deps, [collectFeature]);
}

export function startFlatFileWorkers(deps: WorkerDeps & { s3?: S3Client }): Promise<RunningWorkers> {
  return startWorkers(deps, [(d) => preloadFeature({ ...d, s3: deps.s3 })]);
}

export function startSyncWorker(deps: WorkerDeps & BackupFeatureOptions): Promise<RunningWorkers> {
  return startWorkers(deps, [(d) => backupFeature(d, { target: deps.target, schedules: deps.schedules })]);
}

export type { RunningWorkers };
export type RunningSyncWorker = RunningWorkers;

/** A queue to look into (counts, jobs, states) from a test; adding jobs goes through JobProducer. */
export function openQueue(name: QueueName, connection: Redis, prefix: string): Queue {
  return new Queue(name, { connection, prefix });
}

/** Chains a file's sync the way a handler does (through the producer), onto the queue's Redis and prefix. */
export async function chainSyncJob(queue: Queue, payload: SyncFilePayload, contentHash: string, attempts = 3): Promise<string> {
  const producer = new JobProducer({ connection: queue.opts.connection as Redis, prefix: queue.opts.prefix!, attempts });
  try {
    return await producer.chainSync({ ...payload, contentHash });
  } finally {
    await producer.close();
  }
}

/** Attempts and the ferry backoff, for jobs a test adds by hand (with its own id, or none). */
export function jobOptions(attempts: number): { attempts: number; backoff: { type: string } } {
  return { attempts, backoff: { type: FERRY_BACKOFF } };
}
