/** Timeframes ferry collects, with their length. Months are not fixed-length, so 1M is not offered. */
export const TIMEFRAMES = {
  '1m': 60_000,
  '3m': 3 * 60_000,
  '5m': 5 * 60_000,
  '15m': 15 * 60_000,
  '30m': 30 * 60_000,
  '1h': 3_600_000,
  '2h': 2 * 3_600_000,
  '4h': 4 * 3_600_000,
  '6h': 6 * 3_600_000,
  '8h': 8 * 3_600_000,
  '12h': 12 * 3_600_000,
  '1d': 86_400_000,
} as const;

export type Timeframe = keyof typeof TIMEFRAMES;

export const TIMEFRAME_NAMES = Object.keys(TIMEFRAMES) as Timeframe[];

export function isTimeframe(value: string): value is Timeframe {
  return Object.hasOwn(TIMEFRAMES, value);
}

export function timeframeMs(timeframe: Timeframe): number {
  return TIMEFRAMES[timeframe];
}

/** Start of the candle containing `ms` (candles are aligned to the Unix epoch in UTC, as exchanges align them). */
export function alignDown(ms: number, timeframe: Timeframe): number {
  const step = TIMEFRAMES[timeframe];
  return Math.floor(ms / step) * step;
}
