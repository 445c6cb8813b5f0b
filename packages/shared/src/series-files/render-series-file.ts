import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { resolveInsideDataDir } from '../backup/path-inside-data-dir.js';
import type { Candle } from '../core/candle.js';
import type { CandleColumns } from '../core/candle-columns.js';
import { contentHashOfFile } from '../core/content-hash.js';
import { Budget } from '../core/map-concurrently.js';
import { timeframeMs, type Timeframe } from '../core/timeframes.js';
import type { FileSource, SyncFilePayload } from '../jobs/payloads.js';
import { writeCandlesParquet } from '../parquet/write-candles.js';
import { candleFileRowCount } from '../parquet/read-candle-file.js';
import { barSpan, barSpansByMonth, readBarPages } from '../postgres/bar-store.js';
import { candleSpan, candleSpansByMonth, readCandlePages } from '../postgres/candle-store.js';
import type { Range } from '../core/range.js';
import { candleFilePath, candleSeriesDirectory } from './file-name.js';
import { ALL_TIME, filePeriodOf, filesPerMonth, isFilePeriod, nextMonthStart, planSeriesFiles, type PeriodSpan, type PlannedSeriesFile } from './file-periods.js';
import { parseSeriesRender, planRenderReplacement } from './renders.js';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * Files written at once by this process, whatever the number of jobs running: a render holds its row group's buffers
 * and its encoded pages (several MB for a month of minutes), and on a few cores twenty renders at once are no faster
 * than four, only five times the memory (bench/worker-memory).
 */
const RENDERS_AT_ONCE = 4;
const renderSlots = new Budget(RENDERS_AT_ONCE);

/**
 * The one way a series becomes its Parquet files: exchange candles and flat-file bars alike, read from PostgreSQL a
 * keyset page at a time (memory stays flat whatever the length), written through the one Parquet writer, which hashes
 * the bytes as they go, and then the earlier renders they replace are removed (renders.ts). A daily series is one
 * file holding all PostgreSQL has of it; an intraday series is one file per UTC month (file-periods.ts), and only the
 * months whose rows changed are written again. Whoever replaces rows (an archive file) removes the renders of their
 * period first (forgetRendersOf), and may write a month it holds whole from its own rows (renderSeriesFileFromRows).
 */

/** Which rows: a coin's candles on an exchange, or a flat-file ticker's bars. */
export type SeriesOfFile =
  | { kind: 'candles'; exchange: string; symbol: string; timeframe: Timeframe }
  | { kind: 'bars'; source: string; ticker: string; timeframe: Timeframe };

export interface RenderDeps {
  db: Queryable;
  /** DATA_DIR: files go to `<dataDir>/candles/...`. */
  dataDir: string;
  /**
   * Of these kept files (as they stand on disk), the ones the backup already holds as they are: they are neither
   * hashed nor synced again. Without it every kept month is hashed and its sync chained again.
   */
  syncedAsTheyAre?: (files: readonly KeptFile[]) => Promise<Set<string>>;
}

/** A file kept on disk, by its size and mtime: what a sync recorded it as. */
export interface KeptFile {
  relativePath: string;
  size: number;
  mtimeMs: number;
}

/** What a series file is as it stands on disk, as the sync payload carries it. */
export interface SeriesFileFacts {
  size: number;
  mtimeMs: number;
  contentHash: string;
}

export interface RenderedSeriesFile extends SeriesFileFacts {
  relativePath: string;
  rows: number;
  /** False when the file was already there with the same rows, and kept. */
  written: boolean;
  /** Earlier renders of its slot (the series, or its month) removed from the directory. */
  replaced: string[];
  /** Set when a newer render of its slot was found beside it: this one was removed instead, and is not to be synced. */
  supersededBy?: string;
  /** How the sync worker renders the same bytes on a host without this disk. */
  source: FileSource;
}

export interface RenderedSeriesFiles {
  /**
   * The files to sync, ascending: every file written, and the series' latest file even when it was kept (an attempt
   * killed between writing it and chaining its sync would leave it unsynced otherwise; the same bytes give the same
   * sync job id, so it is not queued twice).
   */
  files: RenderedSeriesFile[];
  /**
   * Closed months whose file was on disk with the same rows and is in the backup as it is (RenderDeps.syncedAsTheyAre):
   * neither rewritten, hashed nor synced again.
   */
  unchanged: string[];
}

/**
 * Renders every file of the series whose rows changed since its file was written (all of them the first time); an
 * empty result when PostgreSQL holds none of the series.
 */
