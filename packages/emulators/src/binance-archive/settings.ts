import type { BaseSettings } from '../common/control.js';
import { DEFAULT_SETTINGS as BINANCE_DEFAULTS, type BinanceSettings } from '../binance/settings.js';

/**
 * Settings of the data.binance.vision emulator. The clock, the universe and the outages are the Binance REST
 * emulator's own settings (same names, same defaults), so that both serve the same candles when given the same ones.
 */
export interface ArchiveSettings extends BaseSettings, Pick<BinanceSettings, 'nowMs' | 'clockOffsetMs' | 'coinCount' | 'outages'> {
  /** A daily file appears this long after its day has ended. Default 0 (Binance: some hours into the next day). */
  dailyDelayMs: number;
  /** A monthly file appears this long after its month has ended. Default 0 (Binance: in the first days). */
  monthlyDelayMs: number;
  /** Spot files of periods from here on carry microsecond timestamps. Default 2025-01-01, as Binance's. */
  microsecondsFrom: number;
  /**
   * Which files start with a header row: `mixed` (the default; by a hash of the file name, so both kinds occur in
   * any month), `always` or `never`.
   */
  headerRows: 'mixed' | 'always' | 'never';
  /** Files (names without `.zip`, e.g. `BTCUSDT-1m-2026-09-10`) never published: 404 and not listed. */
  missingFiles: string[];
  /** Files whose `.CHECKSUM` does not match their zip (the zip itself is right). */
  badChecksums: string[];
  /**
   * Files served in their first, flawed publication (every volume doubled, so rows differ from REST's). Taking a
   * name out of the list re-publishes the file: new content, new checksum, new ETag and LastModified.
   */
  staleFiles: string[];
  /**
   * Coins the exchange no longer lists (absent from the Binance emulator's exchangeInfo, tickers and klines, whatever
   * its settings) whose files the archive keeps: listed, with files, from `listedAt` up to `delistedAt`. Default none.
   */
  delistedSymbols: DelistedSymbol[];
}

/** A coin Binance delisted: its USDT pair (`FTTUSDT`) traded from `listedAt` to `delistedAt`, around `basePrice`. */
export interface DelistedSymbol {
  symbol: string;
  listedAt: number;
  delistedAt: number;
  basePrice: number;
}

export const DEFAULT_ARCHIVE_SETTINGS: ArchiveSettings = {
  latencyMs: 0,
  errorRate: 0,
  nowMs: BINANCE_DEFAULTS.nowMs,
  clockOffsetMs: BINANCE_DEFAULTS.clockOffsetMs,
  coinCount: BINANCE_DEFAULTS.coinCount,
  outages: BINANCE_DEFAULTS.outages,
  dailyDelayMs: 0,
  monthlyDelayMs: 0,
  microsecondsFrom: Date.UTC(2025, 0, 1),
  headerRows: 'mixed',
  missingFiles: [],
  badChecksums: [],
  staleFiles: [],
  delistedSymbols: [],
};

/** Throws naming the setting when a value cannot be emulated. */
export function assertValidArchiveSettings(s: ArchiveSettings): void {
  for (const name of ['dailyDelayMs', 'monthlyDelayMs', 'microsecondsFrom', 'clockOffsetMs'] as const) {
    if (!Number.isSafeInteger(s[name]) || (name !== 'clockOffsetMs' && s[name] < 0)) {
      throw new Error(`binance archive emulator setting ${name}: expected an integer >= 0, got ${JSON.stringify(s[name])}`);
    }
  }
  if (!['mixed', 'always', 'never'].includes(s.headerRows)) {
    throw new Error(`binance archive emulator setting headerRows: expected mixed, always or never, got ${JSON.stringify(s.headerRows)}`);
  }
  for (const name of ['missingFiles', 'badChecksums', 'staleFiles'] as const) {
    if (!Array.isArray(s[name]) || !s[name].every((f) => typeof f === 'string' && !f.endsWith('.zip'))) {
      throw new Error(`binance archive emulator setting ${name}: expected file names without .zip, got ${JSON.stringify(s[name])}`);
    }
  }
  if (!Array.isArray(s.delistedSymbols) || !s.delistedSymbols.every((d) => typeof d?.symbol === 'string' && /^[A-Z0-9]+USDT$/.test(d.symbol)
    && Number.isSafeInteger(d.listedAt) && Number.isSafeInteger(d.delistedAt) && d.listedAt < d.delistedAt
    && typeof d.basePrice === 'number' && d.basePrice > 0)) {
    throw new Error('binance archive emulator setting delistedSymbols: expected [{symbol: "XYZUSDT", listedAt, delistedAt, basePrice}] ' +
      `with listedAt < delistedAt and basePrice > 0, got ${JSON.stringify(s.delistedSymbols)}`);
  }
}

/**
 * Faults (`control.addFault({ name, ... })`, `pathIncludes` matched against the path and query):
 *  - `server-error`: 503 with S3's SlowDown-style XML error, for a file or a listing.
 *  - `truncated-body`: a zip's body is cut in half and the connection closed.
 */
export const ArchiveFault = {
  ServerError: 'server-error',
  TruncatedBody: 'truncated-body',
} as const;

/** Counters besides `requests`: answers by status, files served by kind, listings. */
export const ArchiveCounter = {
  status: (code: number) => `status:${code}`,
  listings: 'listings',
  zips: 'zips',
  checksums: 'checksums',
  /** Zip bytes sent. */
  bytes: 'bytes',
} as const;
