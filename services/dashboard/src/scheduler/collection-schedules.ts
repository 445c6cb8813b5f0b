import { includeDelistedProblem } from '@ferry/shared/archive/sources';
import { type FerryConfig } from '@ferry/shared/core';
import { JobName, QueueName, type CollectionMode, type JobProducer, type ScheduledCollectionPayload } from '@ferry/shared/jobs';

/** The scheduled collections: fixed scheduler ids, so every replica upserting them leaves one schedule each. */
export const COLLECTION_SCHEDULERS = [
  { id: 'collection-forward', mode: 'forward', setting: 'collection', variable: 'COLLECTION_SCHEDULE' },
  { id: 'collection-gap-fill', mode: 'gap_fill', setting: 'gapFill', variable: 'GAP_FILL_SCHEDULE' },
] as const satisfies ReadonlyArray<{ id: string; mode: CollectionMode; setting: 'collection' | 'gapFill'; variable: string }>;

export class ScheduleError extends Error {}

/**
 * Hash (on the schedules queue's keys) of the schedule settings a dashboard was started with explicitly: scheduler id
 * -> cron pattern or `off`, and `include-delisted` -> `true` or `false`. A removed job scheduler leaves no trace in
 * BullMQ, so this is what tells "turned off" from "never created" to a dashboard that starts later without the setting.
 */
const EXPLICIT_SCHEDULES_KEY = 'ferry-explicit-schedules';
const INCLUDE_DELISTED_FIELD = 'include-delisted';

const shown = (pattern: string | null | undefined) => (pattern == null ? 'off' : JSON.stringify(pattern));

/** One setting the dashboards share, as this dashboard has it and as Redis keeps it. */
interface SharedSetting<T> {
  variable: string;
  /** What the shared value is called in a notice (`the shared schedule "0 * * * *"`). */
  sharedName: string;
  configured: T;
  explicit: boolean;
  /** What the shared schedules hold now; undefined = nothing to replace. */
  stored: T | undefined;
  /** What a dashboard last set explicitly; undefined = none did. */
  remembered: T | undefined;
  show: (value: T) => string;
}

/** The rule below for one setting: the value to apply, and the notice, if any, that it takes. */
function resolveShared<T>(s: SharedSetting<T>, notices: string[]): T {
  if (s.explicit) {
    if (s.stored !== undefined && s.stored !== s.configured) {
      notices.push(`${s.variable}=${s.show(s.configured)} replaces ${s.sharedName} ${s.show(s.stored)} (set by another dashboard or an earlier start)`);
    }
    return s.configured;
  }
  const wanted = s.remembered !== undefined ? s.remembered : s.stored !== undefined ? s.stored : s.configured;
  if (wanted !== s.configured) {
    notices.push(`${s.variable} is not set here (default ${s.show(s.configured)}): keeping ${s.sharedName} ${s.show(wanted)}; ` +
      `set ${s.variable} to change it`);
  }
  return wanted;
}

/**
 * Brings the shared schedules in line with this dashboard's settings, by one rule per setting (each schedule's
 * pattern, and SCHEDULE_INCLUDE_DELISTED for both), so that several dashboards do not undo each other according to
 * which started last:
 *  - a setting given explicitly (COLLECTION_SCHEDULE=..., `off` included) is applied and remembered: the operator
 *    asked for it. Replacing a different stored value is reported, naming both.
 *  - a setting left to its default changes nothing that is stored: it follows what a dashboard set explicitly
 *    (`off` stays off), or what the schedules already hold; only when there is neither is the default applied. A
 *    default that disagrees with what is kept is reported, naming both.
 * Returns those reports, for the caller to log as warnings. Throws ScheduleError, naming the variable, for
 * SCHEDULE_INCLUDE_DELISTED=true where this dashboard's settings cannot use the archive.
 */
export async function upsertCollectionSchedules(producer: JobProducer, config: FerryConfig): Promise<string[]> {
  const notices: string[] = [];
  const queue = producer.queue(QueueName.Schedules);
  const client = await queue.client;
  const explicitKey = queue.toKey(EXPLICIT_SCHEDULES_KEY);
  const existing = await Promise.all(COLLECTION_SCHEDULERS.map((scheduler) => queue.getJobScheduler(scheduler.id)));

  const explicitDelisted = config.schedules.explicit.includeDelisted;
  // Both schedules carry the same setting; a job scheduler made before it existed has none, which is false.
  const shared = existing.find((s) => s !== undefined);
  const rememberedDelisted = await client.hget(explicitKey, INCLUDE_DELISTED_FIELD);
  const includeDelisted = resolveShared({
    variable: 'SCHEDULE_INCLUDE_DELISTED', sharedName: 'the shared schedules\' setting', show: String,
    configured: config.schedules.includeDelisted, explicit: explicitDelisted,
    stored: shared && (shared.template?.data as Partial<ScheduledCollectionPayload> | undefined)?.includeDelisted === true,
    remembered: rememberedDelisted === null ? undefined : rememberedDelisted === 'true',
  }, notices);
  // Schedules have no source to choose: they take auto, as the admin API does with include_delisted.
  const problem = includeDelisted ? includeDelistedProblem('auto', config.exchange.id, config, null) : undefined;
  if (problem && explicitDelisted) throw new ScheduleError(`SCHEDULE_INCLUDE_DELISTED=true: ${problem}`);
  if (problem) notices.push(`SCHEDULE_INCLUDE_DELISTED: the shared schedules take delisted coins, which this dashboard cannot: ${problem}`);
  if (explicitDelisted) await client.hset(explicitKey, { [INCLUDE_DELISTED_FIELD]: String(includeDelisted) });

  for (const [i, scheduler] of COLLECTION_SCHEDULERS.entries()) {
    const remembered = await client.hget(explicitKey, scheduler.id);
    const explicit = config.schedules.explicit[scheduler.setting];
    const wanted = resolveShared<string | null>({
      variable: scheduler.variable, sharedName: 'the shared schedule', show: shown,
      configured: config.schedules[scheduler.setting], explicit,
      // No scheduler is "off" only when a dashboard turned it off; otherwise there is nothing to replace.
      stored: existing[i]?.pattern ?? (remembered === 'off' ? null : undefined),
      remembered: remembered === null ? undefined : remembered === 'off' ? null : remembered,
    }, notices);
    if (explicit) await client.hset(explicitKey, { [scheduler.id]: wanted ?? 'off' });
    const data: ScheduledCollectionPayload = { mode: scheduler.mode, ...(includeDelisted ? { includeDelisted: true } : {}) };
    try {
      await producer.schedule(scheduler.id, wanted === null ? null : { pattern: wanted, tz: 'UTC' }, JobName.ScheduledCollection, data);
    } catch (err) {
      throw new ScheduleError(`${scheduler.variable} ${JSON.stringify(wanted)}: BullMQ refused the schedule: ${String(err)}`, { cause: err });
    }
  }
  return notices;
}
