import { Redis, type RedisOptions } from 'ioredis';
import { errorMessage } from '../core/errors.js';
import { redactUrlCredentials } from '../core/config/redact-url.js';

/**
 * Redis connections by role; BullMQ wants different settings for each:
 *  - worker: blocking commands must wait out a Redis restart, so `maxRetriesPerRequest: null` (BullMQ requires it).
 *  - queue:  a long-running process adding jobs: reconnects, but a command fails rather than hanging forever.
 *  - cli:    a one-shot command: fail fast with a clear message if Redis is not there.
 */
export type RedisRole = 'worker' | 'queue' | 'cli';

const ROLE_OPTIONS: Record<RedisRole, RedisOptions> = {
  worker: { maxRetriesPerRequest: null, enableReadyCheck: false },
  queue: { maxRetriesPerRequest: 20, enableOfflineQueue: true },
  cli: {
    maxRetriesPerRequest: 1,
    connectTimeout: 3_000,
    enableOfflineQueue: true,
    retryStrategy: (times) => (times > 2 ? null : 200),
  },
};

export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  return new Redis(url, { ...ROLE_OPTIONS[role], ...extra, lazyConnect: false });
}

export class RedisUnavailableError extends Error {
  constructor(url: string, cause: unknown) {
    super(`cannot reach Redis at ${redactUrlCredentials(url)} (REDIS_URL): ${errorMessage(cause)}`, { cause });
    this.name = 'RedisUnavailableError';
  }
}

/** Checks the connection once, so a CLI reports an unreachable Redis before doing anything. */
export async function assertRedisReachable(redis: Redis, url: string): Promise<void> {
  try {
    await redis.ping();
  } catch (err) {
    throw new RedisUnavailableError(url, err);
  }
}
