import type { Queue } from 'bullmq';
import { Gauge, Registry } from 'prom-client';
import { ferryRegistry } from './ferry-metrics.js';

/** The job states a queue's counts are reported in. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed', 'paused'] as const;

/**
 * A registry whose gauges are the queues' job counts and online workers, read from Redis on each scrape, so they are
 * exact at scrape time whoever changed them.
 */
export function createQueueMetricsRegistry(queues: readonly Queue[]): Registry {
  const registry = new Registry();
  new Gauge({
    name: 'ferry_queue_jobs',
    help: 'Jobs in a queue, by state.',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(queues.map(async (q) => {
        const counts = await q.getJobCounts(...QUEUE_STATES);
        for (const state of QUEUE_STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
      }));
    },
  });
  new Gauge({
    name: 'ferry_queue_workers',
    help: 'Workers connected to a queue.',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(queues.map(async (q) => this.set({ queue: q.name }, (await q.getWorkers()).length)));
    },
  });
  new Gauge({
    name: 'ferry_queue_paused',
    help: '1 when the queue is paused.',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(queues.map(async (q) => this.set({ queue: q.name }, (await q.isPaused()) ? 1 : 0)));
    },
  });
  return registry;
}

/** What a process that sees the queues exposes: its own counters and the queues' counts. */
export function createQueueAndFerryRegistry(queues: readonly Queue[]): Registry {
  return Registry.merge([ferryRegistry, createQueueMetricsRegistry(queues)]);
}
