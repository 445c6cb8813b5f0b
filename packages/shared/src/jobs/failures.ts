import { DelayedError, RateLimitError, UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import { databaseAnswers, type Pool } from '../postgres/pool.js';
import { BannedError, failureKindOf, RateLimitedError, errorMessage } from '../core/errors.js';
import { retryDelayMs, storeOutageDelayMs } from '../core/retry-policy.js';

/**
 * How a failure becomes BullMQ behaviour, in one place for every worker:
 *  - permanent:            UnrecoverableError -> failed now, with its reason, no retries;
 *  - rate-limited/banned:  the whole queue is rate-limited (every worker, every host) for as long as the source
 *                          asked, and the job goes back to waiting without spending an attempt;
 *  - network/transient:    rethrown; BullMQ retries after the delay `ferryBackoff` computes from the retry policy;
 *  - PostgreSQL down:      a network or transient failure while ferry's store does not answer is the store's:
 *                          the job waits for it without spending an attempt, so an outage of any length fails no
 *                          work; a final failure that cannot be recorded runs again rather than end unrecorded.
 */
export interface PauseTarget {
  /** What is paused: a queue, or a worker (which pauses its queue). */
  queue: Pick<Queue, 'rateLimit'>;
  /** Also blocks requests of jobs already running (the shared weight budget). */
  pauseRequests?: (ms: number) => Promise<void>;
}

export async function toBullmqFailure(err: unknown, attemptsMade: number, target: PauseTarget): Promise<Error> {
  const kind = failureKindOf(err);
  if (kind === 'permanent') return new UnrecoverableError(errorMessage(err));
  if (err instanceof RateLimitedError || err instanceof BannedError) {
    const ms = retryDelayMs(kind, attemptsMade + 1, err.retryAfterMs);
    await target.pauseRequests?.(ms);
    await target.queue.rateLimit(ms);
    return Worker.RateLimitError();
  }
  return err instanceof Error ? err : new Error(errorMessage(err));
}

/** BullMQ backoff strategy: delay by failure kind, from the one retry policy. */
export function ferryBackoff(attemptsMade: number, _type?: string, err?: Error): number {
  const retryAfter = err instanceof RateLimitedError || err instanceof BannedError ? err.retryAfterMs : undefined;
  return retryDelayMs(failureKindOf(err), attemptsMade, retryAfter);
}

/**
 * BullMQ only honours a manual queue.rateLimit() when the worker has a limiter (its Lua checks the limiter key only
 * when a max is set), so workers carry one this high that it never limits by itself.
 */
export const MANUAL_RATE_LIMIT_ENABLER = { max: 1_000_000, duration: 1_000 } as const;

export interface FailureContext extends PauseTarget {
  job: Job;
  token: string | undefined;
  /** True when the worker is shutting down and the error is the job being interrupted. */
  interrupted: boolean;
  /** Called once when this failure ends the job for good (no more attempts): record why. */
  onFinalFailure?: (reason: string) => Promise<void>;
  /** Called when the queue is paused for a rate limit or a ban (for the record; its errors are ignored). */
  onPaused?: (kind: 'rate-limited' | 'banned', ms: number) => Promise<void> | void;
  /** ferry's own store: when it does not answer, the job waits for it (see above). */
  store?: Pool;
}

/**
 * Turns a processor's error into what BullMQ should do with the job, and returns the error to throw.
 * An interrupted job (shutdown) is handed back to the queue without spending an attempt.
 */
export async function failJob(err: unknown, ctx: FailureContext): Promise<Error> {
  const { job, token } = ctx;
  if (ctx.interrupted && token) return handBack(job, token, 250);
  const kind = failureKindOf(err);
  // Only a failure of unknown cause may be the store's; rate limits and bans are the source's, and pause at once.
  if (token && (kind === 'network' || kind === 'transient') && ctx.store && !(await databaseAnswers(ctx.store))) {
    return handBack(job, token, storeOutageDelayMs());
  }
  const failure = await toBullmqFailure(err, job.attemptsMade, ctx);
  if (failure instanceof RateLimitError) {
    const paused = kind === 'banned' ? 'banned' : 'rate-limited';
    await Promise.resolve(ctx.onPaused?.(paused, retryDelayMs(paused, job.attemptsMade + 1, (err as RateLimitedError | BannedError).retryAfterMs)))
      .catch(() => undefined);
    return failure;
  }
  const attempts = job.opts.attempts ?? 1;
  if (failure instanceof UnrecoverableError || job.attemptsMade + 1 >= attempts) {
    try {
      await ctx.onFinalFailure?.(errorMessage(err));
    } catch (recordErr) {
      // Failed unrecorded, the job's run would wait for it forever: it runs again once the failure can be recorded.
      if (token) return handBack(job, token, storeOutageDelayMs());
      throw recordErr;
    }
  }
  return failure;
}

/** Back to the queue after `ms`, without spending an attempt. */
async function handBack(job: Job, token: string, ms: number): Promise<Error> {
  await job.moveToDelayed(Date.now() + ms, token);
  return new DelayedError();
}
