import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { tempPathFor } from '../core/atomic-file.js';
import type { Candle, CandleSeries } from '../core/candle.js';
import type { Timeframe } from '../core/timeframes.js';
import { timeframeMs } from '../core/timeframes.js';
import type { IngestArchiveFilePayload, SyncFilePayload } from '../jobs/payloads.js';
import { CandleColumns } from '../core/candle-columns.js';
import { errorMessage } from '../core/errors.js';
import { Budget } from '../core/map-concurrently.js';
import { isFilePeriod } from '../series-files/file-periods.js';
import { forgetRendersOf, renderSeriesFileFromRows, syncPayloadOf, type SeriesOfFile } from '../series-files/render-series-file.js';
import { recordExchangeGaps, replaceCandleRange } from '../postgres/candle-store.js';
import type { Pool } from '../postgres/pool.js';
import type { Range } from '../core/range.js';
import type { ArchiveClient } from './archive-client.js';
import { findArchiveFile, lockArchiveFile, recordArchiveFile, updateArchiveFileEtag } from './archive-file-store.js';
import { readArchiveCandles, type ArchiveReadState } from './read-archive-zip.js';

/**
 * One archive file of one coin and timeframe: download it hashed as it streams, refuse it unless it is the zip its
 * CHECKSUM names, then in one transaction replace the candles of its period with its rows (checked as they stream),
 * record its holes in the exchange-gap ledger REST uses, and record which publication was ingested; the local
 * renders of its period go in the same step, and a monthly file writes its month's Parquet file from the rows it holds.
 * A file whose bytes were ingested before (same SHA-256) is not ingested again.
 */
export interface IngestArchiveDeps {
  db: Pool;
  archive: ArchiveClient;
  /** Where zips wait between download and ingest (removed after; a crash's leftovers are swept as temp files). */
  workDir: string;
  /** The series' Parquet files (series-files): where they are, and how a file written here is backed up. */
  files: { dataDir: string; chainSync(payload: SyncFilePayload): Promise<void> };
  signal?: AbortSignal;
  log(message: string): void;
}

export interface ArchiveFileResult {
  key: string;
  status: 'ingested' | 'unchanged';
  sha256: string;
  bytes: number;
  rows: number;
  unit: 'ms' | 'us' | null;
  headerRow: boolean;
  holes: Range[];
}

/**
 * Zips read and stored at once by this process, whatever the number of jobs running (20 by default): more streams at
 * once only contend, the worker inflating and parsing on one thread and PostgreSQL updating one index (alternated
 * bench runs: PostgreSQL's CPU 24-28 s with 4, 32-34 s with 20, for the same 3.15 million rows). Downloads, which wait
 * on the network, are not limited; the month's rows held for its file are then at most 4 x 2 MB.
 */
const INGESTS_AT_ONCE = 4;
const ingestSlots = new Budget(INGESTS_AT_ONCE);

/** Open times of [period) that the rows (ascending) skip, as ranges. */
function holesOf(period: Range, step: number, rows: CandleColumns): Range[] {
  const holes: Range[] = [];
  let expected = period.start;
  for (let i = 0; i < rows.length; i++) {
    const t = rows.openTime(i);
    if (t > expected) holes.push({ start: expected, end: t });
    expected = t + step;
  }
  if (expected < period.end) holes.push({ start: expected, end: period.end });
  return holes;
}

/**
 * A monthly file is its month's whole series file (an intraday series has one a month): written here from the rows
 * just stored, its sync chained, so the coin's job finds it on disk and keeps it instead of reading the month back from
 * PostgreSQL. A daily file's month is left to the coin's job; so is this one if writing it fails (the rows are stored).
 */
async function renderMonthFile(payload: IngestArchiveFilePayload, series: SeriesOfFile, period: Range, rows: CandleColumns,
  deps: IngestArchiveDeps): Promise<void> {
  if (!isFilePeriod(series.timeframe, period)) return;
  try {
    const file = await renderSeriesFileFromRows(series, deps.files, period, rows);
    if (!file || file.supersededBy) return;
    deps.log(`wrote ${file.relativePath} (${file.rows} rows, ${file.size} bytes)`);
    await deps.files.chainSync(syncPayloadOf(file, payload.runId));
  } catch (err) {
    deps.signal?.throwIfAborted();
    deps.log(`${payload.key}: its month's file is left to the coin's job: ${errorMessage(err)}`);
  }
}

