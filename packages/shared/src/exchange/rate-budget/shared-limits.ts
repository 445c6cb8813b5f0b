import type { Redis } from 'ioredis';
import type { BudgetLimits } from './weight-budget.js';

/**
 * The budget limits learned from the exchange are kept in Redis, so one process asks the exchange and every other
 * process (workers, the CLI) uses the same window and limit.
 */
const TTL_SECONDS = 3600;

export function budgetKeyPrefix(queuePrefix: string, exchangeId: string): string {
  return `${queuePrefix}:budget:${exchangeId}`;
}

export async function resolveSharedLimits(
  redis: Redis,
  keyPrefix: string,
  learn: () => Promise<BudgetLimits>,
): Promise<BudgetLimits> {
  const cached = await readSharedLimits(redis, keyPrefix);
  if (cached) return cached;
  const limits = await learn();
  await redis.set(`${keyPrefix}:limits`, JSON.stringify(limits), 'EX', TTL_SECONDS);
  return limits;
}

export async function readSharedLimits(redis: Redis, keyPrefix: string): Promise<BudgetLimits | undefined> {
  const cached = await redis.get(`${keyPrefix}:limits`);
  if (!cached) return undefined;
  const parsed = JSON.parse(cached) as Partial<BudgetLimits>;
  return typeof parsed.limit === 'number' && typeof parsed.windowMs === 'number'
    ? { limit: parsed.limit, windowMs: parsed.windowMs }
    : undefined;
}
