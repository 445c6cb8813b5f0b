import { candleFilePath } from './file-name.js';
import { isTimeframe, type Timeframe } from '../core/timeframes.js';

/**
 * The inverse of candleFilePath for the files of exchange pairs, which is what `restore` needs to know which series a
 * file holds: `candles/BTC/BTC-USDT_1h_20240101_20240301.parquet` -> BTC/USDT 1h, and
 * `candles/BTC/BTC-USDT-USDT_1d_...` -> BTC/USDT:USDT. Names are only accepted when candleFilePath gives them back
 * exactly, so an ambiguous name is refused rather than guessed.
 */
export interface ParsedCandleFile {
  symbol: string;
  timeframe: Timeframe;
  /** Open time of the first candle (UTC day start of the name's first date). */
  firstDayMs: number;
  lastDayMs: number;
}

const NAME = /^candles\/([^/]+)\/([^/_]+)_([^/_]+)_(\d{8})_(\d{8})\.parquet$/;

export type CandleFileParse = { ok: true; file: ParsedCandleFile } | { ok: false; reason: string };

export function parseCandleFilePath(relativePath: string): CandleFileParse {
  const match = NAME.exec(relativePath);
  if (!match) return { ok: false, reason: 'not named like candles/<BASE>/<BASE>-<QUOTE>_<timeframe>_<YYYYMMDD>_<YYYYMMDD>.parquet' };
  const [, directory, stem, timeframe, first, last] = match as unknown as [string, string, string, string, string, string];
  if (!isTimeframe(timeframe)) return { ok: false, reason: `unknown timeframe ${timeframe}` };
  if (directory === stem || !stem.startsWith(`${directory}-`)) {
    return { ok: false, reason: 'not the file of an exchange pair (flat-file tickers are restored by their own source)' };
  }
  const rest = stem.slice(directory.length + 1).split('-');
  if (rest.length > 2 || rest.some((p) => p === '')) return { ok: false, reason: `cannot tell the quote currency in ${stem}` };
  const symbol = rest.length === 2 ? `${directory}/${rest[0]}:${rest[1]}` : `${directory}/${rest[0]}`;
  const firstDayMs = dayMs(first);
  const lastDayMs = dayMs(last);
  if (Number.isNaN(firstDayMs) || Number.isNaN(lastDayMs) || lastDayMs < firstDayMs) return { ok: false, reason: 'bad dates in the name' };
  let roundTrip: string;
  try {
    roundTrip = candleFilePath({ symbol, timeframe, startMs: firstDayMs, endMs: lastDayMs });
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  if (roundTrip !== relativePath) return { ok: false, reason: `ambiguous name (reads as ${symbol}, which is stored as ${roundTrip})` };
  return { ok: true, file: { symbol, timeframe, firstDayMs, lastDayMs } };
}

function dayMs(yyyymmdd: string): number {
  const iso = `${yyyymmdd.slice(0, 4)}-${yyyymmdd.slice(4, 6)}-${yyyymmdd.slice(6, 8)}T00:00:00Z`;
  const ms = Date.parse(iso);
  return new Date(ms).toISOString() === iso.replace('Z', '.000Z') ? ms : Number.NaN;
}
