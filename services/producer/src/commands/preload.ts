import { setTimeout as sleep } from 'node:timers/promises';
import { Job, type Queue } from 'bullmq';
import { JobProducer, preloadJobId, QueueName } from '@ferry/shared/jobs';
import { type Pool } from '@ferry/shared/postgres';
import { formatPreloadProgress, queuePreload, type PreloadOutcome } from '@ferry/shared/preload';
import { type RunSummary } from '@ferry/shared/runs';
import type { CliCommand } from '../command.js';
import { withCliContext } from '../context.js';
import { EXIT, type CliIo } from '../io.js';
import { parsePreloadRequest } from '../preload-request.js';
import { waitShowingProgress } from '../progress.js';

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
  empty_tickers: string[];
  failed_files: Array<{ key: string; reason: string | null }>;
  /** Why the finishing step failed, if it did. */
  error?: string;
}

/**
 * `ferry preload TSLA [AAPL ...]`: daily (or minute) aggregates from the flat-file bucket, one job per file. Exit 0
 * only when every file is in and the Parquet files are written.
 */
export const preloadCommand: CliCommand = (program, io) => {
  program
    .command('preload')
    .description('download flat files (S3) for tickers into PostgreSQL, then one Parquet file per ticker; resumable')
    .argument('<tickers...>', 'stock tickers (TSLA) or crypto pairs (BTC-USD, X:BTCUSD)')
    .option('--period <n[dmy]>', 'how far back, e.g. 30d, 6m, 5y (default 5y for stocks, 2y for crypto)')
    .option('--interval <1d|1m>', 'day or minute aggregates', '1d')
    .option('--start <YYYY-MM-DD>', 'first day (instead of --period)')
    .option('--end <YYYY-MM-DD>', 'last day, inclusive (default: yesterday)')
    .option('--wait', 'show progress until every file is in, then a summary; exit 0 only if nothing failed')
    .option('--json', 'print a machine-readable summary')
    .actionWithExitCode(async (tickers: string[], opts: { period?: string; interval: string; start?: string; end?: string; wait?: boolean; json?: boolean }) => {
      const request = parsePreloadRequest({ tickers, period: opts.period, interval: opts.interval, start: opts.start, end: opts.end });
      return withCliContext(io, { open: ['flatFiles', 'redis', 'postgres'] }, async (ctx) => {
        const queued = await queuePreload(request, ctx, ctx.flatFiles);
        const said = `run ${queued.runId}${queued.reused ? ' (already queued; resumed)' : ''}: ${queued.files} file(s), ` +
          `${queued.skipped} already ingested, ${queued.jobs} to fetch`;
        if (!opts.json || opts.wait) io.stderr(`${said}\n`);
        if (!opts.wait) {
          if (opts.json) io.stdout(`${JSON.stringify({ run_id: queued.runId, reused: queued.reused, files: queued.files, skipped: queued.skipped, jobs: queued.jobs })}\n`);
          return EXIT.ok;
        }
        const producer = new JobProducer({ connection: ctx.redis, prefix: ctx.config.redis.prefix, attempts: ctx.config.jobs.attempts });
        try {
          const report = await waitForPreload(ctx.db, producer.queue(QueueName.Preloads), queued.runId, queued.skipped, io);
          io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : preloadTable(report));
          return report.status === 'completed' ? EXIT.ok : EXIT.failed;
        } finally {
          await producer.close();
        }
      });
    });
};

/**
 * Polls the run's files until none is pending, then the flow parent until it has written the Parquet files.
 * `skipped`: files this invocation found ingested; a resumed run counts them among its finished items already.
 */
async function waitForPreload(db: Pool, queue: Queue, runId: string, skipped: number, io: CliIo): Promise<PreloadReport> {
  const summary = await waitShowingProgress(io, db, runId, (progress, elapsedMs) => formatPreloadProgress({
    done: progress.total - progress.pending - skipped,
    total: progress.total - skipped,
    skipped,
    elapsedMs,
  }), { intervalMs: 200 });
  // Every file is in: the flow parent now writes the Parquet files.
  const jobId = preloadJobId(runId);
  let state = await queue.getJobState(jobId);
  while (state !== 'completed' && state !== 'failed' && state !== 'unknown') {
    await sleep(200);
    state = await queue.getJobState(jobId);
  }
  // Read after its state: a job read while still active has no return value yet, even if it completes a moment later.
  const parent = await Job.fromId(queue, jobId);
  if (!parent) return preloadReport(summary, skipped, undefined, 'the finishing job is gone from Redis');
  return state === 'completed'
    ? preloadReport(summary, skipped, parent.returnvalue as PreloadOutcome)
    : preloadReport(summary, skipped, undefined, parent.failedReason);
}

export function preloadReport(summary: RunSummary, skipped: number, outcome: PreloadOutcome | undefined, error?: string): PreloadReport {
  const failed = summary.details.filter((d) => d.status === 'failed');
  return {
    run_id: summary.run_id,
    status: failed.length === 0 && outcome !== undefined ? 'completed' : 'failed',
    files: summary.total,
    ingested: summary.total - skipped - failed.length - summary.pending,
    skipped,
    failed: failed.length,
    rows: summary.total_records,
    parquet: outcome?.files ?? [],
    empty_tickers: outcome?.empty ?? [],
    failed_files: failed.map((d) => ({ key: d.item, reason: d.last_error })),
    ...(error ? { error } : {}),
  };
}

function preloadTable(r: PreloadReport): string {
  const lines = [
    `run ${r.run_id} ${r.status}: ${r.files} file(s): ${r.ingested} ingested, ${r.skipped} skipped, ${r.failed} failed; ${r.rows} row(s) stored`,
    ...r.parquet.map((p) => `parquet ${p.path} (${p.rows} rows)`),
    ...r.empty_tickers.map((t) => `no bars for ${t} in its range (unknown ticker, or not listed then)`),
    ...r.failed_files.map((f) => `failed  ${f.key}: ${f.reason ?? '?'}`),
    ...(r.error ? [`error: ${r.error}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
