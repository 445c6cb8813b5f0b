import fs from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { Redis } from 'ioredis';
import { joinRemotePath, remoteKeyFor } from '@ferry/shared/backup';
import { contentHashOfFile, type Candle, type Timeframe } from '@ferry/shared/core';
import { ALL_QUEUES } from '@ferry/shared/jobs';
import { readCandles } from '@ferry/shared/postgres';
import { newestRenders, parseCandleFilePath } from '@ferry/shared/series-files';
import type { BinanceEmulator } from '@ferry/emulators/binance';
import type { DropboxEmulator } from '@ferry/emulators/dropbox';
import { flatFileRows, tradingDays } from '@ferry/emulators/s3';
import { UNFINISHED_STATES, WORKLOAD, type Scenario } from './chaos-world.js';

/**
 * What must hold after every chaos scenario, each returned as a sentence naming what broke (an empty list when all
 * hold): PostgreSQL equals the emulators' truth exactly, every Parquet file is readable and equals its rows, every
 * synced file's content hash equals the local file's, and every job is completed or failed with a reason.
 */
export interface Truth {
  binance: BinanceEmulator;
  dropbox: DropboxEmulator;
  /** Every closed candle of a series opening before this is the exchange's truth. */
  endMs: number;
}

const DAY = 86_400_000;

export interface Checked {
  problems: string[];
  /** What was compared, so that a check that found nothing to compare does not pass unseen. */
  counts: { candles: number; bars: number; parquetFiles: number; syncedFiles: number };
}

