import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { NothingToCollectError } from '@ferry/shared/collect';
import { type FerryConfig, type Logger } from '@ferry/shared/core';
import { ferryWorkerOptions, JobName, logWorkerEvents, parsePayload, QueueName } from '@ferry/shared/jobs';
import { type Pool } from '@ferry/shared/postgres';
import { queueCollectionIfIdle } from '../admin/queue-collection-if-idle.js';
import { parseTriggerBody } from '../admin/trigger-body.js';

export interface ScheduledCollectionResult {
  runId?: string;
  jobs?: number;
  skipped?: string;
}

/**
 * Turns each scheduled job into a collection, the same way a trigger does. A schedule firing while a run is in
 * progress is skipped, not queued behind it: the next firing picks up where that run ends.
 */
export function startScheduleWorker(deps: { config: FerryConfig; db: Pool; redis: Redis; logger: Logger }): Worker {
  const { config, logger } = deps;
  const processJob = async (job: Job): Promise<ScheduledCollectionResult> => {
    if (job.name !== JobName.ScheduledCollection) throw new UnrecoverableError(`unknown job ${job.name} on ${QueueName.Schedules}`);
    const { mode } = parsePayload(JobName.ScheduledCollection, job.data);
    const parsed = parseTriggerBody({ mode }, config);
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
  };
  const worker = new Worker(QueueName.Schedules, processJob, ferryWorkerOptions({
    connection: deps.redis, prefix: config.redis.prefix, concurrency: 1, lockMs: config.download.lockMs,
  }));
  logWorkerEvents(worker, logger, 'schedule');
  return worker;
}