export async function renderSeriesFiles(series: SeriesOfFile, deps: RenderDeps): Promise<RenderedSeriesFiles> {
  const spans = filesPerMonth(series.timeframe)
    ? await spansByMonthOf(deps.db, series)
    : [await spanOf(deps.db, series, ALL_TIME)].flatMap((s) => (s ? [s] : []));
  const planned = planSeriesFiles({ symbol: symbolOf(series), timeframe: series.timeframe, spans, rowsOnDisk: await rowsOnDisk(deps.dataDir, spans, series) });
  const unchanged = await keptAndSynced(deps, planned.filter((f) => f.action === 'keep' && !f.latest));
  const files: RenderedSeriesFile[] = [];
  for (const file of planned) {
    // Any other kept month is hashed from disk and its sync chained again: an attempt killed between writing it and
    // chaining its sync (kill -9 in the chaos suite) would leave it off the backup otherwise. Same bytes, same job id.
    if (!unchanged.has(file.relativePath)) files.push(await renderPlanned(series, deps.dataDir, file, fromPostgres(deps.db, series)));
  }
  // One listing for the whole series; a crash before this only leaves work for its next render.
  const beside = await localFilesIn(deps.dataDir, seriesDirectory(series));
  for (const file of files) {
    const plan = planRenderReplacement(file.relativePath, beside);
    for (const superseded of plan.superseded) await rm(localPathOf(deps.dataDir, superseded), { force: true });
    file.replaced = plan.superseded.filter((p) => p !== file.relativePath);
    if (plan.newest !== file.relativePath) file.supersededBy = plan.newest;
  }
  return { files, unchanged: [...unchanged] };
}

export interface RenderOptions {
  /** The file's period (file-periods.ts: filePeriodOf); by default the one holding the series' last row. */
  period?: Range;
}

/**
 * The kept closed months that the backup holds as they are on disk, by one stat each and one question to the sync
 * records: reading every month file again would cost a whole series' bytes on every update.
 */
async function keptAndSynced(deps: RenderDeps, kept: readonly PlannedSeriesFile[]): Promise<Set<string>> {
  if (!deps.syncedAsTheyAre || kept.length === 0) return new Set();
  const onDisk: KeptFile[] = [];
  for (const file of kept) {
    const info = await stat(await resolveInsideDataDir(deps.dataDir, file.relativePath)).catch(() => undefined);
    if (info?.isFile()) onDisk.push({ relativePath: file.relativePath, size: info.size, mtimeMs: Math.trunc(info.mtimeMs) });
  }
  return deps.syncedAsTheyAre(onDisk);
}

/** Renders one file of the series, whatever is on disk; undefined when PostgreSQL holds none of its rows. */
export async function renderSeriesFile(series: SeriesOfFile, deps: RenderDeps, options: RenderOptions = {}): Promise<RenderedSeriesFile | undefined> {
  const period = options.period ?? (await lastPeriod(deps.db, series));
  const span = period && (await spanOf(deps.db, series, period));
  if (!span) return undefined;
  const [file] = planSeriesFiles({ symbol: symbolOf(series), timeframe: series.timeframe, spans: [span], rowsOnDisk: new Map() });
  return withEarlierRendersReplaced(deps.dataDir, await renderPlanned(series, deps.dataDir, file!, fromPostgres(deps.db, series)));
}

async function withEarlierRendersReplaced(dataDir: string, rendered: RenderedSeriesFile): Promise<RenderedSeriesFile> {
  const replacement = await replaceEarlierRenders(dataDir, rendered.relativePath);
  rendered.replaced = replacement.superseded.filter((p) => p !== rendered.relativePath);
  if (replacement.newest !== rendered.relativePath) rendered.supersededBy = replacement.newest;
  return rendered;
}

/**
 * Renders the file of `period` (filePeriodOf: a month of an intraday series) from `rows`, which the caller vouches are
 * every row PostgreSQL now holds there (an archive's monthly file, just stored in one transaction): the same bytes a
 * render from PostgreSQL writes, without reading a month of rows back. Undefined when there are no rows.
 */
export async function renderSeriesFileFromRows(series: SeriesOfFile, deps: Pick<RenderDeps, 'dataDir'>, period: Range,
  rows: CandleColumns): Promise<RenderedSeriesFile | undefined> {
  if (rows.length === 0) return undefined;
  const span = { first: rows.openTime(0), last: rows.openTime(rows.length - 1), count: rows.length };
  if (!isFilePeriod(series.timeframe, period) || span.first < period.start || span.last >= period.end) {
    throw new Error(`rows of ${describeSeries(series)} from ${new Date(span.first).toISOString()} to ${new Date(span.last).toISOString()} ` +
      `are not one file's period [${new Date(period.start).toISOString()}, ${new Date(period.end).toISOString()})`);
  }
  const [file] = planSeriesFiles({ symbol: symbolOf(series), timeframe: series.timeframe, spans: [span], rowsOnDisk: new Map() });
  return withEarlierRendersReplaced(deps.dataDir, await renderPlanned(series, deps.dataDir, file!, () => rows));
}

