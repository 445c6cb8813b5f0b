import { createReadStream } from 'node:fs';
import { createGunzip, gunzipSync } from 'node:zlib';
import { candleValueProblem } from '../core/candle.js';
import { DataValidationError } from '../core/errors.js';
import type { Bar } from '../postgres/bar-store.js';

/**
 * Reads a flat file (gunzip -> CSV), keeping the rows of `tickers`, in batches: memory stays flat whatever the file
 * size. Corrupt gzip, a malformed line or an insane bar is DataValidationError naming the file and the line: the bytes
 * were verified against S3's checksum, so fetching them again cannot help.
 *
 * Layout (Massive/Polygon aggregates): `ticker,volume,open,close,high,low,window_start,transactions`, unquoted,
 * window_start in nanoseconds since the epoch. A day file holds ~10,000 tickers and a request wants a few, so lines
 * are checked (eight fields, no quotes) and filtered by ticker before any is split: a CSV library would parse every
 * field of every line, ~20x the work. A quote is reported as malformed: Massive's files have none.
 */
export const FLAT_FILE_COLUMNS = ['ticker', 'volume', 'open', 'close', 'high', 'low', 'window_start', 'transactions'] as const;

const BATCH_ROWS = 1_000;
const COMMA = 44;
const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const QUOTE = 34;

/**
 * Requested tickers that have no row in a file but that the file spells in another case (`abrpd` -> `ABRpD`), each
 * with the file's spellings. Tickers are matched case-sensitively (Massive spells preferreds `ABRpD`, `TYp`), so these
 * are what a request that found nothing most likely meant.
 */
export type CaseOnlyMatches = Map<string, Set<string>>;

export async function* readFlatFileBars(
  /** The file's path (streamed), or its gzipped bytes when they are in memory already (small files). */
  file: string | Buffer,
  tickers: ReadonlySet<string>,
  what: string,
  /** Filled once the last batch has been read, if given. */
  caseOnlyMatches?: CaseOnlyMatches,
): AsyncGenerator<Bar[]> {
  const scanner = new LineScanner(tickers, what, caseOnlyMatches);
  if (typeof file !== 'string') {
    let csv: Buffer;
    try {
      csv = gunzipSync(file);
    } catch (err) {
      throw corruptGzip(what, err as Error);
    }
    yield* batches(scanner.push(csv, true));
    scanner.finish();
    return;
  }
  const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
  const gunzip = createGunzip();
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  try {
    let pending: Bar[] = [];
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      for (const bar of scanner.push(chunk, false)) pending.push(bar);
      if (pending.length >= BATCH_ROWS) {
        yield pending;
        pending = [];
      }
    }
    for (const bar of scanner.push(Buffer.alloc(0), true)) pending.push(bar);
    scanner.finish();
    if (pending.length > 0) yield pending;
  } catch (err) {
    throw err instanceof DataValidationError || (err as NodeJS.ErrnoException).code === 'ENOENT' ? err : corruptGzip(what, err as Error);
  } finally {
    source.destroy();
  }
}

