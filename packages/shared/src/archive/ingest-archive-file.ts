import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { tempPathFor } from '../core/atomic-file.js';
import type { Candle, CandleSeries } from '../core/candle.js';
import type { Timeframe } from '../core/timeframes.js';
import { timeframeMs } from '../core/timeframes.js';
import type { IngestArchiveFilePayload, SyncFilePayload } from '../jobs/payloads.js';
import { recordExchangeGaps, replaceCandleRange } from '../postgres/candle-store.js';
import type { Pool } from '../postgres/pool.js';
import type { Range } from '../core/range.js';
import { filePeriodOf, filesPerMonth } from '../series-files/file-periods.js';
import { renderSeriesFile, syncPayloadOf } from '../series-files/render-series-file.js';
import type { ArchiveClient } from './archive-client.js';
import { findArchiveFile, lockArchiveFile, recordArchiveFile, updateArchiveFileEtag } from './archive-file-store.js';
import { readArchiveCandles, type ArchiveReadState } from './read-archive-zip.js';

/**
 * One archive file of one coin and timeframe: download it hashed as it streams, refuse it unless it is the zip its
 * CHECKSUM names, then in one transaction replace the candles of its period with its rows (checked as they stream),
 * record its holes in the exchange-gap ledger REST uses, and record which publication was ingested. A file whose
 * bytes were ingested before (same SHA-256) is not ingested again.
 *
 * A monthly file of an intraday series covers exactly one month file of the series (series-files): once its rows are
 * committed, that month's Parquet file is rendered here, from PostgreSQL as every render is, and its sync chained. The
 * coin's collect job, which renders the series once all its files are in, then finds the month on disk with the same
 * rows and keeps it, instead of reading every month back one after the other at the end of the collection. Any other
 * file (a day) leaves its month to that job, as does an attempt that finds its bytes ingested before (a crash between
 * the commit and the render): the render is only ever done sooner, never skipped.
 */
export interface IngestArchiveDeps {
  db: Pool;
  archive: ArchiveClient;
  /** Where zips wait between download and ingest (removed after; a crash's leftovers are swept as temp files). */
  workDir: string;
  /** DATA_DIR: where the month file of a monthly archive file is rendered. */
  dataDir: string;
  /** Queues the sync of the month file just rendered, as the collect job chains its files' syncs. */
  chainSync(payload: SyncFilePayload): Promise<void>;
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
  /** The month file rendered from the file's rows, or null (not a whole month of an intraday series, or not ingested now). */
  file: { relativePath: string; rows: number; bytes: number } | null;
}

/** Open times of [period) that `openTimes` (ascending) skip, as ranges. */
function holesOf(period: Range, step: number, openTimes: Iterable<number>): Range[] {
  const holes: Range[] = [];
  let expected = period.start;
  for (const t of openTimes) {
    if (t > expected) holes.push({ start: expected, end: t });
    expected = t + step;
  }
  if (expected < period.end) holes.push({ start: expected, end: period.end });
  return holes;
}

export async function ingestArchiveFile(payload: IngestArchiveFilePayload, deps: IngestArchiveDeps): Promise<ArchiveFileResult> {
  const series: CandleSeries = { exchange: payload.exchange, symbol: payload.symbol, timeframe: payload.timeframe as Timeframe };
  const period: Range = { start: payload.startMs, end: payload.endMs };
  await mkdir(deps.workDir, { recursive: true });
  const zipPath = tempPathFor(path.join(deps.workDir, path.basename(payload.key)));
  try {
    const download = await deps.archive.downloadVerified(payload.key, zipPath, deps.signal);
    const before = await findArchiveFile(deps.db, payload.exchange, payload.key);
    if (before?.sha256 === download.sha256) {
      if (before.etag !== payload.etag) await updateArchiveFileEtag(deps.db, payload.exchange, payload.key, payload.etag);
      deps.log(`${payload.key}: verified, same bytes as ingested before (SHA-256 ${download.sha256})`);
      return { key: payload.key, status: 'unchanged', sha256: download.sha256, bytes: download.bytes, rows: 0, unit: null, headerRow: false, holes: [],
        file: null };
    }
    const state: ArchiveReadState = { unit: undefined, rows: 0, headerRow: false };
    const step = timeframeMs(series.timeframe);
    const openTimes: number[] = [];
    async function* tapped(): AsyncGenerator<Candle[]> {
      for await (const batch of readArchiveCandles(zipPath, series, { startMs: period.start, endMs: period.end }, payload.key, state)) {
        deps.signal?.throwIfAborted();
        // Only the times that break the sequence are needed for holes; a month of 1m candles is 45k numbers at most.
        for (const c of batch) openTimes.push(c.openTime);
        yield batch;
      }
    }
    const client = await deps.db.connect();
    let holes: Range[] = [];
    try {
      await client.query('BEGIN');
      await lockArchiveFile(client, payload.exchange, payload.key);
      const rows = await replaceCandleRange(client, series, period, tapped());
      holes = holesOf(period, step, openTimes);
      await recordExchangeGaps(client, series, holes);
      await recordArchiveFile(client, series, {
        key: payload.key, range: period, etag: payload.etag, sha256: download.sha256, rows, unit: state.unit ?? 'ms',
      });
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    deps.log(`${payload.key}: ${before ? 're-published, replaced' : 'ingested'} ${state.rows} rows (${state.unit ?? 'no'} timestamps` +
      `${state.headerRow ? ', header row' : ''}), SHA-256 ${download.sha256}${holes.length ? `, ${holes.length} hole(s)` : ''}`);
    const file = await renderMonthFile(series, period, payload.runId, deps);
    return {
      key: payload.key, status: 'ingested', sha256: download.sha256, bytes: download.bytes, rows: state.rows, unit: state.unit ?? null,
      headerRow: state.headerRow, holes, file,
    };
  } finally {
    await rm(zipPath, { force: true });
  }
}

/** The month file a monthly archive file covers, rendered and its sync chained; null for any other file. */
async function renderMonthFile(series: CandleSeries, period: Range, runId: string, deps: IngestArchiveDeps): Promise<ArchiveFileResult['file']> {
  if (!filesPerMonth(series.timeframe)) return null;
  const month = filePeriodOf(series.timeframe, period.start);
  if (month.start !== period.start || month.end !== period.end) return null;
  deps.signal?.throwIfAborted();
  const rendered = await renderSeriesFile({ kind: 'candles', ...series }, { db: deps.db, dataDir: deps.dataDir }, { period });
  // None of its rows (a month the exchange was down), or a newer render of the month beside it: its sync is not ours.
  if (!rendered || rendered.supersededBy) return null;
  await deps.chainSync(syncPayloadOf(rendered, runId));
  deps.log(`wrote ${rendered.relativePath} (${rendered.rows} rows, ${rendered.size} bytes)` +
    `${rendered.replaced.length ? `, replacing ${rendered.replaced.join(', ')}` : ''}`);
  return { relativePath: rendered.relativePath, rows: rendered.rows, bytes: rendered.size };
}
