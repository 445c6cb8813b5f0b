/**
 * The emulated exchange's symbols: USDT coins listed at different dates, plus what a "top N" filter must leave out
 * (stablecoins, leveraged tokens, halted and non-USDT pairs). Deterministic: a function of the settings only.
 */
export interface SymbolInfo {
  /** Binance id, e.g. BTCUSDT */
  symbol: string;
  base: string;
  quote: string;
  status: 'TRADING' | 'BREAK';
  /** Open time of the first candle. */
  listedAt: number;
  /** No candles from here on (halted pairs). */
  haltedAt?: number;
  /** 24h quote volume: the ranking of "top N". */
  quoteVolume: number;
  basePrice: number;
  kind: 'coin' | 'stable' | 'leveraged' | 'cross';
  permissions: string[];
}

const DAY = 86_400_000;
/** Listing dates are fixed relative to this day, so the data never depends on when tests run. */
export const LISTING_ANCHOR = Date.UTC(2026, 9, 1);
const LONG_AGO = Date.UTC(2017, 7, 17);

const KNOWN = [
  'BTC', 'ETH', 'BNB', 'SOL', 'XRP', 'DOGE', 'ADA', 'TRX', 'AVAX', 'LINK', 'DOT', 'TON', 'LTC', 'SHIB', 'UNI',
  'ATOM', 'XLM', 'ETC', 'FIL', 'APT', 'NEAR', 'ARB', 'OP', 'INJ', 'SUI', 'PEPE', 'JUP', 'SYRUP', 'AAVE', 'RUNE',
];

/** Recent listings, in days before the anchor: they fall inside 60-day and 3-year windows. */
const RECENT_LISTINGS_DAYS = [3, 12, 25, 45, 200, 420];

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function universe(coinCount: number): SymbolInfo[] {
  const coins: SymbolInfo[] = [];
  for (let i = 0; i < coinCount; i++) {
    const base = i < KNOWN.length ? KNOWN[i]! : `COIN${String(i).padStart(3, '0')}`;
    // Every 9th coin from the 5th on is a recent listing.
    const recent = i >= 4 && (i - 4) % 9 === 0 ? RECENT_LISTINGS_DAYS[((i - 4) / 9) % RECENT_LISTINGS_DAYS.length] : undefined;
    coins.push({
      symbol: `${base}USDT`, base, quote: 'USDT', status: 'TRADING',
      listedAt: recent === undefined ? LONG_AGO + (hashString(base) % 400) * DAY : LISTING_ANCHOR - recent * DAY,
      quoteVolume: Math.round(5e9 / (i + 1) ** 1.1),
      basePrice: 10 ** ((hashString(base) % 900) / 100 - 3),
      kind: 'coin', permissions: ['SPOT'],
    });
  }
  const extra = (symbol: string, base: string, quote: string, kind: SymbolInfo['kind'], quoteVolume: number,
    over: Partial<SymbolInfo> = {}): SymbolInfo => ({
    symbol, base, quote, status: 'TRADING', listedAt: LONG_AGO, quoteVolume, basePrice: 1, kind,
    permissions: kind === 'leveraged' ? ['SPOT', 'LEVERAGED'] : ['SPOT'], ...over,
  });
  return [
    ...coins,
    extra('USDCUSDT', 'USDC', 'USDT', 'stable', 9e9),
    extra('FDUSDUSDT', 'FDUSD', 'USDT', 'stable', 8e9),
    extra('TUSDUSDT', 'TUSD', 'USDT', 'stable', 1e8),
    extra('BTCUPUSDT', 'BTCUP', 'USDT', 'leveraged', 7e9, { basePrice: 12 }),
    extra('BTCDOWNUSDT', 'BTCDOWN', 'USDT', 'leveraged', 6e9, { basePrice: 0.01 }),
    extra('ETHUPUSDT', 'ETHUP', 'USDT', 'leveraged', 5.5e9, { basePrice: 3 }),
    extra('LUNAUSDT', 'LUNA', 'USDT', 'coin', 9.5e9, { status: 'BREAK', haltedAt: LISTING_ANCHOR - 30 * DAY, basePrice: 0.5 }),
    extra('ETHBTC', 'ETH', 'BTC', 'cross', 9e9, { basePrice: 0.05 }),
    extra('BNBBTC', 'BNB', 'BTC', 'cross', 3e9, { basePrice: 0.009 }),
  ];
}

export function symbolHash(symbol: string): number {
  return hashString(symbol);
}
