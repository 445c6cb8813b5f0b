import type { Redis } from 'ioredis';
import { budgetKeyPrefix, readSharedLimits, resolveSharedLimits } from './rate-budget/shared-limits.js';
import { WeightBudget } from './rate-budget/weight-budget.js';
import { CcxtCandleSource } from './ccxt-candle-source.js';
import { createCcxtExchange } from './ccxt-client.js';

export interface OpenExchangeOptions {
  exchangeId: string;
  /** Replaces the exchange's REST base URL (proxy, testnet, emulator). */
  baseUrl: string | undefined;
  timeoutMs: number;
  headroom: number;
  redis: Redis;
  queuePrefix: string;
  onLimited?: (kind: 'rate-limited' | 'banned', retryAfterMs: number | undefined) => void;
  /** Learn the exchange's declared limits now (workers) or run on the bootstrap budget (short CLI calls). */
  learnLimits: boolean;
  clockTtlMs?: number;
}

/** A ccxt exchange wired to the shared Redis weight budget: what the CLI and the workers talk to. */
export async function openExchange(options: OpenExchangeOptions): Promise<{ source: CcxtCandleSource; budget: WeightBudget }> {
  const exchange = await createCcxtExchange({ exchangeId: options.exchangeId, baseUrl: options.baseUrl, timeoutMs: options.timeoutMs });
  const keyPrefix = budgetKeyPrefix(options.queuePrefix, options.exchangeId);
  const budget = new WeightBudget(options.redis, keyPrefix, CcxtCandleSource.bootstrapLimits(exchange, options.headroom));
  const source = new CcxtCandleSource(exchange, {
    budget, headroom: options.headroom, onLimited: options.onLimited, clockTtlMs: options.clockTtlMs,
  });
  if (options.learnLimits) {
    budget.setLimits(await resolveSharedLimits(options.redis, keyPrefix, () => source.declaredLimits()));
  } else {
    const cached = await readSharedLimits(options.redis, keyPrefix);
    if (cached) budget.setLimits(cached);
  }
  return { source, budget };
}
