import { UnrecoverableError } from 'bullmq';
import { NothingToCollectError } from '@ferry/shared/collect';
import { JobName, startWorkers, type FeatureDeps, type RunningWorkers, type WorkerDeps, type WorkerFeature } from '@ferry/shared/jobs';
import { pruneFinishedRuns } from '@ferry/shared/runs';
import { queueCollectionIfIdle } from '../admin/queue-collection-if-idle.js';
import { parseTriggerBody } from '../admin/trigger-body.js';

export interface PruneRunsResult {
  pruned: number;
  finishedBefore: string;
}

export interface ScheduledCollectionResult {
  runId?: string;
  jobs?: number;
  skipped?: string;
}

/**
 * Turns each scheduled job into a collection, the same way a trigger does. A schedule firing while a run is in
 * progress is skipped, not queued behind it: the next firing picks up where that run ends. Also deletes the runs
 * that finished longer than RUN_RETENTION ago.
 */
export function scheduleFeature(deps: FeatureDeps): WorkerFeature {
  const { config, logger } = deps;
  return {
    handlers: {
      [JobName.PruneRuns]: {
        async run(): Promise<PruneRunsResult> {
          const finishedBefore = new Date(Date.now() - config.runs.retentionMs);
          const pruned = await pruneFinishedRuns(deps.db, finishedBefore);
          if (pruned > 0) logger.info({ pruned, finishedBefore }, 'deleted runs older than RUN_RETENTION');
          return { pruned, finishedBefore: finishedBefore.toISOString() };
        },
      },
      [JobName.ScheduledCollection]: {
        async run({ mode, includeDelisted }): Promise<ScheduledCollectionResult> {
          // Checked again here: the worker's settings, not the dashboard's that made the schedule, must use the archive.
          const parsed = parseTriggerBody({ mode, ...(includeDelisted ? { include_delisted: true } : {}) }, config);
          if (!parsed.ok) throw new UnrecoverableError(parsed.problems.map((p) => `${p.field}: ${p.message}`).join('; '));
          try {
            const outcome = await queueCollectionIfIdle(parsed.request, deps);
            if ('locked' in outcome) {
              logger.info({ mode }, 'scheduled collection skipped: a collection is being queued right now');
              return { skipped: 'a collection was being queued' };
            }
            if ('busy' in outcome) {
              logger.info({ runId: outcome.busy.id, mode }, 'scheduled collection skipped: a run is in progress');
              return { skipped: `run ${outcome.busy.id} is ${outcome.busy.status}` };
            }
            const { queued } = outcome;
            logger.info({ runId: queued.runId, mode, jobs: queued.jobs }, 'scheduled collection queued');
            return { runId: queued.runId, jobs: queued.jobs };
          } catch (err) {
            if (err instanceof NothingToCollectError) return { skipped: err.message };
            throw err;
          }
        },
      },
    },
  };
}

export function startScheduleWorker(deps: WorkerDeps): Promise<RunningWorkers> {
  return startWorkers(deps, [scheduleFeature]);
}
