import { DataValidationError } from './errors.js';
import { timeframeMs, type Timeframe } from './timeframes.js';

/**
 * The one candle type. `openTime` is epoch milliseconds (UTC) of the candle's start; prices and volume are float64,
 * as stored in PostgreSQL (double precision) and in Parquet.
 */
export interface Candle {
  openTime: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/** Which candles a check is about, for error messages: "binance BTC/USDT 1h". */
export interface CandleSeries {
  exchange: string;
  symbol: string;
  timeframe: Timeframe;
}

function describeCandle(series: CandleSeries, c: Candle): string {
  return `${series.exchange} ${series.symbol} ${series.timeframe} candle at ${new Date(c.openTime).toISOString()} ` +
    `(open ${c.open}, high ${c.high}, low ${c.low}, close ${c.close}, volume ${c.volume})`;
}

/**
 * Checks a page of candles before it is stored: finite numbers, high >= max(open, close), low <= min(open, close),
 * volume >= 0, open times aligned to the timeframe and strictly ascending. Throws DataValidationError naming the coin
 * and the first bad candle; data that breaks these rules is not worth retrying.
 */
export function assertValidCandles(series: CandleSeries, candles: readonly Candle[]): void {
  const step = timeframeMs(series.timeframe);
  let previous: number | undefined;
  for (const c of candles) {
    const problem = candleProblem(c, step, previous);
    if (problem) throw new DataValidationError(`invalid ${describeCandle(series, c)}: ${problem}`);
    previous = c.openTime;
  }
}

/**
 * The price and volume rules every bar obeys, whatever its source (exchange candles, flat-file bars): finite numbers,
 * high >= max(open, close), low <= min(open, close), volume >= 0. Undefined when the candle is sane.
 */
export function candleValueProblem(c: Candle): string | undefined {
  const values = [c.openTime, c.open, c.high, c.low, c.close, c.volume];
  if (!values.every(Number.isFinite)) return 'a value is not a finite number';
  if (c.high < Math.max(c.open, c.close)) return 'high is below max(open, close)';
  if (c.low > Math.min(c.open, c.close)) return 'low is above min(open, close)';
  if (c.volume < 0) return 'volume is negative';
  return undefined;
}

function candleProblem(c: Candle, step: number, previousOpenTime: number | undefined): string | undefined {
  const valueProblem = candleValueProblem(c);
  if (valueProblem) return valueProblem;
  if (c.openTime % step !== 0) return `open time is not aligned to ${step} ms`;
  if (previousOpenTime !== undefined && c.openTime <= previousOpenTime) return 'open times are not strictly ascending';
  return undefined;
}

/** A candle the exchange sent with an open time off its timeframe's grid, and the grid slot ferry stored it at. */
export interface OffGridCandle {
  /** The open time the exchange sent. */
  exchangeOpenTime: number;
  /** The grid slot the candle is stored at (its open time rounded down to the timeframe). */
  storedAt: number;
}

/**
 * Binance serves some candles with an open time off the interval's grid (binance/binance-public-data #77: BTCUSDT
 * 1h opening at 2018-02-09T09:28:14.789Z; #14: 1m klines of Dec 2017 and Feb 2018 off by 14 s and more), from its
 * archive and its API alike: a known anomaly of the exchange's history, not a corrupt answer, and asking again gets
 * the same bytes. Refused, it would fail its page on every run and the series would never complete.
 *
 * The rule: an off-grid candle is stored at the grid slot its open time falls in (rounded down), with its values
 * unchanged, when no other candle of the page holds that slot; each is returned so the caller records it. A slot
 * claimed twice is corrupt and is refused (DataValidationError naming both). On-grid candles pass untouched; the
 * values rules (assertValidCandles) still apply to every candle afterwards.
 */
export function alignOffGridCandles(series: CandleSeries, candles: readonly Candle[]): { candles: Candle[]; offGrid: OffGridCandle[] } {
  const step = timeframeMs(series.timeframe);
  if (candles.every((c) => c.openTime % step === 0)) return { candles: [...candles], offGrid: [] };
  const holder = new Map<number, Candle>();
  for (const c of candles) if (c.openTime % step === 0) holder.set(c.openTime, c);
  const offGrid: OffGridCandle[] = [];
  const aligned = candles.map((c) => {
    if (c.openTime % step === 0 || !Number.isSafeInteger(c.openTime)) return c;
    const slot = Math.floor(c.openTime / step) * step;
    const taken = holder.get(slot);
    if (taken) {
      throw new DataValidationError(`invalid ${describeCandle(series, c)}: its open time is off the ${step} ms grid and ` +
        `its slot ${new Date(slot).toISOString()} already holds a candle opening at ${new Date(taken.openTime).toISOString()}`);
    }
    holder.set(slot, c);
    offGrid.push({ exchangeOpenTime: c.openTime, storedAt: slot });
    return { ...c, openTime: slot };
  });
  return { candles: aligned, offGrid };
}
