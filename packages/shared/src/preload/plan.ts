/**
 * Pure planning for flat-file preloads: which market a ticker lives in, which date range a request covers,
 * which bucket prefixes to list, the job id of each file, and which listed files need no download.
 */

export type FlatFileMarket = 'us_stocks_sip' | 'global_crypto';
export type FlatFileInterval = '1d' | '1m';
export type FlatFileTimeframe = 'day_aggs_v1' | 'minute_aggs_v1';

export interface DateRange {
  /** First day, `YYYY-MM-DD`, inclusive. */
  start: string;
  /** Last day, `YYYY-MM-DD`, inclusive. */
  end: string;
}

export interface ListedFile {
  key: string;
  etag: string;
  size: number;
}

export interface IngestedFile {
  key: string;
  etag: string;
  /** Tickers whose rows were taken from this version of the file. */
  tickers: readonly string[];
}

/** A file to download (or read from the cache) and the requested tickers it still lacks. */
export interface PlannedFile extends ListedFile {
  tickers: string[];
}

/**
 * Massive spells some stock tickers with lower-case letters (preferreds such as `ABRpD`, `TYp`), so a stock ticker is
 * kept as given and matched case-sensitively. Crypto pairs are upper-case in the files, so they are upper-cased.
 */
const STOCK = /^[A-Za-z][A-Za-z0-9.]{0,9}$/;
const CRYPTO_DASH = /^([A-Z0-9]{2,10})-([A-Z]{3,5})$/;
const CRYPTO_PREFIXED = /^X:([A-Z0-9]{2,10}[A-Z]{3,5})$/;

export interface ResolvedTicker {
  ticker: string;
  market: FlatFileMarket;
}

/**
 * `TSLA`, `ABRpD` -> us_stocks_sip, spelled as given (`abrpd` is another ticker); `btc-usd`, `BTC-USD` and `X:BTCUSD`
 * -> global_crypto as `X:BTCUSD` (the flat files' spelling).
 */
export function resolveTicker(input: string): ResolvedTicker {
  const raw = input.trim();
  const upper = raw.toUpperCase();
  const dash = CRYPTO_DASH.exec(upper);
  if (dash) return { ticker: `X:${dash[1]}${dash[2]}`, market: 'global_crypto' };
  const prefixed = CRYPTO_PREFIXED.exec(upper);
  if (prefixed) return { ticker: upper, market: 'global_crypto' };
  if (STOCK.test(raw)) return { ticker: raw, market: 'us_stocks_sip' };
  throw new Error(`ticker: "${input}" is not a stock ticker (e.g. TSLA) or a crypto pair (e.g. BTC-USD or X:BTCUSD)`);
}

export function timeframeFor(interval: FlatFileInterval): FlatFileTimeframe {
  return interval === '1d' ? 'day_aggs_v1' : 'minute_aggs_v1';
}

/** Defaults from the issue: five years of stocks, two of crypto. */
export function defaultPeriod(market: FlatFileMarket): string {
  return market === 'us_stocks_sip' ? '5y' : '2y';
}

const PERIOD = /^(\d{1,3})([dmy])$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function parseDay(field: string, value: string): Date {
  const d = new Date(`${value.slice(0, 10)}T00:00:00Z`);
  if (!DAY.test(value.slice(0, 10)) || Number.isNaN(d.getTime()) || isoDay(d) !== value.slice(0, 10)) {
    throw new Error(`${field}: "${value}" is not an ISO date (expected YYYY-MM-DD)`);
  }
  return d;
}

/**
 * The inclusive day range of a request. `--start/--end` win over `--period`; a period counts back from `today`
 * (its last day is `today - 1`, since today's file is not published yet).
 */
export function planDateRange(opts: { period?: string; start?: string; end?: string; market: FlatFileMarket; today: Date }): DateRange {
  const end = opts.end !== undefined ? parseDay('end', opts.end) : new Date(Date.UTC(
    opts.today.getUTCFullYear(), opts.today.getUTCMonth(), opts.today.getUTCDate() - 1));
  let start: Date;
  if (opts.start !== undefined) {
    start = parseDay('start', opts.start);
  } else {
    const period = opts.period ?? defaultPeriod(opts.market);
    const m = PERIOD.exec(period);
    if (!m || Number(m[1]) === 0) throw new Error(`period: "${period}" is not a period (expected e.g. 30d, 6m, 5y)`);
    const n = Number(m[1]);
    const y = end.getUTCFullYear() - (m[2] === 'y' ? n : 0);
    const mo = end.getUTCMonth() - (m[2] === 'm' ? n : 0);
    const d = end.getUTCDate() - (m[2] === 'd' ? n : 0) + 1;
    start = new Date(Date.UTC(y, mo, d));
  }
  if (start.getTime() > end.getTime()) throw new Error(`start: ${isoDay(start)} is after end ${isoDay(end)}`);
  return { start: isoDay(start), end: isoDay(end) };
}

