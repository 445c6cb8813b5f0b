import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { resolveInsideDataDir } from '../backup/path-inside-data-dir.js';
import type { Candle } from '../core/candle.js';
import { contentHashOfFile } from '../core/content-hash.js';
import { timeframeMs, type Timeframe } from '../core/timeframes.js';
import type { FileSource, SyncFilePayload } from '../jobs/payloads.js';
import { writeCandlesParquet } from '../parquet/write-candles.js';
import { barSpan, readBarPages } from '../postgres/bar-store.js';
import { candleSpan, readCandlePages } from '../postgres/candle-store.js';
import type { Range } from '../core/range.js';
import { candleFilePath, candleSeriesDirectory } from './file-name.js';
import { planRenderReplacement } from './renders.js';

type Queryable = Pick<pg.Pool, 'query'>;

/**
 * The one way a series becomes its Parquet file: exchange candles and flat-file bars alike, read from PostgreSQL a
 * keyset page at a time (memory stays flat whatever the length), written through the one Parquet writer, which hashes
 * the bytes as they go, and then every earlier render of the series in its directory is removed. The file holds the
 * whole series as PostgreSQL has it, so a later update replaces it rather than adding a second file beside it.
 */

/** Which rows: a coin's candles on an exchange, or a flat-file ticker's bars. */
export type SeriesOfFile =
  | { kind: 'candles'; exchange: string; symbol: string; timeframe: Timeframe }
  | { kind: 'bars'; source: string; ticker: string; timeframe: Timeframe };

export interface RenderDeps {
  db: Queryable;
  /** DATA_DIR: files go to `<dataDir>/candles/...`. */
  dataDir: string;
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
  /** False when the file was already there and nothing had changed (`reuseExisting`). */
  written: boolean;
  /** Earlier renders of the series removed from the directory. */
  replaced: string[];
  /** Set when a newer render of the series was found beside it: this one was removed instead, and is not to be synced. */
  supersededBy?: string;
  /** How the sync worker renders the same bytes on a host without this disk. */
  source: FileSource;
}

/** Open times before this are not stored; a range from 0 to it covers the whole series. */
const ALL_TIME: Range = { start: 0, end: 253_402_300_800_000 };

export interface RenderOptions {
  /**
   * Keep the file when one with the series' current name is already there (the caller knows no row changed): it is
   * then hashed from disk once, rather than rendered again.
   */
  reuseExisting?: boolean;
}

/** Renders the whole series; undefined when PostgreSQL holds none of it. */
export async function renderSeriesFile(series: SeriesOfFile, deps: RenderDeps, options: RenderOptions = {}): Promise<RenderedSeriesFile | undefined> {
  const span = await spanOf(deps.db, series, ALL_TIME);
  if (!span) return undefined;
  const relativePath = candleFilePath({ symbol: symbolOf(series), timeframe: series.timeframe, startMs: span.first, endMs: span.last });
  // The rows the name promises, whatever is inserted meanwhile outside them.
  const range: Range = { start: span.first, end: span.last + 1 };
  // Through links only into DATA_DIR: a render may not overwrite what a link points to.
  const localPath = await resolveInsideDataDir(deps.dataDir, relativePath);
  let facts = options.reuseExisting ? await existingFacts(localPath) : undefined;
  let rows = span.count;
  const written = facts === undefined;
  if (!facts) {
    const file = await writeCandlesParquet(localPath, flatten(pagesOf(deps.db, series, range)));
    facts = { size: file.bytes, mtimeMs: file.mtimeMs, contentHash: file.contentHash };
    rows = file.rows;
  }
  const replacement = await replaceEarlierRenders(deps.dataDir, relativePath);
  return {
    relativePath, rows, written, ...facts,
    replaced: replacement.superseded.filter((p) => p !== relativePath),
    ...(replacement.newest === relativePath ? {} : { supersededBy: replacement.newest }),
    source: fileSourceOf(series, { start: span.first, end: span.last + timeframeMs(series.timeframe) }),
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
  const directory = path.posix.dirname(relativePath);
  const names = await readdir(localPathOf(dataDir, directory)).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
    throw err;
  });
  return names.map((name) => `${directory}/${name}`);
}

/** The series' file name as PostgreSQL's rows in `range` give it now, or undefined when it has none there. */
export async function currentRenderPath(db: Queryable, series: SeriesOfFile, range: Range = ALL_TIME): Promise<string | undefined> {
  const span = await spanOf(db, series, range);
  return span && candleFilePath({ symbol: symbolOf(series), timeframe: series.timeframe, startMs: span.first, endMs: span.last });
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
