import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { describeSyncRules, directorySyncRules, remoteKeyFor, type SyncOutcome, type SyncTarget } from '@ferry/shared/backup';
import { errorMessage, RateLimitedError, type FerryConfig, type Logger } from '@ferry/shared/core';
import { createQueue, failJob, ferryWorkerOptions, JobName, logWorkerEvents, MANUAL_RATE_LIMIT_ENABLER, parsePayload, QueueName } from '@ferry/shared/jobs';
import { recordFileSyncs, type Pool } from '@ferry/shared/postgres';
import { localFileForSync } from '@ferry/shared/series-files';
import { syncDirectories, type DirectorySyncResult } from '@ferry/shared/backup';
import { syncBatch, type BatchItem } from '@ferry/shared/backup';
import { removeSyncSchedules, upsertSyncSchedules } from './schedules.js';
import { UploadBatcher } from '@ferry/shared/backup';

/**
 * The sync queue's worker: sync-file jobs (chained by the download workers, one per written file) and sync-directory
 * jobs (from the job schedulers). Files of all jobs meet in one batcher, so many small files become one commit.
 * A 429 pauses the whole queue (every sync worker, every host) through failJob; other failures retry with backoff or,
 * when permanent, fail that job alone with its reason, recorded in file_syncs.
 */
export interface SyncWorkerDeps {
  config: FerryConfig;
  logger: Logger;
  db: Pool;
  /** A connection with maxRetriesPerRequest: null (BullMQ duplicates it for its blocking connection). */
  redis: Redis;
  target: SyncTarget;
  /** Upsert the directory-sync job schedulers at start. Default true. */
  schedules?: boolean;
}

export interface RunningSyncWorker {
  worker: Worker;
  /** Stops taking jobs, commits what is gathered, and waits up to `graceMs` for active jobs. */
  close(graceMs: number): Promise<void>;
}

/** What a job returns (Bull Board shows it). */
export type SyncJobResult =
  | { status: 'uploaded' | 'skipped-identical'; target: string; key: string; relativePath: string; size: number; contentHash: string; sentBytes: number; rendered: boolean }
  | { status: 'not-synced'; reason: string }
  /** The file was replaced by a newer render of its series before the job ran: nothing uploaded, nothing rendered. */
  | { status: 'superseded'; relativePath: string; supersededBy: string; reason: string }
  | ({ status: 'synced-directory'; rule: string; target: string } & Omit<DirectorySyncResult, 'rateLimited'>);

const PROGRESS_INTERVAL_MS = 500;

