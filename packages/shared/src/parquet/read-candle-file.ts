import type { Candle } from '../core/candle.js';
import { DataValidationError } from '../core/errors.js';
import { CANDLE_PARQUET_COLUMNS } from './write-candles.js';

/**
 * Reads a candle file written by writeCandlesParquet, one row group at a time (memory is bounded by a group, whatever
 * the file's length). A file without the six candle columns is refused, naming what it has.
 */
export async function* readCandleFile(file: string): AsyncGenerator<Candle[]> {
  // Loaded on first use: only restore reads Parquet, so no other service needs the reader at start.
  const { asyncBufferFromFile, parquetMetadataAsync, parquetRead } = await import('hyparquet');
  const buffer = await asyncBufferFromFile(file);
  const metadata = await parquetMetadataAsync(buffer);
  const columns = metadata.schema.slice(1).map((s) => s.name);
  if (columns.join(',') !== CANDLE_PARQUET_COLUMNS.join(',')) {
    throw new DataValidationError(`${file} is not a candle file: columns ${columns.join(', ')}, expected ${CANDLE_PARQUET_COLUMNS.join(', ')}`);
  }
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: unknown[][] = [];
    await parquetRead({
      file: buffer,
      metadata,
      columns: [...CANDLE_PARQUET_COLUMNS],
      rowStart,
      rowEnd,
      // Open times as epoch milliseconds, as ferry's Candle has them, rather than Date objects.
      parsers: { timestampFromMilliseconds: (millis: bigint) => Number(millis) },
      onComplete: (result) => {
        rows = result;
      },
    });
    yield rows.map((row, i) => toCandle(row, file, rowStart + i));
    rowStart = rowEnd;
  }
}

function toCandle(row: unknown[], file: string, index: number): Candle {
  const [openTime, open, high, low, close, volume] = row;
  const values = [openTime, open, high, low, close, volume];
  if (!values.every((v) => typeof v === 'number')) {
    throw new DataValidationError(`${file}: row ${index} is not six numbers: ${JSON.stringify(values, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`);
  }
  return { openTime, open, high, low, close, volume } as Candle;
}

/** The number of rows a Parquet file says it holds, from its footer alone (the file is not read). */
export async function candleFileRowCount(file: string): Promise<number> {
  const { asyncBufferFromFile, parquetMetadataAsync } = await import('hyparquet');
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
  return Number(metadata.num_rows);
}
