import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Candle } from '../core/candle.js';
import { DataValidationError } from '../core/errors.js';
import { contentHashOfBuffer, DROPBOX_HASH_BLOCK_SIZE } from '../core/content-hash.js';
import { CANDLE_PARQUET_CREATED_BY, DEFAULT_ROW_GROUP_ROWS, writeCandlesParquet } from './write-candles.js';

const MINUTE = 60_000;
const START = Date.parse('2024-02-29T22:00:00Z');

/** Candles with awkward doubles (0.1 + 0.2, thirds, tiny and huge magnitudes) so that any rounding shows. */
function makeCandles(count: number): Candle[] {
  return Array.from({ length: count }, (_, i) => {
    const open = 60_000 + i / 3;
    const close = open + ((i % 7) - 3) * 0.1 + 0.2;
    return {
      openTime: START + i * MINUTE,
      open,
      high: Math.max(open, close) + 0.1 + 0.2,
      low: Math.min(open, close) - 1e-8,
      close,
      volume: i === 0 ? 0 : i % 2 ? 5e-324 * i : Number.MAX_SAFE_INTEGER / i,
    };
  });
}

let duckdb: DuckDBInstance;
let sql: DuckDBConnection;
let dir: string;

beforeAll(async () => {
  duckdb = await DuckDBInstance.create(':memory:', { threads: '1' });
  sql = await duckdb.connect();
});

afterAll(() => {
  sql.closeSync();
  duckdb.closeSync();
});

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-parquet-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function duckRows(query: string): Promise<Record<string, unknown>[]> {
  return (await sql.runAndReadAll(query)).getRowObjectsJS();
}

async function hyparquetRows(file: string): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({ file: await asyncBufferFromFile(file) });
}

