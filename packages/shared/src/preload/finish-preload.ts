import { type Timeframe } from '../core/timeframes.js';
import { type FinishPreloadPayload, type SyncFilePayload } from '../jobs/payloads.js';
import { barSpan } from '../postgres/bar-store.js';
import { type Pool } from '../postgres/pool.js';
import { failedItems, finishItem, itemDetailValues } from '../runs/run-store.js';
import { renderSeriesFiles, syncPayloadOf, type RenderDeps } from '../series-files/render-series-file.js';
import { marketRangeMs } from './plan.js';
import { isSeriesItem, seriesItemKey, type PreloadOutcome } from './queue-preload.js';

/**
 * The end of a preload: once every file job is in (ingested or failed for good), one Parquet file per ticker from
 * PostgreSQL, in the candles' layout (`candles/TSLA/TSLA_1d_20201102_20251101.parquet`), each with a chained sync job.
 * A ticker's file holds every bar PostgreSQL has of it (earlier preloads too) and replaces its earlier file; minute
 * bars are one file per UTC month (series-files/file-periods.ts), and a month's file replaces only that month's.
 * It reports which files failed instead of waiting for them: failed children are ignored dependencies. Each ticker is
 * an item of the run (`seriesItemKey`), so the run completes only once its Parquet files are written, and `ferry
 * status` lists them like a collection's.
 */
export interface FinishPreloadDeps {
  db: Pool;
  dataDir: string;
  /** Chains the file's sync; returns the sync job's id. */
  chainSync: (payload: SyncFilePayload) => Promise<string>;
  /** Which kept month files the backup already holds as they are (chain-sync.ts: syncedAsTheyAre). */
  syncedAsTheyAre?: RenderDeps['syncedAsTheyAre'];
  log: (line: string) => void;
}

/**
 * The item detail that holds other spellings of requested tickers: on a file item, requested ticker -> the file's
 * spellings (`{ "abrpd": ["ABRpD"] }`); on the item of a ticker that ended with no bars, its spellings (`["ABRpD"]`).
 */
export const NEAR_MATCHES_DETAIL = 'near_matches';

export function nearMatchesDetail(matches: ReadonlyMap<string, ReadonlySet<string>>): Record<string, string[]> {
  return Object.fromEntries([...matches].map(([ticker, spellings]) => [ticker, [...spellings].sort()]));
}

/** Every file's other spellings of each requested ticker, merged. */
async function nearMatchesOfRun(db: Pool, runId: string): Promise<Map<string, Set<string>>> {
  const merged = new Map<string, Set<string>>();
  for (const value of await itemDetailValues(db, runId, NEAR_MATCHES_DETAIL)) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    for (const [ticker, spellings] of Object.entries(value as Record<string, unknown>)) {
      if (!Array.isArray(spellings)) continue;
      const set = merged.get(ticker) ?? new Set<string>();
      for (const s of spellings) if (typeof s === 'string') set.add(s);
      merged.set(ticker, set);
    }
  }
  return merged;
}

export async function finishPreload(payload: FinishPreloadPayload, deps: FinishPreloadDeps): Promise<PreloadOutcome> {
  const failed = await failedItems(deps.db, payload.runId);
  const outcome: PreloadOutcome = { files: [], empty: [], failedFiles: failed.filter((f) => !isSeriesItem(f.item)).map((f) => `${f.item}: ${f.reason}`) };
  for (const f of outcome.failedFiles) deps.log(`file failed: ${f}`);
  const timeframe = payload.interval as Timeframe;
  let nearMatches: Map<string, Set<string>> | undefined;
  for (const t of payload.tickers) {
    const range = marketRangeMs(t.market, t);
    const series = { source: t.market, ticker: t.ticker, timeframe };
    const span = await barSpan(deps.db, series, range);
    if (!span) {
      // Tickers match case-sensitively: `abrpd` finds nothing where the files say `ABRpD`, so say what they do say.
      nearMatches ??= await nearMatchesOfRun(deps.db, payload.runId);
      const spellings = [...(nearMatches.get(t.ticker) ?? [])].sort();
      const reason = `no bars for ${t.ticker} from ${t.start} to ${t.end}` +
        (spellings.length > 0 ? `; did you mean ${spellings.join(' or ')}? (tickers are case-sensitive)` : '');
      deps.log(reason);
      outcome.empty.push(t.ticker);
      await finishItem(deps.db, payload.runId, seriesItemKey(t.ticker), {
        status: 'skipped', records: 0, error: reason, ...(spellings.length > 0 ? { details: { [NEAR_MATCHES_DETAIL]: spellings } } : {}),
      });
      continue;
    }
    // Minute bars are one file per month, as intraday candles are: closed months whose bars did not change keep theirs.
    const { files, unchanged } = await renderSeriesFiles({ kind: 'bars', ...series }, deps);
    if (files.length === 0) throw new Error(`${t.ticker}: bars vanished from PostgreSQL while its file was rendered`);
    if (unchanged.length > 0) deps.log(`${t.ticker}: ${unchanged.length} closed month file(s) unchanged, kept as they are`);
    let rows = 0;
    const paths: string[] = [];
    const syncJobs: string[] = [];
    for (const rendered of files) {
      const { relativePath } = rendered;
      if (rendered.replaced.length > 0) deps.log(`${t.ticker}: ${relativePath} replaces ${rendered.replaced.join(', ')}`);
      if (rendered.supersededBy) continue;
      const syncJob = await deps.chainSync(syncPayloadOf(rendered, payload.runId));
      deps.log(`${t.ticker}: ${rendered.rows} bar(s) -> ${relativePath} (sync job ${syncJob})`);
      outcome.files.push({ ticker: t.ticker, path: relativePath, rows: rendered.rows, syncJob });
      rows += rendered.rows;
      paths.push(relativePath);
      syncJobs.push(syncJob);
    }
    await finishItem(deps.db, payload.runId, seriesItemKey(t.ticker), {
      status: 'complete', records: span.count,
      details: paths.length === 1 ? { file: paths[0], sync_job: syncJobs[0] } : { files: paths, sync_jobs: syncJobs, rows_written: rows },
    });
  }
  return outcome;
}

