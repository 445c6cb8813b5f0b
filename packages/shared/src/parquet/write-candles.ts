import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { ByteWriter, ParquetWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import type { Candle } from '../core/candle.js';
import { DataValidationError } from '../core/errors.js';
import { tempPathFor } from '../core/atomic-file.js';
import { ContentHasher } from '../core/content-hash.js';

/**
 * The one Parquet writer. A candle file has six required columns, in this order:
 *   timestamp  INT64, TIMESTAMP(isAdjustedToUTC=true, unit=MILLIS): the candle's open time
 *              (DuckDB: TIMESTAMP WITH TIME ZONE; pyarrow/pandas: timestamp[ms, tz=UTC])
 *   open, high, low, close, volume  DOUBLE
 * Rows are in strictly ascending open time. An empty series gives a valid file with this schema and no rows.
 *
 * The same candles give the same bytes on any host: nothing in the file depends on the clock, the host or the path
 * (created_by is fixed, there is no other key-value metadata). The bytes do depend on the hyparquet-writer version,
 * which the lock file pins.
 */

export interface WriteCandlesOptions {
  /**
   * Rows per row group, default 100_000 (about 4.8 MB of values): memory is bounded by one group, whatever the length
   * of the series, and readers such as DuckDB get groups to scan in parallel.
   */
  rowGroupRows?: number;
  /**
   * How many rows are coming, when known (a month file: at most 44,640 minute candles): the row group's buffers are
   * sized to it rather than to a full group (and grow if more come), so that 20 renders at once hold 20 small buffers,
   * not 20 of 4.8 MB. The file's bytes do not depend on it.
   */
  expectedRows?: number;
}

export interface WrittenCandleFile {
  /** The absolute path written. */
  path: string;
  rows: number;
  /** Size of the file in bytes. */
  bytes: number;
  /** Dropbox content hash of the bytes, computed as they were written: the file is never read back to hash it. */
  contentHash: string;
  /** The file's mtime after it was written (the rename keeps it): with `bytes`, what tells a later rewrite apart. */
  mtimeMs: number;
}

export const CANDLE_PARQUET_COLUMNS = ['timestamp', 'open', 'high', 'low', 'close', 'volume'] as const;

export const DEFAULT_ROW_GROUP_ROWS = 100_000;

/** Fixed so that files do not change with the host; readers only parse it to work around known-buggy writers. */
export const CANDLE_PARQUET_CREATED_BY = 'ferry (hyparquet-writer)';

const PRICE_FIELDS = ['open', 'high', 'low', 'close', 'volume'] as const;

const CANDLE_SCHEMA: SchemaElement[] = [
  { name: 'schema', num_children: CANDLE_PARQUET_COLUMNS.length },
  {
    name: 'timestamp',
    type: 'INT64',
    repetition_type: 'REQUIRED',
    // The converted type is the pre-2.4 spelling of the same thing, kept for older readers as parquet-format advises.
    converted_type: 'TIMESTAMP_MILLIS',
    logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
  },
  ...PRICE_FIELDS.map((name) => ({ name, type: 'DOUBLE' as const, repetition_type: 'REQUIRED' as const })),
];

/**
 * Writes candles to `absolutePath` atomically: into a temp file in the same directory (`.<name>.<pid>.<random>.tmp`),
 * fsynced, then renamed over the target, and the directory fsynced. On any error the temp file is removed and the
 * target is untouched (an older version stays intact). Parent directories are created.
 *
 * Candles are streamed one row group at a time, so `candles` may be an array, a generator or an async iterable (a
 * database cursor). Each candle must have an integer `openTime`, finite prices and volume, and open times must be
 * strictly ascending; otherwise DataValidationError names the row, and no file is written.
 */
export async function writeCandlesParquet(
  absolutePath: string,
  candles: Iterable<Candle> | AsyncIterable<Candle>,
  options: WriteCandlesOptions = {},
): Promise<WrittenCandleFile> {
  if (!path.isAbsolute(absolutePath)) throw new Error(`absolutePath must be absolute, got ${JSON.stringify(absolutePath)}`);
  const rowGroupRows = options.rowGroupRows ?? DEFAULT_ROW_GROUP_ROWS;
  if (!Number.isSafeInteger(rowGroupRows) || rowGroupRows < 1) {
    throw new Error(`rowGroupRows must be a positive integer, got ${rowGroupRows}`);
  }
  const directory = path.dirname(absolutePath);
  await mkdir(directory, { recursive: true });
  const tempPath = tempPathFor(absolutePath);
  const handle = await open(tempPath, 'wx');
  let handleOpen = true;
  let written: WrittenCandleFile;
  try {
    const sink = new FileHandleSink(handle);
    const parquet = new ParquetWriter({ writer: sink, schema: CANDLE_SCHEMA, codec: 'SNAPPY', createdBy: CANDLE_PARQUET_CREATED_BY });
    // A short array needs no 100k-row buffers; the row groups come out the same.
    const expected = Array.isArray(candles) ? candles.length : options.expectedRows;
    const capacity = expected === undefined ? rowGroupRows : Math.max(1, Math.min(rowGroupRows, expected));
    const batch = new CandleBatch(capacity, rowGroupRows, absolutePath);
    const writeBatch = async (): Promise<void> => {
      await parquet.write({ columnData: batch.columns(), rowGroupSize: rowGroupRows });
      batch.clear();
    };
    if (Symbol.asyncIterator in candles) {
      for await (const candle of candles) {
        if (batch.add(candle)) await writeBatch();
      }
    } else {
      for (const candle of candles) {
        if (batch.add(candle)) await writeBatch();
      }
    }
    if (batch.length > 0) await writeBatch();
    await parquet.finish();
    await handle.sync();
    const { mtimeMs } = await handle.stat();
    handleOpen = false;
    await handle.close();
    await rename(tempPath, absolutePath);
    written = { path: absolutePath, rows: batch.total, bytes: sink.offset, contentHash: sink.hasher.digest(), mtimeMs: Math.trunc(mtimeMs) };
  } catch (err) {
    if (handleOpen) await handle.close().catch(() => undefined);
    await rm(tempPath, { force: true });
    throw err;
  }
  // After the rename the new file is in place whatever happens here; this only makes the rename survive a crash.
  await syncDirectory(directory);
  return written;
}

/** One row group's worth of columns, reused from group to group. */
class CandleBatch {
  private timestamps: BigInt64Array;
  private prices: Record<(typeof PRICE_FIELDS)[number], Float64Array>;
  private previousOpenTime: number | undefined;
  length = 0;
  total = 0;

  /**
   * `capacity` rows are buffered first; past them the buffers grow up to `groupRows`, so that a row group always
   * holds `groupRows` rows (the bytes never depend on the starting capacity).
   */
  constructor(
    private capacity: number,
    private readonly groupRows: number,
    private readonly target: string,
  ) {
    this.timestamps = new BigInt64Array(capacity);
    this.prices = {
      open: new Float64Array(capacity),
      high: new Float64Array(capacity),
      low: new Float64Array(capacity),
      close: new Float64Array(capacity),
      volume: new Float64Array(capacity),
    };
  }

  /** Adds a candle after checking it; true when the batch is full. */
  add(candle: Candle): boolean {
    this.check(candle);
    this.timestamps[this.length] = BigInt(candle.openTime);
    for (const field of PRICE_FIELDS) this.prices[field][this.length] = candle[field];
    this.previousOpenTime = candle.openTime;
    this.length++;
    this.total++;
    if (this.length === this.capacity && this.capacity < this.groupRows) this.grow(Math.min(this.groupRows, this.capacity * 2));
    return this.length === this.groupRows;
  }

  private grow(capacity: number): void {
    const timestamps = new BigInt64Array(capacity);
    timestamps.set(this.timestamps);
    this.timestamps = timestamps;
    for (const field of PRICE_FIELDS) {
      const values = new Float64Array(capacity);
      values.set(this.prices[field]);
      this.prices[field] = values;
    }
    this.capacity = capacity;
  }

  columns(): ColumnSource[] {
    return [
      // Open times step by the timeframe: delta encoding stores each as a few bits.
      { name: 'timestamp', data: this.timestamps.subarray(0, this.length), encoding: 'DELTA_BINARY_PACKED' },
      ...PRICE_FIELDS.map((name) => ({ name, data: this.prices[name].subarray(0, this.length) })),
    ];
  }

  clear(): void {
    this.length = 0;
  }

  private check(candle: Candle): void {
    const row = this.total;
    if (!Number.isSafeInteger(candle.openTime)) {
      throw this.invalid(row, candle, `openTime ${candle.openTime} is not an integer number of epoch milliseconds`);
    }
    if (this.previousOpenTime !== undefined && candle.openTime <= this.previousOpenTime) {
      throw this.invalid(row, candle, `openTime ${candle.openTime} does not follow ${this.previousOpenTime}; expected strictly ascending open times`);
    }
    for (const field of PRICE_FIELDS) {
      const value: unknown = candle[field];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw this.invalid(row, candle, `${field} ${String(value)} is not a finite number`);
      }
    }
  }

  private invalid(row: number, candle: Candle, problem: string): DataValidationError {
    const at = Number.isFinite(candle.openTime) ? ` (${new Date(candle.openTime).toISOString()})` : '';
    return new DataValidationError(`cannot write ${this.target}: candle #${row}${at}: ${problem}`);
  }
}

/**
 * hyparquet-writer encodes into a growing buffer and calls `flush()` after each row group (awaiting a returned
 * promise before the next); this sink empties the buffer into the file there, so at most one row group is held.
 * Every byte goes through the content hasher on its way to the file, in file order.
 */
class FileHandleSink extends ByteWriter {
  readonly hasher = new ContentHasher();

  constructor(private readonly handle: FileHandle) {
    super(1 << 20);
  }

  async flush(): Promise<void> {
    const bytes = this.getBytes();
    this.hasher.update(bytes);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, written, bytes.length - written);
      written += bytesWritten;
    }
    this.index = 0;
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

/** Makes the rename itself durable. Windows cannot open a directory for fsync, and does not need to. */
async function syncDirectory(directory: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
