/**
 * Choosing "the top N coins": USDT spot pairs that are trading, ranked by 24h quote volume, above a minimum,
 * without stablecoins or leveraged tokens. Pure, over plain data.
 */
export interface MarketSummary {
  symbol: string; // BTC/USDT
  /** The exchange's own id (Binance: BTCUSDT), where it differs from the unified symbol. */
  id?: string;
  base: string;
  quote: string;
  spot: boolean;
  active: boolean;
  /** Exchange permissions, when it lists them (Binance marks leveraged tokens with LEVERAGED). */
  permissions?: readonly string[];
}

export interface TopSymbolsOptions {
  top: number;
  minQuoteVolume: number;
  quote?: string;
}

/** Dollar stablecoins and fiat-pegged tokens: their candles say nothing, so they are never "top coins". */
export const STABLECOINS = new Set([
  'USDT', 'USDC', 'FDUSD', 'TUSD', 'BUSD', 'DAI', 'USDP', 'PAX', 'PYUSD', 'USDD', 'GUSD', 'SUSD', 'UST', 'USTC',
  'USDE', 'USD1', 'RLUSD', 'EUR', 'EURI', 'AEUR', 'EURC', 'GBP', 'TRY', 'BRL', 'XUSD', 'BFUSD', 'FRAX', 'LUSD',
]);

const LEVERAGED_SUFFIX = /^(.+?)(UP|DOWN|BULL|BEAR)$/;

/** A leveraged token: marked so by the exchange, or named <known base>UP/DOWN/BULL/BEAR (so JUP or SYRUP stay). */
export function isLeveragedToken(market: MarketSummary, knownBases: ReadonlySet<string>): boolean {
  if (market.permissions?.some((p) => p.toUpperCase() === 'LEVERAGED')) return true;
  const match = LEVERAGED_SUFFIX.exec(market.base);
  return match !== null && knownBases.has(match[1]!);
}

/** A coin of the top N, with the 24h quote volume it was ranked by. */
export interface RankedSymbol {
  symbol: string;
  quoteVolume: number;
}

/** The top N coins, largest 24h quote volume first (ties by symbol), with their volumes. */
export function rankTopSymbols(
  markets: readonly MarketSummary[],
  quoteVolumes: ReadonlyMap<string, number>,
  options: TopSymbolsOptions,
): RankedSymbol[] {
  const quote = options.quote ?? 'USDT';
  const knownBases = new Set(markets.map((m) => m.base));
  return markets
    .filter((m) => m.spot && m.active && m.quote === quote)
    .filter((m) => !STABLECOINS.has(m.base) && !isLeveragedToken(m, knownBases))
    .map((m) => ({ symbol: m.symbol, quoteVolume: quoteVolumes.get(m.symbol) ?? 0 }))
    .filter((m) => m.quoteVolume >= options.minQuoteVolume)
    .sort((a, b) => b.quoteVolume - a.quoteVolume || a.symbol.localeCompare(b.symbol))
    .slice(0, options.top);
}

export function selectTopSymbols(
  markets: readonly MarketSummary[],
  quoteVolumes: ReadonlyMap<string, number>,
  options: TopSymbolsOptions,
): string[] {
  return rankTopSymbols(markets, quoteVolumes, options).map((m) => m.symbol);
}
