import { klineInterval, type KlineInterval } from './intervals.js';
import { priceAt, unitHash } from './price-path.js';
import { completeSettings, exchangeNow, type BinanceSettings, type OffGridKline, type Outage } from './settings.js';
import { findSymbol, symbolHash, universe, type SymbolInfo } from './universe.js';

/**
 * Klines: which candles exist and what they hold, a pure function of (symbol, interval, open time) and, for the
 * candle still open, of the clock. A candle exists when the symbol traded at some moment inside it: after its
 * listing, before its halt, outside exchange-wide outages. So the hourly candles inside an outage are missing while
 * the daily candle around it exists with less volume, and the daily candle of a mid-day listing opens before it.
 */

/**
 * A kline as Binance sends it: [openTime, open, high, low, close, volume, closeTime, quote volume, trades,
 * taker buy base volume, taker buy quote volume, unused "0"], amounts as decimal strings with 8 decimals.
 */
export type KlineRow = [number, string, string, string, string, string, number, string, number, string, string, string];

/** A candle as a client parses it (ccxt's OHLCV), for comparing with what a client stored. */
export interface EmulatedCandle {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

export interface KlineQuery {
  startTime?: number;
  endTime?: number;
  /** 1..1000 (Binance's maximum); the endpoint's default is 500. */
  limit: number;
  /** The `timeZone` parameter as an offset east of UTC; default 0. */
  timeZoneOffsetMs?: number;
}

type Span = readonly [start: number, end: number];

/** When the symbol traded, up to `now`: [listing, halt) minus outages, as sorted disjoint [start, end) spans. */
export function tradingSpans(info: SymbolInfo, outages: readonly Outage[], now: number): Span[] {
  const end = Math.min(info.haltedAt ?? Number.POSITIVE_INFINITY, now + 1);
  let spans: Span[] = info.listedAt < end ? [[info.listedAt, end]] : [];
  for (const o of [...outages].sort((a, b) => a.start - b.start)) {
    spans = spans.flatMap(([a, b]): Span[] => {
      const pieces: Span[] = [];
      if (a < Math.min(b, o.start)) pieces.push([a, Math.min(b, o.start)]);
      if (Math.max(a, o.end) < b) pieces.push([Math.max(a, o.end), b]);
      return pieces;
    });
  }
  return spans;
}

function tradedMs(spans: readonly Span[], from: number, to: number): number {
  let total = 0;
  for (const [a, b] of spans) total += Math.max(0, Math.min(b, to) - Math.max(a, from));
  return total;
}

/** The first existing candle opening at or after the aligned time `t`. */
function firstCandleFrom(spans: readonly Span[], interval: KlineInterval, t: number): number | undefined {
  for (const [a, b] of spans) {
    if (b <= t) continue;
    return interval.openAt(Math.max(t, a));
  }
  return undefined;
}

/** The last existing candle opening at or before the aligned time `t`. */
function lastCandleUpTo(spans: readonly Span[], interval: KlineInterval, t: number): number | undefined {
  const end = interval.next(t);
  for (let i = spans.length - 1; i >= 0; i--) {
    const [a, b] = spans[i]!;
    if (a >= end) continue;
    return b > t ? t : interval.openAt(b - 1);
  }
  return undefined;
}

const roundTo = (x: number, decimals: number) => Number(x.toFixed(decimals));
/** Binance's 8-decimal strings; `decimals` digits are significant (the rest are zeros, never float noise). */
export const decimalString = (x: number, decimals = 8) => `${x.toFixed(decimals)}${decimals === 0 ? '.' : ''}${'0'.repeat(8 - decimals)}`;

/** The kline opening at `openTime` (which must exist); partial while `now` is inside it. */
export function klineAt(info: SymbolInfo, interval: KlineInterval, openTime: number, now: number, spans: readonly Span[]): KlineRow {
  const next = interval.next(openTime);
  const seed = symbolHash(info.symbol) ^ symbolHash(interval.name);
  const key = openTime / 1000;
  const first = Math.max(openTime, info.listedAt);
  // The last trade: the candle's end, or now while it is open, or the halt.
  const last = Math.min(next, now, info.haltedAt ?? Number.POSITIVE_INFINITY);
  const pd = info.priceDecimals;
  const open = roundTo(priceAt(info, first), pd);
  const close = roundTo(priceAt(info, last), pd);
  let top = Math.max(open, close);
  let bottom = Math.min(open, close);
  for (let i = 1; i < 8; i++) {
    const p = priceAt(info, first + ((last - first) * i) / 8);
    top = Math.max(top, p);
    bottom = Math.min(bottom, p);
  }
  const tick = 10 ** -pd;
  const high = Math.max(roundTo(top * (1 + unitHash(seed, key, 11) * 0.0015 * info.volatility), pd), open, close);
  const low = Math.max(tick, Math.min(roundTo(bottom * (1 - unitHash(seed, key, 12) * 0.0015 * info.volatility), pd), open, close));

  // Volume follows the symbol's 24h volume, scaled by how much of the candle it traded (listing, outage, now).
  const share = tradedMs(spans, openTime, next) / (next - openTime);
  const activity = share * (0.4 + 1.2 * unitHash(seed, key, 13));
  const minutes = (next - openTime) / 60_000;
  const volume = roundTo((info.quoteVolume / info.basePrice / 1440) * minutes * activity, info.quantityDecimals);
  const quoteVolume = volume * ((open + high + low + close) / 4);
  const trades = volume > 0 ? Math.max(1, Math.round((info.dailyTrades / 1440) * minutes * activity)) : 0;
  const takerShare = 0.35 + 0.3 * unitHash(seed, key, 14);
  const qd = info.quantityDecimals;
  return [
    openTime, decimalString(open, pd), decimalString(high, pd), decimalString(low, pd), decimalString(close, pd),
    decimalString(volume, qd), next - 1, decimalString(quoteVolume), trades,
    decimalString(roundTo(volume * takerShare, qd), qd), decimalString(quoteVolume * takerShare), '0',
  ];
}

/**
 * Binance's klines semantics: with startTime, the first `limit` candles opening at or after it (not past endTime);
 * with only endTime, the last `limit` opening at or before it; with neither, the latest. The open candle is served.
 */
export function klines(info: SymbolInfo, interval: KlineInterval, q: KlineQuery, now: number, outages: readonly Outage[],
  offGrid: readonly OffGridKline[] = []): KlineRow[] {
  const served = (row: KlineRow): KlineRow => {
    const shift = offGrid.find((k) => k.symbol === info.symbol && k.interval === interval.name && k.slot === row[0]);
    return shift ? [row[0] + shift.offsetMs, ...row.slice(1)] as KlineRow : row;
  };
  return klinesOnGrid(info, interval, q, now, outages).map(served);
}

function klinesOnGrid(info: SymbolInfo, interval: KlineInterval, q: KlineQuery, now: number, outages: readonly Outage[]): KlineRow[] {
  const spans = tradingSpans(info, outages, now);
  let last = interval.openAt(now);
  if (q.endTime !== undefined) last = Math.min(last, interval.openAt(q.endTime));
  const rows: KlineRow[] = [];
  if (q.startTime !== undefined) {
    const aligned = interval.openAt(q.startTime);
    let t = aligned === q.startTime ? aligned : interval.next(aligned);
    while (rows.length < q.limit) {
      const open = firstCandleFrom(spans, interval, t);
      if (open === undefined || open > last) break;
      rows.push(klineAt(info, interval, open, now, spans));
      t = interval.next(open);
    }
    return rows;
  }
  let t = last;
  while (rows.length < q.limit) {
    const open = lastCandleUpTo(spans, interval, t);
    if (open === undefined) break;
    rows.push(klineAt(info, interval, open, now, spans));
    t = interval.openAt(open - 1);
  }
  return rows.reverse();
}

export function candleOf(row: KlineRow): EmulatedCandle {
  return { openTime: row[0], open: Number(row[1]), high: Number(row[2]), low: Number(row[3]), close: Number(row[4]), volume: Number(row[5]) };
}

function resolve(symbol: string, intervalName: string, settings: BinanceSettings, offsetMs = 0) {
  const info = findSymbol(universe(settings), symbol);
  const interval = klineInterval(intervalName, offsetMs);
  if (!info) throw new Error(`the binance emulator lists no ${symbol} at ${new Date(exchangeNow(settings)).toISOString()}`);
  if (!interval) throw new Error(`the binance emulator has no kline interval ${JSON.stringify(intervalName)}`);
  return { info, interval };
}

/**
 * Exactly the rows GET /api/v3/klines answers for this query under these settings (the open candle included).
 * `symbol` may be unified (BTC/USDT) or Binance's (BTCUSDT).
 */
export function emulatorKlines(symbol: string, intervalName: string, query: Partial<KlineQuery> = {},
  settings: Partial<BinanceSettings> = {}): KlineRow[] {
  const s = completeSettings(settings);
  const { info, interval } = resolve(symbol, intervalName, s, query.timeZoneOffsetMs);
  return klines(info, interval, { ...query, limit: query.limit ?? 500 }, exchangeNow(s), s.outages, s.offGridKlines);
}

/**
 * The truth tests compare a client's store with: every CLOSED candle opening in [startMs, endMs), as a client
 * parses it. The candle still open is never in it. Candles served off the grid (`offGridKlines`) are here at their
 * grid slot, which is where a client that aligns them stores them.
 */
export function emulatorCandles(symbol: string, intervalName: string, startMs: number, endMs: number,
  settings: Partial<BinanceSettings> = {}): EmulatedCandle[] {
  const s = completeSettings(settings);
  const now = exchangeNow(s);
  const { info, interval } = resolve(symbol, intervalName, s);
  const spans = tradingSpans(info, s.outages, now);
  const out: EmulatedCandle[] = [];
  const aligned = interval.openAt(startMs);
  let t = aligned === startMs ? aligned : interval.next(aligned);
  for (;;) {
    const open = firstCandleFrom(spans, interval, t);
    // Closed once now is past its closeTime (next - 1).
    if (open === undefined || open >= endMs || interval.next(open) > now) break;
    out.push(candleOf(klineAt(info, interval, open, now, spans)));
    t = interval.next(open);
  }
  return out;
}
