import { QueueName } from '@ferry/shared';
import { adminError, type AdminHandler } from './admin-http.js';

async function timed(check: () => Promise<unknown>): Promise<{ status: 'ok' | 'unreachable'; latency_ms: number }> {
  const started = performance.now();
  const ok = await check().then(() => true, () => false);
  return { status: ok ? 'ok' : 'unreachable', latency_ms: Math.round(performance.now() - started) };
}

export const systemInfo: AdminHandler = async (_req, deps) => {
  const [redis, postgres] = await Promise.all([timed(() => deps.redis.ping()), timed(() => deps.db.query('SELECT 1'))]);
  const queues = redis.status === 'ok'
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
      health: { redis, postgres },
    },
  };
};

function schedulesQueue(deps: Parameters<AdminHandler>[1]) {
  return deps.queues.find((q) => q.name === QueueName.Schedules);
}

export const pauseScheduler: AdminHandler = async (_req, deps) => {
  const queue = schedulesQueue(deps);
  if (!queue) return adminError(503, 'the schedules queue is not configured');
  await queue.pause();
  return { status: 200, body: { success: true, message: 'scheduled collections paused', paused: true } };
};

export const resumeScheduler: AdminHandler = async (_req, deps) => {
  const queue = schedulesQueue(deps);
  if (!queue) return adminError(503, 'the schedules queue is not configured');
  await queue.resume();
  return { status: 200, body: { success: true, message: 'scheduled collections resumed', paused: false } };
};
