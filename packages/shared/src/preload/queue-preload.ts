import type { S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type { FerryConfig } from '../core/config/config.js';
import { ConfigError } from '../core/config/load-config.js';
import type { Pool } from '../postgres/pool.js';
import { JobProducer, type FlowChild } from '../jobs/producer.js';
import type { FinishPreloadPayload } from '../jobs/payloads.js';
import { JobName } from '../jobs/names.js';
import { createOrReuseRun, markRunRunning, replanItems } from '../runs/run-store.js';
import { createS3Client } from '../s3/s3-client.js';
import { NothingToCollectError } from '../collect/queue-collection.js';
import { ingestedFiles } from '../postgres/bar-store.js';
import { listFlatFiles } from './list-files.js';
import {
  filesInRange, planDownloads, planPrefixes, timeframeFor,
  type DateRange, type FlatFileInterval, type FlatFileMarket, type ListedFile, type PlannedFile,
} from './plan.js';

/** A validated preload request: resolved tickers, each market with its own day range. */
export interface PreloadRequest {
  interval: FlatFileInterval;
  markets: Array<{ market: FlatFileMarket; tickers: string[]; range: DateRange }>;
}

export interface PreloadContext {
  config: FerryConfig;
  db: Pool;
  redis: Redis;
}

export interface QueuedPreload {
  runId: string;
  reused: boolean;
  /** Files in the range (market holidays have none). */
  files: number;
  /** Already ingested for every requested ticker: no request made. */
  skipped: number;
  /** File jobs in the flow (a reused run's jobs already in Redis are not added twice). */
  jobs: number;
  /** Tickers, each a Parquet file written once the files are in (an item of the run too). */
  tickers: number;
}

/** What the flow parent returns once it has finished a preload (services/download-worker/src/finish-preload.ts). */
export interface PreloadOutcome {
  files: Array<{ ticker: string; path: string; rows: number; syncJob: string }>;
  /** Tickers with no bar in any file of their range (unknown, or not listed then). */
  empty: string[];
  /** Reasons of the file jobs that failed for good. */
  failedFiles: string[];
}

/** The run item of a ticker's Parquet file; file items are object keys, which never start like this. */
export function seriesItemKey(ticker: string): string {
  return `series:${ticker}`;
}

export function isSeriesItem(itemKey: string): boolean {
  return itemKey.startsWith('series:');
}

/** The flat files' S3 client from the configuration; preloads need credentials, and say which variable is missing. */
export function flatFileS3Client(config: FerryConfig): S3Client {
  const missing = [
    config.s3.accessKeyId ? undefined : 'S3_ACCESS_KEY_ID is not set: expected the access key of the flat-file bucket',
    config.s3.secretAccessKey ? undefined : 'S3_SECRET_ACCESS_KEY is not set: expected its secret key',
  ].filter((m): m is string => m !== undefined);
  if (missing.length > 0) throw new ConfigError(missing);
  return createS3Client({
    endpoint: config.s3.endpoint,
    region: config.s3.region,
    accessKeyId: config.s3.accessKeyId!,
    secretAccessKey: config.s3.secretAccessKey!,
  });
}

/**
 * Lists the bucket for each market's range, skips files already ingested for every ticker, records the run and adds
 * one flow: a FinishPreload parent over one DownloadFlatFile child per file. Nothing is enqueued unless listing and
 * planning succeeded (wrong credentials fail here, before any job exists).
 */
export async function queuePreload(request: PreloadRequest, ctx: PreloadContext, s3: S3Client): Promise<QueuedPreload> {
  const { config, db } = ctx;
  const bucket = config.s3.bucket;
  const timeframe = timeframeFor(request.interval);
  const planned: Array<{ market: FlatFileMarket; file: PlannedFile }> = [];
  const inRange: ListedFile[] = [];
  const skippedKeys: string[] = [];
  for (const group of request.markets) {
    const listed = await listFlatFiles(s3, bucket, planPrefixes(group.market, timeframe, group.range));
    const files = filesInRange(listed, group.range);
    const plan = planDownloads(files, await ingestedFiles(db, files.map((f) => f.key)), group.tickers);
    inRange.push(...files);
    skippedKeys.push(...plan.skipped.map((f) => f.key));
    planned.push(...plan.toDownload.map((file) => ({ market: group.market, file })));
  }
  if (inRange.length === 0) {
    const where = request.markets.map((g) => `${g.market} ${g.range.start}..${g.range.end}`).join(', ');
    throw new NothingToCollectError(`no flat files in s3://${bucket} for ${where} (${timeframe})`);
  }

  const tickers = request.markets.flatMap((g) => g.tickers.map((ticker) => ({ ticker, market: g.market, ...g.range })));
  const params = { bucket, interval: request.interval, tickers: [...tickers].sort((a, b) => a.ticker.localeCompare(b.ticker)) };
  // One item per file, and one per ticker for its Parquet file: the run ends once those are written.
  const seriesKeys = tickers.map((t) => seriesItemKey(t.ticker));
  const { runId, reused } = await createOrReuseRun(db, 'flat_files', params, [...inRange.map((f) => f.key), ...seriesKeys]);
  // A resumed run's file whose ETag changed upstream since has work again, and so have its tickers' files.
  await replanItems(db, runId, { skipped: skippedKeys, queued: [...planned.map((p) => p.file.key), ...seriesKeys] });
  // File jobs go from queued to complete or failed in one commit each; the run itself is running from now.
  await markRunRunning(db, runId);

  const children: FlowChild[] = planned.map(({ market, file }) => ({
    name: JobName.DownloadFlatFile,
    data: { runId, bucket, key: file.key, etag: file.etag, size: file.size, market, interval: request.interval, tickers: file.tickers },
  }));
  const finish: FinishPreloadPayload = { runId, interval: request.interval, tickers: params.tickers };
  const producer = new JobProducer({ connection: ctx.redis, prefix: config.redis.prefix, attempts: config.jobs.attempts, retention: config.jobs.retention });
  try {
    await producer.addFlow({ name: JobName.FinishPreload, data: finish }, children);
  } finally {
    await producer.close();
  }
  return { runId, reused, files: inRange.length, skipped: skippedKeys.length, jobs: children.length, tickers: tickers.length };
}
