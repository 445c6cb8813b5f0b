import { QueueName } from '@ferry/shared/jobs';
import { checkHealth } from '../health-checks.js';
import { errorAnswer } from '../http-answer.js';
import type { AdminDeps, AdminHandler } from './admin-http.js';

export const systemInfo: AdminHandler = async (_req, deps) => {
  const health = await checkHealth({ redis: deps.probeRedis, db: deps.db });
  const queues = health.redis.status === 'ok'
    ? await Promise.all(deps.queues.map(async (q) => ({
        name: q.name,
        paused: await q.isPaused(),
        counts: await q.getJobCounts(),
        workers: (await q.getWorkers()).length,
      })))
    : [];
  return {
    status: 200,
    body: {
      version: deps.version,
      queues,
      workers_online: queues.reduce((n, q) => n + q.workers, 0),
      health,
    },
  };
};

function schedulesQueue(deps: AdminDeps) {
  return deps.queues.find((q) => q.name === QueueName.Schedules);
}

export const pauseScheduler: AdminHandler = async (_req, deps) => {
  const queue = schedulesQueue(deps);
  if (!queue) return errorAnswer(503, 'the schedules queue is not configured');
  await queue.pause();
  return { status: 200, body: { success: true, message: 'scheduled collections paused', paused: true } };
};

export const resumeScheduler: AdminHandler = async (_req, deps) => {
  const queue = schedulesQueue(deps);
  if (!queue) return errorAnswer(503, 'the schedules queue is not configured');
  await queue.resume();
  return { status: 200, body: { success: true, message: 'scheduled collections resumed', paused: false } };
};
