import { alignOffGridCandles, assertValidCandles, type CandleSeries, type OffGridCandle } from '../core/candle.js';
import { timeframeMs, type Timeframe } from '../core/timeframes.js';
import { type CandleSource } from '../exchange/ccxt-candle-source.js';
import { type CollectCandlesPayload, type SyncFilePayload } from '../jobs/payloads.js';
import { candleSpan, countCandles, expectedCandles, insertCandles, missingCandleRanges, recordExchangeGaps } from '../postgres/candle-store.js';
import { type Pool } from '../postgres/pool.js';
import { renderSeriesFiles, syncPayloadOf, type RenderDeps } from '../series-files/render-series-file.js';
import { collectionRange, collectionWindow, findExchangeHoles, mergeRanges, planPages, type Range } from './plan.js';

/**
 * One collect-candles job: plan from what PostgreSQL holds, fetch only the missing pages, store each page as it
 * arrives (so an interrupted job keeps its progress), record the exchange's own holes, render the series' Parquet files
 * from PostgreSQL (series-files: one per series, or per month of an intraday series, each replacing its earlier render) and chain its sync. The I/O comes in as `deps`, so the flow is tested with real PostgreSQL and the
 * emulator, and nothing here knows about BullMQ.
 */
export interface CandleProgress {
  phase: 'planning' | 'fetching' | 'writing' | 'done';
  fetched: number;
  stored: number;
  expected: number;
  have: number;
  percent: number;
  requests: number;
  requestsPlanned: number;
}

export interface CollectDeps {
  db: Pool;
  source: CandleSource;
  dataDir: string;
  /** Queues the sync of the file just rendered; the payload carries its size and content hash. */
  chainSync(payload: SyncFilePayload): Promise<void>;
  /** Which kept month files the backup already holds as they are (chain-sync.ts: syncedAsTheyAre). */
  syncedAsTheyAre?: RenderDeps['syncedAsTheyAre'];
  progress(p: CandleProgress): void;
  log(message: string): void;
  /** Aborted on shutdown: the job stops between pages and is handed back to the queue. */
  signal?: AbortSignal;
}

export interface CollectResult {
  status: 'complete' | 'partial' | 'skipped';
  records: number;
  expected: number;
  fetched: number;
  stored: number;
  requests: number;
  missingRanges: Range[];
  /** The exchange's holes this job found (and recorded). */
  exchangeGaps: Range[];
  /** Candles the exchange sent off the timeframe's grid this job, stored at their grid slot (see alignOffGridCandles). */
  offGridCandles: OffGridCandle[];
  file: { relativePath: string; rows: number; bytes: number } | null;
  /** Why the item ended as it did, when its status alone does not say (a delisted coin skipped). */
  reason?: string;
}

/**
 * Holes found this close to "now" are not recorded as permanent: an exchange may publish a just-closed candle a
 * little late, and a recorded hole would never be fetched again.
 */
function holeSafetyMarginMs(stepMs: number): number {
  return Math.max(2 * stepMs, 10 * 60_000);
}

export async function collectCandles(payload: CollectCandlesPayload, deps: CollectDeps): Promise<CollectResult> {
  const series: CandleSeries = { exchange: payload.exchange, symbol: payload.symbol, timeframe: payload.timeframe as Timeframe };
  const step = timeframeMs(series.timeframe);
  const name = `${series.exchange} ${series.symbol} ${series.timeframe}`;

  const now = await deps.source.now();
  const collected = collectionRange(payload.startMs, payload.endMs, now, step);
  // A delisted coin (archiveOnly): REST does not serve it, so only what its archive files cover can be had and is
  // expected; the days after its delisting (or before its listing) are not missing.
  const range = payload.archiveOnly ? archiveSpan(collected, payload.archiveOnly.covered) : collected;
  if (!range) return skippedDelisted(payload, collected, deps, name);
  // Planning holds a few ranges, never the series: PostgreSQL says what is stored and what is missing.
  const span = await candleSpan(deps.db, series, range);
  const window = collectionWindow(payload.mode, range, span, step);
  const missing = window ? await missingCandleRanges(deps.db, series, window) : [];
  const pages = payload.archiveOnly ? [] : planPages(missing, step, deps.source.pageLimit);
  const expected = await expectedCandles(deps.db, series, range);
  let have = span?.count ?? 0;
  deps.log(`${name}: ${payload.mode} ${iso(range.start)} .. ${iso(range.end)}: ${have}/${expected} stored, ` +
    `${missing.length} missing range(s), ${pages.length} request(s) planned`);

  let fetched = 0;
  let stored = 0;
  let requests = 0;
  const offGridCandles: OffGridCandle[] = [];
  const exchangeGaps: Range[] = [];
  const report = (phase: CandleProgress['phase']) =>
    deps.progress({
      phase, fetched, stored, expected, have, requests, requestsPlanned: pages.length,
      percent: expected === 0 ? 100 : Math.min(100, Math.round((have / expected) * 1000) / 10),
    });
  report(pages.length ? 'fetching' : 'writing');

  const holeCutoff = now - holeSafetyMarginMs(step);
  for (const page of pages) {
    deps.signal?.throwIfAborted();
    // Only the page, never more: exchanges append the still-open candle (or whatever follows a hole), and an
    // open candle stored as if it were final would be wrong forever.
    const answered = (await deps.source.fetchPage(series, page)).filter((c) => c.openTime >= page.start && c.openTime < page.end);
    requests += 1;
    const { candles, offGrid } = alignOffGridCandles(series, answered);
    assertValidCandles(series, candles);
    if (offGrid.length) {
      offGridCandles.push(...offGrid);
      deps.log(`${name}: the exchange sent ${offGrid.length} candle(s) off the ${series.timeframe} grid, stored at their slot: ` +
        offGrid.map((o) => `${iso(o.exchangeOpenTime)} -> ${iso(o.storedAt)}`).join(', '));
    }
    fetched += candles.length;
    const inserted = await insertCandles(deps.db, series, candles);
    stored += inserted;
    have += inserted;
    const holes = findExchangeHoles(page, candles.map((c) => c.openTime), step)
      .map((h) => ({ start: h.start, end: Math.min(h.end, Math.floor(holeCutoff / step) * step) }))
      .filter((h) => h.end > h.start);
    if (holes.length) {
      await recordExchangeGaps(deps.db, series, holes);
      exchangeGaps.push(...holes);
      deps.log(`${name}: exchange has no candles in ${holes.map((h) => `${iso(h.start)}..${iso(h.end)}`).join(', ')}`);
    }
    report('fetching');
  }

  const stillMissing = await missingCandleRanges(deps.db, series, range);
  const records = await countCandles(deps.db, series, range);
  const expectedAfter = await expectedCandles(deps.db, series, range);

  report('writing');
  const file = await renderFiles(payload, series, deps);
  const status = stillMissing.length > 0 ? 'partial' : pages.length === 0 && !payload.archiveOnly ? 'skipped' : 'complete';
  deps.progress({
    phase: 'done', fetched, stored, expected: expectedAfter, have: records, requests, requestsPlanned: pages.length,
    percent: expectedAfter === 0 ? 100 : Math.round((records / expectedAfter) * 1000) / 10,
  });
  deps.log(`${name}: ${status}, ${records}/${expectedAfter} candles, ${stored} new from ${requests} request(s)`);
  return {
    status, records, expected: expectedAfter, fetched, stored, requests, missingRanges: stillMissing,
    exchangeGaps: mergeRanges(exchangeGaps), offGridCandles, file,
  };
}

