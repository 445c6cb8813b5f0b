import type { SymbolInfo } from '../binance/universe.js';
import { exchangeNow } from '../binance/settings.js';
import type { ArchiveSettings } from './settings.js';
import { findArchiveSymbol } from './universe.js';

/**
 * data.binance.vision's key layout, pure:
 *   data/spot/monthly/klines/<SYMBOL>/<interval>/<SYMBOL>-<interval>-<YYYY>-<MM>.zip
 *   data/spot/daily/klines/<SYMBOL>/<interval>/<SYMBOL>-<interval>-<YYYY>-<MM>-<DD>.zip
 * each with `<key>.CHECKSUM`. Which files exist is a function of the settings: from the symbol's listing day to its
 * halt, for periods that ended (plus the publication delay) before the clock, minus `missingFiles`.
 */
export type ArchivePeriod = 'monthly' | 'daily';

/** The intervals served: Binance's fixed-length ones that ferry collects (Binance also has 1s, 3d, 1w, 1mo). */
export const ARCHIVE_INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d'] as const;

export interface ArchiveFile {
  period: ArchivePeriod;
  symbol: string;
  interval: string;
  /** First open time covered, inclusive (UTC midnight). */
  start: number;
  /** End of the period, exclusive. */
  end: number;
  /** `BTCUSDT-1m-2025-01`: the zip's name without `.zip`, and its CSV's without `.csv`. */
  name: string;
  /** The zip's key. */
  key: string;
}

const DAY = 86_400_000;
const pad = (n: number) => String(n).padStart(2, '0');

export function archiveFile(period: ArchivePeriod, symbol: string, interval: string, start: number): ArchiveFile {
  const d = new Date(start);
  const month = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
  const name = `${symbol}-${interval}-${period === 'monthly' ? month : `${month}-${pad(d.getUTCDate())}`}`;
  const end = period === 'monthly' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) : start + DAY;
  return { period, symbol, interval, start, end, name, key: `data/spot/${period}/klines/${symbol}/${interval}/${name}.zip` };
}

const KEY = /^data\/spot\/(monthly|daily)\/klines\/([A-Z0-9]+)\/([0-9a-z]+)\/\2-\3-(\d{4})-(\d{2})(?:-(\d{2}))?\.zip$/;

/** The file a zip key names, or undefined when the key is not an archive zip's. */
export function parseArchiveKey(key: string): ArchiveFile | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const [, period, symbol, interval, y, mo, dd] = m as unknown as [string, ArchivePeriod, string, string, string, string, string | undefined];
  if ((period === 'daily') !== (dd !== undefined)) return undefined;
  const start = Date.UTC(Number(y), Number(mo) - 1, dd === undefined ? 1 : Number(dd));
  const file = archiveFile(period, symbol, interval, start);
  return file.key === key ? file : undefined;
}

/** Every file published for a symbol and interval at the emulator's clock, oldest first. */
export function publishedFiles(info: SymbolInfo, interval: string, period: ArchivePeriod, s: ArchiveSettings): ArchiveFile[] {
  if (!(ARCHIVE_INTERVALS as readonly string[]).includes(interval)) return [];
  const now = exchangeNow(s);
  const delay = period === 'monthly' ? s.monthlyDelayMs : s.dailyDelayMs;
  const missing = new Set(s.missingFiles);
  const first = new Date(info.listedAt);
  let start = period === 'monthly'
    ? Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), 1)
    : Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate());
  const out: ArchiveFile[] = [];
  for (;;) {
    const file = archiveFile(period, info.symbol, interval, start);
    if (file.end + delay > now || (info.haltedAt !== undefined && file.start >= info.haltedAt)) break;
    if (!missing.has(file.name)) out.push(file);
    start = file.end;
  }
  return out;
}

/** The symbol a file belongs to, if the exchange has it at the clock and the file is published. */
export function findPublished(file: ArchiveFile, s: ArchiveSettings): { info: SymbolInfo } | undefined {
  const info = findArchiveSymbol(s, file.symbol);
  if (!info || !(ARCHIVE_INTERVALS as readonly string[]).includes(file.interval)) return undefined;
  const now = exchangeNow(s);
  const delay = file.period === 'monthly' ? s.monthlyDelayMs : s.dailyDelayMs;
  const listedPeriodStart = archiveFile(file.period, info.symbol, file.interval,
    file.period === 'monthly'
      ? Date.UTC(new Date(info.listedAt).getUTCFullYear(), new Date(info.listedAt).getUTCMonth(), 1)
      : Math.floor(info.listedAt / DAY) * DAY).start;
  if (file.start < listedPeriodStart || file.end + delay > now) return undefined;
  if (info.haltedAt !== undefined && file.start >= info.haltedAt) return undefined;
  if (s.missingFiles.includes(file.name)) return undefined;
  return { info };
}
