import pLimit from 'p-limit';
import { collectionRange } from '../collect/plan.js';
import type { FerryConfig } from '../core/config/config.js';
import type { CandleSeries } from '../core/candle.js';
import { timeframeMs, type Timeframe } from '../core/timeframes.js';
import type { CollectCandlesPayload, IngestArchiveFilePayload } from '../jobs/payloads.js';
import type { Pool } from '../postgres/pool.js';
import type { ArchiveClient } from './archive-client.js';
import { ingestedArchiveFiles } from './archive-file-store.js';
import { ARCHIVE_EXCHANGES, archiveDirectory, dailyMonthPrefix } from './layout.js';
import { monthsToListDaily, planArchiveFiles } from './plan.js';

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

export interface ArchiveChildren {
  /** Per payload (same order): the files its job waits for; empty = a plain job. */
  children: IngestArchiveFilePayload[][];
  /** Files already ingested in the same publication (not queued). */
  upToDate: number;
}

/**
 * Lists the archive for each coin and timeframe (monthly files, then the days of months no monthly file covers) and
 * plans which files to ingest. Runs where the collection is queued, so the jobs exist before any worker runs.
 */
export async function planArchiveChildren(payloads: readonly CollectCandlesPayload[], deps: {
  db: Pool;
  archive: ArchiveClient;
  nowMs: number;
}): Promise<ArchiveChildren> {
  const limit = pLimit(8);
  let upToDate = 0;
  const children = await Promise.all(payloads.map((p) => limit(async () => {
    const series: CandleSeries = { exchange: p.exchange, symbol: p.symbol, timeframe: p.timeframe as Timeframe };
    const range = collectionRange(p.startMs, p.endMs, deps.nowMs, timeframeMs(series.timeframe));
    if (range.end <= range.start) return [];
    const monthly = await deps.archive.listZips(archiveDirectory('monthly', p.symbol, p.timeframe));
    const daily = (await Promise.all(monthsToListDaily(range, monthly)
      .map((month) => deps.archive.listZips(dailyMonthPrefix(p.symbol, p.timeframe, month))))).flat();
    const ingested = new Map((await ingestedArchiveFiles(deps.db, series, range)).map((f) => [f.key, f.etag]));
    const plan = planArchiveFiles({ range, listed: [...monthly, ...daily], ingested });
    upToDate += plan.upToDate.length;
    return plan.toIngest.map((f): IngestArchiveFilePayload => ({
      runId: p.runId, exchange: 'binance', symbol: p.symbol, timeframe: p.timeframe, key: f.key, startMs: f.startMs, endMs: f.endMs, etag: f.etag,
    }));
  })));
  return { children, upToDate };
}
