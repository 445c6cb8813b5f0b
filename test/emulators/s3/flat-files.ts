import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { parseDate, tradingDays, type Market } from './calendar.js';

/**
 * Massive (Polygon) flat files: `<market>/<timeframe>/YYYY/MM/YYYY-MM-DD.csv.gz`, gzipped CSV with columns
 * ticker,volume,open,close,high,low,window_start,transactions; window_start in nanoseconds. Deterministic.
 */
export type Timeframe = 'day_aggs_v1' | 'minute_aggs_v1';
export const CSV_HEADER = 'ticker,volume,open,close,high,low,window_start,transactions';

export const STOCK_TICKERS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'BRK.B', 'JPM', 'V', 'AMD', 'NFLX', 'INTC', 'KO', 'PEP'];
export const CRYPTO_TICKERS = ['X:BTCUSD', 'X:ETHUSD', 'X:SOLUSD', 'X:XRPUSD', 'X:DOGEUSD', 'X:ADAUSD', 'X:LTCUSD', 'X:DOTUSD'];

export function tickers(market: Market, count: number): string[] {
  const known = market === 'us_stocks_sip' ? STOCK_TICKERS : CRYPTO_TICKERS;
  const out = known.slice(0, count);
  for (let i = out.length; i < count; i++) out.push(market === 'us_stocks_sip' ? `T${String(i).padStart(4, '0')}` : `X:C${i}USD`);
  return out;
}

export function flatFileKey(market: Market, timeframe: Timeframe, date: string): string {
  return `${market}/${timeframe}/${date.slice(0, 4)}/${date.slice(5, 7)}/${date}.csv.gz`;
}

export function parseFlatFileKey(key: string): { market: Market; timeframe: Timeframe; date: string } | undefined {
  const m = /^(us_stocks_sip|global_crypto)\/(day_aggs_v1|minute_aggs_v1)\/(\d{4})\/(\d{2})\/(\d{4}-\d{2}-\d{2})\.csv\.gz$/.exec(key);
  if (!m || m[5]!.slice(0, 4) !== m[3] || m[5]!.slice(5, 7) !== m[4]) return undefined;
  return { market: m[1] as Market, timeframe: m[2] as Timeframe, date: m[5]! };
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** US Eastern midnight in UTC ms (DST from the second Sunday of March to the first Sunday of November). */
function easternMidnight(date: string): number {
  const ms = parseDate(date);
  const year = new Date(ms).getUTCFullYear();
  const secondSundayMarch = (() => {
    const first = Date.UTC(year, 2, 1);
    return first + (((7 - new Date(first).getUTCDay()) % 7) + 7) * 86_400_000;
  })();
  const firstSundayNov = (() => {
    const first = Date.UTC(year, 10, 1);
    return first + ((7 - new Date(first).getUTCDay()) % 7) * 86_400_000;
  })();
  const dst = ms >= secondSundayMarch && ms < firstSundayNov;
  return ms + (dst ? 4 : 5) * 3_600_000;
}

export interface FlatFileRow {
  ticker: string;
  volume: number;
  open: number;
  close: number;
  high: number;
  low: number;
  /** Nanoseconds since the epoch, as a decimal string (beyond 2^53). */
  window_start: string;
  transactions: number;
}

/** Tickers are "listed" at different dates: some are absent from older files. */
function listedOn(ticker: string, date: string): boolean {
  if (STOCK_TICKERS.includes(ticker) || CRYPTO_TICKERS.includes(ticker)) return true;
  const h = hash(ticker);
  if (h % 5 !== 0) return true;
  return parseDate(date) >= Date.UTC(2021 + (h % 4), h % 12, 1);
}

export function flatFileRows(market: Market, timeframe: Timeframe, date: string, tickerCount: number, version = 0): FlatFileRow[] {
  const rows: FlatFileRow[] = [];
  const dayStart = market === 'us_stocks_sip' ? easternMidnight(date) : parseDate(date);
  const windows = timeframe === 'day_aggs_v1'
    ? [dayStart]
    // Minute files: the regular session 09:30-16:00 for stocks (first 30 minutes only, to stay small), every minute
    // of the first half hour for crypto.
    : Array.from({ length: 30 }, (_, i) => dayStart + (market === 'us_stocks_sip' ? 9.5 * 3_600_000 : 0) + i * 60_000);
  for (const ticker of tickers(market, tickerCount)) {
    if (!listedOn(ticker, date)) continue;
    for (const w of windows) {
      const h = hash(`${ticker}|${w}|${version}`);
      const base = 5 + (hash(ticker) % 50_000) / 100;
      const open = +(base * (1 + ((h % 2000) - 1000) / 20_000)).toFixed(4);
      const close = +(open * (1 + (((h >>> 11) % 2000) - 1000) / 40_000)).toFixed(4);
      const high = +(Math.max(open, close) * (1 + ((h >>> 5) % 100) / 10_000)).toFixed(4);
      const low = +(Math.min(open, close) * (1 - ((h >>> 7) % 100) / 10_000)).toFixed(4);
      rows.push({
        ticker, volume: 100 + (h % 1_000_000), open, close, high, low,
        window_start: `${w}000000`, transactions: 1 + (h % 5000),
      });
    }
  }
  return rows;
}

export function flatFileCsv(rows: readonly FlatFileRow[]): string {
  const lines = rows.map((r) => `${r.ticker},${r.volume},${r.open},${r.close},${r.high},${r.low},${r.window_start},${r.transactions}`);
  return `${[CSV_HEADER, ...lines].join('\n')}\n`;
}

export interface StoredObject {
  key: string;
  body: Buffer;
  etag: string;
  lastModified: Date;
}

export interface ObjectVariant {
  /** Content version: a changed upstream file (new bytes, new ETag). */
  version: number;
  corruptGzip: boolean;
  /** 1-based CSV line number (header = 1) replaced by a malformed line. */
  malformedLine: number | undefined;
}

export function buildObject(key: string, tickerCount: number, variant: ObjectVariant): StoredObject | undefined {
  const parsed = parseFlatFileKey(key);
  if (!parsed) return undefined;
  const rows = flatFileRows(parsed.market, parsed.timeframe, parsed.date, tickerCount, variant.version);
  let csv = flatFileCsv(rows);
  if (variant.malformedLine !== undefined) {
    const lines = csv.split('\n');
    lines[variant.malformedLine - 1] = 'TSLA,not-a-number,1,2';
    csv = lines.join('\n');
  }
  let body = gzipSync(Buffer.from(csv));
  if (variant.corruptGzip) {
    body = Buffer.from(body);
    for (let i = 20; i < Math.min(body.length - 8, 60); i++) body[i] = body[i]! ^ 0xa5;
  }
  // Massive publishes each file the evening of its trading day.
  const lastModified = new Date(parseDate(parsed.date) + 23 * 3_600_000);
  return { key, body, etag: `"${createHash('md5').update(body).digest('hex')}"`, lastModified };
}

/** Every key the bucket holds between two dates, sorted as S3 lists them. */
export function allKeys(first: string, last: string): string[] {
  const keys: string[] = [];
  for (const market of ['global_crypto', 'us_stocks_sip'] as const) {
    const days = tradingDays(market, first, last);
    for (const timeframe of ['day_aggs_v1', 'minute_aggs_v1'] as const) {
      for (const d of days) keys.push(flatFileKey(market, timeframe, d));
    }
  }
  return keys.sort();
}
