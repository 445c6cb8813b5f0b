/**
 * Glossary: one meaning each, everywhere in ferry.
 *  - run:       one request: a `ferry collect`, a `ferry preload`, an admin trigger or a scheduled collection; a row
 *               in `collection_runs` (runs/run-store.ts). Its items are what it reports on: one per coin and timeframe,
 *               per S3 file, and per flat-file ticker's Parquet file. Its jobs carry its id.
 *  - queue:     a BullMQ queue in Redis; one per kind of work, so each can be paused and rate-limited on its own.
 *  - job:       one unit of work on a queue, named by a JobName: one coin x timeframe, one S3 file, one file to back up.
 *  - handler:   what runs the jobs of one name (jobs/runtime.ts); a feature (collect, preload, backup) brings its own.
 *  - worker:    a process running some features' handlers, with some concurrency per queue.
 *  - series:    the rows of one instrument in one timeframe: an exchange pair's candles or a flat-file ticker's bars.
 *  - series file: the Parquet file rendered from a series (series-files/).
 *  - timeframe: the length of one candle or bar (1m ... 1d); a preload's `interval` (1d, 1m) names one too.
 *  - candles:   the rows of an exchange series (table `candles`); a flat-file ticker's rows are `bars`. The data folder
 *               `candles/` holds the series files of both.
 *  - source:    where a series comes from (an exchange through ccxt, a flat-file market); a sync payload's `source`
 *               says which series, and range, its file was rendered from.
 */
export const QueueName = {
  /** One job per coin and timeframe: download candles, store, write Parquet. */
  Candles: 'candles',
  /** One job per S3 flat file. */
  FlatFiles: 'flat-files',
  /** One job per file of Binance's public archive (data.binance.vision), children of a collect-candles job. */
  ArchiveFiles: 'archive-files',
  /** Parents of flat-file jobs: finish a preload once all its files are in. */
  Preloads: 'preloads',
  /** Back up a file to the sync target. */
  Sync: 'sync',
  /** Repeating jobs of the dashboard: scheduled collections and the pruning of old runs. */
  Schedules: 'schedules',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);

export const JobName = {
  CollectCandles: 'collect-candles',
  DownloadFlatFile: 'download-flat-file',
  IngestArchiveFile: 'ingest-archive-file',
  FinishPreload: 'finish-preload',
  SyncFile: 'sync-file',
  SyncDirectory: 'sync-directory',
  ScheduledCollection: 'scheduled-collection',
  PruneRuns: 'prune-runs',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

/** Which queue each job goes to; a job name without a queue is a compile error. */
export const QUEUE_OF: Record<JobName, QueueName> = {
  [JobName.CollectCandles]: QueueName.Candles,
  [JobName.DownloadFlatFile]: QueueName.FlatFiles,
  [JobName.IngestArchiveFile]: QueueName.ArchiveFiles,
  [JobName.FinishPreload]: QueueName.Preloads,
  [JobName.SyncFile]: QueueName.Sync,
  [JobName.SyncDirectory]: QueueName.Sync,
  [JobName.ScheduledCollection]: QueueName.Schedules,
  [JobName.PruneRuns]: QueueName.Schedules,
};
