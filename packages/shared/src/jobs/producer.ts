import { createHash } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobName, QUEUE_OF, type QueueName } from './names.js';
import type { CollectCandlesPayload, SyncFilePayload } from './payloads.js';

/**
 * The one place that adds jobs: deterministic ids (adding the same work twice is a no-op in BullMQ), attempts, the
 * ferry backoff (delays come from the retry policy, see worker-errors.ts) and retention.
 */

/** Name of the backoff strategy the workers register (BullMQ calls it with the error that failed the attempt). */
export const FERRY_BACKOFF = 'ferry';

export function jobOptions(attempts: number): JobsOptions {
  return {
    attempts,
    backoff: { type: FERRY_BACKOFF },
    // Kept long enough for Bull Board and `ferry status`; bounded so Redis does not grow forever.
    removeOnComplete: { age: 7 * 24 * 3600, count: 50_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 50_000 },
  };
}

export function createQueue(name: QueueName, connection: Redis, prefix: string): Queue {
  return new Queue(name, { connection, prefix });
}

/** BullMQ ids cannot contain ':' and must not be integers. */
function safeId(parts: readonly string[]): string {
  return parts.map((p) => p.replace(/[:/\s]/g, '-')).join('.');
}

export function candleItemKey(p: Pick<CollectCandlesPayload, 'exchange' | 'symbol' | 'timeframe'>): string {
  return `${p.exchange}:${p.symbol}:${p.timeframe}`;
}

export function candleJobId(p: CollectCandlesPayload): string {
  return safeId(['candles', p.runId, p.exchange, p.symbol, p.timeframe]);
}

/** Adds one job per coin and timeframe, in bulk. Jobs already queued under the same id are left alone. */
export async function enqueueCandleJobs(queue: Queue, payloads: readonly CollectCandlesPayload[], attempts: number): Promise<void> {
  if (queue.name !== QUEUE_OF[JobName.CollectCandles]) throw new Error(`candle jobs go to ${QUEUE_OF[JobName.CollectCandles]}, not ${queue.name}`);
  const options = jobOptions(attempts);
  for (let i = 0; i < payloads.length; i += 500) {
    await queue.addBulk(
      payloads.slice(i, i + 500).map((data) => ({
        name: JobName.CollectCandles,
        data,
        opts: { ...options, jobId: candleJobId(data) },
      })),
    );
  }
}

/**
 * Chains a sync job for a file that was just written. The id includes the file's content hash: the same bytes are
 * never queued twice, new bytes are.
 */
export async function chainSyncJob(queue: Queue, payload: SyncFilePayload, contentHash: string, attempts: number): Promise<string> {
  if (queue.name !== QUEUE_OF[JobName.SyncFile]) throw new Error(`sync jobs go to ${QUEUE_OF[JobName.SyncFile]}, not ${queue.name}`);
  const digest = createHash('sha256').update(`${payload.relativePath}\n${contentHash}`).digest('hex').slice(0, 24);
  const jobId = safeId(['sync', digest]);
  await queue.add(JobName.SyncFile, payload, { ...jobOptions(attempts), jobId });
  return jobId;
}
