import type { Queue } from 'bullmq';
import { syncSchedulerId, type DirectorySyncRule } from '@ferry/shared/backup';
import { JobName, jobOptions, type SyncDirectoryPayload } from '@ferry/shared/jobs';

/**
 * Puts each enabled rule on a BullMQ job scheduler and removes disabled ones. Scheduler ids are fixed per rule, so
 * every replica upserting them at start leaves one schedule per rule, retimed to the latest configuration.
 */
export async function upsertSyncSchedules(queue: Queue, rules: readonly DirectorySyncRule[], attempts: number): Promise<void> {
  for (const rule of rules) {
    const id = syncSchedulerId(rule.name);
    if (rule.everyMs === null) {
      await queue.removeJobScheduler(id);
      continue;
    }
    const data: SyncDirectoryPayload = { rule: rule.name };
    const { removeOnComplete: _complete, removeOnFail: _fail, ...retries } = jobOptions(attempts);
    await queue.upsertJobScheduler(id, { every: rule.everyMs }, {
      name: JobName.SyncDirectory,
      data,
      // A schedule makes a job every few minutes: keep the last ones for Bull Board, not a week of them.
      opts: { ...retries, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
    });
  }
}

/** Removes every rule's scheduler (SYNC_TARGET=none: nothing to back up). */
export async function removeSyncSchedules(queue: Queue, rules: readonly DirectorySyncRule[]): Promise<void> {
  for (const rule of rules) await queue.removeJobScheduler(syncSchedulerId(rule.name));
}
