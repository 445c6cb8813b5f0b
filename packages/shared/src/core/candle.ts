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
