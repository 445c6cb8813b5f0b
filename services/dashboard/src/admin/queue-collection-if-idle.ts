import { randomBytes } from 'node:crypto';
import { queueCollection, type CollectionContext, type CollectRequest, type QueuedCollection } from '@ferry/shared/collect';
import { runInProgress, type RunInProgress } from '@ferry/shared/runs';

/**
 * Longer than queueCollection can take (the top-N lookup makes a few exchange requests of EXCHANGE_TIMEOUT_MS each),
 * so the lock outlives the work it guards; it is released as soon as the work ends.
 */
const LOCK_TTL_MS = 120_000;

// Deletes the lock only if it is still ours: after a TTL expiry another caller may hold it.
const RELEASE_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export type IdleCollection =
  | { queued: QueuedCollection }
  | { busy: RunInProgress }
  | { locked: true };

/**
 * Queues a collection unless one is in progress. The check and the queueing run under one Redis lock (SET NX PX),
 * so two triggers (or a trigger and a schedule firing, on any replica) cannot both see "idle" and both queue.
 */
export async function queueCollectionIfIdle(request: CollectRequest, ctx: CollectionContext): Promise<IdleCollection> {
  const key = `${ctx.config.redis.prefix}:lock:collection-trigger`;
  const token = randomBytes(16).toString('hex');
  if ((await ctx.redis.set(key, token, 'PX', LOCK_TTL_MS, 'NX')) !== 'OK') return { locked: true };
  try {
    const running = await runInProgress(ctx.db, 'candles');
    if (running) return { busy: running };
    return { queued: await queueCollection(request, ctx) };
  } finally {
    await ctx.redis.eval(RELEASE_IF_OURS, 1, key, token).catch(() => undefined);
  }
}
