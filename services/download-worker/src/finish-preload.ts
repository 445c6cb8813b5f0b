import type { Queue } from 'bullmq';
import {
  barSpan, candleFilePath, closeRunIfDone, chainSyncJob, contentHashOfFile, marketRangeMs, readBarPages, resolveInsideDataDir, writeCandlesParquet,
  type FinishPreloadPayload, type Pool, type PreloadOutcome, type Timeframe,
} from '@ferry/shared';

/**
 * The end of a preload: once every file job is in (ingested or failed for good), one Parquet file per ticker from
 * PostgreSQL, in the candles' layout (`candles/TSLA/TSLA_1d_20201102_20251101.parquet`), each with a chained sync job.
 * It reports which files failed instead of waiting for them: failed children are ignored dependencies.
 */
export interface FinishPreloadDeps {
  db: Pool;
  dataDir: string;
  syncQueue: Queue;
  attempts: number;
  failedFiles: () => Promise<string[]>;
  log: (line: string) => void;
}

export async function finishPreload(payload: FinishPreloadPayload, deps: FinishPreloadDeps): Promise<PreloadOutcome> {
  // Every file job has finished (or failed for good): the run is complete or failed now.
  await closeRunIfDone(deps.db, payload.runId);
  const outcome: PreloadOutcome = { files: [], empty: [], failedFiles: await deps.failedFiles() };
  for (const f of outcome.failedFiles) deps.log(`file failed: ${f}`);
  const timeframe = payload.interval as Timeframe;
  for (const t of payload.tickers) {
    const range = marketRangeMs(t.market, t);
    const series = { source: t.market, ticker: t.ticker, timeframe };
    const span = await barSpan(deps.db, series, range);
    if (!span) {
      deps.log(`${t.ticker}: no bars from ${t.start} to ${t.end}`);
      outcome.empty.push(t.ticker);
      continue;
    }
    const relativePath = candleFilePath({ symbol: t.ticker, timeframe, startMs: span.first, endMs: span.last });
    const absolute = await resolveInsideDataDir(deps.dataDir, relativePath);
    const written = await writeCandlesParquet(absolute, flatten(readBarPages(deps.db, series, range)));
    const syncJob = await chainSyncJob(deps.syncQueue, {
      relativePath,
      source: { kind: 'bars', source: t.market, ticker: t.ticker, timeframe, startMs: range.start, endMs: range.end },
      runId: payload.runId,
    }, await contentHashOfFile(absolute), deps.attempts);
    deps.log(`${t.ticker}: ${written.rows} bar(s) -> ${relativePath} (sync job ${syncJob})`);
    outcome.files.push({ ticker: t.ticker, path: relativePath, rows: written.rows, syncJob });
  }
  return outcome;
}

async function* flatten<T>(pages: AsyncIterable<readonly T[]>): AsyncGenerator<T> {
  for await (const page of pages) yield* page;
}
