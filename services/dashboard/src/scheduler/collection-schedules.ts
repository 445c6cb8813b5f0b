import { type FerryConfig } from '@ferry/shared/core';
import { JobName, QueueName, type CollectionMode, type JobProducer } from '@ferry/shared/jobs';

/** The scheduled collections: fixed scheduler ids, so every replica upserting them leaves one schedule each. */
export const COLLECTION_SCHEDULERS = [
  { id: 'collection-forward', mode: 'forward', setting: 'collection', variable: 'COLLECTION_SCHEDULE' },
  { id: 'collection-gap-fill', mode: 'gap_fill', setting: 'gapFill', variable: 'GAP_FILL_SCHEDULE' },
] as const satisfies ReadonlyArray<{ id: string; mode: CollectionMode; setting: 'collection' | 'gapFill'; variable: string }>;

export class ScheduleError extends Error {}

/**
 * Hash (on the schedules queue's keys) of the schedules a dashboard was started with explicitly: scheduler id -> cron
 * pattern or `off`. A removed job scheduler leaves no trace in BullMQ, so this is what tells "turned off" from "never
 * created" to a dashboard that starts later without the setting.
 */
const EXPLICIT_SCHEDULES_KEY = 'ferry-explicit-schedules';

const shown = (pattern: string | null | undefined) => (pattern == null ? 'off' : JSON.stringify(pattern));

/**
 * Brings the shared schedules in line with this dashboard's settings, by one rule, so that several dashboards do not
 * undo each other according to which started last:
 *  - a setting given explicitly (COLLECTION_SCHEDULE=..., `off` included) is applied and remembered: the operator
 *    asked for it. Replacing a different stored schedule is reported, naming both.
 *  - a setting left to its default changes nothing that is stored: it follows what a dashboard set explicitly
 *    (`off` stays off), or the schedule already there; only when there is neither is the default created. A default
 *    that disagrees with what is kept is reported, naming both.
 * Returns those reports, for the caller to log as warnings.
 */
export async function upsertCollectionSchedules(producer: JobProducer, config: FerryConfig): Promise<string[]> {
  const notices: string[] = [];
  const queue = producer.queue(QueueName.Schedules);
  const client = await queue.client;
  const explicitKey = queue.toKey(EXPLICIT_SCHEDULES_KEY);
  for (const scheduler of COLLECTION_SCHEDULERS) {
    const configured = config.schedules[scheduler.setting];
    const stored = (await queue.getJobScheduler(scheduler.id))?.pattern ?? null;
    let wanted: string | null;
    if (config.schedules.explicit[scheduler.setting]) {
      wanted = configured;
      // Stored null is "off" only when a dashboard turned it off; otherwise there was nothing to replace.
      if (stored !== wanted && (stored !== null || (await client.hget(explicitKey, scheduler.id)) === 'off')) {
        notices.push(`${scheduler.variable}=${shown(wanted)} replaces the shared schedule ${shown(stored)} (set by another dashboard or an earlier start)`);
      }
      await client.hset(explicitKey, { [scheduler.id]: wanted ?? 'off' });
    } else {
      const remembered = await client.hget(explicitKey, scheduler.id);
      wanted = remembered === null ? (stored ?? configured) : remembered === 'off' ? null : remembered;
      if (wanted !== configured) {
        notices.push(`${scheduler.variable} is not set here (default ${shown(configured)}): keeping the shared schedule ${shown(wanted)}; ` +
          `set ${scheduler.variable} to change it`);
      }
    }
    try {
      await producer.schedule(scheduler.id, wanted === null ? null : { pattern: wanted, tz: 'UTC' }, JobName.ScheduledCollection, { mode: scheduler.mode });
    } catch (err) {
      throw new ScheduleError(`${scheduler.variable} ${JSON.stringify(wanted)}: BullMQ refused the schedule: ${String(err)}`, { cause: err });
    }
  }
  return notices;
}