function* batches(bars: Iterable<Bar>): Generator<Bar[]> {
  let batch: Bar[] = [];
  for (const bar of bars) {
    batch.push(bar);
    if (batch.length >= BATCH_ROWS) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Splits CSV bytes into lines across chunks, validates each line's shape, and turns the wanted ones into bars. */
class LineScanner {
  private carry: Buffer | undefined;
  private line = 0;
  /** Requested tickers by their lower-case spelling, and their lengths: a file ticker of another length cannot match. */
  private readonly requestedIgnoringCase = new Map<string, string[]>();
  private readonly requestedLengths = new Set<number>();
  private readonly found = new Set<string>();

  constructor(
    private readonly tickers: ReadonlySet<string>,
    private readonly what: string,
    private readonly caseOnlyMatches: CaseOnlyMatches | undefined,
  ) {
    if (!caseOnlyMatches) return;
    for (const t of tickers) {
      const lower = t.toLowerCase();
      this.requestedIgnoringCase.set(lower, [...(this.requestedIgnoringCase.get(lower) ?? []), t]);
      this.requestedLengths.add(t.length);
    }
  }

  /** After the last line: a requested ticker that has rows of its own needs no other spelling. */
  finish(): void {
    for (const t of this.found) this.caseOnlyMatches?.delete(t);
  }

  *push(chunk: Buffer, last: boolean): Generator<Bar> {
    let buf = chunk;
    if (this.carry) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let start = 0;
    let commas = 0;
    let firstComma = -1;
    let quote = false;
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i];
      if (b === COMMA) {
        if (firstComma < 0) firstComma = i;
        commas++;
      } else if (b === QUOTE) {
        quote = true;
      } else if (b === NEWLINE) {
        const bar = this.lineEnded(buf, start, i, commas, firstComma, quote);
        if (bar) yield bar;
        start = i + 1;
        commas = 0;
        firstComma = -1;
        quote = false;
      }
    }
    if (start < buf.length) {
      if (last) {
        const bar = this.lineEnded(buf, start, buf.length, commas, firstComma, quote);
        if (bar) yield bar;
      } else {
        this.carry = Buffer.from(buf.subarray(start));
      }
    }
  }

  private lineEnded(buf: Buffer, start: number, end: number, commas: number, firstComma: number, quote: boolean): Bar | undefined {
    this.line += 1;
    if (end > start && buf[end - 1] === CARRIAGE_RETURN) end -= 1;
    if (end === start) return undefined;
    if (this.line === 1) {
      const header = buf.toString('latin1', start, end);
      if (header !== FLAT_FILE_COLUMNS.join(',')) {
        throw new DataValidationError(`${this.what}: line 1: header is "${header}", expected "${FLAT_FILE_COLUMNS.join(',')}"`);
      }
      return undefined;
    }
    if (quote) throw this.malformed('a quote character (the files are unquoted)');
    if (commas !== FLAT_FILE_COLUMNS.length - 1) throw this.malformed(`${commas + 1} fields, expected ${FLAT_FILE_COLUMNS.length}`);
    const ticker = buf.toString('latin1', start, firstComma);
    if (!this.tickers.has(ticker)) {
      if (this.requestedLengths.has(ticker.length)) this.noteOtherCase(ticker);
      return undefined;
    }
    if (this.caseOnlyMatches) this.found.add(ticker);
    return toBar(buf.toString('latin1', start, end).split(','), this.line, this.what);
  }

  private noteOtherCase(fileTicker: string): void {
    for (const requested of this.requestedIgnoringCase.get(fileTicker.toLowerCase()) ?? []) {
      const spellings = this.caseOnlyMatches!.get(requested) ?? new Set<string>();
      this.caseOnlyMatches!.set(requested, spellings.add(fileTicker));
    }
  }

  private malformed(problem: string): DataValidationError {
    return new DataValidationError(`${this.what}: malformed CSV at line ${this.line}: ${problem}`);
  }
}

function corruptGzip(what: string, err: Error): DataValidationError {
  return new DataValidationError(`${what}: corrupt gzip: ${err.message}`);
}

const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

function toBar(record: string[], line: number, what: string): Bar {
  const [ticker, volume, open, close, high, low, windowStart, transactions] = record as [string, string, string, string, string, string, string, string];
  // window_start is nanoseconds; whole milliseconds are the first digits (parsing them as a number would lose ns).
  const openTime = /^\d{7,}$/.test(windowStart) && windowStart.endsWith('000000') ? Number(windowStart.slice(0, -6)) : Number.NaN;
  const bad = ([['volume', volume], ['open', open], ['close', close], ['high', high], ['low', low]] as const).find(([, v]) => !NUMBER.test(v));
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
    : bad
      ? `${bad[0]} "${bad[1]}" is not a number`
      : bar.transactions !== null && !Number.isSafeInteger(bar.transactions)
        ? `transactions "${transactions}" is not an integer`
        : candleValueProblem(bar);
  if (problem) throw new DataValidationError(`${what}: line ${line} (${ticker}): ${problem}`);
  return bar;
}
