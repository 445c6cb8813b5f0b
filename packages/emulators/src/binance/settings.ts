import type { BaseSettings } from '../common/control.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Listing dates, halts and the default outage are fixed relative to this day, so data never depends on the run date. */
export const LISTING_ANCHOR = Date.UTC(2026, 9, 1);

/** An exchange-wide stop: no trades in [start, end), so no candle lies wholly inside it. */
export interface Outage {
  start: number;
  end: number;
}

/** A 4-hour exchange-wide outage two weeks before the listing anchor (inside any 60-day window that ends near it). */
export const DEFAULT_OUTAGE: Outage = { start: LISTING_ANCHOR - 14 * DAY + 3 * HOUR, end: LISTING_ANCHOR - 14 * DAY + 7 * HOUR };

/**
 * A kline Binance serves with its open time off the interval's grid, as it does for some of 2017-2018
 * (binance/binance-public-data #77: BTCUSDT 1h opening at 1518168494789, xx:28:14.789; #14: 1m klines off by 14 s
 * and more). The candle of grid slot `slot` is served with open time `slot + offsetMs`; its values and close time
 * stay the slot's.
 */
export interface OffGridKline {
  /** Binance's symbol, e.g. `BTCUSDT`. */
  symbol: string;
  /** Binance's interval name, e.g. `1h`. */
  interval: string;
  /** The grid-aligned open time of the candle that is served off the grid. */
  slot: number;
  /** Added to its open time; not 0. */
  offsetMs: number;
}

export interface BinanceSettings extends BaseSettings {
  /** The exchange's clock (which candle is open, what /time says); null = real time plus `clockOffsetMs`. */
  nowMs: number | null;
  /** Added to real time when `nowMs` is null, to run the exchange ahead of or behind this machine. Default 0. */
  clockOffsetMs: number;
  /** Request weight allowed per window. Default 6000: Binance spot's REQUEST_WEIGHT per minute. */
  weightLimit: number;
  /**
   * Length of the weight window, a whole number of seconds; windows are aligned to the (real) clock. Default 60 000.
   * Weight windows always run on real time, even when `nowMs` freezes the candle clock.
   */
  windowMs: number;
  /** How long a client that ignored a 429 is banned (418). Default 120 000: Binance's first ban is 2 minutes. */
  banMs: number;
  /**
   * Requests tolerated after a 429 within its Retry-After (those already in flight) before the client is banned.
   * Default 25; 0 bans the first request that ignores a 429.
   */
  violationsBeforeBan: number;
  /** USDT coins in the universe, besides stablecoins, leveraged tokens, halted and cross pairs. Default 300. */
  coinCount: number;
  /** Exchange-wide outages. Default: [DEFAULT_OUTAGE]. */
  outages: Outage[];
  /** Klines served with an open time off the grid. Default none. */
  offGridKlines: OffGridKline[];
  /**
   * Statuses exchangeInfo gives symbols instead of their own (e.g. `{ ETHUSDT: 'HALT' }`): `END_OF_DAY`, `HALT`,
   * `CANCEL_ONLY` and the others Binance uses. Klines are served as before (the history stays). Default none.
   */
  symbolStatuses: Record<string, SymbolStatus>;
}

export const DEFAULT_SETTINGS: BinanceSettings = {
  latencyMs: 0,
  errorRate: 0,
  nowMs: null,
  clockOffsetMs: 0,
  weightLimit: 6000,
  windowMs: 60_000,
  banMs: 120_000,
  violationsBeforeBan: 25,
  coinCount: 300,
  outages: [DEFAULT_OUTAGE],
  offGridKlines: [],
  symbolStatuses: {},
};

/** The exchange's clock under these settings. */
export function exchangeNow(settings: Pick<BinanceSettings, 'nowMs' | 'clockOffsetMs'>): number {
  return settings.nowMs ?? Date.now() + settings.clockOffsetMs;
}

/** Settings with defaults filled in: the pure helpers accept a partial patch as the emulator's `configure` does. */
export function completeSettings(patch: Partial<BinanceSettings> = {}): BinanceSettings {
  return { ...DEFAULT_SETTINGS, ...patch };
}

/** Throws naming the setting when a value cannot be emulated (e.g. a window Binance could not declare). */
export function assertValidSettings(s: BinanceSettings): void {
  const positiveInteger = (name: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      throw new Error(`binance emulator setting ${name}: expected a positive integer, got ${JSON.stringify(v)}`);
    }
  };
  positiveInteger('weightLimit', s.weightLimit);
  positiveInteger('windowMs', s.windowMs);
  positiveInteger('banMs', s.banMs);
  positiveInteger('coinCount', s.coinCount);
  if (s.windowMs % 1000 !== 0) {
    // exchangeInfo declares windows as intervalNum x SECOND/MINUTE/HOUR/DAY.
    throw new Error(`binance emulator setting windowMs: expected a whole number of seconds, got ${s.windowMs}`);
  }
  if (!Number.isSafeInteger(s.violationsBeforeBan) || s.violationsBeforeBan < 0) {
    throw new Error(`binance emulator setting violationsBeforeBan: expected an integer >= 0, got ${s.violationsBeforeBan}`);
  }
  if (s.nowMs !== null && !Number.isSafeInteger(s.nowMs)) {
    throw new Error(`binance emulator setting nowMs: expected epoch milliseconds or null, got ${JSON.stringify(s.nowMs)}`);
  }
  if (!Number.isSafeInteger(s.clockOffsetMs)) {
    throw new Error(`binance emulator setting clockOffsetMs: expected an integer, got ${JSON.stringify(s.clockOffsetMs)}`);
  }
  if (!Array.isArray(s.outages) || !s.outages.every((o) => Number.isSafeInteger(o.start) && Number.isSafeInteger(o.end) && o.start < o.end)) {
    throw new Error(`binance emulator setting outages: expected [{start, end}] with start < end, got ${JSON.stringify(s.outages)}`);
  }
  const offGridOk = (k: OffGridKline) => typeof k?.symbol === 'string' && typeof k.interval === 'string' &&
    Number.isSafeInteger(k.slot) && Number.isSafeInteger(k.offsetMs) && k.offsetMs !== 0;
  if (!Array.isArray(s.offGridKlines) || !s.offGridKlines.every(offGridOk)) {
    throw new Error('binance emulator setting offGridKlines: expected [{symbol, interval, slot, offsetMs}] with integer times ' +
      `and offsetMs not 0, got ${JSON.stringify(s.offGridKlines)}`);
  }
}

