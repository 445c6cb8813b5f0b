import { MANUAL_RATE_LIMIT_ENABLER } from '../jobs/failures.js';
import { JobName, QueueName } from '../jobs/names.js';
import type { FeatureDeps, WorkerFeature } from '../jobs/workers.js';
import { forgetFileSyncs, recordFileSyncs } from '../postgres/file-sync-store.js';
import { localFileForSync } from '../series-files/render-missing-file.js';
import { describeSyncRules, directorySyncRules, syncSchedulerId, type DirectorySyncRule } from './directory-rules.js';
import { syncDirectories, type DirectorySyncResult } from './directory-sync.js';
import { remoteKeyFor } from './remote-layout.js';
import { syncBatch, type BatchItem } from './sync-batch.js';
import type { SyncTarget } from './sync-target.js';
import { UploadBatcher } from './upload-batcher.js';
import type { SyncOutcome } from './upload-if-changed.js';

/** What a sync job returns (Bull Board shows it). */
export type SyncJobResult =
  | { status: 'uploaded' | 'skipped-identical'; target: string; key: string; relativePath: string; size: number; contentHash: string; sentBytes: number; rendered: boolean }
  | { status: 'not-synced'; reason: string }
  /** The file was replaced by a newer render of its series before the job ran: nothing uploaded, nothing rendered. */
  | { status: 'superseded'; relativePath: string; supersededBy: string; reason: string }
  | ({ status: 'synced-directory'; rule: string; target: string } & Omit<DirectorySyncResult, 'rateLimited'>);

export interface BackupFeatureOptions {
  target: SyncTarget;
  /** Upsert the directory-sync job schedulers at start. Default true. */
  schedules?: boolean;
}

/**
 * The sync handlers: sync-file (chained by the download workers, one per written file) and sync-directory (from the
 * job schedulers). Files of all jobs meet in one batcher, so many small files become one commit. A 429 pauses the
 * whole queue (every sync worker, every host); other failures retry or, when permanent, fail that job alone with its
 * reason, recorded in file_syncs.
 */
