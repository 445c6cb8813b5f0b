import type { Candle } from './candle.js';

/**
 * Candles held as six columns of doubles rather than an object a row: what a job keeps of a month it has just stored
 * (44,640 minute candles are 2 MB here, and no garbage for the collector to trace while the job runs), to write the
 * month's file without reading it back.
 */
export class CandleColumns {
  private openTimes: Float64Array;
  private values: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.openTimes = new Float64Array(Math.max(1, capacity));
    this.values = new Float64Array(this.openTimes.length * 5);
  }

  push(c: Candle): void {
    if (this.length === this.openTimes.length) this.grow();
    const i = this.length++;
    this.openTimes[i] = c.openTime;
    const v = i * 5;
    this.values[v] = c.open;
    this.values[v + 1] = c.high;
    this.values[v + 2] = c.low;
    this.values[v + 3] = c.close;
    this.values[v + 4] = c.volume;
  }

  openTime(i: number): number {
    return this.openTimes[i]!;
  }

  *[Symbol.iterator](): Iterator<Candle> {
    for (let i = 0; i < this.length; i++) {
      const v = i * 5;
      yield {
        openTime: this.openTimes[i]!, open: this.values[v]!, high: this.values[v + 1]!, low: this.values[v + 2]!,
        close: this.values[v + 3]!, volume: this.values[v + 4]!,
      };
    }
  }

  private grow(): void {
    const openTimes = new Float64Array(this.openTimes.length * 2);
    openTimes.set(this.openTimes);
    const values = new Float64Array(openTimes.length * 5);
    values.set(this.values);
    this.openTimes = openTimes;
    this.values = values;
  }
}
