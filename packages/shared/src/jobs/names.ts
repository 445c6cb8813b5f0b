/**
 * Glossary
 *  - queue:  a BullMQ queue in Redis; one per kind of work, so each can be paused and rate-limited on its own.
 *  - job:    one unit of work on a queue: one coin x timeframe, one S3 file, one file to back up.
 *  - run:    one collection request (a `ferry collect` or a trigger); a row in `collection_runs`; its jobs carry its id.
 *  - worker: a process consuming one or more queues with some concurrency.
 */
export const QueueName = {
  /** One job per coin and timeframe: download candles, store, write Parquet. */
  Candles: 'candles',
  /** One job per S3 flat file. */
  FlatFiles: 'flat-files',
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
  [JobName.FinishPreload]: QueueName.Preloads,
  [JobName.SyncFile]: QueueName.Sync,
  [JobName.SyncDirectory]: QueueName.Sync,
  [JobName.ScheduledCollection]: QueueName.Schedules,
  [JobName.PruneRuns]: QueueName.Schedules,
};
