import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ConfigError } from '../core/config/load-config.js';
import { loadConfig, type FerryConfig } from '../core/config/config.js';
import { migrate } from '../postgres/migrate.js';
import { assertDatabaseReachable, createPool, type Pool } from '../postgres/pool.js';
import { Lifecycle } from '../core/lifecycle.js';
import { createLogger } from '../core/logger.js';
import { assertRedisReachable, createRedis } from '../redis/redis.js';

/**
 * What every long-running service starts with: config validated once (a bad setting stops the process at once,
 * naming the variable), a logger, PostgreSQL (migrated) and Redis, all registered for LIFO shutdown on SIGTERM.
 */
export interface ServiceContext {
  name: string;
  config: FerryConfig;
  logger: Logger;
  lifecycle: Lifecycle;
  db: Pool;
  /** Worker-role connection (maxRetriesPerRequest: null). */
  redis: Redis;
}

/** Loads the configuration or exits with status 2 and a message naming each bad variable. */
export function loadConfigOrExit(service: string, env: NodeJS.ProcessEnv = process.env): FerryConfig {
  try {
    return loadConfig(env, { envFile: '.env' });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`ferry ${service}: ${err.message}\nSee .env.example for every setting and its default.`);
      process.exit(2);
    }
    throw err;
  }
}

export async function createServiceContext(name: string, env: NodeJS.ProcessEnv = process.env): Promise<ServiceContext> {
  const config = loadConfigOrExit(name, env);
  const logger = createLogger({ name, level: config.log.level, format: config.log.format });
  const lifecycle = new Lifecycle(logger);
  lifecycle.installSignalHandlers();
  process.on('unhandledRejection', (err) => {
    logger.fatal({ err }, 'unhandled rejection');
    process.exit(1);
  });
  try {
    const db = lifecycle.add('postgres', createPool({ url: config.database.url, poolSize: config.database.poolSize, applicationName: `ferry-${name}` }), (p) => p.end());
    await assertDatabaseReachable(db);
    await migrate(db);
    // Probe with a fail-fast connection: the worker one would wait forever for a Redis that is not there.
    const probe = createRedis(config.redis.url, 'cli');
    try {
      await assertRedisReachable(probe, config.redis.url);
    } finally {
      probe.disconnect();
    }
    const redis = lifecycle.add('redis', createRedis(config.redis.url, 'worker'), (r) => r.quit());
    return { name, config, logger, lifecycle, db, redis };
  } catch (err) {
    if (lifecycle.isShuttingDown) {
      // A signal came while starting: the closed pool or connection is why this step failed, and the signal
      // handler exits 0 once everything is closed.
      logger.info('stopped while starting');
      await lifecycle.shutdown('signal while starting');
      return new Promise<never>(() => undefined);
    }
    logger.fatal({ err }, 'cannot start');
    await lifecycle.shutdown('start failed');
    process.exit(1);
  }
}
