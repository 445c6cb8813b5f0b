import type { Redis } from 'ioredis';
import type { FerryConfig } from '@ferry/shared/core';
import type { Pool } from '@ferry/shared/postgres';
import type { flatFileS3Client } from '@ferry/shared/preload';
import type { CliIo } from './io.js';

/**
 * What a command may need opened, always in this order: the flat-file client (it checks its credentials), then a
 * fail-fast Redis connection, then PostgreSQL (migrated). Unreachable ones fail with their variable named.
 */
export type CliResource = 'flatFiles' | 'redis' | 'postgres';

type FlatFileClient = ReturnType<typeof flatFileS3Client>;

export type CliContext<R extends CliResource> = { config: FerryConfig }
  & ('flatFiles' extends R ? { flatFiles: FlatFileClient } : unknown)
  & ('redis' extends R ? { redis: Redis } : unknown)
  & ('postgres' extends R ? { db: Pool } : unknown);

export interface CliNeeds<R extends CliResource, I> {
  open: readonly R[];
  /** Checks the command's input against the settings before anything is opened: bad input opens nothing. */
  prepare?: (config: FerryConfig) => I | Promise<I>;
}

/**
 * Loads the settings (environment, then `.env`) once, prepares the command's input, opens what the command needs,
 * runs `fn`, and closes everything it opened, last opened first, whatever happens. Each client's module is imported
 * when it is opened, so bad input loads none of them and a command only those it opens.
 */
export async function withCliContext<R extends CliResource, T, I = undefined>(
  io: CliIo,
  needs: CliNeeds<R, I>,
  fn: (ctx: CliContext<R>, input: I) => Promise<T>,
): Promise<T> {
  const { loadConfig } = await import('@ferry/shared/core');
  const config = loadConfig(io.env, { envFile: '.env' });
  const input = (await needs.prepare?.(config)) as I;
  const wanted = new Set<CliResource>(needs.open);
  const ctx: { config: FerryConfig; flatFiles?: FlatFileClient; redis?: Redis; db?: Pool } = { config };
  const closers: Array<() => unknown> = [];
  try {
    if (wanted.has('flatFiles')) {
      const { flatFileS3Client } = await import('@ferry/shared/preload');
      const flatFiles = flatFileS3Client(config);
      closers.push(() => flatFiles.destroy());
      ctx.flatFiles = flatFiles;
    }
    if (wanted.has('redis')) {
      const { assertRedisReachable, createRedis } = await import('@ferry/shared/redis');
      const redis = createRedis(config.redis.url, 'cli');
      redis.on('error', () => undefined); // reported by assertRedisReachable, not as an unhandled event
      closers.push(() => redis.disconnect());
      await assertRedisReachable(redis, config.redis.url);
      ctx.redis = redis;
    }
    if (wanted.has('postgres')) {
      const { assertDatabaseReachable, createPool, migrate } = await import('@ferry/shared/postgres');
      const db = createPool({ url: config.database.url, poolSize: 4, applicationName: 'ferry-cli' });
      closers.push(() => db.end());
      await assertDatabaseReachable(db);
      await migrate(db);
      ctx.db = db;
    }
    return await fn(ctx as CliContext<R>, input);
  } finally {
    for (const close of closers.reverse()) await Promise.resolve().then(close).catch(() => undefined);
  }
}
