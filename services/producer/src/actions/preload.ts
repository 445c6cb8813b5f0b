import { QueueName } from '@ferry/shared/jobs';
import type { Pool } from '@ferry/shared/postgres';
import {
  formatPreloadProgress, isSeriesItem, NEAR_MATCHES_DETAIL, queuePreload, seriesItemKey, type PreloadOutcome, type PreloadRequest,
} from '@ferry/shared/preload';
import type { RunSummary } from '@ferry/shared/runs';
import type { CliContext } from '../context.js';
import { EXIT, type CliIo } from '../io.js';
import { waitShowingProgress, type WorkerWatch } from '../progress.js';
import { downloadWorkerWatch } from '../worker-watch.js';

export interface PreloadReport {
  run_id: string;
  status: 'completed' | 'failed';
  files: number;
  /** Files ingested by this invocation (downloaded, or read from the cache for new tickers). */
  ingested: number;
  /** Files already ingested for every ticker when this invocation planned: no request made. */
  skipped: number;
  failed: number;
  rows: number;
  parquet: PreloadOutcome['files'];
  /** Tickers with no bar in any file of their range. */
  empty_tickers: string[];
  /**
   * Of those, the ones the files spell in another case, with those spellings (`{ "abrpd": ["ABRpD"] }`): tickers
   * match case-sensitively.
   */
  near_matches: Record<string, string[]>;
  failed_files: Array<{ key: string; reason: string | null }>;
  /** Why the finishing step failed, if it did. */
  error?: string;
}

/** Queues the preload of a checked request; with `wait`, follows it and returns 0 only when every file is in. */
export async function preload(
  io: CliIo, ctx: CliContext<'flatFiles' | 'redis' | 'postgres'>, request: PreloadRequest, opts: { wait?: boolean; json?: boolean },
): Promise<number> {
  const queued = await queuePreload(request, ctx, ctx.flatFiles);
  const said = `run ${queued.runId}${queued.reused ? ' (already queued; resumed)' : ''}: ${queued.files} file(s), ` +
    `${queued.skipped} already ingested, ${queued.jobs} to fetch`;
  if (!opts.json || opts.wait) io.stderr(`${said}\n`);
  if (!opts.wait) {
    if (opts.json) io.stdout(`${JSON.stringify({ run_id: queued.runId, reused: queued.reused, files: queued.files, skipped: queued.skipped, jobs: queued.jobs })}\n`);
    return EXIT.ok;
  }
  const workers = downloadWorkerWatch(ctx.redis, ctx.config, QueueName.FlatFiles);
  const report = await waitForPreload(ctx.db, queued.runId, queued.skipped, queued.tickers, io, workers).finally(() => workers.close());
  io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : preloadTable(report));
  return report.status === 'completed' ? EXIT.ok : EXIT.failed;
}

/**
 * Polls the run until every file is in and its tickers' Parquet files are written (they are items of the run too),
 * then reports from PostgreSQL alone. `skipped`: files this invocation found ingested; a resumed run counts them among
 * its finished items already.
 */
async function waitForPreload(
  db: Pool, runId: string, skipped: number, tickers: number, io: CliIo, workers: WorkerWatch,
): Promise<PreloadReport> {
  const summary = await waitShowingProgress(io, db, runId, (progress, elapsedMs) => {
    // The line counts files; the tickers' Parquet files are the run's last items, written once the files are in.
    const files = progress.total - tickers - skipped;
    return formatPreloadProgress({ done: Math.min(files, progress.total - progress.pending - skipped), total: files, skipped, elapsedMs });
  }, { intervalMs: 200, workers });
  return preloadReport(summary, skipped);
}

export function preloadReport(summary: RunSummary, skipped: number): PreloadReport {
  const files = summary.details.filter((d) => !isSeriesItem(d.item));
  const series = summary.details.filter((d) => isSeriesItem(d.item));
  const failedFiles = files.filter((d) => d.status === 'failed');
  const pendingFiles = files.filter((d) => d.status === 'queued' || d.status === 'running');
  const unwritten = series.filter((d) => d.status === 'failed');
  const empty = series.filter((d) => d.status === 'skipped');
  const ticker = (item: string) => item.slice(seriesItemKey('').length);
  return {
    run_id: summary.run_id,
    status: summary.pending === 0 && failedFiles.length === 0 && unwritten.length === 0 ? 'completed' : 'failed',
    files: files.length,
    ingested: files.length - skipped - failedFiles.length - pendingFiles.length,
    skipped,
    failed: failedFiles.length,
    rows: files.reduce((n, d) => n + Number(d.records), 0),
    parquet: series.filter((d) => d.status === 'complete').map((d) => ({
      ticker: ticker(d.item), path: String(d.details.file), rows: Number(d.records), syncJob: String(d.details.sync_job),
    })),
    empty_tickers: empty.map((d) => ticker(d.item)),
    near_matches: Object.fromEntries(empty.flatMap((d) => {
      const spellings = d.details[NEAR_MATCHES_DETAIL];
      return Array.isArray(spellings) && spellings.length > 0 ? [[ticker(d.item), spellings.map(String)]] : [];
    })),
    failed_files: failedFiles.map((d) => ({ key: d.item, reason: d.last_error })),
    ...(unwritten.length > 0 ? { error: unwritten[0]!.last_error ?? 'the Parquet files were not written' } : {}),
  };
}

function preloadTable(r: PreloadReport): string {
  const lines = [
    `run ${r.run_id} ${r.status}: ${r.files} file(s): ${r.ingested} ingested, ${r.skipped} skipped, ${r.failed} failed; ${r.rows} row(s) stored`,
    ...r.parquet.map((p) => `parquet ${p.path} (${p.rows} rows)`),
    ...r.empty_tickers.map((t) => r.near_matches[t]
      ? `no bars for ${t} in its range; did you mean ${r.near_matches[t].join(' or ')}? (tickers are case-sensitive)`
      : `no bars for ${t} in its range (unknown ticker, or not listed then)`),
    ...r.failed_files.map((f) => `failed  ${f.key}: ${f.reason ?? '?'}`),
    ...(r.error ? [`error: ${r.error}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
