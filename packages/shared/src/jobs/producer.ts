import { createHash } from 'node:crypto';
import { FlowProducer, Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobName, QUEUE_OF, type QueueName } from './names.js';
import type { PayloadOf, SyncFilePayload } from './payloads.js';
import type { JobRetention } from '../core/config/config.js';

/**
 * The one place that adds jobs. It alone creates BullMQ queues and flows, and decides by job name:
 *  - the job id: deterministic, so adding the same work twice is a no-op in BullMQ (a re-run CLI, a retried parent);
 *  - attempts and the ferry backoff (delays come from the retry policy, see failures.ts);
 *  - retention: how long finished jobs stay in Redis for Bull Board and `ferry status`.
 */

/** Name of the backoff strategy the workers register (BullMQ calls it with the error that failed the attempt). */
export const FERRY_BACKOFF = 'ferry';

interface JobPolicy<N extends JobName> {
  /** The job's id; undefined = BullMQ's own (job schedulers name their jobs themselves). */
  id(payload: PayloadOf<N>): string | undefined;
  /** Finished jobs kept: one-off work for the configured time (JOB_RETENTION, FAILED_JOB_RETENTION), repeating work by count. */
  keep: Pick<JobsOptions, 'removeOnComplete' | 'removeOnFail'> | typeof ONE_OFF;
}

/** One-off work: kept for as long as the configuration says, and never more than this many per queue. */
const ONE_OFF = 'one-off';
const ONE_OFF_MAX_COUNT = 50_000;

/** The defaults of JOB_RETENTION and FAILED_JOB_RETENTION. */
export const DEFAULT_JOB_RETENTION: JobRetention = { completedMs: 7 * 86_400_000, failedMs: 30 * 86_400_000 };

/**
 * Entries kept in each queue's event stream (BullMQ's default is 10 000). Nothing in ferry listens to queue events
 * (progress is read from PostgreSQL), and at the default the streams were most of a long-running ferry's Redis memory.
 */
export const QUEUE_EVENTS_KEPT = 1_000;

/** BullMQ ids cannot contain ':' and must not be integers. */
function safeId(parts: readonly string[]): string {
  return parts.map((p) => p.replace(/[:/\s]/g, '-')).join('.');
}

/** S3 returns ETags quoted; ids use them bare. */
function bareEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/** The flow parent that finishes a preload run. */
function preloadJobId(runId: string): string {
  return `preload.${runId}`;
}

/** A sync job is named by path and content: the same bytes are never queued twice, new bytes are. */
export function syncJobId(relativePath: string, contentHash: string): string {
  return safeId(['sync', createHash('sha256').update(`${relativePath}\n${contentHash}`).digest('hex').slice(0, 24)]);
}

/** A record over every job name: a job kind without a policy is a compile error. */
const POLICIES: { [N in JobName]: JobPolicy<N> } = {
  [JobName.CollectCandles]: {
    id: (p) => safeId(['candles', p.runId, p.exchange, p.symbol, p.timeframe]),
    keep: ONE_OFF,
  },
  [JobName.DownloadFlatFile]: {
    // Key and ETag name the bytes; the run keeps two requests for other tickers of the same file apart.
    id: (p) => `flatfile.${p.runId}.${p.key.replace(/[/:]/g, '_')}.${bareEtag(p.etag)}`,
    keep: ONE_OFF,
  },
  [JobName.IngestArchiveFile]: {
    // Key and ETag name the published bytes: a re-published file is a new job, the same one queued twice is not.
    id: (p) => `archive.${p.runId}.${p.key.slice('data/spot/'.length).replace(/[/:]/g, '_')}.${bareEtag(p.etag)}`,
    keep: ONE_OFF,
  },
  [JobName.FinishPreload]: { id: (p) => preloadJobId(p.runId) + (p.round ? `.${p.round}` : ''), keep: ONE_OFF },
  [JobName.SyncFile]: {
    id: (p) => {
      if (!p.file) throw new Error(`sync job for ${p.relativePath} has no file facts to name it by`);
      return syncJobId(p.relativePath, p.file.contentHash);
    },
    keep: ONE_OFF,
  },
  // Job schedulers make these every few minutes or hours: keep the last ones for Bull Board, not months of them.
  [JobName.SyncDirectory]: { id: () => undefined, keep: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
  [JobName.ScheduledCollection]: { id: () => undefined, keep: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } },
  [JobName.PruneRuns]: { id: () => undefined, keep: { removeOnComplete: { count: 20 }, removeOnFail: { count: 20 } } },
};

