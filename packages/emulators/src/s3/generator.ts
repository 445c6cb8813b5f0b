import { gzipSync } from 'node:zlib';
import { DAY_MS, addDays, easternMidnight, parseDate, type Market } from './calendar.js';
import { tickersOn, type TickerListing } from './universe.js';

/**
 * Massive's (Polygon's) aggregate flat files, generated: `<market>/<timeframe>/YYYY/MM/YYYY-MM-DD.csv.gz`, gzipped
 * CSV sorted by ticker then window, columns `ticker,volume,open,close,high,low,window_start,transactions`,
 * `window_start` in nanoseconds since the epoch (midnight New York for a stocks day bar, midnight UTC for crypto).
 * Every value is a pure function of (key, settings, version): tests compute the truth without a server.
 */
export type Timeframe = 'day_aggs_v1' | 'minute_aggs_v1';
export const TIMEFRAMES: readonly Timeframe[] = ['day_aggs_v1', 'minute_aggs_v1'];

export const CSV_HEADER = 'ticker,volume,open,close,high,low,window_start,transactions';

export interface FlatFileRow {
  ticker: string;
  volume: number;
  open: number;
  close: number;
  high: number;
  low: number;
  /** Nanoseconds since the epoch (beyond 2^53, hence bigint). */
  window_start: bigint;
  transactions: number;
}

export interface GeneratorSettings {
  /** Size of the US stocks universe. Default 100 (Massive's real files hold ~10,000 tickers). */
  stockTickers: number;
  /** Size of the crypto universe. Default 20. */
  cryptoTickers: number;
  /**
   * Bars per ticker in a minute file: the first N minutes of the session (09:30 New York for stocks, 00:00 UTC for
   * crypto). Real files hold every minute with a trade (up to 960 with extended hours, 1440 for crypto); a small N
   * keeps files, and listings that must hash every body, cheap (first listing of 1,258 minute files: ~1.5 s with
   * 100 tickers x 10 bars, ~4 s with 30). Default 10.
   */
  minuteBarsPerTicker: number;
}

export const DEFAULT_GENERATOR_SETTINGS: GeneratorSettings = { stockTickers: 100, cryptoTickers: 20, minuteBarsPerTicker: 10 };

export interface FlatFileId {
  market: Market;
  timeframe: Timeframe;
  date: string;
}

export function flatFileKey(market: Market, timeframe: Timeframe, date: string): string {
  return `${market}/${timeframe}/${date.slice(0, 4)}/${date.slice(5, 7)}/${date}.csv.gz`;
}

const KEY = /^(us_stocks_sip|global_crypto)\/(day_aggs_v1|minute_aggs_v1)\/(\d{4})\/(\d{2})\/((\d{4})-(\d{2})-\d{2})\.csv\.gz$/;

export function parseFlatFileKey(key: string): FlatFileId | undefined {
  const m = KEY.exec(key);
  if (!m || m[3] !== m[6] || m[4] !== m[7]) return undefined;
  const date = m[5]!;
  if (Number.isNaN(parseDate(date)) || new Date(parseDate(date)).toISOString().slice(0, 10) !== date) return undefined;
  return { market: m[1] as Market, timeframe: m[2] as Timeframe, date };
}

/** When Massive publishes a day's files: about 11:00 New York time the next day (their docs). */
export function publishedAt(date: string): Date {
  return new Date(easternMidnight(addDays(date, 1)) + 11 * 3_600_000);
}

/** A 32-bit integer mix (murmur3's finaliser). */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Deterministic uniform [0, 1) from three integers. */
function unit(seed: number, a: number, b: number): number {
  return mix(seed ^ mix(a + 0x9e3779b9 + mix(b))) / 4_294_967_296;
}

/** A price path: slow and medium waves around the base price, so consecutive days stay close. */
function level(t: TickerListing, seed: number, day: number): number {
  const slow = 180 + (t.seed % 400);
  const medium = 15 + ((t.seed >>> 9) % 40);
  const phase = ((seed >>> 3) % 628) / 100;
  return t.basePrice * Math.exp(0.3 * Math.sin((2 * Math.PI * day) / slow + phase) + 0.1 * Math.sin((2 * Math.PI * day) / medium + 2 * phase));
}

