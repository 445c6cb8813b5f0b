import pLimit from 'p-limit';
import { collectionRange } from '../collect/plan.js';
import type { CandleSeries } from '../core/candle.js';
import type { Range } from '../core/range.js';
import { timeframeMs, type Timeframe } from '../core/timeframes.js';
import type { CollectCandlesPayload, IngestArchiveFilePayload } from '../jobs/payloads.js';
import type { Pool } from '../postgres/pool.js';
import type { ArchiveClient } from './archive-client.js';
import { ingestedArchiveFiles } from './archive-file-store.js';
import { archiveDirectory, dailyMonthPrefix } from './layout.js';
import { monthsToListDaily, monthsWhileListed, planArchiveFiles } from './plan.js';

/** An archive file to ingest under a coin's job, before the run it belongs to is known. */
export type ArchiveChild = Omit<IngestArchiveFilePayload, 'runId'>;

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
