import type { Queue } from 'bullmq';
import { type FerryConfig } from '@ferry/shared/core';
import { JobName, jobOptions, type CollectionMode, type ScheduledCollectionPayload } from '@ferry/shared/jobs';

/** The scheduled collections: fixed scheduler ids, so every replica upserting them leaves one schedule each. */
export const COLLECTION_SCHEDULERS = [
  { id: 'collection-forward', mode: 'forward', pattern: (c: FerryConfig) => c.schedules.collection, variable: 'COLLECTION_SCHEDULE' },
  { id: 'collection-gap-fill', mode: 'gap_fill', pattern: (c: FerryConfig) => c.schedules.gapFill, variable: 'GAP_FILL_SCHEDULE' },
] as const satisfies ReadonlyArray<{ id: string; mode: CollectionMode; pattern: (c: FerryConfig) => string | null; variable: string }>;

export class ScheduleError extends Error {}

/** Upserts each enabled schedule (UTC cron) on the schedules queue and removes disabled ones. */
export async function upsertCollectionSchedules(queue: Queue, config: FerryConfig): Promise<void> {
  for (const scheduler of COLLECTION_SCHEDULERS) {
    const pattern = scheduler.pattern(config);
    if (pattern === null) {
      await queue.removeJobScheduler(scheduler.id);
      continue;
    }
    const data: ScheduledCollectionPayload = { mode: scheduler.mode };
    const { removeOnComplete: _complete, removeOnFail: _fail, ...retries } = jobOptions(config.download.attempts);
    try {
      await queue.upsertJobScheduler(scheduler.id, { pattern, tz: 'UTC' }, {
        name: JobName.ScheduledCollection,
        data,
        // Keep the recent runs for Bull Board, not every one since the start.
        opts: { ...retries, removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } },
      });
    } catch (err) {
      throw new ScheduleError(`${scheduler.variable} ${JSON.stringify(pattern)}: BullMQ refused the schedule: ${String(err)}`, { cause: err });
    }
  }
}
