import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../../../../../test/support/redis.js';
import { budgetFromDeclaredLimits, usedWeightHeaderName } from './declared-limits.js';
import { WeightBudget } from './weight-budget.js';

describe('WeightBudget (real Redis)', () => {
  const prefix = uniquePrefix('budget');
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await deleteKeys(prefix);
    redis.disconnect();
  });

  it('never hands out more than the limit in one window, across many budgets sharing it', async () => {
    const limits = { limit: 20, windowMs: 1_000 };
    // Four "processes" drawing from one budget, 30 requests of weight 2 in all.
    const budgets = Array.from({ length: 4 }, () => new WeightBudget(redis, `${prefix}:a`, limits));
    const grants: number[] = [];
    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const { window } = await budgets[i % 4]!.acquire(2);
        grants.push(window);
      }),
    );
    const perWindow = new Map<number, number>();
    for (const w of grants) perWindow.set(w, (perWindow.get(w) ?? 0) + 2);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(20);
    expect([...perWindow.values()].reduce((a, b) => a + b, 0)).toBe(60);
    expect(perWindow.size).toBeGreaterThanOrEqual(3);
  });

  it('a pause blocks every request until it ends, and a shorter pause never shortens it', async () => {
    const budget = new WeightBudget(redis, `${prefix}:b`, { limit: 1000, windowMs: 60_000 });
    await budget.pauseFor(400);
    await budget.pauseFor(50);
    expect(await budget.pausedForMs()).toBeGreaterThan(300);
    const { waitedMs } = await budget.acquire(1);
    expect(waitedMs).toBeGreaterThanOrEqual(300);
    expect(await budget.pausedForMs()).toBe(0);
  });

  it('adopts a higher used-weight count reported by the exchange', async () => {
    const budget = new WeightBudget(redis, `${prefix}:c`, { limit: 10, windowMs: 60_000 });
    const now = Date.now();
    // Reports in the first moments of a window are ignored (they may describe the previous one).
    if (now % 60_000 < 2_500) await new Promise((r) => setTimeout(r, 2_500 - (now % 60_000)));
    await budget.acquire(1);
    await budget.observeUsed(10);
    const abort = new AbortController();
    const pending = budget.acquire(1, abort.signal).catch((e: unknown) => e);
    setTimeout(() => abort.abort(), 200);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('declared limits', () => {
  it('takes the tightest REQUEST_WEIGHT limit, with headroom', () => {
    const limits = [
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      { rateLimitType: 'REQUEST_WEIGHT', interval: 'SECOND', intervalNum: 10, limit: 600 },
    ];
    expect(budgetFromDeclaredLimits(limits, 0.9)).toEqual({ windowMs: 10_000, limit: 540 });
    expect(budgetFromDeclaredLimits([], 0.9)).toBeUndefined();
  });

  it("names Binance's used-weight header for a window", () => {
    expect(usedWeightHeaderName(60_000)).toBe('x-mbx-used-weight-1m');
    expect(usedWeightHeaderName(10_000)).toBe('x-mbx-used-weight-10s');
  });
});
