import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { assertValidCandles, type Candle, type CandleSeries } from '../core/candle.js';
import { DataValidationError } from '../core/errors.js';

/**
 * Reads a verified archive zip (one CSV) as batches of candles, streaming: memory stays flat whatever the file.
 * Columns: open time, open, high, low, close, volume, close time, quote volume, trades, taker buy base, taker buy
 * quote, ignore. Some files start with a header row. Spot timestamps are microseconds from 2025-01-01 and
 * milliseconds before: the unit is told by the first row's value and must hold for the whole file. Every batch is
 * checked by the candle checks, and the rows must lie inside the file's period, strictly ascending across batches.
 */
export type TimestampUnit = 'ms' | 'us';

const BATCH_ROWS = 5_000;
/** Epoch milliseconds stay below 1e13 until the year 2286; microseconds of any date after 1973 are above 1e14. */
const MICROSECONDS_ABOVE = 1e14;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const COMMA = 0x2c;
const DOT = 0x2e;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
/** 10^0 .. 10^22, the powers of ten a double holds exactly (read from text, so they are exact). */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

const isDigit = (byte: number | undefined): boolean => byte !== undefined && byte >= ZERO && byte <= NINE;

/**
 * Reads a row's fields straight from the CSV's bytes, with no string per line or field (a month of minute candles is
 * 44,640 lines): an open time of 1 to 17 digits, five decimals `-?\d+(\.\d+)?` as Binance writes them, and six more
 * fields, twelve in all. A decimal comes out as exactly the double Number() gives for its text.
 */
class RowScanner {
  /** The open time's value (exact below 2^53), and where its digits are in the line. */
  time = 0;
  timeStart = 0;
  timeEnd = 0;
  /** open, high, low, close, volume. */
  readonly values = new Float64Array(5);
  private pos = 0;

  /** False when the line [start, end) is not such a row. */
  scan(buf: Buffer, start: number, end: number): boolean {
    let p = start;
    let time = 0;
    while (p < end && isDigit(buf[p])) time = time * 10 + (buf[p++]! - ZERO);
    if (p === start || p - start > 17 || p === end || buf[p] !== COMMA) return false;
    this.time = time;
    this.timeStart = start;
    this.timeEnd = p;
    this.pos = p + 1;
    for (let i = 0; i < 5; i++) {
      if (!this.decimal(buf, end, i) || this.pos === end || buf[this.pos] !== COMMA) return false;
      this.pos += 1;
    }
    // The six fields after the decimals: five more commas to the end of the line.
    let commas = 0;
    for (let q = this.pos; q < end; q++) if (buf[q] === COMMA) commas += 1;
    return commas === 5;
  }

  /** The digits of the open time without its last `drop`, as a number (exact: at most 14 digits are left). */
  timeWithout(buf: Buffer, drop: number): number {
    let value = 0;
    for (let p = this.timeStart; p < this.timeEnd - drop; p++) value = value * 10 + (buf[p]! - ZERO);
    return value;
  }

  private decimal(buf: Buffer, end: number, i: number): boolean {
    let p = this.pos;
    const negative = buf[p] === MINUS;
    if (negative) p += 1;
    const digitsStart = p;
    let mantissa = 0;
    while (p < end && isDigit(buf[p])) mantissa = mantissa * 10 + (buf[p++]! - ZERO);
    if (p === digitsStart) return false;
    let decimals = 0;
    if (p < end && buf[p] === DOT) {
      const fractionStart = ++p;
      while (p < end && isDigit(buf[p])) mantissa = mantissa * 10 + (buf[p++]! - ZERO);
      decimals = p - fractionStart;
      if (decimals === 0) return false;
    }
    // Clinger's fast path: an integer below 2^53 divided by an exact power of ten is correctly rounded, so it is the
    // double nearest the decimal, as Number() reads it. Longer decimals (none in Binance's files) go through Number().
    const magnitude = mantissa <= Number.MAX_SAFE_INTEGER && decimals < EXACT_POWERS_OF_TEN.length
      ? mantissa / EXACT_POWERS_OF_TEN[decimals]!
      : Number(buf.toString('latin1', digitsStart, p));
    this.values[i] = negative ? -magnitude : magnitude;
    this.pos = p;
    return true;
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: true }, (err, zip) => (err ? reject(err) : resolve(zip))));
}

