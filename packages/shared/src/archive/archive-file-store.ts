import type pg from 'pg';
import type { Range } from '../core/range.js';
import type { CandleSeries } from '../core/candle.js';
import type { TimestampUnit } from './read-archive-zip.js';

/** PostgreSQL I/O for `archive_files`: which publication of each archive file the candles hold. */
type Queryable = Pick<pg.Pool, 'query'>;

export interface IngestedArchiveFile {
  key: string;
  etag: string;
  sha256: string;
}

/** Files of a series ingested so far whose period overlaps `range`. */
export async function ingestedArchiveFiles(db: Queryable, series: CandleSeries, range: Range): Promise<IngestedArchiveFile[]> {
  const { rows } = await db.query<IngestedArchiveFile>(
    `SELECT key, etag, sha256 FROM archive_files
     WHERE exchange = $1 AND symbol = $2 AND timeframe = $3 AND end_time > $4 AND start_time < $5`,
    [series.exchange, series.symbol, series.timeframe, new Date(range.start), new Date(range.end)],
  );
  return rows;
}

export async function findArchiveFile(db: Queryable, exchange: string, key: string): Promise<IngestedArchiveFile | undefined> {
  const { rows } = await db.query<IngestedArchiveFile>('SELECT key, etag, sha256 FROM archive_files WHERE exchange = $1 AND key = $2', [exchange, key]);
  return rows[0];
}

export interface ArchiveFileRecord {
  key: string;
  range: Range;
  etag: string;
  sha256: string;
  rows: number;
  unit: TimestampUnit;
}

/** Records (or updates) the publication of a file whose rows were just written, in the same transaction. */
export async function recordArchiveFile(db: Queryable, series: CandleSeries, f: ArchiveFileRecord): Promise<void> {
  await db.query(
    `INSERT INTO archive_files (exchange, key, symbol, timeframe, start_time, end_time, etag, sha256, rows, timestamp_unit)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (exchange, key) DO UPDATE SET etag = excluded.etag, sha256 = excluded.sha256, rows = excluded.rows,
       timestamp_unit = excluded.timestamp_unit, ingested_at = now()`,
    [series.exchange, f.key, series.symbol, series.timeframe, new Date(f.range.start), new Date(f.range.end), f.etag, f.sha256, f.rows, f.unit],
  );
}

/** A file listed under a new ETag whose bytes are the ones already ingested: only the ETag changes. */
export async function updateArchiveFileEtag(db: Queryable, exchange: string, key: string, etag: string): Promise<void> {
  await db.query('UPDATE archive_files SET etag = $3 WHERE exchange = $1 AND key = $2', [exchange, key, etag]);
}

/** Serialises ingests of one file (two runs may queue it at once) until the transaction ends. */
export async function lockArchiveFile(client: Queryable, exchange: string, key: string): Promise<void> {
  await client.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`archive:${exchange}:${key}`]);
}
