import { z } from 'zod';
import { PermanentError } from '../core/errors.js';
import { JobName } from './names.js';
import { TIMEFRAME_NAMES } from '../core/timeframes.js';

/**
 * Typed job payloads. Job data is `unknown` until parsed here: it may have been written by out-of-date code or by
 * hand into Redis. A payload that does not parse is a permanent failure of that job alone.
 */

export const COLLECTION_MODES = ['backward', 'forward', 'gap_fill'] as const;
export type CollectionMode = (typeof COLLECTION_MODES)[number];

const epochMs = z.number().int().nonnegative();

export const collectCandlesPayload = z
  .object({
    runId: z.uuid(),
    exchange: z.string().max(40).regex(/^[a-z0-9]+$/),
    /** Unified ccxt symbol, e.g. BTC/USDT. */
    symbol: z.string().max(40).regex(/^[A-Z0-9]+\/[A-Z0-9]+$/),
    timeframe: z.enum(TIMEFRAME_NAMES as [string, ...string[]]),
    mode: z.enum(COLLECTION_MODES),
    /** First candle wanted (inclusive). */
    startMs: epochMs,
    /** End of the range (exclusive); null = up to the last closed candle when the job runs. */
    endMs: epochMs.nullable(),
    /**
     * Set for a coin the exchange no longer trades (`collect --include-delisted`): its history is the archive's files
     * alone, and REST, which serves none of it (delisted) or none after its halt (BREAK), is never asked. As listed when the run was queued: `covered`, the span
     * its files cover inside the range (null: none), and `archiveEndMs`, where its files end (null: it has none).
     */
    archiveOnly: z.object({
      covered: z.object({ start: epochMs, end: epochMs }).strict().nullable(),
      archiveEndMs: epochMs.nullable(),
    }).strict().optional(),
  })
  .strict()
  .refine((p) => p.endMs === null || p.endMs > p.startMs, { message: 'endMs must be after startMs', path: ['endMs'] });
export type CollectCandlesPayload = z.infer<typeof collectCandlesPayload>;

/** How a synced file can be rendered again from PostgreSQL, on a host that does not have it on disk. */
export const fileSource = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('candles'),
      exchange: z.string().min(1).max(40),
      symbol: z.string().min(1).max(40),
      timeframe: z.enum(TIMEFRAME_NAMES as [string, ...string[]]),
      startMs: epochMs,
      endMs: epochMs,
    })
    .strict(),
  z
    .object({
      kind: z.literal('bars'),
      source: z.string().min(1).max(40),
      ticker: z.string().min(1).max(40),
      timeframe: z.string().min(1).max(10),
      startMs: epochMs,
      endMs: epochMs,
    })
    .strict(),
]);
export type FileSource = z.infer<typeof fileSource>;

export const syncFilePayload = z
  .object({
    /** Path under DATA_DIR with forward slashes, e.g. `candles/BTC/BTC-USDT_1d_20221112_20251111.parquet`. */
    relativePath: z
      .string()
      .max(512)
      .regex(/^[A-Za-z0-9._/-]+$/)
      .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), 'must be a relative path without ..'),
    source: fileSource,
    runId: z.uuid().optional(),
    /**
     * The file as it was written: the sync worker trusts this hash while the file's size and mtime are unchanged, so
     * a file is hashed once, as it is written. Absent in jobs queued by older code: then the file is hashed.
     */
    file: z
      .object({ size: z.number().int().nonnegative(), mtimeMs: epochMs, contentHash: z.string().regex(/^[0-9a-f]{64}$/) })
      .strict()
      .optional(),
  })
  .strict();
export type SyncFilePayload = z.infer<typeof syncFilePayload>;

/** The scheduled directory syncs, one job scheduler each (rules and intervals: sync/directory-rules.ts). */
export const SYNC_RULE_NAMES = ['learning', 'logs', 'models', 'candles'] as const;
export type SyncRuleName = (typeof SYNC_RULE_NAMES)[number];

export const syncDirectoryPayload = z.object({ rule: z.enum(SYNC_RULE_NAMES) }).strict();
export type SyncDirectoryPayload = z.infer<typeof syncDirectoryPayload>;

const FLAT_FILE_MARKETS = ['us_stocks_sip', 'global_crypto'] as const;
const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD');
/** Flat-file tickers as the files spell them, lower-case letters included: `TSLA`, `BRK.B`, `ABRpD`, `X:BTCUSD`. */
const flatFileTicker = z.string().regex(/^(X:)?[A-Za-z0-9][A-Za-z0-9.]{0,15}$/, 'expected a ticker such as TSLA, ABRpD or X:BTCUSD');

