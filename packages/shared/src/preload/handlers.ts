import { rm } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { chainFileSync, syncedAsTheyAre } from '../backup/chain-sync.js';
import { DataValidationError } from '../core/errors.js';
import { JobName, QueueName } from '../jobs/names.js';
import { parsePayload, type DownloadFlatFilePayload } from '../jobs/payloads.js';
import type { JobContext } from '../jobs/runtime.js';
import type { FeatureDeps, WorkerFeature } from '../jobs/workers.js';
import { flatFileBytes, rateLimitPauses } from '../metrics/ferry-metrics.js';
import { ingestFlatFile } from '../postgres/bar-store.js';
import { ItemOutcomeRecorder } from '../runs/item-outcome-recorder.js';
import {
  failUnfinishedItems, finishItem, markRunRunning, requeueItems, runParams, unfinishedItems,
} from '../runs/run-store.js';
import { ensureCachedFile, FlatFileCacheLimit } from './file-cache.js';
import { finishPreload, NEAR_MATCHES_DETAIL, nearMatchesDetail } from './finish-preload.js';
import { forgetRendersOf } from '../series-files/render-series-file.js';
import { dayOfKey, marketRangeMs } from './plan.js';
import { flatFileS3Client, seriesItemKey } from './queue-preload.js';
import { readFlatFileBars, type CaseOnlyMatches } from './read-flat-file.js';

/**
 * Once a re-published file's bars are stored: the local renders of its day go for each ticker it was read for, since
 * the file kept the series' span and row count and its Parquet file would otherwise be kept with the old values. The
 * finishing step writes them again from PostgreSQL. A crash before this retries the job, which finds the earlier
 * version recorded again and removes them then.
 */
async function forgetTickerRenders(payload: DownloadFlatFilePayload, dataDir: string, ctx: JobContext): Promise<void> {
  const day = dayOfKey(payload.key);
  if (day === undefined) return;
  const period = marketRangeMs(payload.market, { start: day, end: day });
  for (const ticker of payload.tickers) {
    const removed = await forgetRendersOf(dataDir, { kind: 'bars', source: payload.market, ticker, timeframe: payload.interval }, period);
    if (removed.length > 0) ctx.log(`removed ${removed.join(', ')}: written again from PostgreSQL once the run's files are in`);
  }
}

/** What a download-flat-file job returns (Bull Board shows it). */
export interface FileResult {
  key: string;
  /** False when the verified file came from the local cache. */
  downloaded: boolean;
  bytes: number;
  rows: number;
  written: number;
}

/**
 * The preload handlers: download-flat-file (one S3 file of a run: download or read from the cache, verify, ingest
 * the requested tickers' rows) and finish-preload (the flow parent: once every file is in, the Parquet files).
 */
