/** A span of time: half-open [start, end) in epoch milliseconds (of candle open times, aligned to the timeframe). */
export interface Range {
  start: number;
  end: number;
}

/** A run of consecutive stored candles: first and last open time (inclusive). */
export interface StoredIsland {
  first: number;
  last: number;
}
