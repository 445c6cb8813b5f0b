import type { Redis } from 'ioredis';
import { type FerryConfig } from '@ferry/shared/core';
import { assertDatabaseReachable, createPool, migrate, type Pool } from '@ferry/shared/postgres';
import { assertRedisReachable, createRedis } from '@ferry/shared/redis';

/** What a CLI command talks to: PostgreSQL and a fail-fast Redis connection; unreachable ones fail with the variable named. */
export interface CliContext {
  config: FerryConfig;
  db: Pool;
  redis: Redis;
  close(): Promise<void>;
}

export async function openCliContext(config: FerryConfig): Promise<CliContext> {
  const db = createPool({ url: config.database.url, poolSize: 4, applicationName: 'ferry-cli' });
  const redis = createRedis(config.redis.url, 'cli');
  redis.on('error', () => undefined); // reported by assertRedisReachable, not as an unhandled event
  const close = async () => {
    redis.disconnect();
    await db.end().catch(() => undefined);
  };
  try {
    await assertRedisReachable(redis, config.redis.url);
    await assertDatabaseReachable(db);
    await migrate(db);
  } catch (err) {
    await close();
    throw err;
  }
  return { config, db, redis, close };
}