/**
 * Named faults (add them with `control.addFault({ name, remaining?, pathIncludes?, probability?, params? })`;
 * `pathIncludes` is matched against the path and query string, so `'klines'` or `'ETHUSDT'` both target):
 *
 *  - `rate-limit`: 429 with `Retry-After` = `params.retryAfterSeconds` (default 1) and Binance's -1003 body. The
 *    client must then back off for that long, or be banned like after a real 429.
 *  - `ban`: the client is banned now for `params.banMs` (default the `banMs` setting): every request gets 418.
 *  - `server-error`: `params.status` (500, 502, 503 or 504; default 502) with a gateway HTML page, or Binance's
 *    -1001 JSON with `params.body: 'json'`. Not charged, no weight headers (the gateway answered, not Binance).
 *  - `connection-reset`: the TCP connection is reset without an answer.
 *  - `html`: 200 with an HTML maintenance page instead of JSON.
 *  - `invalid-candle`: one kline of the answer (the middle one) has high and low swapped, so high < low.
 *  - `empty-page`: klines answers `[]`.
 *  - `malformed-kline`: one kline of the answer (the middle one) has the wrong shape, by `params.shape`: `null` (the
 *    row is null; the default), `short` (four fields instead of twelve), `text` (prices are words, not decimals) or
 *    `time-text` (the open time is a word).
 *  - `empty-list`: exchangeInfo lists no symbols (its rate limits stay) and the ticker list is `[]`.
 *  - `restricted-location`: 451 with Binance's "Service unavailable from a restricted location" body, as Binance
 *    answers every request from a blocked region. Not charged, no weight headers.
 *  - `waf-block`: 403 with an HTML page, as the web application firewall answers a request that hit one of its rules.
 *    Not charged, no weight headers.
 *  - `wrong-shape`: any endpoint answers 200 with a JSON object of no shape Binance uses, `{"unexpected": true}`.
 *    Charged like the answer it replaces.
 */
export const BinanceFault = {
  RateLimit: 'rate-limit',
  Ban: 'ban',
  ServerError: 'server-error',
  ConnectionReset: 'connection-reset',
  Html: 'html',
  InvalidCandle: 'invalid-candle',
  EmptyPage: 'empty-page',
  MalformedKline: 'malformed-kline',
  EmptyList: 'empty-list',
  WrongShape: 'wrong-shape',
  RestrictedLocation: 'restricted-location',
  WafBlock: 'waf-block',
} as const;
export type BinanceFault = (typeof BinanceFault)[keyof typeof BinanceFault];

/**
 * Counters (read with `control.counter(name)` or `GET /__control/counters`), besides the harness's `requests` (every
 * request outside /__control/) and `fault:<name>`:
 */
export const BinanceCounter = {
  /** Requests per endpoint, answered or refused: `endpoint:/api/v3/klines`. */
  endpoint: (path: string) => `endpoint:${path}`,
  /** Weight charged (requests answered after the limiter let them through). */
  weight: 'weight',
  /** The same per endpoint: `weight:/api/v3/exchangeInfo`. */
  weightOf: (path: string) => `weight:${path}`,
  /** Answers by HTTP status: `status:200`, `status:400`, `status:429`, `status:418`, `status:502`. */
  status: (code: number) => `status:${code}`,
  /** Klines requests that passed validation, in all and per Binance symbol: `klines:BTCUSDT`. */
  klines: 'klines',
  klinesOf: (symbol: string) => `klines:${symbol}`,
  /**
   * The most weight asked for in one window, requests refused with 429 included: above `weightLimit` exactly when a
   * client tried to use more than the limit, so `maxWindowWeight <= weightLimit` proves it never did.
   */
  maxWindowWeight: 'maxWindowWeight',
  /** Bans started (by ignoring 429s, or the `ban` fault). */
  bans: 'bans',
} as const;

/** The statuses Binance's exchangeInfo uses (spot API docs, "Symbol status"). */
export type SymbolStatus = 'TRADING' | 'BREAK' | 'END_OF_DAY' | 'HALT' | 'CANCEL_ONLY' | 'PRE_TRADING' | 'POST_TRADING' | 'AUCTION_MATCH';
