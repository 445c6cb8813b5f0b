import type { Pool } from '@ferry/shared/postgres';
import type { Redis } from 'ioredis';

/** A health answer must come back while a load balancer still waits for it, whatever Redis or PostgreSQL do. */
export const HEALTH_TIMEOUT_MS = 2_000;

export interface HealthCheck {
  status: 'ok' | 'unreachable';
  latency_ms: number;
}

async function timed(check: () => Promise<unknown>, timeoutMs: number): Promise<HealthCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
  });
  const ok = await Promise.race([check(), timeout]).then(() => true, () => false);
  clearTimeout(timer);
  return { status: ok ? 'ok' : 'unreachable', latency_ms: Math.round(performance.now() - started) };
}

/** Pings Redis and PostgreSQL at once; each is `unreachable` when it fails or does not answer within the timeout. */
export async function checkHealth(deps: { redis: Redis; db: Pool }, timeoutMs = HEALTH_TIMEOUT_MS): Promise<{ redis: HealthCheck; postgres: HealthCheck }> {
  const [redis, postgres] = await Promise.all([
    timed(() => deps.redis.ping(), timeoutMs),
    timed(() => deps.db.query('SELECT 1'), timeoutMs),
  ]);
  return { redis, postgres };
}