/**
 * Removes the local renders of the files holding `period` (its month, or a daily series' one file) before the rows
 * there are replaced: a render of the old rows would otherwise be kept by the next render of the series, which tells
 * files apart by their span and row count, not their values. Whatever happens after, the series' next render writes
 * the file again from PostgreSQL. Returns the paths removed.
 */
export async function forgetRendersOf(dataDir: string, series: SeriesOfFile, period: Range): Promise<string[]> {
  const slots = new Set<string>();
  for (let month = period.start; month < period.end; month = nextMonthStart(month)) {
    const probe = candleFilePath({ symbol: symbolOf(series), timeframe: series.timeframe, startMs: month, endMs: month });
    slots.add(parseSeriesRender(probe)!.slot);
    if (!filesPerMonth(series.timeframe)) break;
  }
  const removed: string[] = [];
  for (const relativePath of await localFilesIn(dataDir, seriesDirectory(series))) {
    const render = parseSeriesRender(relativePath);
    if (!render || !slots.has(render.slot)) continue;
    await rm(localPathOf(dataDir, relativePath), { force: true });
    removed.push(relativePath);
  }
  return removed;
}

/** Writes a planned file (or, kept, hashes it from disk); replacing earlier renders is the caller's. */
async function renderPlanned(series: SeriesOfFile, dataDir: string, file: PlannedSeriesFile,
  rowsOf: (rows: Range) => Iterable<Candle> | AsyncIterable<Candle>): Promise<RenderedSeriesFile> {
  // Through links only into DATA_DIR: a render may not overwrite what a link points to.
  const localPath = await resolveInsideDataDir(dataDir, file.relativePath);
  let facts = file.action === 'keep' ? await existingFacts(localPath) : undefined;
  let rows = file.count;
  const written = facts === undefined;
  if (!facts) {
    // The rows the name promises, whatever is inserted meanwhile outside them.
    const out = await renderSlots.use(1, () =>
      writeCandlesParquet(localPath, rowsOf(file.rows), { expectedRows: file.count }));
    facts = { size: out.bytes, mtimeMs: out.mtimeMs, contentHash: out.contentHash };
    rows = out.rows;
  }
  return {
    relativePath: file.relativePath, rows, written, ...facts, replaced: [],
    source: fileSourceOf(series, { start: file.rows.start, end: file.rows.end - 1 + timeframeMs(series.timeframe) }),
  };
}

/** The sync job of a rendered file: what to upload, how to render it elsewhere, and its facts so nobody hashes it again. */
export function syncPayloadOf(file: RenderedSeriesFile, runId: string | undefined): SyncFilePayload {
  return {
    relativePath: file.relativePath,
    source: file.source,
    ...(runId === undefined ? {} : { runId }),
    file: { size: file.size, mtimeMs: file.mtimeMs, contentHash: file.contentHash },
  };
}

/**
 * Once `relativePath` is in place: removes every other render of its series in its directory, or, when a newer
 * render is there, `relativePath` itself. Idempotent, so a crash between a render and this only leaves work for the
 * next render of the series.
 */
export async function replaceEarlierRenders(dataDir: string, relativePath: string): Promise<{ newest: string; superseded: string[] }> {
  const plan = planRenderReplacement(relativePath, await localRendersBeside(dataDir, relativePath));
  for (const superseded of plan.superseded) await rm(localPathOf(dataDir, superseded), { force: true });
  return plan;
}

/** The files beside `relativePath` in its directory (itself included when present), as relative paths. */
export async function localRendersBeside(dataDir: string, relativePath: string): Promise<string[]> {
  return localFilesIn(dataDir, path.posix.dirname(relativePath));
}

/** The names in a directory under DATA_DIR, as relative paths; none when it does not exist. */
async function localFilesIn(dataDir: string, directory: string): Promise<string[]> {
  const names = await readdir(localPathOf(dataDir, directory)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
    throw err;
  });
  return names.map((name) => `${directory}/${name}`);
}

/**
 * The name of the series' file of `period` (filePeriodOf) as PostgreSQL's rows there give it now, or undefined when it
 * has none there.
 */
export async function currentRenderPath(db: Queryable, series: SeriesOfFile, period: Range): Promise<string | undefined> {
  const span = await spanOf(db, series, period);
  return span && candleFilePath({ symbol: symbolOf(series), timeframe: series.timeframe, startMs: span.first, endMs: span.last });
}

/** Every file the series is made of now, as PostgreSQL's rows give them: one per month for intraday series, else one. */
export async function currentRenderPaths(db: Queryable, series: SeriesOfFile): Promise<string[]> {
  const spans = filesPerMonth(series.timeframe) ? await spansByMonthOf(db, series) : [await spanOf(db, series, ALL_TIME)];
  return spans.flatMap((span) => span
    ? [candleFilePath({ symbol: symbolOf(series), timeframe: series.timeframe, startMs: span.first, endMs: span.last })]
    : []);
}