/** One S3 flat file of a preload run: download (or read from the cache), verify, keep the rows of `tickers`. */
export const downloadFlatFilePayload = z
  .object({
    runId: z.uuid(),
    bucket: z.string().min(3).max(63),
    key: z
      .string()
      .max(1024)
      .regex(/^[A-Za-z0-9._/-]+\.csv\.gz$/, 'expected an object key ending in .csv.gz')
      .refine((k) => !k.startsWith('/') && !k.split('/').includes('..'), 'must not start with / or contain ..'),
    /** The ETag and size the listing gave: what the download is verified against. */
    etag: z.string().regex(/^[0-9a-f]{32}(-\d+)?$/i, 'expected an S3 ETag (hex MD5, or MD5-parts for multipart)'),
    size: z.number().int().nonnegative(),
    market: z.enum(FLAT_FILE_MARKETS),
    interval: z.enum(['1d', '1m']),
    tickers: z.array(flatFileTicker).min(1).max(1000),
  })
  .strict();
export type DownloadFlatFilePayload = z.infer<typeof downloadFlatFilePayload>;

/** The flow parent of a preload run: once every file is in, one Parquet file per ticker, each with a sync job. */
export const finishPreloadPayload = z
  .object({
    runId: z.uuid(),
    /** Set when a file retried from the console finishes the run again after its first finish (another job id). */
    round: z.number().int().positive().optional(),
    interval: z.enum(['1d', '1m']),
    /** Each ticker with the days it was requested for (inclusive; the default period depends on the market). */
    tickers: z
      .array(z.object({ ticker: flatFileTicker, market: z.enum(FLAT_FILE_MARKETS), start: isoDay, end: isoDay }).strict())
      .min(1)
      .max(1000),
  })
  .strict();
export type FinishPreloadPayload = z.infer<typeof finishPreloadPayload>;

/**
 * One file of Binance's public archive for one coin and timeframe: download, verify against its CHECKSUM, ingest its
 * rows in place of what PostgreSQL held for its period. A child of the coin's collect-candles job.
 */
export const ingestArchiveFilePayload = z
  .object({
    runId: z.uuid(),
    exchange: z.literal('binance'),
    symbol: z.string().max(40).regex(/^[A-Z0-9]+\/[A-Z0-9]+$/),
    timeframe: z.enum(TIMEFRAME_NAMES as [string, ...string[]]),
    /** The zip's key in the bucket, e.g. `data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01.zip`. */
    key: z.string().max(200).regex(/^data\/spot\/(monthly|daily)\/klines\/[A-Z0-9]+\/[0-9a-z]+\/[A-Z0-9]+-[0-9a-z]+-\d{4}-\d{2}(-\d{2})?\.zip$/,
      'expected a data.binance.vision klines zip key'),
    /** The period the file covers: [startMs, endMs) of open times. */
    startMs: epochMs,
    endMs: epochMs,
    /** The ETag the listing gave: names the publication (a re-published file has a new one). */
    etag: z.string().min(1).max(100),
  })
  .strict()
  .refine((p) => p.endMs > p.startMs, { message: 'endMs must be after startMs', path: ['endMs'] });
export type IngestArchiveFilePayload = z.infer<typeof ingestArchiveFilePayload>;

/** Payload schema per job name; later job kinds add theirs here. */
/**
 * A scheduled collection: which mode, and whether it takes the coins the exchange no longer trades (from the
 * archive: source auto); everything else is the defaults of `ferry collect`.
 */
export const scheduledCollectionPayload = z.object({ mode: z.enum(COLLECTION_MODES), includeDelisted: z.boolean().optional() }).strict();
export type ScheduledCollectionPayload = z.infer<typeof scheduledCollectionPayload>;

/** Pruning of finished runs: the age comes from RUN_RETENTION of the worker that runs it, not from the job. */
export const pruneRunsPayload = z.object({}).strict();
export type PruneRunsPayload = z.infer<typeof pruneRunsPayload>;

export const PAYLOAD_SCHEMAS = {
  [JobName.CollectCandles]: collectCandlesPayload,
  [JobName.ScheduledCollection]: scheduledCollectionPayload,
  [JobName.SyncFile]: syncFilePayload,
  [JobName.SyncDirectory]: syncDirectoryPayload,
  [JobName.DownloadFlatFile]: downloadFlatFilePayload,
  [JobName.IngestArchiveFile]: ingestArchiveFilePayload,
  [JobName.FinishPreload]: finishPreloadPayload,
  [JobName.PruneRuns]: pruneRunsPayload,
} as const;
export type PayloadJobName = keyof typeof PAYLOAD_SCHEMAS;
export type PayloadOf<N extends PayloadJobName> = z.infer<(typeof PAYLOAD_SCHEMAS)[N]>;

export class InvalidPayloadError extends PermanentError {}

/** Parses a job's data; the error names the job, each bad field and what was expected. */
export function parsePayload<N extends PayloadJobName>(name: N, data: unknown): PayloadOf<N> {
  const result = PAYLOAD_SCHEMAS[name].safeParse(data);
  if (result.success) return result.data as PayloadOf<N>;
  const fields = result.error.issues
    .map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`)
    .join('; ');
  throw new InvalidPayloadError(`invalid ${name} payload: ${fields}`);
}
