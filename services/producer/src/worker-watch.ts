import type { Redis } from 'ioredis';
import type { FerryConfig } from '@ferry/shared/core';
import { JobProducer, type QueueName } from '@ferry/shared/jobs';
import type { WorkerWatch } from './progress.js';

/** Watches the queue a download worker takes a run's jobs from; close it after the wait. */
export function downloadWorkerWatch(redis: Redis, config: FerryConfig, queue: QueueName): WorkerWatch & { close(): Promise<void> } {
  const producer = new JobProducer({ connection: redis, prefix: config.redis.prefix, attempts: config.jobs.attempts });
  return {
    connected: async () => (await producer.queue(queue).getWorkers()).length,
    notice: `no download worker is connected to the ${queue} queue (QUEUE_PREFIX ${config.redis.prefix}): the run starts ` +
      'when one is. Start one with `node services/download-worker/dist/main.js` (or `docker compose up -d download-worker`); ' +
      'still waiting.',
    close: () => producer.close(),
  };
}
