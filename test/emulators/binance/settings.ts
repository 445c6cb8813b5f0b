import type { BaseSettings } from '../common/control.js';
import type { Outage } from './candles.js';
import { LISTING_ANCHOR } from './universe.js';

export interface BinanceSettings extends BaseSettings {
  /** The exchange's clock for candles (which are closed, what /time says); null = real time. */
  nowMs: number | null;
  /** Request weight allowed per window (Binance: 6000 per minute). */
  weightLimit: number;
  windowMs: number;
  /** How long a client that ignored a 429 is banned (Binance starts at 2 minutes). */
  banMs: number;
  /** Requests a client may still send during a 429's Retry-After (in flight already) before it is banned. */
  violationsBeforeBan: number;
  /** USDT coins in the universe (besides stablecoins, leveraged tokens, halted and cross pairs). */
  coinCount: number;
  /** Exchange-wide windows without candles. */
  outages: Outage[];
}

/** A 4-hour exchange-wide outage two weeks before the listing anchor. */
export const DEFAULT_OUTAGE: Outage = { start: LISTING_ANCHOR - 14 * 86_400_000 + 3 * 3_600_000, end: LISTING_ANCHOR - 14 * 86_400_000 + 7 * 3_600_000 };

export const DEFAULT_SETTINGS: BinanceSettings = {
  latencyMs: 0,
  errorRate: 0,
  nowMs: null,
  weightLimit: 6000,
  windowMs: 60_000,
  banMs: 120_000,
  violationsBeforeBan: 25,
  coinCount: 300,
  outages: [DEFAULT_OUTAGE],
};

/** Named faults: see routes.ts for what each does. */
export type BinanceFault =
  | 'rate-limit' | 'ban' | 'server-error' | 'connection-reset' | 'html' | 'invalid-candle' | 'empty-page' | 'wrong-types';
