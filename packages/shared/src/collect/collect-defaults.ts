import type { Timeframe } from '../core/timeframes.js';

/**
 * What a collection asks for when the request does not say: `ferry collect` without options, an admin API trigger
 * with only a mode, and a scheduled collection all mean the same request.
 */
export const COLLECT_DEFAULTS = {
  /** Coins, by 24h quote volume. */
  top: 250,
  /** Minimum 24h quote volume (USDT) of a top-N coin. */
  minVolume: 1_000_000,
  /** Days of history, counted back from the exchange's clock (three years). */
  days: 1095,
  timeframes: ['1d'] as const satisfies readonly Timeframe[],
} as const;
