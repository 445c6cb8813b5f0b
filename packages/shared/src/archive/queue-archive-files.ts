import pLimit from 'p-limit';
import { collectionRange } from '../collect/plan.js';
import type { FerryConfig } from '../core/config/config.js';
import type { CandleSeries } from '../core/candle.js';
import type { Range } from '../core/range.js';
import { timeframeMs, type Timeframe } from '../core/timeframes.js';
import type { CollectCandlesPayload, IngestArchiveFilePayload } from '../jobs/payloads.js';
import type { Pool } from '../postgres/pool.js';
import type { ArchiveClient } from './archive-client.js';
import { ingestedArchiveFiles } from './archive-file-store.js';
import { ARCHIVE_EXCHANGES, archiveDirectory, dailyMonthPrefix } from './layout.js';
import { monthsToListDaily, monthsWhileListed, planArchiveFiles } from './plan.js';

/** Where a collection takes history from: `auto` = the archive where the exchange has one, REST for the rest. */
export const COLLECT_SOURCES = ['auto', 'rest', 'archive'] as const;
export type CollectSource = (typeof COLLECT_SOURCES)[number];

export class ArchiveUnavailableError extends Error {}

/**
 * Whether a collection on `exchange` uses the archive. `auto` does where the exchange has one, except when
 * EXCHANGE_URL points the exchange elsewhere (a testnet, an emulator) and ARCHIVE_URL was not pointed there too:
 * the real archive's rows would not be that exchange's. `archive` insists, and refuses an exchange without one.
 */
export function usesArchive(source: CollectSource, exchange: string, config: Pick<FerryConfig, 'exchange' | 'archive'>): boolean {
  if (source === 'rest') return false;
  if (!ARCHIVE_EXCHANGES.includes(exchange)) {
    if (source === 'archive') {
      throw new ArchiveUnavailableError(`--source archive: ${exchange} has no public archive (only ${ARCHIVE_EXCHANGES.join(', ')})`);
    }
    return false;
  }
  const redirected = exchange === config.exchange.id && config.exchange.baseUrl !== undefined;
  return source === 'archive' || !redirected || config.archive.explicit;
}

/** An archive file to ingest under a coin's job, before the run it belongs to is known. */
export type ArchiveChild = Omit<IngestArchiveFilePayload, 'runId'>;

/**
 * Why `include delisted` cannot be done with this source, or undefined when it can: a delisted coin's history is in
 * the archive's files only (REST does not serve coins the exchange no longer lists). `sourceOption` names the
 * caller's option (`--source`, `source`).
 */
export function includeDelistedProblem(source: CollectSource, exchange: string, config: Pick<FerryConfig, 'exchange' | 'archive'>,
  sourceOption = '--source'): string | undefined {
  const why = 'delisted coins\' history is only in the archive\'s files (REST does not serve coins the exchange no longer lists)';
  if (source === 'rest') return `${why}, and ${sourceOption} rest never uses the archive: use ${sourceOption} auto or archive`;
  if (!ARCHIVE_EXCHANGES.includes(exchange)) return `${why}, and ${exchange} has none (only ${ARCHIVE_EXCHANGES.join(', ')} have one)`;
  if (!usesArchive(source, exchange, config)) {
    return `${why}, and ${sourceOption} auto does not use it while EXCHANGE_URL points ${exchange} elsewhere: set ARCHIVE_URL too, ` +
      `or use ${sourceOption} archive`;
  }
  return undefined;
}

export interface ArchiveChildren {
  /** Per payload (same order): the files its job waits for; empty = a plain job. */
  children: ArchiveChild[][];
  /**
   * Per payload: what the archive's files cover inside the range, from the first file's start to the last one's end
   * (null: none), and where its files end (null: it has none of this timeframe).
   */
  extents: ArchiveExtent[];
  /** Files already ingested in the same publication (not queued). */
  upToDate: number;
}

export interface ArchiveExtent {
  covered: Range | null;
  archiveEndMs: number | null;
}

/**
 * Lists the archive for each coin and timeframe (monthly files, then the days of months no monthly file covers) and
 * plans which files to ingest. Runs where the collection is queued, so the jobs exist before any worker runs.
 * `delisted` coins have no daily files after their last month (they stopped trading), so only the months up to the
 * one after it are listed; one that never had a monthly file has its daily directory listed whole.
 */
export async function planArchiveChildren(payloads: readonly Omit<CollectCandlesPayload, 'runId'>[], deps: {
  db: Pool;
  archive: ArchiveClient;
  nowMs: number;
  delisted?: ReadonlySet<string>;
}): Promise<ArchiveChildren> {
  const limit = pLimit(8);
  let upToDate = 0;
  const planned = await Promise.all(payloads.map((p) => limit(async () => {
    const series: CandleSeries = { exchange: p.exchange, symbol: p.symbol, timeframe: p.timeframe as Timeframe };
    const range = collectionRange(p.startMs, p.endMs, deps.nowMs, timeframeMs(series.timeframe));
    if (range.end <= range.start) return { files: [], extent: { covered: null, archiveEndMs: null } };
    const monthly = await deps.archive.listZips(archiveDirectory('monthly', p.symbol, p.timeframe));
    const delisted = deps.delisted?.has(p.symbol) ?? false;
    const daily = delisted && monthly.length === 0
      ? await deps.archive.listZips(archiveDirectory('daily', p.symbol, p.timeframe))
      : (await Promise.all((delisted ? monthsWhileListed(range, monthly) : monthsToListDaily(range, monthly))
        .map((month) => deps.archive.listZips(dailyMonthPrefix(p.symbol, p.timeframe, month))))).flat();
    const ingested = new Map((await ingestedArchiveFiles(deps.db, series, range)).map((f) => [f.key, f.etag]));
    const plan = planArchiveFiles({ range, listed: [...monthly, ...daily], ingested });
    upToDate += plan.upToDate.length;
    const listedEnds = [...monthly, ...daily].map((f) => f.endMs);
    const extent: ArchiveExtent = {
      covered: plan.covered.length > 0 ? { start: plan.covered[0]!.start, end: plan.covered.at(-1)!.end } : null,
      archiveEndMs: listedEnds.length > 0 ? Math.max(...listedEnds) : null,
    };
    const files = plan.toIngest.map((f): ArchiveChild => ({
      exchange: 'binance', symbol: p.symbol, timeframe: p.timeframe, key: f.key, startMs: f.startMs, endMs: f.endMs, etag: f.etag,
    }));
    return { files, extent };
  })));
  return { children: planned.map((p) => p.files), extents: planned.map((p) => p.extent), upToDate };
}
