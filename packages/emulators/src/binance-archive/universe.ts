import { klineInterval } from '../binance/intervals.js';
import { candleOf, klines, type EmulatedCandle, type KlineRow } from '../binance/candles.js';
import { exchangeNow } from '../binance/settings.js';
import { universe, type SymbolInfo } from '../binance/universe.js';
import type { ArchiveSettings, DelistedSymbol } from './settings.js';

/**
 * The archive's symbols: every symbol the Binance emulator lists under the same settings, plus the `delistedSymbols`
 * it no longer lists (absent from its exchangeInfo, tickers and klines) whose files the archive keeps, as
 * data.binance.vision keeps the files of coins Binance delisted.
 */
export function archiveUniverse(s: ArchiveSettings): SymbolInfo[] {
  const now = exchangeNow(s);
  return [...universe(s), ...s.delistedSymbols.filter((d) => d.listedAt <= now).map(delistedInfo)];
}

export function findArchiveSymbol(s: ArchiveSettings, symbol: string): SymbolInfo | undefined {
  return archiveUniverse(s).find((u) => u.symbol === symbol);
}

/** A delisted coin traded like any other coin from its listing to its delisting (a halt that never ended). */
function delistedInfo(d: DelistedSymbol): SymbolInfo {
  const base = d.symbol.replace(/USDT$/, '');
  return {
    symbol: d.symbol, base, quote: 'USDT', status: 'BREAK', listedAt: d.listedAt, haltedAt: d.delistedAt,
    quoteVolume: 2e7, basePrice: d.basePrice, dailyTrades: 6_000, volatility: 1, priceDecimals: 4, quantityDecimals: 1,
    kind: 'coin', permissions: ['SPOT'],
  };
}

/** The rows of an archive file: what the REST emulator serves (or served, for a delisted coin) for those open times. */
export function archiveKlines(info: SymbolInfo, interval: string, startMs: number, endMs: number, s: ArchiveSettings): KlineRow[] {
  const k = klineInterval(interval, 0);
  if (!k) throw new Error(`the binance archive emulator has no kline interval ${JSON.stringify(interval)}`);
  return klines(info, k, { startTime: startMs, endTime: endMs - 1, limit: Number.MAX_SAFE_INTEGER }, exchangeNow(s), s.outages);
}

/** The closed candles of a symbol opening in [startMs, endMs), as a client parses them: the truth for tests. */
export function archiveCandles(symbol: string, interval: string, startMs: number, endMs: number, s: ArchiveSettings): EmulatedCandle[] {
  const info = findArchiveSymbol(s, symbol.replace('/', ''));
  if (!info) throw new Error(`the binance archive emulator has no ${symbol}`);
  const now = exchangeNow(s);
  const k = klineInterval(interval, 0)!;
  // Closed candles only, as emulatorCandles: the one still open is not the archive's.
  return archiveKlines(info, interval, startMs, endMs, s).filter((r) => k.next(r[0]) <= now).map(candleOf);
}
