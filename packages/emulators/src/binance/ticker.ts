import { decimalString } from './candles.js';
import { priceAt, unitHash } from './price-path.js';
import { symbolHash, type SymbolInfo } from './universe.js';

/**
 * GET /api/v3/ticker/24hr statistics for a symbol at the exchange clock, from the same price path as its klines.
 * quoteVolume is the universe's (what "top N" ranks by); a halted pair's statistics stay where its trading stopped.
 */

const DAY = 86_400_000;
const roundTo = (x: number, decimals: number) => Number(x.toFixed(decimals));

export type TickerType = 'FULL' | 'MINI';

export function ticker24hr(info: SymbolInfo, now: number, type: TickerType = 'FULL') {
  const closeTime = Math.min(now, info.haltedAt ?? Number.POSITIVE_INFINITY);
  const openTime = closeTime - DAY;
  const pd = info.priceDecimals;
  const tick = 10 ** -pd;
  const price = (t: number) => roundTo(priceAt(info, Math.max(t, info.listedAt)), pd);
  const openPrice = price(openTime);
  const lastPrice = price(closeTime);
  let high = Math.max(openPrice, lastPrice);
  let low = Math.min(openPrice, lastPrice);
  let sum = 0;
  const samples = 48;
  for (let i = 1; i <= samples; i++) {
    const p = price(openTime + (DAY * i) / (samples + 1));
    high = Math.max(high, p);
    low = Math.min(low, p);
    sum += p;
  }
  const weightedAvgPrice = roundTo(sum / samples, pd);
  const volume = info.quoteVolume / weightedAvgPrice;
  // Trade ids grow with time since listing, at the symbol's pace.
  const tradesPerMs = info.dailyTrades / DAY;
  const lastId = Math.floor((closeTime - info.listedAt) * tradesPerMs);
  const count = Math.min(lastId + 1, Math.floor(DAY * tradesPerMs));
  const firstId = lastId - count + 1;
  const price8 = (x: number) => decimalString(x, pd);
  const qty8 = (x: number) => decimalString(roundTo(x, info.quantityDecimals), info.quantityDecimals);
  const common = {
    openPrice: price8(openPrice), highPrice: price8(high), lowPrice: price8(low), lastPrice: price8(lastPrice),
    volume: qty8(volume), quoteVolume: decimalString(info.quoteVolume), openTime, closeTime, firstId, lastId, count,
  };
  if (type === 'MINI') return { symbol: info.symbol, ...common };
  const seed = symbolHash(info.symbol);
  const lot = (salt: number) => qty8((50 + 5000 * unitHash(seed, closeTime, salt)) / info.basePrice);
  return {
    symbol: info.symbol,
    priceChange: price8(roundTo(lastPrice - openPrice, pd)),
    priceChangePercent: (((lastPrice - openPrice) / openPrice) * 100).toFixed(3),
    weightedAvgPrice: price8(weightedAvgPrice),
    prevClosePrice: price8(price(openTime - 1)),
    lastPrice: common.lastPrice,
    lastQty: lot(1),
    bidPrice: price8(roundTo(lastPrice - tick, pd)),
    bidQty: lot(2),
    askPrice: price8(roundTo(lastPrice + tick, pd)),
    askQty: lot(3),
    openPrice: common.openPrice,
    highPrice: common.highPrice,
    lowPrice: common.lowPrice,
    volume: common.volume,
    quoteVolume: common.quoteVolume,
    openTime, closeTime, firstId, lastId, count,
  };
}
