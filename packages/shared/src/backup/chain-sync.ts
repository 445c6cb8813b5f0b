import { Job } from 'bullmq';
import type { FerryConfig } from '../core/config/config.js';
import { JobName, QueueName } from '../jobs/names.js';
import type { SyncFilePayload } from '../jobs/payloads.js';
import type { JobProducer } from '../jobs/producer.js';
import { recordFileSyncs, unchangedSinceLastSync } from '../postgres/file-sync-store.js';
import type { Pool } from '../postgres/pool.js';
import { syncTargetDescription } from './create-sync-target.js';
import { remoteKeyFor } from './remote-layout.js';

/**
 * Chains the backup of a file that was just written, and records it as pending on the configured target first, so
 * that `ferry status` and the admin API count it from the moment it is chained, not only once a sync worker takes it.
 * Returns the sync job's id.
 */
export async function chainFileSync(deps: { producer: JobProducer; db: Pool; sync: FerryConfig['sync'] }, payload: SyncFilePayload): Promise<string> {
  const target = syncTargetDescription(deps.sync);
  const id = deps.producer.optionsFor(JobName.SyncFile, payload).jobId!;
  // The same bytes chained again (a retried job) is the job already there: when it has finished, its outcome is
  // recorded and stays, since it will not run again.
  const existing = await Job.fromId(deps.producer.queue(QueueName.Sync), id);
  const finished = existing ? ['completed', 'failed'].includes(await existing.getState()) : false;
  if (target !== undefined && !finished) {
    await recordFileSyncs(deps.db, [{
      target, key: remoteKeyFor(payload.relativePath, new Date()), relativePath: payload.relativePath, status: 'pending',
      reason: null, runId: payload.runId ?? null,
    }]);
  }
  return deps.producer.chainSync(payload);
}

/**
 * Of these files, the ones whose last sync to the configured target succeeded for exactly this size and mtime: their
 * backup is current, so nothing needs chaining for them. With no target (SYNC_TARGET=none) that is every file.
 */
export async function syncedAsTheyAre(
  deps: { db: Pool; sync: FerryConfig['sync'] },
  files: readonly { relativePath: string; size: number; mtimeMs: number }[],
): Promise<Set<string>> {
  const target = syncTargetDescription(deps.sync);
  if (target === undefined) return new Set(files.map((f) => f.relativePath));
  const now = new Date();
  const pathOfKey = new Map(files.map((f) => [remoteKeyFor(f.relativePath, now), f.relativePath]));
  const keys = await unchangedSinceLastSync(deps.db, target, files.map((f) => ({ key: remoteKeyFor(f.relativePath, now), size: f.size, mtimeMs: f.mtimeMs })));
  return new Set([...keys].map((k) => pathOfKey.get(k)!));
}