export function preloadFeature(deps: FeatureDeps & { s3?: S3Client }): WorkerFeature {
  const { config, db, producer } = deps;
  // DOWNLOAD_CONCURRENCY downloads in flight; the queue runs twice as many jobs (see queueConcurrency).
  const downloadSlots = pLimit(config.download.concurrency);
  // Made on first use, so a worker without S3 credentials still starts (and such a job fails once, naming them).
  let s3 = deps.s3;
  const cacheLimit = new FlatFileCacheLimit(config.s3.cacheDir, config.s3.cacheMaxBytes);
  // Files finish many at a time: their items are recorded together, a statement per group instead of per file.
  const itemOutcomes = new ItemOutcomeRecorder(db);

  /**
   * After a retried file is in: the run is open again, and if its finishing step already ran, the Parquet files are
   * written again (a new finish job; the flow's parent has completed and does not run twice).
   */
  async function finishAgain(runId: string, ctx: JobContext): Promise<void> {
    await markRunRunning(db, runId);
    // The run's parameters hold the tickers and their ranges as the first finish job had them (queue-preload.ts).
    const { interval, tickers } = (await runParams(db, runId)) as { interval?: unknown; tickers?: unknown };
    const params = parsePayload(JobName.FinishPreload, { runId, interval, tickers });
    const series = params.tickers.map((t) => seriesItemKey(t.ticker));
    if ((await unfinishedItems(db, runId, seriesItemKey(''))).length > 0) return;
    await requeueItems(db, runId, series);
    // Each such retry finishes once more; the clock tells the rounds apart.
    const [id] = await producer.add(JobName.FinishPreload, [{ ...params, round: Date.now() }]);
    ctx.log(`the run had finished without this file: finishing it again (job ${id})`);
  }

  return {
    handlers: {
      [JobName.DownloadFlatFile]: {
        async run(payload: DownloadFlatFilePayload, ctx): Promise<FileResult> {
          s3 ??= flatFileS3Client(config);
          const client = s3;
          // Progress only for downloads that take a while: a day file arrives within the interval, and a progress
          // write per file would be a Redis call per file for nothing.
          const cached = await downloadSlots(() => ensureCachedFile(client, payload.bucket, payload, config.s3.cacheDir, {
            signal: ctx.signal,
            onBytes: (received) => ctx.progress({ phase: 'downloading', bytes: received, size: payload.size }),
          }));
          flatFileBytes.inc(cached.received);
          if (cached.etag !== payload.etag) ctx.log(`re-published upstream since the listing: ingesting ETag ${cached.etag}`);
          const where = `s3://${payload.bucket}/${payload.key}`;
          const caseOnlyMatches: CaseOnlyMatches = new Map();
          const ingested = await ingestFlatFile(
            db,
            {
              key: payload.key, etag: cached.etag, size: cached.size, source: payload.market, timeframe: payload.interval,
              tickers: payload.tickers, caseOnlyMatches,
            },
            readFlatFileBars(cached.bytes ?? cached.path, new Set(payload.tickers), where, caseOnlyMatches),
          ).catch(async (err: unknown) => {
            // Verified bytes that do not parse are corrupt upstream; drop them so a fixed upload is fetched, not the cache.
            if (err instanceof DataValidationError) await rm(cached.path, { force: true });
            throw err;
          });
          if (ingested.replacesVersion) await forgetTickerRenders(payload, config.dataDir, ctx);
          // Only once ingested: the file just written is the most recently used, the last a pruning would take.
          if (cached.downloaded) {
            const evicted = await cacheLimit.added(cached.received);
            if (evicted > 0) ctx.log(`flat-file cache over FLAT_FILE_CACHE_MAX_MB: removed ${evicted} least recently used file(s)`);
          }
          // Not atomic with the ingest, and need not be: a crash in between retries the job, which ingests nothing
          // new and records this. The run is closed by the flow parent once every file is in, not by each file.
          const previous = await itemOutcomes.record(payload.runId, payload.key, {
            status: 'complete', records: ingested.rows,
            details: {
              downloaded: cached.downloaded, bytes: cached.received, etag: cached.etag, written: ingested.written,
              // The finishing step names these for a ticker that ends with no bars.
              ...(caseOnlyMatches.size > 0 ? { [NEAR_MATCHES_DETAIL]: nearMatchesDetail(caseOnlyMatches) } : {}),
            },
          });
          // A file that had failed for good and was retried (from Bull Board): its run may have finished without it.
          if (previous === 'failed') await finishAgain(payload.runId, ctx);
          // The result (Bull Board shows it) says what a log line would: no extra Redis call per file.
          return { key: payload.key, downloaded: cached.downloaded, bytes: cached.received, rows: ingested.rows, written: ingested.written };
        },
        onPaused: async (_payload, kind) => void rateLimitPauses.inc({ queue: QueueName.FlatFiles, kind }),
        onFinalFailure: (payload, reason) => finishItem(db, payload.runId, payload.key, { status: 'failed', error: reason }),
      },
      [JobName.FinishPreload]: {
        run: (payload, ctx) => finishPreload(payload, {
          db,
          dataDir: config.dataDir,
          chainSync: (sync) => chainFileSync({ producer, db, sync: config.sync }, sync),
          syncedAsTheyAre: (files) => syncedAsTheyAre({ db, sync: config.sync }, files),
          log: ctx.log,
        }),
        // Its tickers' files will not be written: the run ends failed, with why, instead of waiting for them.
        onFinalFailure: (payload, reason) => failUnfinishedItems(db, payload.runId, seriesItemKey(''), reason),
      },
    },
  };
}
