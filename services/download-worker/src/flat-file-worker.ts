import { setMaxListeners } from 'node:events';
import { rm } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { Worker, type Job } from 'bullmq';
import pLimit from 'p-limit';
import type { Redis } from 'ioredis';
import { DataValidationError, type FerryConfig, type Logger } from '@ferry/shared/core';
import { createQueue, failJob, ferryWorkerOptions, JobName, logWorkerEvents, parsePayload, QueueName, type DownloadFlatFilePayload } from '@ferry/shared/jobs';
import { flatFileBytes, rateLimitPauses } from '@ferry/shared/metrics';
import { ingestFlatFile, type Pool } from '@ferry/shared/postgres';
import { ensureCachedFile, flatFileS3Client, readFlatFileBars, type PreloadOutcome } from '@ferry/shared/preload';
import { finishItem, recordItemOutcome } from '@ferry/shared/runs';
import { finishPreload } from '@ferry/shared/preload';

/**
 * The flat-files queue (one job per S3 file) and the preloads queue (the flow parent that finishes a request),
 * BullMQ wiring around the shared download, verification and ingest steps.
 */
export interface FlatFileWorkerDeps {
  config: FerryConfig;
  logger: Logger;
  db: Pool;
  /** A connection with maxRetriesPerRequest: null. */
  redis: Redis;
  /** Defaults to the configured bucket's client; made on first use, so a worker without S3 credentials still starts. */
  s3?: S3Client;
}

export interface FileResult {
  key: string;
  /** False when the verified file came from the local cache. */
  downloaded: boolean;
  bytes: number;
  rows: number;
  written: number;
}

export interface RunningFlatFileWorkers {
  workers: Worker[];
  close(graceMs: number): Promise<void>;
}

const PROGRESS_INTERVAL_MS = 500;

export function startFlatFileWorkers(deps: FlatFileWorkerDeps): RunningFlatFileWorkers {
  const { config, logger, db, redis } = deps;
  const prefix = config.redis.prefix;
  const fileQueue = createQueue(QueueName.FlatFiles, redis, prefix);
  const preloadQueue = createQueue(QueueName.Preloads, redis, prefix);
  const syncQueue = createQueue(QueueName.Sync, redis, prefix);
  const shutdown = new AbortController();
  // Every download in flight listens on it (concurrency 20 and more).
  setMaxListeners(0, shutdown.signal);
  // DOWNLOAD_CONCURRENCY downloads in flight; twice as many jobs run, so that while some store what they
  // fetched (a PostgreSQL commit each) the download slots stay busy instead of waiting for them.
  const downloadSlots = pLimit(config.download.concurrency);
  let s3 = deps.s3;

  async function downloadFile(job: Job, token?: string): Promise<FileResult> {
    let payload: DownloadFlatFilePayload | undefined;
    try {
      payload = parsePayload(JobName.DownloadFlatFile, job.data);
      s3 ??= flatFileS3Client(config);
      // Progress only for downloads that take a while: a day file arrives within the interval, and a progress write
      // per file would be a Redis call per file for nothing.
      let lastProgress = Date.now();
      const client = s3;
      const cached = await downloadSlots(() => ensureCachedFile(client, payload!.bucket, payload!, config.s3.cacheDir, {
        signal: shutdown.signal,
        onBytes: (received) => {
          const now = Date.now();
          if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = now;
          void job.updateProgress({ phase: 'downloading', bytes: received, size: payload!.size }).catch(() => undefined);
        },
      }));
      flatFileBytes.inc(cached.received);
      if (cached.etag !== payload.etag) await job.log(`re-published upstream since the listing: ingesting ETag ${cached.etag}`);
      const where = `s3://${payload.bucket}/${payload.key}`;
      const details = { downloaded: cached.downloaded, bytes: cached.received, etag: cached.etag };
      const ingested = await ingestFlatFile(
        db,
        { key: payload.key, etag: cached.etag, size: cached.size, source: payload.market, timeframe: payload.interval, tickers: payload.tickers },
        readFlatFileBars(cached.bytes ?? cached.path, new Set(payload.tickers), where),
      ).catch(async (err: unknown) => {
        // Verified bytes that do not parse are corrupt upstream; drop them so a fixed upload is fetched, not the cache.
        if (err instanceof DataValidationError) await rm(cached.path, { force: true });
        throw err;
      });
      // Not atomic with the ingest, and need not be: a crash in between retries the job, which ingests nothing new
      // and records this. The run is closed by the flow parent once every file is in, not by each file.
      await recordItemOutcome(db, payload.runId, payload.key, {
        status: 'complete', records: ingested.rows, details: { ...details, written: ingested.written },
      });
      // The result (Bull Board shows it) says what a log line would: no extra Redis call per file.
      return { key: payload.key, downloaded: cached.downloaded, bytes: cached.received, rows: ingested.rows, written: ingested.written };
    } catch (err) {
      const parsed = payload;
      throw await failJob(err, {
        job, token, queue: fileQueue, interrupted: shutdown.signal.aborted,
        store: db,
        onPaused: async (kind, ms) => {
          logger.warn({ jobId: job.id, kind, ms }, 'flat-file queue paused');
          rateLimitPauses.inc({ queue: QueueName.FlatFiles, kind });
          await job.log(`${kind}: queue paused for ${Math.round(ms / 1000)} s`).catch(() => undefined);
        },
        onFinalFailure: async (reason) => {
          logger.error({ jobId: job.id, reason }, 'flat-file job failed');
          if (parsed) await finishItem(db, parsed.runId, parsed.key, { status: 'failed', error: reason });
        },
      });
    }
  }

  async function finish(job: Job, token?: string): Promise<PreloadOutcome> {
    try {
      const payload = parsePayload(JobName.FinishPreload, job.data);
      return await finishPreload(payload, {
        db, dataDir: config.dataDir, syncQueue, attempts: config.download.attempts,
        failedFiles: async () => Object.values(await job.getIgnoredChildrenFailures()),
        log: (line) => void job.log(line).catch(() => undefined),
      });
    } catch (err) {
      throw await failJob(err, {
        job, token, queue: preloadQueue, interrupted: shutdown.signal.aborted, store: db,
      });
    }
  }

  const options = { connection: redis, prefix, lockMs: config.download.lockMs };
  const jobSlots = 2 * config.download.concurrency;
  const files = new Worker(QueueName.FlatFiles, downloadFile, ferryWorkerOptions({ ...options, concurrency: jobSlots }));
  const preloads = new Worker(QueueName.Preloads, finish, ferryWorkerOptions({ ...options, concurrency: 2 }));
  logWorkerEvents(files, logger, 'flat-file');
  logWorkerEvents(preloads, logger, 'preload');

  return {
    workers: [files, preloads],
    async close(graceMs: number) {
      const closing = Promise.all([files.close(), preloads.close()]);
      // After the grace period running downloads are aborted and handed back to the queue (see candle-worker.ts).
      const abortTimer = setTimeout(() => shutdown.abort(), graceMs);
      const forceTimer = setTimeout(() => void Promise.all([files.close(true), preloads.close(true)]), graceMs + 5_000);
      await closing;
      clearTimeout(abortTimer);
      clearTimeout(forceTimer);
      await Promise.all([fileQueue.close(), preloadQueue.close(), syncQueue.close()]);
    },
  };
}
