/**
 * Binance's public archive (data.binance.vision), spot klines, as documented in binance-public-data's README:
 *   data/spot/monthly/klines/<SYMBOL>/<interval>/<SYMBOL>-<interval>-<YYYY>-<MM>.zip
 *   data/spot/daily/klines/<SYMBOL>/<interval>/<SYMBOL>-<interval>-<YYYY>-<MM>-<DD>.zip
 * each zip holding one CSV, each with `<key>.CHECKSUM` (`sha256sum` format). Pure naming only.
 */
export type ArchivePeriod = 'monthly' | 'daily';

/** A zip of the archive, as its key says. */
export interface ArchiveZip {
  key: string;
  period: ArchivePeriod;
  /** [startMs, endMs): the open times the file covers (a UTC month or day). */
  startMs: number;
  endMs: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `BTC/USDT` -> `BTCUSDT` (Binance's spot ids are the unified symbol without the slash). */
export function archiveSymbol(unified: string): string {
  return unified.replace('/', '');
}

/** The directory of one symbol's files of one interval and period, with its trailing slash. */
export function archiveDirectory(period: ArchivePeriod, unified: string, timeframe: string): string {
  return `data/spot/${period}/klines/${archiveSymbol(unified)}/${timeframe}/`;
}

/** Daily files of one UTC month: the prefix that lists them (`.../BTCUSDT-1m-2025-06-`). */
export function dailyMonthPrefix(unified: string, timeframe: string, monthStartMs: number): string {
  const d = new Date(monthStartMs);
  const symbol = archiveSymbol(unified);
  return `${archiveDirectory('daily', unified, timeframe)}${symbol}-${timeframe}-${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-`;
}

const KEY = /^data\/spot\/(monthly|daily)\/klines\/([A-Z0-9]+)\/([0-9a-z]+)\/\2-\3-(\d{4})-(\d{2})(?:-(\d{2}))?\.zip$/;

/** The zip a key names, or undefined for any other key (a CHECKSUM, another market, a malformed name). */
export function parseArchiveZipKey(key: string): ArchiveZip | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const period = m[1] as ArchivePeriod;
  const [year, month, day] = [Number(m[4]), Number(m[5]), m[6] === undefined ? undefined : Number(m[6])];
  if ((period === 'daily') !== (day !== undefined) || month < 1 || month > 12) return undefined;
  const startMs = Date.UTC(year, month - 1, day ?? 1);
  const endMs = period === 'monthly' ? Date.UTC(year, month, 1) : startMs + 86_400_000;
  if (day !== undefined && new Date(startMs).getUTCDate() !== day) return undefined;
  return { key, period, startMs, endMs };
}

/** UTC month starts from the month containing `fromMs` to the one containing `toMs - 1`. */
export function monthStarts(fromMs: number, toMs: number): number[] {
  const out: number[] = [];
  const d = new Date(fromMs);
  for (let t = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1); t < toMs; t = Date.UTC(new Date(t).getUTCFullYear(), new Date(t).getUTCMonth() + 1, 1)) {
    out.push(t);
  }
  return out;
}
