import type { BudgetLimits } from './weight-budget.js';

/** A rate limit as an exchange declares it (Binance `exchangeInfo.rateLimits`). */
export interface DeclaredRateLimit {
  rateLimitType: string;
  interval: string;
  intervalNum: number;
  limit: number;
}

const INTERVAL_MS: Record<string, number> = { SECOND: 1_000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

/**
 * The budget ferry allows itself: the exchange's REQUEST_WEIGHT limit with the shortest window, times the headroom.
 * Returns undefined when the exchange declares none.
 */
export function budgetFromDeclaredLimits(limits: readonly DeclaredRateLimit[], headroom: number): BudgetLimits | undefined {
  const weightLimits = limits
    .filter((l) => l.rateLimitType === 'REQUEST_WEIGHT' && INTERVAL_MS[l.interval] !== undefined && l.limit > 0)
    .map((l) => ({ windowMs: INTERVAL_MS[l.interval]! * l.intervalNum, limit: l.limit }))
    .sort((a, b) => a.windowMs - b.windowMs);
  const tightest = weightLimits[0];
  if (!tightest) return undefined;
  return { windowMs: tightest.windowMs, limit: Math.max(1, Math.floor(tightest.limit * headroom)) };
}

/** The header Binance reports used weight in, for a window: 1 minute -> x-mbx-used-weight-1m, 10 s -> ...-10s. */
export function usedWeightHeaderName(windowMs: number): string {
  const units: Array<[number, string]> = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1_000, 's']];
  for (const [ms, unit] of units) {
    if (windowMs % ms === 0) return `x-mbx-used-weight-${windowMs / ms}${unit}`;
  }
  return `x-mbx-used-weight-${windowMs}ms`;
}
