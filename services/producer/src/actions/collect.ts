import { queueCollection, type CollectRequest } from '@ferry/shared/collect';
import { QueueName } from '@ferry/shared/jobs';
import type { CliContext } from '../context.js';
import { EXIT, type CliIo } from '../io.js';
import { progressLine, runSucceeded, summaryTable, waitShowingProgress } from '../progress.js';
import { downloadWorkerWatch } from '../worker-watch.js';

/** Queues the run of a checked request; with `wait`, follows it and returns 0 only when every coin is complete. */
export async function collect(
  io: CliIo, ctx: CliContext<'redis' | 'postgres'>, request: CollectRequest, { wait, json }: { wait?: boolean; json?: boolean },
): Promise<number> {
  const queued = await queueCollection(request, ctx);
  const delisted = queued.delisted.length > 0 || request.includeDelisted ? `, ${queued.delisted.length} of them delisted` : '';
  const what = `${queued.symbols.length} coin(s)${delisted} x ${request.timeframes.length} timeframe(s)`;
  const said = queued.reused
    ? `run ${queued.runId} already queued (${what}); not queued again`
    : `run ${queued.runId}: ${queued.jobs} job(s) queued (${what})` +
      (queued.archiveFiles > 0 ? `, with ${queued.archiveFiles} archive file(s)` : '');
  if (!json || wait) io.stderr(`${said}\n`);
  if (!wait) {
    if (json) io.stdout(`${JSON.stringify({ run_id: queued.runId, reused: queued.reused, jobs: queued.jobs, symbols: queued.symbols, delisted: queued.delisted })}\n`);
    return EXIT.ok;
  }
  const workers = downloadWorkerWatch(ctx.redis, ctx.config, QueueName.Candles);
  const summary = await waitShowingProgress(io, ctx.db, queued.runId, progressLine, { workers }).finally(() => workers.close());
  io.stdout(json ? `${JSON.stringify(summary, null, 2)}\n` : `${summaryTable(summary)}\n`);
  return runSucceeded(summary) ? EXIT.ok : EXIT.failed;
}
