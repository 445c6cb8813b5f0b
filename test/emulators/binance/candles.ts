import { symbolHash, type SymbolInfo } from './universe.js';

/** Kline intervals Binance accepts, in ms (1M is calendar months and not emulated). */
export const INTERVALS: Record<string, number> = {
  '1s': 1_000, '1m': 60_000, '3m': 180_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000,
  '1h': 3_600_000, '2h': 7_200_000, '4h': 14_400_000, '6h': 21_600_000, '8h': 28_800_000, '12h': 43_200_000,
  '1d': 86_400_000, '3d': 259_200_000, '1w': 604_800_000,
};

export interface Outage {
  start: number;
  end: number;
}

/** A kline as Binance sends it: numbers as decimal strings. */
export type KlineRow = [number, string, string, string, string, string, number, string, number, string, string, string];

export interface EmulatedCandle {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

function unit(seed: number): number {
  // xorshift32 -> [0, 1)
  let x = seed | 0 || 1;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return (x >>> 0) / 4294967296;
}

const fmt = (n: number) => n.toFixed(8);

/** Whether the exchange has a candle at this open time (listing, halts and outages leave holes). */
export function hasCandle(info: SymbolInfo, openTime: number, intervalMs: number, outages: readonly Outage[]): boolean {
  if (openTime < info.listedAt) return false;
  if (info.haltedAt !== undefined && openTime >= info.haltedAt) return false;
  return !outages.some((o) => openTime + intervalMs > o.start && openTime < o.end);
}

/**
 * The candle at `openTime`, a pure function of symbol, interval and time. While it is still open (now inside it),
 * close, high, low and volume are partial and move with `now`, as on Binance: storing it as final is wrong.
 */
export function klineAt(info: SymbolInfo, intervalMs: number, openTime: number, now: number): KlineRow {
  const h = symbolHash(info.symbol);
  const step = Math.floor(openTime / intervalMs);
  const slow = Math.sin(openTime / (30 * 86_400_000) * 2 * Math.PI + (h % 628) / 100);
  const level = info.basePrice * Math.exp(0.25 * slow);
  const open = level * (1 + (unit(h ^ step) - 0.5) * 0.02);
  let closeFactor = (unit(h ^ (step * 31 + 7)) - 0.5) * 0.03;
  let volumeShare = 1;
  const closeTime = openTime + intervalMs - 1;
  if (now <= closeTime) {
    volumeShare = Math.max(0.01, (now - openTime) / intervalMs);
    closeFactor *= volumeShare;
  }
  const close = open * (1 + closeFactor);
  const high = Math.max(open, close) * (1 + unit(h ^ (step * 17 + 3)) * 0.01 * volumeShare);
  const low = Math.min(open, close) * (1 - unit(h ^ (step * 13 + 5)) * 0.01 * volumeShare);
  const volume = (1 + unit(h ^ (step * 7 + 11)) * 1000) * (intervalMs / 60_000) * volumeShare;
  const quoteVolume = volume * (open + close) / 2;
  const trades = Math.floor(volume) + 1;
  return [
    openTime, fmt(open), fmt(high), fmt(low), fmt(close), fmt(volume), closeTime, fmt(quoteVolume), trades,
    fmt(volume / 2), fmt(quoteVolume / 2), '0',
  ];
}

export interface KlineQuery {
  startTime?: number;
  endTime?: number;
  limit: number;
}

/** Binance's klines semantics: from startTime ascending; only endTime: the last `limit` up to it; neither: the latest. */
export function klines(info: SymbolInfo, intervalMs: number, q: KlineQuery, now: number, outages: readonly Outage[]): KlineRow[] {
  const latestOpen = Math.floor(now / intervalMs) * intervalMs;
  const last = Math.min(latestOpen, q.endTime === undefined ? latestOpen : Math.floor(q.endTime / intervalMs) * intervalMs);
  const rows: KlineRow[] = [];
  if (q.startTime !== undefined) {
    let t = Math.ceil(q.startTime / intervalMs) * intervalMs;
    while (t <= last && rows.length < q.limit) {
      if (t < info.listedAt) {
        t = Math.ceil(info.listedAt / intervalMs) * intervalMs;
        continue;
      }
      if (info.haltedAt !== undefined && t >= info.haltedAt) break;
      const outage = outages.find((o) => t + intervalMs > o.start && t < o.end);
      if (outage) {
        t = Math.ceil(outage.end / intervalMs) * intervalMs;
        continue;
      }
      rows.push(klineAt(info, intervalMs, t, now));
      t += intervalMs;
    }
    return rows;
  }
  for (let t = last; t >= info.listedAt && rows.length < q.limit; t -= intervalMs) {
    if (hasCandle(info, t, intervalMs, outages)) rows.push(klineAt(info, intervalMs, t, now));
  }
  return rows.reverse();
}

/** The truth tests compare against: every CLOSED candle in [startMs, endMs), as numbers. */
export function closedCandles(info: SymbolInfo, intervalMs: number, startMs: number, endMs: number, now: number,
  outages: readonly Outage[]): EmulatedCandle[] {
  const out: EmulatedCandle[] = [];
  const lastClosedEnd = Math.floor(now / intervalMs) * intervalMs;
  for (let t = Math.ceil(startMs / intervalMs) * intervalMs; t < Math.min(endMs, lastClosedEnd); t += intervalMs) {
    if (!hasCandle(info, t, intervalMs, outages)) continue;
    const r = klineAt(info, intervalMs, t, now);
    out.push({ openTime: t, open: Number(r[1]), high: Number(r[2]), low: Number(r[3]), close: Number(r[4]), volume: Number(r[5]) });
  }
  return out;
}