export async function ingestArchiveFile(payload: IngestArchiveFilePayload, deps: IngestArchiveDeps): Promise<ArchiveFileResult> {
  await mkdir(deps.workDir, { recursive: true });
  const zipPath = tempPathFor(path.join(deps.workDir, path.basename(payload.key)));
  try {
    const download = await deps.archive.downloadVerified(payload.key, zipPath, deps.signal);
    const before = await findArchiveFile(deps.db, payload.exchange, payload.key);
    if (before?.sha256 === download.sha256) {
      if (before.etag !== payload.etag) await updateArchiveFileEtag(deps.db, payload.exchange, payload.key, payload.etag);
      deps.log(`${payload.key}: verified, same bytes as ingested before (SHA-256 ${download.sha256})`);
      return { key: payload.key, status: 'unchanged', sha256: download.sha256, bytes: download.bytes, rows: 0, unit: null, headerRow: false, holes: [] };
    }
    return await ingestSlots.use(1, () => ingestZip(payload, deps, zipPath, download, before !== undefined));
  } finally {
    await rm(zipPath, { force: true });
  }
}

/** Stores a verified zip's rows in place of its period's, then writes its month's file when it holds a whole month. */
async function ingestZip(payload: IngestArchiveFilePayload, deps: IngestArchiveDeps, zipPath: string,
  download: { sha256: string; bytes: number }, republished: boolean): Promise<ArchiveFileResult> {
  const series: CandleSeries = { exchange: payload.exchange, symbol: payload.symbol, timeframe: payload.timeframe as Timeframe };
  const seriesFile: SeriesOfFile = { kind: 'candles', ...series };
  const period: Range = { start: payload.startMs, end: payload.endMs };
  const state: ArchiveReadState = { unit: undefined, rows: 0, headerRow: false };
  const step = timeframeMs(series.timeframe);
  // The file's rows, kept as columns (a month of 1m candles is 2 MB): its holes, and its month's Parquet file.
  const rows = new CandleColumns(Math.ceil((period.end - period.start) / step));
  async function* tapped(): AsyncGenerator<Candle[]> {
    for await (const batch of readArchiveCandles(zipPath, series, { startMs: period.start, endMs: period.end }, payload.key, state)) {
      deps.signal?.throwIfAborted();
      for (const c of batch) rows.push(c);
      yield batch;
    }
  }
  const client = await deps.db.connect();
  let holes: Range[];
  try {
    await client.query('BEGIN');
    await lockArchiveFile(client, payload.exchange, payload.key);
    const stored = await replaceCandleRange(client, series, period, tapped());
    holes = holesOf(period, step, rows);
    await recordExchangeGaps(client, series, holes);
    await recordArchiveFile(client, series, {
      key: payload.key, range: period, etag: payload.etag, sha256: download.sha256, rows: stored, unit: state.unit ?? 'ms',
    });
    // Last before the commit, so that whatever happens next no render of the rows replaced is left to be kept.
    const forgotten = await forgetRendersOf(deps.files.dataDir, seriesFile, period);
    if (forgotten.length > 0) deps.log(`${payload.key}: removed ${forgotten.join(', ')}, rendered again from the new rows`);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  await renderMonthFile(payload, seriesFile, period, rows, deps);
  deps.log(`${payload.key}: ${republished ? 're-published, replaced' : 'ingested'} ${state.rows} rows (${state.unit ?? 'no'} timestamps` +
    `${state.headerRow ? ', header row' : ''}), SHA-256 ${download.sha256}${holes.length ? `, ${holes.length} hole(s)` : ''}`);
  return {
    key: payload.key, status: 'ingested', sha256: download.sha256, bytes: download.bytes, rows: state.rows, unit: state.unit ?? null,
    headerRow: state.headerRow, holes,
  };
}
