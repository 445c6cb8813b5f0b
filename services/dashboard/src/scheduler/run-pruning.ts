import { type FerryConfig } from '@ferry/shared/core';
import { JobName, type JobProducer } from '@ferry/shared/jobs';

/** Fixed scheduler id: every dashboard upserting it leaves one schedule. */
export const RUN_PRUNING_SCHEDULER = 'prune-runs';

const HOUR_MS = 3_600_000;

/**
 * How often finished runs older than RUN_RETENTION are deleted: hourly, or four times per retention when that is
 * shorter, so no run outlives its retention by more than a quarter of it.
 */
export function runPruningEveryMs(retentionMs: number): number {
  return Math.max(1_000, Math.min(HOUR_MS, Math.floor(retentionMs / 4)));
}

/** Puts the pruning of old runs on a job scheduler that the dashboard's schedule worker runs. */
export async function upsertRunPruning(producer: JobProducer, config: FerryConfig): Promise<void> {
  await producer.schedule(RUN_PRUNING_SCHEDULER, { every: runPruningEveryMs(config.runs.retentionMs) }, JobName.PruneRuns, {});
}
