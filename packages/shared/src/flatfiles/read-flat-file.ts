import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { CsvError, parse } from 'csv-parse';
import { candleValueProblem } from '../candle.js';
import { DataValidationError } from '../errors.js';
import type { Bar } from './bar-store.js';

/**
 * Reads a cached flat file as a stream (gunzip -> CSV), keeping the rows of `tickers`, in batches: memory stays flat
 * whatever the file size. Corrupt gzip, a malformed line or an insane bar is DataValidationError naming the file
 * and the line: the bytes were verified against S3's checksum, so fetching them again cannot help.
 *
 * Layout (Massive/Polygon aggregates): `ticker,volume,open,close,high,low,window_start,transactions`, window_start
 * in nanoseconds since the epoch.
 */
export const FLAT_FILE_COLUMNS = ['ticker', 'volume', 'open', 'close', 'high', 'low', 'window_start', 'transactions'] as const;

const BATCH_ROWS = 1_000;

export async function* readFlatFileBars(
  filePath: string,
  tickers: ReadonlySet<string>,
  what: string,
): AsyncGenerator<Bar[]> {
  const gunzip = createGunzip();
  const parser = parse({ info: true, skip_empty_lines: true });
  const source = createReadStream(filePath, { highWaterMark: 1024 * 1024 });
  // Errors of the earlier stages surface through the parser, which is what we iterate.
  source.on('error', (err) => parser.destroy(err));
  gunzip.on('error', (err) => parser.destroy(new DataValidationError(`${what}: corrupt gzip: ${err.message}`)));
  source.pipe(gunzip).pipe(parser);

  let batch: Bar[] = [];
  let header = true;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (header) {
        header = false;
        if (record.join(',') !== FLAT_FILE_COLUMNS.join(',')) {
          throw new DataValidationError(`${what}: line 1: header is "${record.join(',')}", expected "${FLAT_FILE_COLUMNS.join(',')}"`);
        }
        continue;
      }
      if (!tickers.has(record[0]!)) continue;
      batch.push(toBar(record, info.lines, what));
      if (batch.length >= BATCH_ROWS) {
        yield batch;
        batch = [];
      }
    }
  } catch (err) {
    throw err instanceof CsvError ? new DataValidationError(`${what}: malformed CSV at line ${csvLine(err)}: ${err.message}`) : err;
  } finally {
    source.destroy();
  }
  if (batch.length > 0) yield batch;
}

function csvLine(err: CsvError): string {
  const lines = (err as CsvError & { lines?: number }).lines;
  return lines === undefined ? '?' : String(lines);
}

function toBar(record: string[], line: number, what: string): Bar {
  const [ticker, volume, open, close, high, low, windowStart, transactions] = record as [string, string, string, string, string, string, string, string];
  // window_start is nanoseconds; whole milliseconds are the first digits (parsing them as a number would lose ns).
  const openTime = /^\d{7,}$/.test(windowStart) && windowStart.endsWith('000000') ? Number(windowStart.slice(0, -6)) : Number.NaN;
  const bar: Bar = {
    ticker,
    openTime,
    open: Number(open),
    high: Number(high),
    low: Number(low),
    close: Number(close),
    volume: Number(volume),
    transactions: transactions === '' ? null : Number(transactions),
  };
  const problem = Number.isNaN(openTime)
    ? `window_start "${windowStart}" is not whole milliseconds in nanoseconds`
    : [open, high, low, close, volume].some((v) => v.trim() === '')
      ? 'a value is empty'
      : bar.transactions !== null && !Number.isSafeInteger(bar.transactions)
        ? `transactions "${transactions}" is not an integer`
        : candleValueProblem(bar);
  if (problem) throw new DataValidationError(`${what}: line ${line} (${ticker}): ${problem}`);
  return bar;
}
