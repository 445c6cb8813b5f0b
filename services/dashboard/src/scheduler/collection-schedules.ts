import { type FerryConfig } from '@ferry/shared/core';
import { JobName, type CollectionMode, type JobProducer } from '@ferry/shared/jobs';

/** The scheduled collections: fixed scheduler ids, so every replica upserting them leaves one schedule each. */
export const COLLECTION_SCHEDULERS = [
  { id: 'collection-forward', mode: 'forward', pattern: (c: FerryConfig) => c.schedules.collection, variable: 'COLLECTION_SCHEDULE' },
  { id: 'collection-gap-fill', mode: 'gap_fill', pattern: (c: FerryConfig) => c.schedules.gapFill, variable: 'GAP_FILL_SCHEDULE' },
] as const satisfies ReadonlyArray<{ id: string; mode: CollectionMode; pattern: (c: FerryConfig) => string | null; variable: string }>;

export class ScheduleError extends Error {}

/** Upserts each enabled schedule (UTC cron) on the schedules queue and removes disabled ones. */
export async function upsertCollectionSchedules(producer: JobProducer, config: FerryConfig): Promise<void> {
  for (const scheduler of COLLECTION_SCHEDULERS) {
    const pattern = scheduler.pattern(config);
    try {
      await producer.schedule(scheduler.id, pattern === null ? null : { pattern, tz: 'UTC' }, JobName.ScheduledCollection, { mode: scheduler.mode });
    } catch (err) {
      throw new ScheduleError(`${scheduler.variable} ${JSON.stringify(pattern)}: BullMQ refused the schedule: ${String(err)}`, { cause: err });
    }
  }
}