/**
 * ListObjectsV2 prefixes covering the range: `<market>/<timeframe>/YYYY/MM/` when it lies in one month, else one
 * `<market>/<timeframe>/YYYY/` per year (a year of day files is ~252 keys, one page): five years are six listings,
 * not sixty. Days outside the range are filtered out afterwards.
 */
export function planPrefixes(market: FlatFileMarket, timeframe: FlatFileTimeframe, range: DateRange): string[] {
  if (range.start.slice(0, 7) === range.end.slice(0, 7)) {
    return [`${market}/${timeframe}/${range.start.slice(0, 4)}/${range.start.slice(5, 7)}/`];
  }
  const prefixes: string[] = [];
  for (let y = Number(range.start.slice(0, 4)); y <= Number(range.end.slice(0, 4)); y++) prefixes.push(`${market}/${timeframe}/${y}/`);
  return prefixes;
}

const KEY_DAY = /(\d{4}-\d{2}-\d{2})\.csv\.gz$/;

/** The trading day a flat-file key holds, or undefined for keys that are not day files. */
export function dayOfKey(key: string): string | undefined {
  return KEY_DAY.exec(key)?.[1];
}

/** Listed objects whose day falls in the range (a month prefix lists days outside it), ordered by key. */
export function filesInRange(listed: readonly ListedFile[], range: DateRange): ListedFile[] {
  return listed
    .filter((f) => { const day = dayOfKey(f.key); return day !== undefined && day >= range.start && day <= range.end; })
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** S3 returns ETags quoted; we store and compare them bare. */
export function normaliseEtag(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '');
}

/**
 * Splits listed files into those with work left and those already ingested, with the same ETag, for every requested
 * ticker: those are skipped without a request. A changed ETag is a new version: all tickers are fetched again.
 */
export function planDownloads(
  listed: readonly ListedFile[],
  ingested: readonly IngestedFile[],
  tickers: readonly string[],
): { toDownload: PlannedFile[]; skipped: ListedFile[] } {
  const covered = new Map<string, Set<string>>();
  for (const f of ingested) {
    const id = `${f.key}\n${normaliseEtag(f.etag)}`;
    const set = covered.get(id) ?? new Set<string>();
    for (const t of f.tickers) set.add(t);
    covered.set(id, set);
  }
  const toDownload: PlannedFile[] = [];
  const skipped: ListedFile[] = [];
  for (const f of listed) {
    const have = covered.get(`${f.key}\n${normaliseEtag(f.etag)}`);
    const missing = tickers.filter((t) => !have?.has(t));
    if (missing.length === 0) skipped.push(f);
    else toDownload.push({ ...f, tickers: missing });
  }
  return { toDownload, skipped };
}

/** Multipart ETags (`<md5>-<parts>`) are not the MD5 of the body: only the size can be checked. */
export function isSinglePartEtag(etag: string): boolean {
  return /^[0-9a-f]{32}$/i.test(normaliseEtag(etag));
}

// Made on first use: loading a time zone's rules takes about 0.1 s, which `ferry --help` would pay for nothing.
let newYorkHour: Intl.DateTimeFormat | undefined;

/** Midnight of `day` in a market's time zone, as epoch ms: New York for US stocks (bars start then), UTC for crypto. */
export function marketDayStartMs(market: FlatFileMarket, day: string): number {
  const utcMidnight = Date.parse(`${day}T00:00:00Z`);
  if (market === 'global_crypto') return utcMidnight;
  // New York is UTC-5 (EST) or UTC-4 (EDT): its midnight is 04:00 or 05:00 UTC.
  for (const hours of [4, 5]) {
    const t = utcMidnight + hours * 3_600_000;
    newYorkHour ??= new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hour: 'numeric', hourCycle: 'h23' });
    if (Number(newYorkHour.format(t)) === 0) return t;
  }
  throw new Error(`no New York midnight found on ${day}`);
}

/** The bars of a day range: [midnight of the first day, midnight after the last day) in the market's time zone. */
export function marketRangeMs(market: FlatFileMarket, range: DateRange): { start: number; end: number } {
  const next = new Date(Date.parse(`${range.end}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return { start: marketDayStartMs(market, range.start), end: marketDayStartMs(market, next) };
}
