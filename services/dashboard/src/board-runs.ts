import { Job, type Queue } from 'bullmq';
import type { NextFunction, Request, Response } from 'express';
import { candleItemKey } from '@ferry/shared/collect';
import { JobName, parsePayload, QueueName } from '@ferry/shared/jobs';
import type { Pool } from '@ferry/shared/postgres';
import { failUnfinishedItems, finishItem, runInProgress, type RunKind } from '@ferry/shared/runs';
import { errorAnswer, send } from './http-answer.js';

/**
 * What Bull Board's console actions do to ferry's run records (the table is in the README's Dashboard section).
 * Retry, promote, pause and resume need nothing here: a job that runs again reopens its run (the run store's one
 * status rule). Cleaning completed or failed jobs only drops Redis history; runs keep their records in PostgreSQL.
 * What would drop queued work of a run is either recorded (removing one job: its item fails, and the run closes
 * when that was its last unfinished item) or refused with 409 (dropping many queued jobs at once).
 */

/** Why an item ended when its job was removed from the console (what `ferry status` shows). */
export const REMOVED_FROM_CONSOLE = 'removed from the console (Bull Board) before it ran';

/** The kind of run whose jobs a queue holds; queues without runs (sync, schedules) are absent. */
const RUN_KIND_OF_QUEUE: Partial<Record<string, RunKind>> = {
  [QueueName.Candles]: 'candles',
  [QueueName.FlatFiles]: 'flat_files',
  [QueueName.Preloads]: 'flat_files',
};

/** Job states whose jobs have not ended: removing them would leave their run items queued forever. */
const UNFINISHED_STATES = new Set(['waiting', 'wait', 'delayed', 'prioritized', 'paused', 'waiting-children']);
/** Job states that are history only: their items already hold their outcome in PostgreSQL. */
const HISTORY_STATES = new Set(['completed', 'failed']);

// Bull Board's API routes, as seen under the mount point /admin/queues/api.
const REMOVE_JOB = /^\/queues\/([^/]+)\/([^/]+)\/clean\/?$/;
const CLEAN_STATE = /^\/queues\/([^/]+)\/clean\/([^/]+)\/?$/;
const DROP_QUEUED = /^\/queues\/([^/]+)\/(empty|obliterate)\/?$/;
const REMOVE_CHILDREN = /^\/queues\/([^/]+)\/([^/]+)\/remove-unprocessed-children\/?$/;

/** Records the end of a job's run items when the job is removed before it ran. */
async function recordRemoval(db: Pool, job: Job): Promise<void> {
  switch (job.name) {
    case JobName.CollectCandles: {
      const payload = parsePayload(JobName.CollectCandles, job.data);
      await finishItem(db, payload.runId, candleItemKey(payload), { status: 'failed', error: REMOVED_FROM_CONSOLE });
      return;
    }
    case JobName.DownloadFlatFile: {
      // The flow parent no longer waits for it (BullMQ drops the dependency) and finishes the preload without it.
      const payload = parsePayload(JobName.DownloadFlatFile, job.data);
      await finishItem(db, payload.runId, payload.key, { status: 'failed', error: REMOVED_FROM_CONSOLE });
      return;
    }
    case JobName.FinishPreload: {
      // BullMQ removes the parent with its unfinished children: nothing of the run will happen any more.
      const payload = parsePayload(JobName.FinishPreload, job.data);
      await failUnfinishedItems(db, payload.runId, '', REMOVED_FROM_CONSOLE);
      return;
    }
  }
}

/**
 * Mounted on Bull Board's API after authentication (writes are admins' only by then). Removing one unfinished job
 * records its item as failed first, so a removal that BullMQ then refuses (the job just became active) heals itself:
 * the job's run reopens when it runs. Bulk drops of queued jobs are refused while a run of that queue is unfinished.
 */
export function boardRunRecords(deps: { db: Pool; queues: readonly Queue[] }): (req: Request, res: Response, next: NextFunction) => void {
  const queueNamed = (name: string) => deps.queues.find((q) => q.name === decodeURIComponent(name));
  const refuseWhileRunning = async (res: Response, queueName: string, action: string, next: NextFunction) => {
    const kind = RUN_KIND_OF_QUEUE[decodeURIComponent(queueName)];
    const running = kind && await runInProgress(deps.db, kind);
    if (!running) return next();
    send(res, errorAnswer(409, `${action} would drop queued jobs of run ${running.id}, which is ${running.status}: it would wait for them forever. ` +
      'Remove its jobs one by one (each is recorded as failed, and the run closes) or let the run end first.'));
  };

  return (req, res, next) => {
    if (req.method !== 'PUT') return next();
    void (async () => {
      const removeJob = REMOVE_JOB.exec(req.path);
      // Bull Board's router declares clean/:queueStatus first: `/clean/clean` cleans a state, it removes no job.
      if (removeJob && removeJob[2] !== 'clean') {
        const queue = queueNamed(removeJob[1]!);
        const job = queue && RUN_KIND_OF_QUEUE[queue.name] ? await Job.fromId(queue, decodeURIComponent(removeJob[2]!)) : undefined;
        if (job && UNFINISHED_STATES.has(await job.getState())) await recordRemoval(deps.db, job);
        return next();
      }
      const clean = CLEAN_STATE.exec(req.path);
      if (clean) {
        if (HISTORY_STATES.has(clean[2]!)) return next();
        return refuseWhileRunning(res, clean[1]!, `cleaning the ${clean[2]} jobs of ${clean[1]}`, next);
      }
      const drop = DROP_QUEUED.exec(req.path);
      if (drop) return refuseWhileRunning(res, drop[1]!, `${drop[2] === 'empty' ? 'emptying' : 'obliterating'} ${drop[1]}`, next);
      const children = REMOVE_CHILDREN.exec(req.path);
      if (children) return refuseWhileRunning(res, children[1]!, `removing the unprocessed children of ${children[2]}`, next);
      next();
    })().catch(next);
  };
}
