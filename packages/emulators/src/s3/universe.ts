import { addDays, type Market } from './calendar.js';

/**
 * The tickers the flat files hold. Well-known names come first (real IPO, rename and delisting dates, so older files
 * lack RIVN or ARM and newer ones lack TWTR; FB became META on 2022-06-09), spelled as Massive spells them (the
 * preferreds `ABRpD` and `TYp`, the warrant `ACHR.WS`), then synthetic ones (`QAAA`, `X:QAAUSD` ...), a quarter of
 * which list somewhere in 2016-2025. Crypto "listing" dates are approximately when a pair began
 * trading against USD on a major venue.
 */
export interface TickerListing {
  ticker: string;
  /** First day with data; absent = before any file the emulator serves. */
  listed?: string;
  /** Last day with data (delisting, rename). */
  delisted?: string;
  /** Typical price level (USD). */
  basePrice: number;
  /** Typical daily volume (shares, or coins). */
  baseVolume: number;
  /** Seeds this ticker's price path. */
  seed: number;
}

type Known = [ticker: string, basePrice: number, listed?: string, delisted?: string];

const KNOWN_STOCKS: readonly Known[] = [
  ['TSLA', 220], ['AAPL', 170], ['MSFT', 330], ['NVDA', 90], ['AMZN', 140], ['GOOGL', 120],
  ['META', 300, '2022-06-09'], ['FB', 250, undefined, '2022-06-08'], ['TWTR', 45, undefined, '2022-10-27'],
  ['ABNB', 140, '2020-12-10'], ['RIVN', 25, '2021-11-10'], ['ARM', 120, '2023-09-14'], ['SPY', 430], ['QQQ', 360],
  ['AMD', 110], ['NFLX', 450], ['JPM', 150], ['V', 230], ['MA', 380], ['INTC', 35], ['KO', 60], ['PEP', 170],
  ['WMT', 60], ['JNJ', 160], ['XOM', 100], ['CVX', 150], ['BAC', 32], ['DIS', 110], ['CSCO', 50], ['ORCL', 100],
  ['ADBE', 480], ['CRM', 210], ['PYPL', 90], ['AVGO', 700], ['QCOM', 130], ['TXN', 170], ['COST', 550], ['HD', 320],
  ['MCD', 270], ['NKE', 110], ['SBUX', 95], ['PFE', 35], ['MRK', 110], ['T', 18], ['VZ', 40], ['IBM', 140],
  ['BA', 210], ['GE', 100], ['F', 12], ['GM', 38], ['UBER', 45, '2019-05-10'], ['LYFT', 15, '2019-03-29'],
  ['ZM', 90, '2019-04-18'], ['PINS', 28, '2019-04-18'], ['CRWD', 200, '2019-06-12'], ['DDOG', 100, '2019-09-19'],
  ['SNOW', 170, '2020-09-16'], ['U', 40, '2020-09-18'], ['PLTR', 18, '2020-09-30'], ['DASH', 110, '2020-12-09'],
  ['RBLX', 40, '2021-03-10'], ['COIN', 150, '2021-04-14'], ['HOOD', 15, '2021-07-29'], ['RDDT', 60, '2024-03-21'],
  // Massive spells preferreds and some warrants with lower-case letters; a request must match them exactly.
  ['ABRpD', 18, '2021-08-11'], ['TYp', 45], ['ACHR.WS', 1.5, '2021-09-17'],
];

const KNOWN_CRYPTO: readonly Known[] = [
  ['X:BTCUSD', 30_000], ['X:ETHUSD', 2_000], ['X:SOLUSD', 80, '2020-04-10'], ['X:XRPUSD', 0.5], ['X:DOGEUSD', 0.1],
  ['X:ADAUSD', 0.4], ['X:LTCUSD', 80], ['X:DOTUSD', 6, '2020-08-19'], ['X:AVAXUSD', 20, '2020-09-22'],
  ['X:LINKUSD', 12], ['X:UNIUSD', 6, '2020-09-17'], ['X:MATICUSD', 0.8], ['X:SHIBUSD', 0.00001, '2021-05-10'],
  ['X:BCHUSD', 250], ['X:XLMUSD', 0.12], ['X:ATOMUSD', 9], ['X:ETCUSD', 20], ['X:AAVEUSD', 100, '2020-10-02'],
  ['X:APTUSD', 8, '2022-10-19'], ['X:ARBUSD', 1.1, '2023-03-23'], ['X:PEPEUSD', 0.000005, '2023-04-18'],
];

/** FNV-1a: a stable 32-bit seed from a string. */
export function stringSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function letters(index: number, count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) {
    out = String.fromCharCode(65 + (index % 26)) + out;
    index = Math.floor(index / 26);
  }
  return out;
}

function syntheticName(market: Market, index: number): string {
  return market === 'us_stocks_sip' ? `Q${letters(index, 3)}` : `X:Q${letters(index, 2)}USD`;
}

function listing([ticker, basePrice, listed, delisted]: Known, market: Market): TickerListing {
  const seed = stringSeed(ticker);
  const baseVolume = market === 'us_stocks_sip'
    ? 200_000 + (seed % 40_000_000)
    : Math.max(1, Math.round(20_000_000 / basePrice / (1 + (seed % 50))));
  return { ticker, listed, delisted, basePrice, baseVolume, seed };
}

function synthetic(market: Market, name: string): TickerListing {
  const seed = stringSeed(name);
  const basePrice = market === 'us_stocks_sip' ? 5 + (seed % 49_500) / 100 : 0.05 + (seed % 20_000) / 100;
  // A quarter of them list during 2016-2025, so older files hold fewer synthetic tickers.
  const listed = seed % 4 === 0 ? addDays('2016-01-01', (seed >>> 2) % 3653) : undefined;
  return { ...listing([name, basePrice], market), listed };
}

const universes = new Map<string, readonly TickerListing[]>();

/** The first `count` tickers of a market, in universe order (known names first). */
export function tickerUniverse(market: Market, count: number): readonly TickerListing[] {
  const cacheKey = `${market}:${count}`;
  const cached = universes.get(cacheKey);
  if (cached) return cached;
  const known = market === 'us_stocks_sip' ? KNOWN_STOCKS : KNOWN_CRYPTO;
  const taken = new Set(known.map(([t]) => t));
  const out = known.slice(0, count).map((k) => listing(k, market));
  for (let i = 0; out.length < count; i++) {
    const name = syntheticName(market, i);
    if (!taken.has(name)) out.push(synthetic(market, name));
  }
  universes.set(cacheKey, out);
  return out;
}

export function isListedOn(t: TickerListing, date: string): boolean {
  return (t.listed === undefined || date >= t.listed) && (t.delisted === undefined || date <= t.delisted);
}

/** The tickers with data on a date, sorted as the files are (by ticker). */
export function tickersOn(market: Market, count: number, date: string): TickerListing[] {
  return sortedUniverse(market, count).filter((t) => isListedOn(t, date));
}

const sortedUniverses = new Map<string, readonly TickerListing[]>();

function sortedUniverse(market: Market, count: number): readonly TickerListing[] {
  const cacheKey = `${market}:${count}`;
  let sorted = sortedUniverses.get(cacheKey);
  if (!sorted) {
    sorted = [...tickerUniverse(market, count)].sort((a, b) => (a.ticker < b.ticker ? -1 : a.ticker > b.ticker ? 1 : 0));
    sortedUniverses.set(cacheKey, sorted);
  }
  return sorted;
}