/** Decimals of a price: SIP prices have cents (sub-dollar: 4 decimals); crypto more digits the cheaper the coin. */
function priceDecimals(market: Market, price: number): number {
  if (market === 'us_stocks_sip') return price >= 1 ? 2 : 4;
  return price >= 1000 ? 2 : price >= 1 ? 4 : price >= 0.01 ? 6 : 10;
}

const POW10 = Array.from({ length: 17 }, (_, i) => 10 ** i);

/** Appends ASCII text and numbers to a growing buffer: the CSV's cost is number formatting, done here in integers. */
class AsciiWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  /** ASCII text, copied by hand: short strings cost more through a native call than in a loop. */
  text(s: string): void {
    this.reserve(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.length++] = s.charCodeAt(i);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** A non-negative integer below 2^53. */
  integer(n: number): void {
    let digits = 1;
    while (digits < 16 && n >= POW10[digits]!) digits += 1;
    this.reserve(digits);
    for (let i = this.length + digits - 1; i >= this.length; i--) {
      const q = Math.floor(n / 10);
      this.buf[i] = 48 + (n - q * 10);
      n = q;
    }
    this.length += digits;
  }

  /**
   * A decimal held as an integer count of 10^-decimals, written without trailing zeros, as Massive writes numbers;
   * `ticks / 10^decimals` is exactly the double a CSV parser reads back.
   */
  decimal(ticks: number, decimals: number): void {
    const f = POW10[decimals]!;
    const whole = Math.floor(ticks / f);
    let frac = ticks - whole * f;
    this.integer(whole);
    if (frac === 0) return;
    let digits = decimals;
    while (frac % 10 === 0) {
      frac /= 10;
      digits -= 1;
    }
    this.byte(46); // '.'
    let width = 1;
    while (width < digits && frac >= POW10[width]!) width += 1;
    for (let i = width; i < digits; i++) this.byte(48);
    this.integer(frac);
  }

  result(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

/** One bar in integer ticks: what both the row objects and the CSV text are made from. */
interface TickBar {
  ticker: string;
  windowMs: number;
  volume: number;
  volumeDecimals: number;
  open: number;
  close: number;
  high: number;
  low: number;
  priceDecimals: number;
  transactions: number;
}

function tickBar(market: Market, ticker: string, windowMs: number, seed: number, day: number, draw: number, base: number, spread: number, volume: number): TickBar {
  const decimals = priceDecimals(market, base);
  const f = POW10[decimals]!;
  const open = Math.round(base * (1 + (unit(seed, day, draw) - 0.5) * spread) * f);
  const close = Math.round(base * (1 + (unit(seed, day, draw + 1) - 0.5) * spread * 1.5) * f);
  const high = Math.max(open, close, Math.round(Math.max(open, close) * (1 + unit(seed, day, draw + 2) * spread * 0.75)));
  const low = Math.max(1, Math.min(open, close, Math.round(Math.min(open, close) * (1 - unit(seed, day, draw + 3) * spread * 0.75))));
  const vol = volume * (0.5 + unit(seed, day, draw + 4));
  // Stocks trade whole shares; crypto volumes are fractional (4 decimals here).
  const volumeDecimals = market === 'us_stocks_sip' ? 0 : 4;
  // Average trade: ~120 shares for stocks, ~500 USD of coin for crypto.
  const perTrade = market === 'us_stocks_sip' ? 120 : 500 / base;
  return {
    ticker, windowMs, volume: Math.max(1, Math.round(vol * POW10[volumeDecimals]!)), volumeDecimals,
    open, close, high, low, priceDecimals: decimals, transactions: Math.max(1, Math.round(vol / perTrade)),
  };
}

function tickBars(id: FlatFileId, settings: GeneratorSettings, version: number): TickBar[] {
  const { market, timeframe, date } = id;
  const count = market === 'us_stocks_sip' ? settings.stockTickers : settings.cryptoTickers;
  const dayStart = market === 'us_stocks_sip' ? easternMidnight(date) : parseDate(date);
  const day = Math.round(parseDate(date) / DAY_MS);
  const bars: TickBar[] = [];
  for (const t of tickersOn(market, count, date)) {
    const seed = (t.seed ^ Math.imul(version, 0x9e3779b1)) >>> 0;
    const dayLevel = level(t, seed, day);
    if (timeframe === 'day_aggs_v1') {
      bars.push(tickBar(market, t.ticker, dayStart, seed, day, 1, dayLevel, 0.02, t.baseVolume));
      continue;
    }
    const sessionStart = dayStart + (market === 'us_stocks_sip' ? 9.5 * 3_600_000 : 0);
    const minutes = Math.min(settings.minuteBarsPerTicker, market === 'us_stocks_sip' ? 390 : 1440);
    for (let m = 0; m < minutes; m++) {
      const minuteLevel = dayLevel * (1 + 0.003 * Math.sin(m / 17 + (seed % 7)));
      bars.push(tickBar(market, t.ticker, sessionStart + m * 60_000, seed, day, 16 + m * 8, minuteLevel, 0.002, t.baseVolume / 390));
    }
  }
  return bars;
}

/** The exact rows of a file, in file order. `version` > 0: the file as re-published upstream (other values). */
export function flatFileRows(market: Market, timeframe: Timeframe, date: string, settings: GeneratorSettings = DEFAULT_GENERATOR_SETTINGS, version = 0): FlatFileRow[] {
  return tickBars({ market, timeframe, date }, settings, version).map((b) => ({
    ticker: b.ticker,
    volume: b.volume / POW10[b.volumeDecimals]!,
    open: b.open / POW10[b.priceDecimals]!,
    close: b.close / POW10[b.priceDecimals]!,
    high: b.high / POW10[b.priceDecimals]!,
    low: b.low / POW10[b.priceDecimals]!,
    window_start: BigInt(b.windowMs) * 1_000_000n,
    transactions: b.transactions,
  }));
}

/** The CSV bytes of a file (header, rows, final newline). */
export function flatFileCsv(market: Market, timeframe: Timeframe, date: string, settings: GeneratorSettings = DEFAULT_GENERATOR_SETTINGS, version = 0): Buffer {
  const out = new AsciiWriter();
  out.text(`${CSV_HEADER}\n`);
  for (const b of tickBars({ market, timeframe, date }, settings, version)) {
    out.text(b.ticker);
    out.byte(44);
    out.decimal(b.volume, b.volumeDecimals);
    out.byte(44);
    out.decimal(b.open, b.priceDecimals);
    out.byte(44);
    out.decimal(b.close, b.priceDecimals);
    out.byte(44);
    out.decimal(b.high, b.priceDecimals);
    out.byte(44);
    out.decimal(b.low, b.priceDecimals);
    out.byte(44);
    out.integer(b.windowMs);
    out.text('000000,'); // ms -> ns
    out.integer(b.transactions);
    out.byte(10);
  }
  return out.result();
}

/** How a stored object departs from the truth (see the content faults in settings.ts). */
export interface ContentVariant {
  /** Re-published upstream: new values, new bytes, new ETag. */
  version: number;
  /** The stored bytes are damaged gzip (Size and ETag describe the damaged bytes, as S3 would). */
  corruptGzip: boolean;
  /** 1-based line (the header is line 1) replaced by a broken one. */
  malformedLine?: number;
}

export const PRISTINE: ContentVariant = { version: 0, corruptGzip: false };

/** The broken line `malformed-csv` puts in place of a row: too few columns, and a volume that is not a number. */
export function malformedLine(row: string): string {
  const [ticker = 'TSLA'] = row.split(',');
  return `${ticker},12x4,187.1`;
}

/** The bytes of a file as the bucket stores them. */
export function flatFileBody(id: FlatFileId, settings: GeneratorSettings = DEFAULT_GENERATOR_SETTINGS, variant: ContentVariant = PRISTINE): Buffer {
  let csv = flatFileCsv(id.market, id.timeframe, id.date, settings, variant.version);
  if (variant.malformedLine !== undefined) {
    const lines = csv.toString('latin1').split('\n');
    // The last element is the empty string after the final newline; never break the header.
    const at = Math.min(Math.max(variant.malformedLine, 2), lines.length - 1) - 1;
    lines[at] = malformedLine(lines[at] ?? '');
    csv = Buffer.from(lines.join('\n'), 'latin1');
  }
  // Level 1: the files are generated on demand (listings hash every body), and nobody checks the ratio.
  const body = gzipSync(csv, { level: 1 });
  if (variant.corruptGzip) {
    // Damage the middle of the deflate stream: the header still says gzip, inflating fails partway.
    const from = 10 + Math.floor((body.length - 18) / 2);
    for (let i = from; i < Math.min(from + 16, body.length - 8); i++) body[i] = body[i]! ^ 0xff;
  }
  return body;
}
