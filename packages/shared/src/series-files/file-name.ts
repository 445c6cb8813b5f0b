import { PermanentError } from '../core/errors.js';
import { isTimeframe, type Timeframe } from '../core/timeframes.js';

/**
 * Where a series of candles is kept under DATA_DIR, as a pure function of the series and its time span.
 *
 * Layout: `candles/<directory>/<stem>_<timeframe>_<first>_<last>.parquet`
 *  - first, last: UTC dates (YYYYMMDD) of the open time of the FIRST and of the LAST candle in the file; both ends are
 *    inclusive, so three years of daily candles ending on 2025-11-11 are `..._20221112_20251111.parquet`.
 *  - a ccxt pair `BASE/QUOTE[:SETTLE]` lives in the directory of its base asset, its stem is the symbol with `/` and `:`
 *    replaced by `-`: `BTC/USDT` -> `candles/BTC/BTC-USDT_...`, `BTC/USDT:USDT` -> `candles/BTC/BTC-USDT-USDT_...`.
 *  - a flat-file ticker (no `/`) is its own directory and stem, with a market prefix's `:` replaced by `-`:
 *    `TSLA` -> `candles/TSLA/TSLA_...`, `X:BTCUSD` -> `candles/X-BTCUSD/X-BTCUSD_...`. The prefix is kept, so the
 *    crypto ticker `X:BTCUSD` cannot collide with a stock that happens to be called `BTCUSD`.
 *
 * Symbol parts may hold letters, digits, `.` and `-` and must start with a letter or digit; `_` is refused because it
 * separates the fields of the file name. Anything else (spaces, `\`, `..`, a leading dot) is rejected, naming the field.
 */
export interface CandleFileSpec {
  /** ccxt unified symbol (`BTC/USDT`, `BTC/USDT:USDT`) or flat-file ticker (`TSLA`, `X:BTCUSD`). */
  symbol: string;
  timeframe: Timeframe;
  /** Open time (epoch ms, UTC) of the first candle in the file. */
  startMs: number;
  /** Open time (epoch ms, UTC) of the last candle in the file (not the end of its interval). */
  endMs: number;
}

const CANDLES_DIRECTORY = 'candles';
const SYMBOL_PART = /^[A-Za-z0-9][A-Za-z0-9.-]*$/;
const MAX_SYMBOL_LENGTH = 64;
/** 9999-12-31T23:59:59.999Z: past it `toISOString` grows a sixth year digit and the name would change shape. */
const MAX_MS = 253_402_300_799_999;

/** `BTC-USDT_1d_20221112_20251111.parquet` */
export function candleFileName(spec: CandleFileSpec): string {
  const { stem } = symbolLocation(spec.symbol);
  const timeframe = checkedTimeframe(spec.timeframe);
  const start = utcDate('startMs', spec.startMs);
  const end = utcDate('endMs', spec.endMs);
  if (spec.endMs < spec.startMs) {
    throw new PermanentError(`endMs ${spec.endMs} is before startMs ${spec.startMs}; expected the last candle's open time`);
  }
  return `${stem}_${timeframe}_${start}_${end}.parquet`;
}

/** `candles/BTC/BTC-USDT_1d_20221112_20251111.parquet`: relative to DATA_DIR, always with forward slashes. */
export function candleFilePath(spec: CandleFileSpec): string {
  return `${candleSeriesDirectory(spec.symbol)}/${candleFileName(spec)}`;
}

/** `candles/BTC`: the directory holding every file of this symbol, relative to DATA_DIR. */
export function candleSeriesDirectory(symbol: string): string {
  return `${CANDLES_DIRECTORY}/${symbolLocation(symbol).directory}`;
}

/**
 * `BTC-USDT_1d_`: what the names of every file of one series start with, whatever their dates, so that an older
 * render of the series (an earlier last date) can be found in `candleSeriesDirectory` and replaced.
 */
export function candleFileNamePrefix(spec: Pick<CandleFileSpec, 'symbol' | 'timeframe'>): string {
  return `${symbolLocation(spec.symbol).stem}_${checkedTimeframe(spec.timeframe)}_`;
}

function symbolLocation(symbol: string): { directory: string; stem: string } {
  if (typeof symbol !== 'string' || symbol.length === 0 || symbol.length > MAX_SYMBOL_LENGTH) {
    throw unsafeSymbol(symbol, `1 to ${MAX_SYMBOL_LENGTH} characters`);
  }
  const colon = symbol.split(':');
  if (colon.length > 2) throw unsafeSymbol(symbol, 'at most one ":"');
  const slash = symbol.split('/');
  if (slash.length > 2) throw unsafeSymbol(symbol, 'at most one "/"');
  // ccxt puts the settle currency after the pair (`BTC/USDT:USDT`); a ":" before the "/" is no known symbol shape.
  if (slash.length === 2 && colon.length === 2 && symbol.indexOf(':') < symbol.indexOf('/')) {
    throw unsafeSymbol(symbol, '":" only after the "/" of a pair');
  }
  const parts = symbol.split(/[/:]/);
  for (const part of parts) {
    if (!SYMBOL_PART.test(part)) {
      throw unsafeSymbol(symbol, 'parts of letters, digits, "." and "-", each starting with a letter or digit');
    }
  }
  const stem = parts.join('-');
  const base = parts[0] ?? stem;
  return { directory: slash.length === 2 ? base : stem, stem };
}

function unsafeSymbol(symbol: unknown, expected: string): PermanentError {
  return new PermanentError(`symbol ${JSON.stringify(symbol)} cannot name a file: expected ${expected}`);
}

function checkedTimeframe(timeframe: string): Timeframe {
  if (typeof timeframe !== 'string' || !isTimeframe(timeframe)) {
    throw new PermanentError(`timeframe ${JSON.stringify(timeframe)} is not a known timeframe`);
  }
  return timeframe;
}

function utcDate(field: 'startMs' | 'endMs', ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0 || ms > MAX_MS) {
    throw new PermanentError(`${field} ${String(ms)} is not an open time: expected integer epoch milliseconds from 1970 to 9999`);
  }
  return new Date(ms).toISOString().slice(0, 10).replaceAll('-', '');
}