export async function startSyncWorker(deps: SyncWorkerDeps): Promise<RunningSyncWorker> {
  const { config, logger, db, redis, target } = deps;
  const prefix = config.redis.prefix;
  const queue = createQueue(QueueName.Sync, redis, prefix);
  const rules = directorySyncRules(config.sync.every);
  const targetName = target.description;
  const batcher = new UploadBatcher<BatchItem, SyncOutcome>({
    maxItems: config.sync.batchFiles,
    maxWaitMs: config.sync.batchWaitMs,
    // With the limiter's max, only a manual queue.rateLimit (a 429 somewhere) counts as a pause, not jobs counted
    // against the never-reached limiter.
    flush: syncBatch({ db, target, logger, pausedForMs: () => queue.getRateLimitTtl(MANUAL_RATE_LIMIT_ENABLER.max) }),
  });

  if (deps.schedules !== false) {
    if (target.kind === 'none') await removeSyncSchedules(queue, rules);
    else await upsertSyncSchedules(queue, rules, config.download.attempts);
  }

  async function processSyncFile(job: Job): Promise<SyncJobResult> {
    const payload = parsePayload(JobName.SyncFile, job.data);
    if (target.kind === 'none') return { status: 'not-synced', reason: 'SYNC_TARGET is none' };
    const key = remoteKeyFor(payload.relativePath, new Date());
    try {
      const local = await localFileForSync(payload, { db, dataDir: config.dataDir });
      if (local.status === 'superseded') {
        await job.log(local.reason);
        return { status: 'superseded', relativePath: payload.relativePath, supersededBy: local.supersededBy, reason: local.reason };
      }
      if (local.rendered) await job.log(`${payload.relativePath} was not on this host's disk: rendered it from PostgreSQL`);
      let lastProgress = 0;
      const outcome = await batcher.add({
        localPath: local.localPath,
        key,
        relativePath: payload.relativePath,
        runId: payload.runId,
        known: local.facts,
        onProgress: (sentBytes, totalBytes) => {
          if (Date.now() - lastProgress < PROGRESS_INTERVAL_MS && sentBytes < totalBytes) return;
          lastProgress = Date.now();
          void job.updateProgress({ sentBytes, totalBytes, percent: totalBytes ? Math.round((sentBytes / totalBytes) * 1000) / 10 : 100 }).catch(() => undefined);
        },
      });
      if (outcome.status === 'failed') throw outcome.error;
      await job.log(`${outcome.status} ${targetName}/${key} (${outcome.size} bytes, content hash ${outcome.contentHash})`);
      return {
        status: outcome.status, target: targetName, key, relativePath: payload.relativePath, size: outcome.size,
        contentHash: outcome.contentHash, sentBytes: outcome.sentBytes, rendered: local.rendered,
      };
    } catch (err) {
      throw new FileSyncFailure(err, key, payload.relativePath, payload.runId);
    }
  }

  async function processSyncDirectory(job: Job): Promise<SyncJobResult> {
    const payload = parsePayload(JobName.SyncDirectory, job.data);
    if (target.kind === 'none') return { status: 'not-synced', reason: 'SYNC_TARGET is none' };
    const rule = rules.find((r) => r.name === payload.rule)!;
    const result = await syncDirectories(rule.directories, {
      dataDir: config.dataDir,
      db,
      targetName,
      syncedAt: new Date(),
      sync: (items) => Promise.all(items.map((item) => batcher.add(item))),
      progress: (p) => void job.updateProgress({ ...p, percent: p.files ? Math.round((p.done / p.files) * 1000) / 10 : 100 }).catch(() => undefined),
    });
    const { rateLimited, ...counts } = result;
    if (result.failed.length > 0) {
      // The next scheduled run tries them again; until then they show as failed, with why.
      await recordFileSyncs(db, result.failed.flatMap((f) => (f.key === undefined ? [] : [{
        target: targetName, key: f.key, relativePath: f.relativePath, status: 'failed' as const, reason: f.reason,
      }])));
      await job.log(`${result.failed.length} file(s) failed; the first: ${result.failed[0]!.relativePath}: ${result.failed[0]!.reason}`);
    }
    // The files synced so far are recorded; the rest go on the next run, after the pause.
    if (rateLimited) throw rateLimited;
    await job.log(`${rule.name}: ${counts.files} file(s), ${counts.unchanged} unchanged, ${counts.uploaded} uploaded, ` +
      `${counts.skippedIdentical} identical on the target, ${counts.failed.length} failed`);
    return { status: 'synced-directory', rule: rule.name, target: targetName, ...counts };
  }

  async function processJob(job: Job, token?: string): Promise<SyncJobResult> {
    try {
      if (job.name === JobName.SyncFile) return await processSyncFile(job);
      if (job.name === JobName.SyncDirectory) return await processSyncDirectory(job);
      throw new UnrecoverableError(`the sync queue has no handler for ${job.name} jobs`);
    } catch (caught) {
      const file = caught instanceof FileSyncFailure ? caught : undefined;
      const err = file ? file.error : caught;
      if (file && !(err instanceof RateLimitedError)) {
        // Retried unless final; onFinalFailure below turns it into `failed`.
        // For the record only: PostgreSQL may be what failed.
        await recordFileSyncs(db, [{ target: targetName, key: file.key, relativePath: file.relativePath, status: 'pending', reason: errorMessage(err), runId: file.runId }])
          .catch(() => undefined);
      }
      throw await failJob(err, {
        job,
        token,
        queue,
        interrupted: false,
        store: db,
        onPaused: async (kind, ms) => {
          logger.warn({ jobId: job.id, kind, ms }, 'sync queue paused');
          await job.log(`${kind}: sync queue paused for ${Math.round(ms / 1000)} s`).catch(() => undefined);
        },
        onFinalFailure: async (reason) => {
          logger.error({ jobId: job.id, reason }, 'sync job failed');
          if (file) {
            await recordFileSyncs(db, [{ target: targetName, key: file.key, relativePath: file.relativePath, status: 'failed', reason, runId: file.runId }]);
          }
        },
      });
    }
  }

  const worker = new Worker(QueueName.Sync, processJob, ferryWorkerOptions({
    connection: redis,
    prefix,
    // Room for one batch being committed while the next one gathers, and for directory jobs feeding them.
    concurrency: 2 * config.sync.batchFiles + 4,
    lockMs: config.download.lockMs,
  }));
  logWorkerEvents(worker, logger, 'sync');
  // Closing a worker whose blocking connection is still connecting makes BullMQ reject a promise nobody handles.
  await worker.waitUntilReady();

  if (target.kind === 'none') logger.warn('SYNC_TARGET is none: nothing is backed up; sync jobs complete without uploading');
  logger.info(
    {
      target: targetName, batchFiles: config.sync.batchFiles, batchWaitMs: config.sync.batchWaitMs,
      chunkMiB: config.sync.dropbox.chunkBytes / (1024 * 1024), rules: describeSyncRules(rules),
    },
    `sync worker started: target ${targetName}; schedules: ${target.kind === 'none' ? 'none' : describeSyncRules(rules)}`,
  );

  return {
    worker,
    async close(graceMs: number) {
      const closing = worker.close();
      // Jobs waiting for their batch should not wait out the batch window.
      await batcher.drain();
      const forceTimer = setTimeout(() => void worker.close(true), graceMs);
      await closing;
      clearTimeout(forceTimer);
      await queue.close();
    },
  };
}

/** A file job's failure with what is needed to record it. */
class FileSyncFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly key: string,
    readonly relativePath: string,
    readonly runId: string | undefined,
  ) {
    super(errorMessage(error));
  }
}
