/**
 * Kline intervals as Binance aligns them: fixed lengths counted from the Unix epoch, weeks from Monday 00:00, months
 * by the calendar. A `timeZone` offset shifts every boundary (Binance: "kline intervals are interpreted in that
 * timezone"); startTime/endTime stay UTC.
 */
export interface KlineInterval {
  name: string;
  /** Open time of the candle containing `t`. */
  openAt(t: number): number;
  /** Open time of the candle after the one opening at `openTime` (its closeTime is this minus 1). */
  next(openTime: number): number;
}

const SECOND = 1_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** 1970-01-05, the first Monday after the epoch (a Thursday): Binance's weekly candles open on Mondays. */
const FIRST_MONDAY = 4 * DAY;

/** The `interval` values Binance accepts (case-sensitive) and their lengths; 1w and 1M are handled apart. */
const FIXED: Record<string, number> = {
  '1s': SECOND,
  '1m': MINUTE, '3m': 3 * MINUTE, '5m': 5 * MINUTE, '15m': 15 * MINUTE, '30m': 30 * MINUTE,
  '1h': HOUR, '2h': 2 * HOUR, '4h': 4 * HOUR, '6h': 6 * HOUR, '8h': 8 * HOUR, '12h': 12 * HOUR,
  '1d': DAY, '3d': 3 * DAY,
};

export const INTERVAL_NAMES: readonly string[] = [...Object.keys(FIXED), '1w', '1M'];

/** The interval named `name` (as Binance spells it) in a time zone `offsetMs` east of UTC, or undefined. */
export function klineInterval(name: string, offsetMs = 0): KlineInterval | undefined {
  const fixed = FIXED[name];
  if (fixed !== undefined) {
    return {
      name,
      openAt: (t) => Math.floor((t + offsetMs) / fixed) * fixed - offsetMs,
      next: (openTime) => openTime + fixed,
    };
  }
  if (name === '1w') {
    return {
      name,
      openAt: (t) => Math.floor((t + offsetMs - FIRST_MONDAY) / WEEK) * WEEK + FIRST_MONDAY - offsetMs,
      next: (openTime) => openTime + WEEK,
    };
  }
  if (name === '1M') {
    const monthStart = (t: number, add: number) => {
      const local = new Date(t + offsetMs);
      return Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + add, 1) - offsetMs;
    };
    return { name, openAt: (t) => monthStart(t, 0), next: (openTime) => monthStart(openTime, 1) };
  }
  return undefined;
}

/**
 * Binance's `timeZone` parameter: hours, or hours and minutes, from -12:00 to +14:00 inclusive (`8`, `-1:00`,
 * `05:45`). Returns the offset in ms, or undefined when Binance would refuse it.
 */
export function parseTimeZone(value: string): number | undefined {
  const m = /^([+-]?)(\d{1,2})(?::(\d{2}))?$/.exec(value);
  if (!m) return undefined;
  const minutes = Number(m[3] ?? '0');
  if (minutes >= 60) return undefined;
  const signed = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + minutes);
  if (signed < -12 * 60 || signed > 14 * 60) return undefined;
  return signed * MINUTE;
}
