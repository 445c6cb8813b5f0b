import { errorMessage, RateLimitedError } from '../core/errors.js';
import { type Logger } from '../core/logger.js';
import { QueueName } from '../jobs/names.js';
import { bytesSynced, filesSynced, rateLimitPauses } from '../metrics/ferry-metrics.js';
import { forgetFileSyncs, recordFileSyncs } from '../postgres/file-sync-store.js';
import { type Pool } from '../postgres/pool.js';
import { replaceEarlierRemoteRenders } from './replace-remote-renders.js';
import { type SyncTarget } from './sync-target.js';
import { uploadIfChanged, type FileToSync, type SyncOutcome } from './upload-if-changed.js';

/** One file on its way to the target, from a sync-file job or a directory sync. */
export interface BatchItem extends FileToSync {
  relativePath: string;
  runId?: string;
}

/**
 * What the batcher does with a batch: mark the files pending, sync them (skip identical, upload the rest with one
 * commit), record each success, and delete the earlier renders of the series just committed from the target. Failures are recorded by the job that owns the file, which knows whether it will
 * be retried.
 */
export function syncBatch(deps: {
  db: Pool;
  target: SyncTarget;
  logger: Logger;
  /** How long the sync queue is still paused (another worker met a 429 after these jobs were taken); 0 = not paused. */
  pausedForMs?: () => Promise<number>;
}): (items: BatchItem[]) => Promise<SyncOutcome[]> {
  const targetName = deps.target.description;
  return async (items) => {
    const pausedMs = (await deps.pausedForMs?.()) ?? 0;
    if (pausedMs > 0) {
      // Jobs taken before the pause go back to the queue untouched instead of meeting Dropbox's limit again.
      const error = new RateLimitedError(`not sent: the sync queue is paused for ${pausedMs} ms more`, pausedMs);
      return items.map((item) => ({ key: item.key, status: 'failed' as const, error }));
    }
    const started = Date.now();
    await recordFileSyncs(deps.db, items.map((i) => ({
      target: targetName, key: i.key, relativePath: i.relativePath, status: 'pending' as const, runId: i.runId,
    })));
    // A file can be in a batch twice (its chained job and a directory sync): it goes up once.
    const unique = [...new Map(items.map((i) => [i.key, i])).values()];
    const byKey = new Map((await uploadIfChanged(deps.target, unique)).map((o) => [o.key, o]));
    for (const o of byKey.values()) {
      if (o.status === 'failed') continue;
      filesSynced.inc({ target: deps.target.kind, status: o.status });
      bytesSynced.inc({ target: deps.target.kind }, o.sentBytes);
    }
    // One 429 fails every file of the batch, and each file's job pauses the queue again: count the answer, not the jobs.
    if ([...byKey.values()].some((o) => o.status === 'failed' && o.error instanceof RateLimitedError)) {
      rateLimitPauses.inc({ queue: QueueName.Sync, kind: 'rate-limited' });
    }
    const outcomes = items.map((i) => byKey.get(i.key)!);
    await recordFileSyncs(deps.db, outcomes.flatMap((o, index) => {
      const item = items[index]!;
      if (o.status === 'failed') return [];
      return [{
        target: targetName, key: o.key, relativePath: item.relativePath, status: o.status, size: o.size,
        contentHash: o.contentHash, mtimeMs: o.mtimeMs, reason: null, runId: item.runId,
      }];
    }));
    const committed = outcomes.flatMap((o, index) => (o.status === 'failed' ? [] : [items[index]!.relativePath]));
    const replaced = await replaceEarlierRemoteRenders(deps.target, committed, new Date());
    await forgetFileSyncs(deps.db, targetName, replaced.deleted);
    if (replaced.failed.length > 0) {
      // The current files are in place; the next commit of these series deletes what is left.
      deps.logger.warn({ failed: replaced.failed.length, first: `${replaced.failed[0]!.key}: ${errorMessage(replaced.failed[0]!.error)}` },
        'earlier renders not deleted from the target');
    }
    const count = (status: SyncOutcome['status']) => outcomes.filter((o) => o.status === status).length;
    const firstFailure = outcomes.find((o) => o.status === 'failed');
    deps.logger.info({
      files: items.length, uploaded: count('uploaded'), identical: count('skipped-identical'), failed: count('failed'),
      replaced: replaced.deleted.length,
      sentBytes: outcomes.reduce((n, o) => n + (o.status === 'failed' ? 0 : o.sentBytes), 0), ms: Date.now() - started,
      ...(firstFailure?.status === 'failed' ? { firstFailure: errorMessage(firstFailure.error) } : {}),
    }, 'batch synced');
    return outcomes;
  };
}