/** A child of a flow: a job of any kind with its payload. */
export interface FlowChild<N extends JobName = JobName> {
  name: N;
  data: PayloadOf<N>;
}

export interface JobProducerOptions {
  connection: Redis;
  prefix: string;
  /** Attempts before a job fails for good (JOB_ATTEMPTS). */
  attempts: number;
  /** How long finished one-off jobs stay in Redis (config.jobs.retention). Default DEFAULT_JOB_RETENTION. */
  retention?: JobRetention;
}

export class JobProducer {
  private readonly queues = new Map<QueueName, Queue>();
  private flows: FlowProducer | undefined;

  constructor(private readonly options: JobProducerOptions) {}

  /** The options a job of this kind is added with (id, attempts, backoff, retention). */
  optionsFor<N extends JobName>(name: N, payload: PayloadOf<N>): JobsOptions {
    const policy = POLICIES[name] as JobPolicy<N>;
    const jobId = policy.id(payload);
    const retention = this.options.retention ?? DEFAULT_JOB_RETENTION;
    // BullMQ's age is in seconds.
    const keep = policy.keep === ONE_OFF
      ? {
        removeOnComplete: { age: Math.ceil(retention.completedMs / 1000), count: ONE_OFF_MAX_COUNT },
        removeOnFail: { age: Math.ceil(retention.failedMs / 1000), count: ONE_OFF_MAX_COUNT },
      }
      : policy.keep;
    return {
      attempts: this.options.attempts,
      backoff: { type: FERRY_BACKOFF },
      ...keep,
      ...(jobId === undefined ? {} : { jobId }),
    };
  }

  /** The queue a job kind goes to (created on first use, closed with the producer). */
  queue(name: QueueName): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.options.connection, prefix: this.options.prefix, streams: { events: { maxLen: QUEUE_EVENTS_KEPT } } });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Adds jobs of one kind in bulk; jobs already queued under the same id are left alone. Returns their ids. */
  async add<N extends JobName>(name: N, payloads: readonly PayloadOf<N>[]): Promise<string[]> {
    const queue = this.queue(QUEUE_OF[name]);
    const ids: string[] = [];
    for (let i = 0; i < payloads.length; i += 500) {
      const added = await queue.addBulk(payloads.slice(i, i + 500).map((data) => ({ name, data, opts: this.optionsFor(name, data) })));
      ids.push(...added.map((job) => job.id!));
    }
    return ids;
  }

  /** Chains the backup of a file that was just written; returns the sync job's id. */
  async chainSync(payload: SyncFilePayload): Promise<string> {
    const [id] = await this.add(JobName.SyncFile, [payload]);
    return id!;
  }

  /**
   * Adds a parent that runs once every child has finished; children that fail for good are recorded by their own
   * handler and ignored by the parent, which then finishes without them and names them.
   */
  async addFlow<P extends JobName>(parent: { name: P; data: PayloadOf<P> }, children: readonly FlowChild[]): Promise<void> {
    this.flows ??= new FlowProducer({ connection: this.options.connection, prefix: this.options.prefix });
    await this.flows.add({
      name: parent.name,
      queueName: QUEUE_OF[parent.name],
      data: parent.data,
      opts: this.optionsFor(parent.name, parent.data),
      children: children.map((child) => ({
        name: child.name,
        queueName: QUEUE_OF[child.name],
        data: child.data,
        opts: { ...this.optionsFor(child.name, child.data as never), ignoreDependencyOnFailure: true },
      })),
    });
  }

  /**
   * Puts repeating work on a BullMQ job scheduler (fixed id: every replica upserting it leaves one schedule), or
   * removes it when `repeat` is null.
   */
  async schedule<N extends JobName>(
    schedulerId: string,
    repeat: { pattern: string; tz: 'UTC' } | { every: number } | null,
    name: N,
    data: PayloadOf<N>,
  ): Promise<void> {
    const queue = this.queue(QUEUE_OF[name]);
    if (repeat === null) {
      await queue.removeJobScheduler(schedulerId);
      return;
    }
    await queue.upsertJobScheduler(schedulerId, repeat, { name, data, opts: this.optionsFor(name, data) });
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.flows?.close();
    this.queues.clear();
    this.flows = undefined;
  }
}
