import type { S3Client } from '@aws-sdk/client-s3';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { backupFeature, type BackupFeatureOptions } from '@ferry/shared/backup';
import { collectFeature } from '@ferry/shared/collect';
import { FERRY_BACKOFF, JobName, startWorkers, syncJobId, type QueueName, type RunningWorkers, type SyncFilePayload, type WorkerDeps } from '@ferry/shared/jobs';
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

/**
 * Adds a sync job under the id the producer would give it. The payload may lack the file facts, as jobs queued by
 * older code do; then the sync worker hashes the file itself.
 */
export async function chainSyncJob(queue: Queue, payload: SyncFilePayload, contentHash: string, attempts = 3): Promise<string> {
  const job = await queue.add(JobName.SyncFile, payload, { ...jobOptions(attempts), jobId: syncJobId(payload.relativePath, contentHash) });
  return job.id!;
}

/** Attempts and the ferry backoff, for jobs a test adds by hand (with its own id, or none). */
export function jobOptions(attempts: number): { attempts: number; backoff: { type: string } } {
  return { attempts, backoff: { type: FERRY_BACKOFF } };
}
