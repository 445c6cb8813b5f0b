import { completeSettings, exchangeNow, LISTING_ANCHOR, type BinanceSettings, type SymbolStatus } from './settings.js';

export { LISTING_ANCHOR } from './settings.js';

/**
 * The emulated exchange's symbols: USDT coins listed at different dates and ranked by quote volume, plus what a
 * "top N" filter must leave out (stablecoins, leveraged tokens, halted pairs, pairs quoted in something else).
 * Deterministic: a function of the settings only.
 */
export interface SymbolInfo {
  /** Binance id, e.g. BTCUSDT. */
  symbol: string;
  base: string;
  quote: string;
  /** As of the exchange clock: BREAK once halted; or what the `symbolStatuses` setting says. */
  status: SymbolStatus;
  /** First moment of trading: no candle ends before it. */
  listedAt: number;
  /** Trading stopped here (halted pairs): no candle starts after it. */
  haltedAt?: number;
  /**
   * 24h quote volume (the ticker's quoteVolume): what "top N" ranks by. Halted pairs keep theirs, so only their
   * status tells a filter to drop them.
   */
  quoteVolume: number;
  /** The price level the symbol's candles move around. */
  basePrice: number;
  /** Trades a day (the ticker's count, spread over klines): about one per $3 500 traded. */
  dailyTrades: number;
  /** How much the price moves, relative to a coin (stablecoins barely, leveraged tokens a lot). */
  volatility: number;
  /** Decimals of PRICE_FILTER.tickSize; every price the emulator serves is a multiple of it. */
  priceDecimals: number;
  /** Decimals of LOT_SIZE.stepSize. */
  quantityDecimals: number;
  kind: 'coin' | 'stable' | 'leveraged' | 'cross';
  /** The symbol's permission set (exchangeInfo `permissionSets: [permissions]`). */
  permissions: string[];
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** Binance's first spot listings (BTCUSDT, ETHUSDT) date from here. */
const LONG_AGO = Date.UTC(2017, 7, 17);

/** Well-known coins first (highest volume), with price levels of their real order of magnitude. */
const KNOWN: ReadonlyArray<[string, number]> = [
  ['BTC', 65_000], ['ETH', 3_200], ['BNB', 580], ['SOL', 150], ['XRP', 0.55], ['DOGE', 0.12], ['ADA', 0.45],
  ['TRX', 0.12], ['AVAX', 28], ['LINK', 14], ['DOT', 6.2], ['TON', 5.1], ['LTC', 80], ['SHIB', 0.000018],
  ['UNI', 8.4], ['ATOM', 7.9], ['XLM', 0.11], ['ETC', 24], ['FIL', 4.6], ['APT', 8.8], ['NEAR', 5.3], ['ARB', 0.8],
  ['OP', 1.7], ['INJ', 22], ['SUI', 1.1], ['PEPE', 0.0000095], ['JUP', 0.9], ['SYRUP', 0.35], ['AAVE', 150],
  ['RUNE', 4.2],
];

/** Recent listings, in days before the anchor: they fall inside 60-day and 3-year windows. */
const RECENT_LISTING_DAYS = [3, 12, 25, 45, 200, 420];
/** Binance opens new pairs during the day, not at midnight: daily candles of a listing day are partial. */
const LISTING_HOUR = 8;

export function symbolHash(s: string): number {
  // FNV-1a: stable across runs and platforms.
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

function precisions(basePrice: number): { priceDecimals: number; quantityDecimals: number } {
  const magnitude = Math.floor(Math.log10(basePrice));
  // About five significant digits of price and a lot worth a fraction of a dollar, as Binance sets its filters.
  return { priceDecimals: clamp(4 - magnitude, 2, 8), quantityDecimals: clamp(magnitude + 1, 0, 8) };
}

type Draft = Omit<SymbolInfo, 'status' | 'priceDecimals' | 'quantityDecimals' | 'dailyTrades'>;

/** Rough dollar value of the quote assets, for trade counts. */
const QUOTE_USD: Record<string, number> = { USDT: 1, FDUSD: 1, BTC: 65_000, ETH: 3_200 };

function coins(count: number): Draft[] {
  const out: Draft[] = [];
  for (let i = 0; i < count; i++) {
    const known = KNOWN[i];
    const base = known ? known[0] : `COIN${String(i).padStart(3, '0')}`;
    const h = symbolHash(base);
    // Every 9th coin from the 5th on is a recent listing.
    const recentDays = i >= 4 && (i - 4) % 9 === 0 ? RECENT_LISTING_DAYS[((i - 4) / 9) % RECENT_LISTING_DAYS.length] : undefined;
    out.push({
      symbol: `${base}USDT`, base, quote: 'USDT',
      listedAt: recentDays === undefined
        ? (i < 2 ? LONG_AGO : LONG_AGO + (h % 400) * DAY)
        : LISTING_ANCHOR - recentDays * DAY + LISTING_HOUR * HOUR,
      quoteVolume: Math.round(5e9 / (i + 1) ** 1.1),
      basePrice: known ? known[1] : 10 ** ((h % 700) / 100 - 3),
      volatility: 1,
      kind: 'coin',
      permissions: ['SPOT', 'MARGIN'],
    });
  }
  return out;
}

function extra(symbol: string, base: string, quote: string, kind: Draft['kind'], quoteVolume: number, basePrice: number,
  over: Partial<Draft> = {}): Draft {
  const volatility = { coin: 1, stable: 0.004, leveraged: 2.5, cross: 0.6 }[kind];
  const permissions = kind === 'leveraged' ? ['SPOT', 'LEVERAGED'] : ['SPOT'];
  return { symbol, base, quote, listedAt: LONG_AGO + 30 * DAY, quoteVolume, basePrice, volatility, kind, permissions, ...over };
}

/**
 * Everything but coins, most deliberately high in volume so that a filter that forgets a rule picks them. Quote
 * volumes are in the quote asset (ETHBTC's in BTC); BTCFDUSD's dollar-like volume tops every USDT pair.
 */
function others(): Draft[] {
  return [
    extra('USDCUSDT', 'USDC', 'USDT', 'stable', 9e9, 1),
    extra('FDUSDUSDT', 'FDUSD', 'USDT', 'stable', 8e9, 1),
    extra('TUSDUSDT', 'TUSD', 'USDT', 'stable', 1e8, 1),
    extra('USDPUSDT', 'USDP', 'USDT', 'stable', 4e7, 1),
    extra('BTCUPUSDT', 'BTCUP', 'USDT', 'leveraged', 7e9, 12),
    extra('BTCDOWNUSDT', 'BTCDOWN', 'USDT', 'leveraged', 6e9, 0.0091),
    extra('ETHUPUSDT', 'ETHUP', 'USDT', 'leveraged', 5.5e9, 3.1),
    extra('ETHDOWNUSDT', 'ETHDOWN', 'USDT', 'leveraged', 2.5e9, 0.42),
    extra('BNBUPUSDT', 'BNBUP', 'USDT', 'leveraged', 2e8, 45),
    // Halted mid-day: LUNA years ago with its volume still ranking high (only its status excludes it), WAVES days
    // before the anchor (inside recent windows) with the lowest volume, so coins stay first in volume order at any
    // clock.
    extra('LUNAUSDT', 'LUNA', 'USDT', 'coin', 9.5e9, 0.5,
      { listedAt: Date.UTC(2020, 7, 21, 10), haltedAt: Date.UTC(2022, 4, 13, 2), permissions: ['SPOT'] }),
    extra('WAVESUSDT', 'WAVES', 'USDT', 'coin', 1e6, 1.9, { haltedAt: LISTING_ANCHOR - 5 * DAY + 10 * HOUR, permissions: ['SPOT'] }),
    // Quoted in something else than USDT.
    extra('ETHBTC', 'ETH', 'BTC', 'cross', 2_500, 0.05),
    extra('BNBBTC', 'BNB', 'BTC', 'cross', 600, 0.009),
    extra('SOLETH', 'SOL', 'ETH', 'cross', 900, 0.047),
    extra('BTCFDUSD', 'BTC', 'FDUSD', 'cross', 9.9e9, 65_000),
  ];
}

const drafts = new Map<number, Draft[]>();

function draftsFor(coinCount: number): Draft[] {
  let list = drafts.get(coinCount);
  if (!list) {
    list = [...coins(coinCount), ...others()];
    drafts.clear();
    drafts.set(coinCount, list);
  }
  return list;
}

/**
 * The symbols the exchange lists at its clock (`nowMs`/`clockOffsetMs`): pairs not yet listed are absent, halted
 * ones are BREAK from their halt on. Coins come first, in descending quote volume.
 */
export function universe(settings: Partial<BinanceSettings> = {}): SymbolInfo[] {
  const s = completeSettings(settings);
  const now = exchangeNow(s);
  return draftsFor(s.coinCount)
    .filter((d) => d.listedAt <= now)
    .map((d) => ({
      ...d,
      status: s.symbolStatuses[d.symbol] ?? (d.haltedAt !== undefined && d.haltedAt <= now ? 'BREAK' as const : 'TRADING' as const),
      ...precisions(d.basePrice),
      dailyTrades: Math.round((d.quoteVolume * (QUOTE_USD[d.quote] ?? 1)) / 3_500),
      permissions: [...d.permissions],
    }));
}

/** `BTC/USDT` (ccxt) or `BTCUSDT` (Binance) to the Binance id. */
export function binanceId(symbol: string): string {
  return symbol.replace('/', '').toUpperCase();
}

export function findSymbol(list: readonly SymbolInfo[], symbol: string): SymbolInfo | undefined {
  const id = binanceId(symbol);
  return list.find((s) => s.symbol === id);
}