export async function backupFeature(deps: FeatureDeps, options: BackupFeatureOptions): Promise<WorkerFeature> {
  const { config, logger, db, producer } = deps;
  const { target } = options;
  const rules = directorySyncRules(config.sync.every);
  const targetName = target.description;
  const syncQueue = producer.queue(QueueName.Sync);
  const batcher = new UploadBatcher<BatchItem, SyncOutcome>({
    maxItems: config.sync.batchFiles,
    maxWaitMs: config.sync.batchWaitMs,
    // With the limiter's max, only a manual rateLimit (a 429 somewhere) counts as a pause, not jobs counted against
    // the never-reached limiter.
    flush: syncBatch({ db, target, logger, pausedForMs: () => syncQueue.getRateLimitTtl(MANUAL_RATE_LIMIT_ENABLER.max) }),
  });

  if (options.schedules !== false) await scheduleDirectorySyncs(deps, rules, target.kind !== 'none');
  if (target.kind === 'none') logger.warn('SYNC_TARGET is none: nothing is backed up; sync jobs complete without uploading');
  logger.info(
    {
      target: targetName, batchFiles: config.sync.batchFiles, batchWaitMs: config.sync.batchWaitMs,
      chunkMiB: config.sync.dropbox.chunkBytes / (1024 * 1024), rules: describeSyncRules(rules),
    },
    `sync worker started: target ${targetName}; schedules: ${target.kind === 'none' ? 'none' : describeSyncRules(rules)}`,
  );

  /** The remote key a file job's record is kept under (dated folders are dated by the day of the attempt). */
  const keyOf = (relativePath: string) => remoteKeyFor(relativePath, new Date());

  return {
    handlers: {
      [JobName.SyncFile]: {
        async run(payload, ctx): Promise<SyncJobResult> {
          if (target.kind === 'none') return { status: 'not-synced', reason: 'SYNC_TARGET is none' };
          const key = keyOf(payload.relativePath);
          const local = await localFileForSync(payload, { db, dataDir: config.dataDir });
          if (local.status === 'superseded') {
            ctx.log(local.reason);
            // It was counted as pending when it was chained; the newer render has its own job and record.
            await forgetFileSyncs(db, targetName, [key]);
            return { status: 'superseded', relativePath: payload.relativePath, supersededBy: local.supersededBy, reason: local.reason };
          }
          if (local.rendered) ctx.log(`${payload.relativePath} was not on this host's disk: rendered it from PostgreSQL`);
          const outcome = await batcher.add({
            localPath: local.localPath,
            key,
            relativePath: payload.relativePath,
            runId: payload.runId,
            known: local.facts,
            onProgress: (sentBytes, totalBytes) => ctx.progress(
              { sentBytes, totalBytes, percent: totalBytes ? Math.round((sentBytes / totalBytes) * 1000) / 10 : 100 },
              { force: sentBytes >= totalBytes },
            ),
          });
          if (outcome.status === 'failed') throw outcome.error;
          ctx.log(`${outcome.status} ${targetName}/${key} (${outcome.size} bytes, content hash ${outcome.contentHash})`);
          return {
            status: outcome.status, target: targetName, key, relativePath: payload.relativePath, size: outcome.size,
            contentHash: outcome.contentHash, sentBytes: outcome.sentBytes, rendered: local.rendered,
          };
        },
        // For the record only: PostgreSQL may be what failed. A rate limit is a pause, not a failure of the file.
        onRetry: (payload, reason) => recordFileSyncs(db, [{
          target: targetName, key: keyOf(payload.relativePath), relativePath: payload.relativePath, status: 'pending', reason, runId: payload.runId,
        }]),
        onFinalFailure: (payload, reason) => recordFileSyncs(db, [{
          target: targetName, key: keyOf(payload.relativePath), relativePath: payload.relativePath, status: 'failed', reason, runId: payload.runId,
        }]),
      },
      [JobName.SyncDirectory]: {
        async run(payload, ctx): Promise<SyncJobResult> {
          if (target.kind === 'none') return { status: 'not-synced', reason: 'SYNC_TARGET is none' };
          const rule = rules.find((r) => r.name === payload.rule)!;
          const result = await syncDirectories(rule.directories, {
            dataDir: config.dataDir,
            db,
            targetName,
            syncedAt: new Date(),
            sync: (items) => Promise.all(items.map((item) => batcher.add(item))),
            progress: (p) => ctx.progress({ ...p, percent: p.files ? Math.round((p.done / p.files) * 1000) / 10 : 100 }, { force: p.done === p.files }),
          });
          const { rateLimited, ...counts } = result;
          if (result.failed.length > 0) {
            // The next scheduled run tries them again; until then they show as failed, with why.
            await recordFileSyncs(db, result.failed.flatMap((f) => (f.key === undefined ? [] : [{
              target: targetName, key: f.key, relativePath: f.relativePath, status: 'failed' as const, reason: f.reason,
            }])));
            ctx.log(`${result.failed.length} file(s) failed; the first: ${result.failed[0]!.relativePath}: ${result.failed[0]!.reason}`);
          }
          // The files synced so far are recorded; the rest go on the next run, after the pause.
          if (rateLimited) throw rateLimited;
          ctx.log(`${rule.name}: ${counts.files} file(s), ${counts.unchanged} unchanged, ${counts.uploaded} uploaded, ` +
            `${counts.skippedIdentical} identical on the target, ${counts.failed.length} failed`);
          return { status: 'synced-directory', rule: rule.name, target: targetName, ...counts };
        },
      },
    },
    // Jobs waiting for their batch should not wait out the batch window.
    onClosing: () => batcher.drain(),
  };
}

/**
 * Puts each enabled rule on a job scheduler and removes disabled ones (all of them when nothing is backed up).
 * Scheduler ids are fixed per rule, so every replica upserting them leaves one schedule per rule.
 */
async function scheduleDirectorySyncs(deps: FeatureDeps, rules: readonly DirectorySyncRule[], enabled: boolean): Promise<void> {
  for (const rule of rules) {
    const repeat = enabled && rule.everyMs !== null ? { every: rule.everyMs } : null;
    await deps.producer.schedule(syncSchedulerId(rule.name), repeat, JobName.SyncDirectory, { rule: rule.name });
  }
}
