import { rateLimitInterval } from './request-weights.js';
import type { SymbolInfo } from './universe.js';

/** GET /api/v3/exchangeInfo bodies, shaped as Binance's spot docs show them (the fields ccxt's parseMarket reads). */

const decimal = (x: number) => x.toFixed(8);

/** Minimum order value by quote asset, as Binance's NOTIONAL filters set it. */
const MIN_NOTIONAL: Record<string, number> = { USDT: 5, FDUSD: 5, BTC: 0.0001, ETH: 0.001 };

export function symbolJson(info: SymbolInfo, showPermissionSets = true) {
  const tick = decimal(10 ** -info.priceDecimals);
  const step = decimal(10 ** -info.quantityDecimals);
  return {
    symbol: info.symbol,
    status: info.status,
    baseAsset: info.base,
    baseAssetPrecision: 8,
    quoteAsset: info.quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: true,
    opoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    amendAllowed: true,
    pegInstructionsAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: info.permissions.includes('MARGIN'),
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: tick, maxPrice: decimal(Math.min(1e7, info.basePrice * 1e4)), tickSize: tick },
      { filterType: 'LOT_SIZE', minQty: step, maxQty: '9000000.00000000', stepSize: step },
      { filterType: 'ICEBERG_PARTS', limit: 10 },
      { filterType: 'MARKET_LOT_SIZE', minQty: '0.00000000', maxQty: '100000.00000000', stepSize: '0.00000000' },
      { filterType: 'TRAILING_DELTA', minTrailingAboveDelta: 10, maxTrailingAboveDelta: 2000, minTrailingBelowDelta: 10, maxTrailingBelowDelta: 2000 },
      { filterType: 'PERCENT_PRICE_BY_SIDE', bidMultiplierUp: '5', bidMultiplierDown: '0.2', askMultiplierUp: '5', askMultiplierDown: '0.2', avgPriceMins: 5 },
      {
        filterType: 'NOTIONAL', minNotional: decimal(MIN_NOTIONAL[info.quote] ?? 5), applyMinToMarket: true,
        maxNotional: '9000000.00000000', applyMaxToMarket: false, avgPriceMins: 5,
      },
      { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
      { filterType: 'MAX_NUM_ALGO_ORDERS', maxNumAlgoOrders: 5 },
    ],
    // Binance moved permissions into permissionSets (2024); `permissions` stays, empty.
    permissions: [],
    permissionSets: showPermissionSets ? [info.permissions] : [],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH', 'DECREMENT'],
  };
}

export interface ExchangeInfoOptions {
  now: number;
  weightLimit: number;
  windowMs: number;
  symbols: readonly SymbolInfo[];
  showPermissionSets: boolean;
}

export function exchangeInfoJson(o: ExchangeInfoOptions) {
  const { interval, intervalNum } = rateLimitInterval(o.windowMs);
  return {
    timezone: 'UTC',
    serverTime: o.now,
    rateLimits: [
      // The one ferry budgets by: the configured weight window and limit.
      { rateLimitType: 'REQUEST_WEIGHT', interval, intervalNum, limit: o.weightLimit },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
    ],
    exchangeFilters: [],
    symbols: o.symbols.map((s) => symbolJson(s, o.showPermissionSets)),
  };
}
