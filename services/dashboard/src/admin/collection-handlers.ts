import { DelistedNeedsArchiveError, NothingToCollectError, UnlistedSymbolsError } from '@ferry/shared/collect';
import { QueueName } from '@ferry/shared/jobs';
import { latestRunId, runInProgress, runSummary } from '@ferry/shared/runs';
import type { Queue } from 'bullmq';
import { errorAnswer } from '../http-answer.js';
import type { AdminHandler } from './admin-http.js';
import { queueCollectionIfIdle } from './queue-collection-if-idle.js';
import { parseTriggerBody } from './trigger-body.js';

const STATUS_ENDPOINT = '/api/admin/collect/status';

/**
 * Whether the scheduler is paused, and when the next scheduled collection fires (from the schedules queue's job
 * schedulers): null when none is scheduled or the scheduler is paused, since then nothing fires until it is resumed.
 */
export async function schedulerState(queues: readonly Queue[]): Promise<{ paused: boolean; nextRunTime: string | null }> {
  const schedules = queues.find((q) => q.name === QueueName.Schedules);
  if (!schedules) return { paused: false, nextRunTime: null };
  if (await schedules.isPaused()) return { paused: true, nextRunTime: null };
  const next = (await schedules.getJobSchedulers()).map((s) => s.next).filter((n): n is number => typeof n === 'number');
  return { paused: false, nextRunTime: next.length > 0 ? new Date(Math.min(...next)).toISOString() : null };
}

export const triggerCollection: AdminHandler = async (req, deps) => {
  const parsed = parseTriggerBody(req.body, deps.config);
  if (!parsed.ok) {
    return errorAnswer(400, parsed.problems.map((p) => `${p.field}: ${p.message}`).join('; '), parsed.problems);
  }
  try {
    const outcome = await queueCollectionIfIdle(parsed.request, deps);
    if ('locked' in outcome) return errorAnswer(409, 'another collection is being queued right now; try again in a moment');
    if ('busy' in outcome) {
      return errorAnswer(409, `collection run ${outcome.busy.id} is ${outcome.busy.status}; wait for it to finish (${STATUS_ENDPOINT})`);
    }
    const { queued } = outcome;
    deps.logger.info({ runId: queued.runId, mode: parsed.request.mode, jobs: queued.jobs }, 'collection triggered');
    return {
      status: 202,
      body: {
        success: true,
        message: `${parsed.request.mode} collection of ${queued.symbols.length} coin(s)` +
          `${parsed.request.includeDelisted ? `, ${queued.delisted.length} of them delisted,` : ''} queued (${queued.jobs} job(s))`,
        mode: parsed.request.mode,
        run_id: queued.runId,
        status_endpoint: STATUS_ENDPOINT,
      },
    };
  } catch (err) {
    if (err instanceof NothingToCollectError) return errorAnswer(422, err.message);
    if (err instanceof UnlistedSymbolsError || err instanceof DelistedNeedsArchiveError) return errorAnswer(400, err.message);
    throw err;
  }
};

export const collectionStatus: AdminHandler = async (_req, deps) => {
  const running = await runInProgress(deps.db, 'candles');
  const latestId = await latestRunId(deps.db, 'candles');
  const summary = latestId ? await runSummary(deps.db, latestId) : undefined;
  const since = running ? (running.started_at ?? running.created_at) : undefined;
  const scheduler = await schedulerState(deps.queues);
  return {
    status: 200,
    body: {
      is_running: running !== undefined,
      current_operation: running
        ? `${running.params.mode ?? 'collection'} of ${running.params.symbols?.length ?? 0} coin(s) x ${(running.params.timeframes ?? []).join(',')} (run ${running.id})`
        : null,
      status: running ? running.status : (summary?.status ?? 'idle'),
      elapsed_seconds: since ? Math.max(0, Math.round((Date.now() - since.getTime()) / 1000)) : null,
      next_run_time: scheduler.nextRunTime,
      scheduler_paused: scheduler.paused,
      last_results: summary
        ? {
            run_id: summary.run_id,
            // One item per coin and timeframe, as counted by complete/partial/failed/skipped.
            total_cryptos: summary.total,
            complete: summary.complete,
            partial: summary.partial,
            failed: summary.failed,
            skipped: summary.skipped,
            total_records: summary.total_records,
            // The coins in the order the run chose them, with the 24h volume ranked by and whether still listed.
            ranking: summary.ranking,
            details: summary.details,
          }
        : null,
    },
  };
};