describe('writeCandlesParquet', () => {
  it('writes every candle so that hyparquet and DuckDB read back exactly the same values', async () => {
    const candles = makeCandles(2_500);
    const target = path.join(dir, 'BTC-USDT_1m.parquet');

    const written = await writeCandlesParquet(target, candles, { rowGroupRows: 1_000 });

    const info = await stat(target);
    expect(written).toEqual({
      path: target, rows: 2_500, bytes: info.size, mtimeMs: Math.trunc(info.mtimeMs), contentHash: contentHashOfBuffer(await readFile(target)),
    });
    const expected = candles.map((c) => ({ ...c }));
    const fromHyparquet = (await hyparquetRows(target)).map(({ timestamp, ...prices }) => ({
      openTime: (timestamp as Date).getTime(),
      ...prices,
    }));
    expect(fromHyparquet).toEqual(expected);
    const fromDuckdb = (
      await duckRows(`SELECT epoch_ms(timestamp) AS ms, open, high, low, close, volume FROM read_parquet('${target}')`)
    ).map(({ ms, ...prices }) => ({ openTime: Number(ms), ...prices }));
    expect(fromDuckdb).toEqual(expected);
  });

  it('declares the timestamp as UTC milliseconds and the prices as required doubles', async () => {
    const target = path.join(dir, 'types.parquet');
    await writeCandlesParquet(target, makeCandles(3));

    const described = await duckRows(`DESCRIBE SELECT * FROM read_parquet('${target}')`);
    expect(described.map((r) => [r['column_name'], r['column_type']])).toEqual([
      ['timestamp', 'TIMESTAMP WITH TIME ZONE'],
      ['open', 'DOUBLE'],
      ['high', 'DOUBLE'],
      ['low', 'DOUBLE'],
      ['close', 'DOUBLE'],
      ['volume', 'DOUBLE'],
    ]);
    expect(
      await duckRows(
        `SELECT typeof(timestamp) AS t, typeof(open) AS o, typeof(volume) AS v, strftime(timestamp AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M:%S.%g') AS utc FROM read_parquet('${target}') LIMIT 1`,
      ),
    ).toEqual([{ t: 'TIMESTAMP WITH TIME ZONE', o: 'DOUBLE', v: 'DOUBLE', utc: '2024-02-29 22:00:00.000' }]);

    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(target));
    expect(metadata.created_by).toBe(CANDLE_PARQUET_CREATED_BY);
    expect(metadata.key_value_metadata).toBeUndefined();
    expect(metadata.schema.slice(1)).toEqual([
      {
        name: 'timestamp',
        type: 'INT64',
        repetition_type: 'REQUIRED',
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
      },
      ...['open', 'high', 'low', 'close', 'volume'].map((name) => ({ name, type: 'DOUBLE', repetition_type: 'REQUIRED' })),
    ]);
  });

  it('gives byte-identical files for the same candles, however they are supplied', async () => {
    const candles = makeCandles(1_234);
    const first = path.join(dir, 'a', 'first.parquet');
    const second = path.join(dir, 'b', 'second.parquet');
    const streamed = path.join(dir, 'c', 'streamed.parquet');
    async function* cursor(): AsyncGenerator<Candle> {
      yield* candles;
    }

    await writeCandlesParquet(first, candles, { rowGroupRows: 500 });
    await writeCandlesParquet(second, candles.values(), { rowGroupRows: 500 });
    await writeCandlesParquet(streamed, cursor(), { rowGroupRows: 500 });
    // A wrong guess of the row count sizes the buffers only.
    const guessedLow = path.join(dir, 'd', 'low.parquet');
    const guessedHigh = path.join(dir, 'd', 'high.parquet');
    await writeCandlesParquet(guessedLow, cursor(), { rowGroupRows: 500, expectedRows: 70 });
    await writeCandlesParquet(guessedHigh, cursor(), { rowGroupRows: 500, expectedRows: 5_000 });

    const bytes = await readFile(first);
    for (const other of [second, streamed, guessedLow, guessedHigh]) expect((await readFile(other)).equals(bytes), other).toBe(true);
    // Written at different moments to different paths: neither the clock nor the path reaches the bytes.
    expect(bytes.includes(Buffer.from(path.basename(first)))).toBe(false);
  });

  it('splits a long series into row groups of the given size, 100k rows by default', async () => {
    const target = path.join(dir, 'groups.parquet');
    await writeCandlesParquet(target, makeCandles(2_500), { rowGroupRows: 1_000 });

    const groups = await duckRows(
      `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${target}') ORDER BY row_group_id`,
    );
    expect(groups.map((g) => Number(g['row_group_num_rows']))).toEqual([1_000, 1_000, 500]);
    expect(DEFAULT_ROW_GROUP_ROWS).toBe(100_000);
  });

  it('writes a valid file with the same columns and no rows for an empty series', async () => {
    const target = path.join(dir, 'empty.parquet');

    expect(await writeCandlesParquet(target, [])).toMatchObject({ path: target, rows: 0, bytes: (await stat(target)).size });

    expect(await hyparquetRows(target)).toEqual([]);
    expect(await duckRows(`SELECT count(*) AS n FROM read_parquet('${target}')`)).toEqual([{ n: 0n }]);
    const described = await duckRows(`DESCRIBE SELECT * FROM read_parquet('${target}')`);
    expect(described.map((r) => r['column_type'])).toEqual(['TIMESTAMP WITH TIME ZONE', ...Array(5).fill('DOUBLE')]);
  });

  it("gives the Dropbox content hash of the bytes it wrote, across row groups and 4 MiB blocks, without reading the file", async () => {
    const target = path.join(dir, 'long.parquet');
    const written = await writeCandlesParquet(target, makeCandles(200_000), { rowGroupRows: 30_000 });
    const bytes = await readFile(target);
    expect(bytes.length).toBeGreaterThan(DROPBOX_HASH_BLOCK_SIZE);
    expect(written.bytes).toBe(bytes.length);
    expect(written.contentHash).toBe(contentHashOfBuffer(bytes));
  });

  it('creates missing parent directories', async () => {
    const target = path.join(dir, 'candles', 'BTC', 'BTC-USDT_1d_20240229_20240229.parquet');
    await writeCandlesParquet(target, makeCandles(1));
    expect(await hyparquetRows(target)).toHaveLength(1);
  });

  it('replaces an older file atomically, leaving no temp file behind', async () => {
    const target = path.join(dir, 'series.parquet');
    await writeCandlesParquet(target, makeCandles(10));
    await writeCandlesParquet(target, makeCandles(20));
    expect(await readdir(dir)).toEqual(['series.parquet']);
    expect(await hyparquetRows(target)).toHaveLength(20);
  });

  it('leaves one complete file when two jobs write the same target at once', async () => {
    const target = path.join(dir, 'series.parquet');
    await Promise.all([
      writeCandlesParquet(target, makeCandles(300), { rowGroupRows: 100 }),
      writeCandlesParquet(target, makeCandles(3_000), { rowGroupRows: 100 }),
    ]);

    expect(await readdir(dir)).toEqual(['series.parquet']);
    const bytes = await readFile(target);
    expect([300, 3_000]).toContain((await hyparquetRows(target)).length);
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    expect(bytes.subarray(-4).toString()).toBe('PAR1');
  });
});

