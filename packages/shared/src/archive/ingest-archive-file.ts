import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { tempPathFor } from '../core/atomic-file.js';
import type { Candle, CandleSeries } from '../core/candle.js';
import type { Timeframe } from '../core/timeframes.js';
import { timeframeMs } from '../core/timeframes.js';
import type { IngestArchiveFilePayload } from '../jobs/payloads.js';
import { recordExchangeGaps, replaceCandleRange } from '../postgres/candle-store.js';
import type { Pool } from '../postgres/pool.js';
import type { Range } from '../core/range.js';
import type { ArchiveClient } from './archive-client.js';
import { findArchiveFile, lockArchiveFile, recordArchiveFile, updateArchiveFileEtag } from './archive-file-store.js';
import { readArchiveCandles, type ArchiveReadState } from './read-archive-zip.js';

/**
 * One archive file of one coin and timeframe: download it hashed as it streams, refuse it unless it is the zip its
 * CHECKSUM names, then in one transaction replace the candles of its period with its rows (checked as they stream),
 * record its holes in the exchange-gap ledger REST uses, and record which publication was ingested. A file whose
 * bytes were ingested before (same SHA-256) is not ingested again.
 */
export interface IngestArchiveDeps {
  db: Pool;
  archive: ArchiveClient;
  /** Where zips wait between download and ingest (removed after; a crash's leftovers are swept as temp files). */
  workDir: string;
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
      return { key: payload.key, status: 'unchanged', sha256: download.sha256, bytes: download.bytes, rows: 0, unit: null, headerRow: false, holes: [] };
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
    return {
      key: payload.key, status: 'ingested', sha256: download.sha256, bytes: download.bytes, rows: state.rows, unit: state.unit ?? null,
      headerRow: state.headerRow, holes,
    };
  } finally {
    await rm(zipPath, { force: true });
  }
}