/** The zip's one CSV entry as a stream; anything else in the zip is refused. */
async function csvStream(path: string, what: string): Promise<Readable> {
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(path);
  } catch (err) {
    throw new DataValidationError(`${what}: not a readable zip: ${(err as Error).message}`);
  }
  if (zip.entryCount !== 1) {
    zip.close();
    throw new DataValidationError(`${what}: expected one CSV in the zip, found ${zip.entryCount} entries`);
  }
  const entry = await new Promise<yauzl.Entry>((resolve, reject) => {
    zip.once('entry', resolve);
    zip.once('error', reject);
    zip.readEntry();
  });
  if (!entry.fileName.endsWith('.csv')) throw new DataValidationError(`${what}: expected a .csv in the zip, found ${entry.fileName}`);
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream))));
}

export interface ArchiveReadState {
  /** Decided by the first row. */
  unit: TimestampUnit | undefined;
  rows: number;
  headerRow: boolean;
}

export async function* readArchiveCandles(
  path: string,
  series: CandleSeries,
  period: { startMs: number; endMs: number },
  what: string,
  state: ArchiveReadState = { unit: undefined, rows: 0, headerRow: false },
): AsyncGenerator<Candle[]> {
  const stream = await csvStream(path, what);
  let line = 0;
  let previous: number | undefined;
  let batch: Candle[] = [];
  const scanner = new RowScanner();
  const fail = (problem: string) => new DataValidationError(`${what}: line ${line}: ${problem}`);

  const parseLine = (buf: Buffer, start: number, end: number): Candle | undefined => {
    line += 1;
    if (end > start && buf[end - 1] === CARRIAGE_RETURN) end -= 1;
    if (end === start) return undefined;
    if (line === 1 && !isDigit(buf[start])) {
      state.headerRow = true;
      return undefined;
    }
    if (!scanner.scan(buf, start, end)) {
      throw fail('expected 12 fields: an open time in ms or us, then open, high, low, close and volume as decimals: ' +
        JSON.stringify(buf.toString('latin1', start, Math.min(end, start + 200))));
    }
    const unit: TimestampUnit = scanner.time > MICROSECONDS_ABOVE ? 'us' : 'ms';
    state.unit ??= unit;
    const raw = () => buf.toString('latin1', scanner.timeStart, scanner.timeEnd);
    if (unit !== state.unit) throw fail(`open time ${raw()} is in ${unit}, the file's first row in ${state.unit}`);
    let openTime = scanner.time;
    if (unit === 'us') {
      const end = scanner.timeEnd;
      if (buf[end - 1] !== ZERO || buf[end - 2] !== ZERO || buf[end - 3] !== ZERO) throw fail(`open time ${raw()} us is not a whole millisecond`);
      openTime = scanner.timeWithout(buf, 3);
    }
    if (openTime < period.startMs || openTime >= period.endMs) {
      throw fail(`open time ${new Date(openTime).toISOString()} lies outside the file's period`);
    }
    const v = scanner.values;
    return { openTime, open: v[0]!, high: v[1]!, low: v[2]!, close: v[3]!, volume: v[4]! };
  };

  const checked = (candles: Candle[]): Candle[] => {
    assertValidCandles(series, candles);
    if (previous !== undefined && candles[0] && candles[0].openTime <= previous) {
      throw new DataValidationError(`${what}: open times are not strictly ascending at ${new Date(candles[0].openTime).toISOString()}`);
    }
    previous = candles.at(-1)?.openTime ?? previous;
    state.rows += candles.length;
    return candles;
  };

  try {
    let carry: Buffer | undefined;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      // The line cut at the end of the previous chunk, joined to this one (only its bytes are copied).
      const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
      let start = 0;
      for (let i = buf.indexOf(NEWLINE, start); i >= 0; i = buf.indexOf(NEWLINE, start)) {
        const candle = parseLine(buf, start, i);
        if (candle) batch.push(candle);
        start = i + 1;
      }
      carry = start < buf.length ? buf.subarray(start) : undefined;
      if (batch.length >= BATCH_ROWS) {
        yield checked(batch);
        batch = [];
      }
    }
    const last = carry ? parseLine(carry, 0, carry.length) : undefined;
    if (last) batch.push(last);
    if (batch.length > 0) yield checked(batch);
  } catch (err) {
    if (err instanceof DataValidationError) throw err;
    throw new DataValidationError(`${what}: corrupt zip: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
}