describe('writeCandlesParquet on failure', () => {
  const OLD_CONTENT = 'the previous render of this series';

  async function withOlderTarget(): Promise<string> {
    const target = path.join(dir, 'series.parquet');
    await writeFile(target, OLD_CONTENT);
    return target;
  }

  async function expectOnlyOlderTarget(target: string): Promise<void> {
    expect(await readdir(dir)).toEqual([path.basename(target)]);
    expect(await readFile(target, 'utf8')).toBe(OLD_CONTENT);
  }

  it('rejects an invalid candle midway, removing the partly written temp file and keeping the older target', async () => {
    const target = await withOlderTarget();
    const candles = makeCandles(2_500);
    const tempSizesSeen: number[] = [];
    async function* cursor(): AsyncGenerator<Candle> {
      for (const [i, candle] of candles.entries()) {
        if (i === 1_500) {
          // Two row groups are on disk by now: the failure really is midway through the file.
          for (const name of await readdir(dir)) if (name !== 'series.parquet') tempSizesSeen.push((await stat(path.join(dir, name))).size);
          yield { ...candle, close: Number.NaN };
        } else {
          yield candle;
        }
      }
    }

    const failure = writeCandlesParquet(target, cursor(), { rowGroupRows: 500 });

    await expect(failure).rejects.toThrow(DataValidationError);
    await expect(failure).rejects.toThrow(`cannot write ${target}: candle #1500 (2024-03-01T23:00:00.000Z): close NaN is not a finite number`);
    expect(tempSizesSeen).toHaveLength(1);
    expect(tempSizesSeen[0]).toBeGreaterThan(1_000);
    await expectOnlyOlderTarget(target);
  });

  it('passes on an error of the candle source and cleans up the same way', async () => {
    const target = await withOlderTarget();
    const cursorError = new Error('connection to PostgreSQL lost');
    async function* cursor(): AsyncGenerator<Candle> {
      yield* makeCandles(700);
      throw cursorError;
    }

    await expect(writeCandlesParquet(target, cursor(), { rowGroupRows: 500 })).rejects.toBe(cursorError);
    await expectOnlyOlderTarget(target);
  });

  it.each([
    ['open times out of order', (c: Candle[]) => [c[0], c[2], c[1]], 'candle #2 (2024-02-29T22:01:00.000Z): openTime 1709244060000 does not follow 1709244120000'],
    ['a repeated open time', (c: Candle[]) => [c[0], c[0]], 'candle #1 (2024-02-29T22:00:00.000Z): openTime 1709244000000 does not follow 1709244000000'],
    ['a fractional open time', (c: Candle[]) => [{ ...c[0], openTime: START + 0.5 }], 'candle #0 (2024-02-29T22:00:00.000Z): openTime 1709244000000.5 is not an integer'],
    ['an infinite volume', (c: Candle[]) => [c[0], { ...c[1], volume: Infinity }], 'candle #1 (2024-02-29T22:01:00.000Z): volume Infinity is not a finite number'],
  ])('rejects %s, naming the row', async (_name, arrange, message) => {
    const target = await withOlderTarget();
    const candles = arrange(makeCandles(3)) as Candle[];
    await expect(writeCandlesParquet(target, candles)).rejects.toThrow(message);
    await expectOnlyOlderTarget(target);
  });

  it('fails before writing anything when a parent of the target is a file', async () => {
    const blocker = path.join(dir, 'candles');
    await writeFile(blocker, 'not a directory');

    await expect(writeCandlesParquet(path.join(blocker, 'BTC', 'x.parquet'), makeCandles(5))).rejects.toThrow(/ENOTDIR|EEXIST/);
    expect(await readdir(dir)).toEqual(['candles']);
    expect(await readFile(blocker, 'utf8')).toBe('not a directory');
  });

  it('removes the temp file when the target cannot be replaced', async () => {
    const target = path.join(dir, 'taken.parquet');
    await mkdir(path.join(target, 'inside'), { recursive: true });

    await expect(writeCandlesParquet(target, makeCandles(5))).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(await readdir(dir)).toEqual(['taken.parquet']);
    expect(await readdir(target)).toEqual(['inside']);
  });

  it('refuses a relative path rather than writing where the process happens to run', async () => {
    await expect(writeCandlesParquet('candles/x.parquet', makeCandles(1))).rejects.toThrow('absolutePath must be absolute, got "candles/x.parquet"');
  });
});