/** What a delisted coin's files cover inside the range, or undefined when they cover none of it. */
function archiveSpan(range: Range, covered: Range | null): Range | undefined {
  const span = covered && { start: Math.max(range.start, covered.start), end: Math.min(range.end, covered.end) };
  return span && span.end > span.start ? span : undefined;
}

/** A delisted coin none of whose archive files lies in the range: nothing to collect, and the reason says why. */
function skippedDelisted(payload: CollectCandlesPayload, range: Range, deps: CollectDeps, name: string): CollectResult {
  const archiveEndMs = payload.archiveOnly?.archiveEndMs ?? null;
  const reason = archiveEndMs === null
    ? `delisted: the archive has no ${payload.timeframe} files of ${payload.symbol}`
    : archiveEndMs <= range.start
      ? `delisted: its ${payload.timeframe} archive files end at ${iso(archiveEndMs)}, before the range starts (${iso(range.start)})`
      : `delisted: none of its ${payload.timeframe} archive files lies in ${iso(range.start)} .. ${iso(range.end)}`;
  deps.log(`${name}: skipped, ${reason}`);
  deps.progress({ phase: 'done', fetched: 0, stored: 0, expected: 0, have: 0, requests: 0, requestsPlanned: 0, percent: 100 });
  return {
    status: 'skipped', records: 0, expected: 0, fetched: 0, stored: 0, requests: 0, missingRanges: [], exchangeGaps: [],
    offGridCandles: [], file: null, reason,
  };
}

/**
 * Renders the coin's Parquet files from PostgreSQL (same rows, same bytes on any host) and chains their syncs: the
 * series' one file for a daily timeframe, its month files for an intraday one, where closed months whose rows did not
 * change keep their file and, once backed up as they are, are neither rewritten nor synced again. Returns the series' latest file.
 */
async function renderFiles(payload: CollectCandlesPayload, series: CandleSeries, deps: CollectDeps): Promise<CollectResult['file']> {
  const { files, unchanged } = await renderSeriesFiles({ kind: 'candles', ...series }, deps);
  if (unchanged.length > 0) deps.log(`${unchanged.length} closed month file(s) unchanged, kept as they are`);
  let latest: CollectResult['file'] = null;
  for (const rendered of files) {
    const { relativePath, rows, size } = rendered;
    if (rendered.written) deps.log(`wrote ${relativePath} (${rows} rows, ${size} bytes)`);
    if (rendered.replaced.length > 0) deps.log(`${relativePath} replaces ${rendered.replaced.join(', ')}`);
    if (rendered.supersededBy) {
      // Another job rendered a newer file of the series meanwhile; its sync is that job's.
      deps.log(`${relativePath} is superseded by ${rendered.supersededBy}, rendered meanwhile`);
      latest = { relativePath: rendered.supersededBy, rows, bytes: size };
      continue;
    }
    // Chained even when the file was already there (the latest one): an attempt killed between writing it and
    // chaining its sync leaves it unsynced otherwise. Same bytes, same job id, so a sync chained before is not queued twice.
    await deps.chainSync(syncPayloadOf(rendered, payload.runId));
    latest = { relativePath, rows, bytes: size };
  }
  return latest;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