export async function checkInvariants(s: Scenario, truth: Truth): Promise<Checked> {
  const problems: string[] = [];
  await checkJobs(s, problems);
  await checkRuns(s, problems);
  const expectedFiles = new Map<string, Candle[]>();
  await checkCandles(s, truth, problems, expectedFiles);
  await checkBars(s, problems, expectedFiles);
  const files = await parquetFiles(s.dataDir);
  await checkParquet(s, files, expectedFiles, problems);
  const syncedFiles = await checkSynced(s, files, truth.dropbox, problems);
  const rows = async (table: string) => (await s.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;
  return {
    problems,
    counts: { candles: await rows('candles'), bars: await rows('bars'), parquetFiles: files.length, syncedFiles },
  };
}

async function checkJobs(s: Scenario, problems: string[]): Promise<void> {
  const redis = new Redis(s.env.REDIS_URL!, { maxRetriesPerRequest: 3 });
  try {
    for (const name of ALL_QUEUES) {
      const queue = new Queue(name, { connection: redis, prefix: s.prefix });
      const counts = await queue.getJobCounts(...UNFINISHED_STATES);
      for (const state of UNFINISHED_STATES) {
        if ((counts[state] ?? 0) > 0) problems.push(`queue ${name}: ${counts[state]} job(s) left ${state}`);
      }
      // Every fault of the scenarios is transient: a job that failed for good gave up too early.
      for (const job of await queue.getFailed()) {
        problems.push(`queue ${name}: job ${job.id} failed: ${job.failedReason || '(no reason given)'}`);
      }
      await queue.close();
    }
  } finally {
    redis.disconnect();
  }
}

async function checkRuns(s: Scenario, problems: string[]): Promise<void> {
  const { rows } = await s.db.query<{ id: string; kind: string; status: string }>('SELECT id, kind, status FROM collection_runs ORDER BY created_at');
  if (rows.length !== 2) problems.push(`expected 2 runs (collection and preload), found ${rows.length}`);
  for (const r of rows) if (r.status !== 'completed') problems.push(`run ${r.id} (${r.kind}) is ${r.status}`);
  const items = await s.db.query<{ item_key: string; status: string; last_error: string | null }>(
    `SELECT item_key, status, last_error FROM run_items WHERE status NOT IN ('complete', 'skipped')`);
  for (const i of items.rows) problems.push(`run item ${i.item_key} is ${i.status}${i.last_error ? `: ${i.last_error}` : ''}`);
}

/** Every series the collection asked for holds exactly the exchange's closed candles, and nothing else is stored. */
async function checkCandles(s: Scenario, truth: Truth, problems: string[], expectedFiles: Map<string, Candle[]>): Promise<void> {
  const { rows } = await s.db.query<{ params: { symbols: string[]; timeframes: Timeframe[]; startMs: number } }>(
    `SELECT params FROM collection_runs WHERE kind = 'candles'`);
  const params = rows[0]?.params;
  if (!params) {
    problems.push('no collection run');
    return;
  }
  let expectedTotal = 0;
  for (const symbol of params.symbols) {
    for (const timeframe of params.timeframes) {
      const want = truth.binance.candles(symbol, timeframe, params.startMs, truth.endMs);
      const have = await readCandles(s.db, { exchange: 'binance', symbol, timeframe }, { start: 0, end: truth.endMs + DAY });
      expectedTotal += want.length;
      const diff = firstDifference(have, want);
      if (diff) problems.push(`candles ${symbol} ${timeframe}: ${diff}`);
      if (want.length > 0) expectedFiles.set(`crypto:${symbol}:${timeframe}`, want);
    }
  }
  const total = await s.db.query<{ n: number }>('SELECT count(*)::int AS n FROM candles');
  if (total.rows[0]!.n !== expectedTotal) problems.push(`candles table holds ${total.rows[0]!.n} rows, the exchange has ${expectedTotal}`);
}

/** The preloaded tickers' bars equal the flat files' rows, every trading day once. */
async function checkBars(s: Scenario, problems: string[], expectedFiles: Map<string, Candle[]>): Promise<void> {
  const days = tradingDays('us_stocks_sip', WORKLOAD.preloadStart, WORKLOAD.preloadEnd);
  for (const ticker of WORKLOAD.tickers) {
    const want = days.flatMap((d) => flatFileRows('us_stocks_sip', 'day_aggs_v1', d).filter((r) => r.ticker === ticker))
      .map((r) => ({ openTime: Number(r.window_start / 1_000_000n), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume }));
    const { rows } = await s.db.query<{ t: string; open: number; high: number; low: number; close: number; volume: number }>(
      `SELECT (extract(epoch FROM time) * 1000)::bigint AS t, open, high, low, close, volume FROM bars
       WHERE source = 'us_stocks_sip' AND ticker = $1 AND timeframe = '1d' ORDER BY time`, [ticker]);
    const have = rows.map((r) => ({ openTime: Number(r.t), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume }));
    const diff = firstDifference(have, want);
    if (diff) problems.push(`bars ${ticker}: ${diff}`);
    expectedFiles.set(`flat:${ticker}`, want);
  }
}

/** `candles/...` paths (with `/`) of the Parquet files under the data dir; hidden temp files are not Parquet files. */
async function parquetFiles(dataDir: string): Promise<string[]> {
  const entries = await fs.readdir(path.join(dataDir, 'candles'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet') && !e.name.startsWith('.'))
    .map((e) => path.relative(dataDir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/**
 * Every series is covered by exactly its current files (one per series, or one per month for intraday series), no
 * superseded render is left, each file is readable, and together they hold exactly the series' rows (which equal the
 * truth, checked above).
 */
async function checkParquet(s: Scenario, files: string[], expected: Map<string, Candle[]>, problems: string[]): Promise<void> {
  const bySeries = new Map<string, string[]>();
  for (const file of files) {
    const parsed = parseCandleFilePath(file);
    const series = parsed.ok ? `crypto:${parsed.file.symbol}:${parsed.file.timeframe}` : `flat:${file.split('/')[1]}`;
    bySeries.set(series, [...(bySeries.get(series) ?? []), file]);
  }
  for (const [series, seriesFiles] of bySeries) {
    const want = expected.get(series);
    if (!want) {
      problems.push(`${seriesFiles.join(', ')}: no series of the run is stored under this name`);
      continue;
    }
    for (const old of newestRenders(seriesFiles).superseded) problems.push(`${old.relativePath}: superseded by ${old.by}, still there`);
    // Names hold the first and last date, so within a series they sort in time order.
    const have: Candle[] = [];
    for (const file of [...seriesFiles].sort()) {
      let rows: Array<Record<string, unknown>>;
      try {
        rows = await parquetReadObjects({ file: await asyncBufferFromFile(path.join(s.dataDir, file)) });
      } catch (err) {
        problems.push(`${file}: unreadable: ${err instanceof Error ? err.message : String(err)}`);
        continue;
      }
      have.push(...rows.map((r) => ({
        openTime: (r.timestamp as Date).getTime(), open: r.open, high: r.high, low: r.low, close: r.close, volume: r.volume,
      })) as Candle[]);
    }
    const diff = firstDifference(have, want);
    if (diff) problems.push(`${series} (${seriesFiles.length} file(s)): ${diff}`);
  }
  for (const series of expected.keys()) if (!bySeries.has(series)) problems.push(`no Parquet file for ${series}`);
}

/** Every local Parquet file is on Dropbox with its content hash, and nothing else is there; returns how many are. */
async function checkSynced(s: Scenario, files: string[], dropbox: DropboxEmulator, problems: string[]): Promise<number> {
  const wanted = new Set<string>();
  let synced = 0;
  for (const file of files) {
    const remote = joinRemotePath(s.dropboxRoot, remoteKeyFor(file, new Date()));
    wanted.add(remote.toLowerCase());
    const meta = dropbox.fileMetadata(remote);
    if (!meta) {
      problems.push(`${file}: not on Dropbox at ${remote}`);
      continue;
    }
    synced++;
    const local = await contentHashOfFile(path.join(s.dataDir, file));
    if (meta.content_hash !== local) problems.push(`${remote}: content_hash ${meta.content_hash}, the local file's is ${local}`);
  }
  const root = `${s.dropboxRoot.toLowerCase()}/`;
  for (const remote of dropbox.listFilePaths()) {
    if (remote.toLowerCase().startsWith(root) && !wanted.has(remote.toLowerCase())) problems.push(`${remote}: on Dropbox but not a local file`);
  }
  return synced;
}

const FIELDS = ['openTime', 'open', 'high', 'low', 'close', 'volume'] as const;
const fields = (c: Candle) => FIELDS.map((f) => c[f]);

/** Where two ascending series of candles first differ, in words, or undefined when they are equal. */
function firstDifference(have: readonly Candle[], want: readonly Candle[]): string | undefined {
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const h = have[i];
    const w = want[i];
    if (h && w && FIELDS.every((f) => h[f] === w[f])) continue;
    const at = new Date((w ?? h)!.openTime).toISOString();
    if (!h) return `${want.length - have.length} row(s) missing from ${at} (${have.length} of ${want.length})`;
    if (!w) return `${have.length - want.length} row(s) more than the truth from ${at}`;
    return `row ${i} differs at ${at}: ${JSON.stringify(fields(h))} instead of ${JSON.stringify(fields(w))}`;
  }
  return undefined;
}
