import type { Redis } from 'ioredis';

/**
 * connect-redis 9 speaks the node-redis client API; ferry uses ioredis. These are the calls express-session makes
 * through it (get, set with a TTL, expire on touch, del on sign-out); listing all sessions is not supported.
 */
export function nodeRedisFacade(redis: Redis) {
  return {
    get: (key: string) => redis.get(key),
    async set(key: string, value: string, options?: { expiration?: { type: 'EX'; value: number } }) {
      return options?.expiration ? redis.set(key, value, 'EX', options.expiration.value) : redis.set(key, value);
    },
    expire: (key: string, seconds: number) => redis.expire(key, seconds),
    del: (keys: string[]) => (keys.length > 0 ? redis.del(...keys) : Promise.resolve(0)),
  };
}