export function seriesOfSource(source: FileSource): SeriesOfFile {
  return source.kind === 'candles'
    ? { kind: 'candles', exchange: source.exchange, symbol: source.symbol, timeframe: source.timeframe as Timeframe }
    : { kind: 'bars', source: source.source, ticker: source.ticker, timeframe: source.timeframe as Timeframe };
}

/** `candles/BTC`: where every render of the series lives. */
export function seriesDirectory(series: SeriesOfFile): string {
  return candleSeriesDirectory(symbolOf(series));
}

export function describeSeries(series: SeriesOfFile): string {
  return series.kind === 'candles'
    ? `${series.exchange} ${series.symbol} ${series.timeframe} candles`
    : `${series.source} ${series.ticker} ${series.timeframe} bars`;
}

export function localPathOf(dataDir: string, relativePath: string): string {
  return path.join(dataDir, ...relativePath.split('/'));
}

function symbolOf(series: SeriesOfFile): string {
  return series.kind === 'candles' ? series.symbol : series.ticker;
}

async function spanOf(db: Queryable, series: SeriesOfFile, range: Range): Promise<{ first: number; last: number; count: number } | undefined> {
  return series.kind === 'candles'
    ? candleSpan(db, { exchange: series.exchange, symbol: series.symbol, timeframe: series.timeframe }, range)
    : barSpan(db, { source: series.source, ticker: series.ticker, timeframe: series.timeframe }, range);
}

async function spansByMonthOf(db: Queryable, series: SeriesOfFile): Promise<PeriodSpan[]> {
  return series.kind === 'candles'
    ? candleSpansByMonth(db, { exchange: series.exchange, symbol: series.symbol, timeframe: series.timeframe }, ALL_TIME)
    : barSpansByMonth(db, { source: series.source, ticker: series.ticker, timeframe: series.timeframe }, ALL_TIME);
}

/** The period of the series' last row, or undefined when it has none. */
async function lastPeriod(db: Queryable, series: SeriesOfFile): Promise<Range | undefined> {
  const span = await spanOf(db, series, ALL_TIME);
  return span && filePeriodOf(series.timeframe, span.last);
}

/** Row counts (from the Parquet footers) of the files the spans name that are on disk. */
async function rowsOnDisk(dataDir: string, spans: readonly PeriodSpan[], series: SeriesOfFile): Promise<Map<string, number>> {
  const present = new Set(await localFilesIn(dataDir, seriesDirectory(series)));
  const counts = new Map<string, number>();
  for (const span of spans) {
    const relativePath = candleFilePath({ symbol: symbolOf(series), timeframe: series.timeframe, startMs: span.first, endMs: span.last });
    if (!present.has(relativePath)) continue;
    const rows = await candleFileRowCount(await resolveInsideDataDir(dataDir, relativePath)).catch(() => undefined);
    // A file that cannot be read as Parquet (cut short by a crash of another writer) is rendered again.
    if (rows !== undefined) counts.set(relativePath, rows);
  }
  return counts;
}

/** The rows of a file, read from PostgreSQL a keyset page at a time. */
function fromPostgres(db: Queryable, series: SeriesOfFile): (rows: Range) => AsyncIterable<Candle> {
  return (rows) => flatten(pagesOf(db, series, rows));
}

function pagesOf(db: Queryable, series: SeriesOfFile, range: Range): AsyncIterable<Candle[]> {
  return series.kind === 'candles'
    ? readCandlePages(db, { exchange: series.exchange, symbol: series.symbol, timeframe: series.timeframe }, range)
    : readBarPages(db, { source: series.source, ticker: series.ticker, timeframe: series.timeframe }, range);
}

function fileSourceOf(series: SeriesOfFile, range: Range): FileSource {
  return series.kind === 'candles'
    ? { kind: 'candles', exchange: series.exchange, symbol: series.symbol, timeframe: series.timeframe, startMs: range.start, endMs: range.end }
    : { kind: 'bars', source: series.source, ticker: series.ticker, timeframe: series.timeframe, startMs: range.start, endMs: range.end };
}

/** Render the whole series into one file, a row group at a time, from pages of rows. */
async function* flatten(pages: AsyncIterable<readonly Candle[]>): AsyncGenerator<Candle> {
  for await (const page of pages) yield* page;
}

async function existingFacts(localPath: string): Promise<SeriesFileFacts | undefined> {
  const info = await stat(localPath).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!info?.isFile()) return undefined;
  return { size: info.size, mtimeMs: Math.trunc(info.mtimeMs), contentHash: await contentHashOfFile(localPath) };
}
