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
const DECIMAL = '(-?\\d+(?:\\.\\d+)?)';
const ROW = new RegExp(`^(\\d{1,17}),${DECIMAL},${DECIMAL},${DECIMAL},${DECIMAL},${DECIMAL}(?:,[^,]*){6}$`);
/** Epoch milliseconds stay below 1e13 until the year 2286; microseconds of any date after 1973 are above 1e14. */
const MICROSECONDS_ABOVE = 1e14;

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
  let carry = '';
  let line = 0;
  let previous: number | undefined;
  let batch: Candle[] = [];
  const fail = (problem: string) => new DataValidationError(`${what}: line ${line}: ${problem}`);

  const parseLine = (text: string): Candle | undefined => {
    line += 1;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text === '') return undefined;
    if (line === 1 && !/^\d/.test(text)) {
      state.headerRow = true;
      return undefined;
    }
    // One expression for the whole line: the six fields used, decimals as Binance writes them, twelve fields in all.
    const m = ROW.exec(text);
    if (!m) throw fail(`expected 12 fields: an open time in ms or us, then open, high, low, close and volume as decimals: ${JSON.stringify(text.slice(0, 200))}`);
    const raw = m[1]!;
    const unit: TimestampUnit = Number(raw) > MICROSECONDS_ABOVE ? 'us' : 'ms';
    state.unit ??= unit;
    if (unit !== state.unit) throw fail(`open time ${raw} is in ${unit}, the file's first row in ${state.unit}`);
    if (unit === 'us' && !raw.endsWith('000')) throw fail(`open time ${raw} us is not a whole millisecond`);
    const openTime = unit === 'us' ? Number(raw.slice(0, -3)) : Number(raw);
    if (openTime < period.startMs || openTime >= period.endMs) {
      throw fail(`open time ${new Date(openTime).toISOString()} lies outside the file's period`);
    }
    return { openTime, open: Number(m[2]), high: Number(m[3]), low: Number(m[4]), close: Number(m[5]), volume: Number(m[6]) };
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
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = carry + chunk.toString('latin1');
      let start = 0;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
        const candle = parseLine(text.slice(start, i));
        if (candle) batch.push(candle);
        start = i + 1;
      }
      carry = text.slice(start);
      if (batch.length >= BATCH_ROWS) {
        yield checked(batch);
        batch = [];
      }
    }
    const last = carry.length > 0 ? parseLine(carry) : undefined;
    if (last) batch.push(last);
    if (batch.length > 0) yield checked(batch);
  } catch (err) {
    if (err instanceof DataValidationError) throw err;
    throw new DataValidationError(`${what}: corrupt zip: ${(err as Error).message}`);
  } finally {
    stream.destroy();
  }
}
