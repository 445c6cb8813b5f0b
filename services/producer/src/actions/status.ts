import { syncSummary, type SyncSummary } from '@ferry/shared/postgres';
import { runSummary } from '@ferry/shared/runs';
import type { CliContext } from '../context.js';
import { EXIT, type CliIo } from '../io.js';
import { summaryTable } from '../progress.js';

/** Prints the run's summary (the latest run's without `runId`) and its files' sync state; 1 when there is no such run. */
export async function status(io: CliIo, ctx: CliContext<'postgres'>, runId: string | undefined, opts: { json?: boolean }): Promise<number> {
  const summary = await runSummary(ctx.db, runId);
  if (!summary) {
    io.stderr(runId ? `no run ${runId}\n` : 'no runs yet\n');
    return EXIT.failed;
  }
  // Where the run's files stand on the sync target (pending, uploaded, identical, failed).
  const sync = await syncSummary(ctx.db, summary.run_id);
  io.stdout(opts.json
    ? `${JSON.stringify({ ...summary, sync }, null, 2)}\n`
    : `${summaryTable(summary)}\n${syncLine(sync)}\n`);
  return EXIT.ok;
}

function syncLine(s: SyncSummary): string {
  const failures = s.failures.map((f) => `\n  failed: ${f.relative_path}: ${f.reason}`).join('');
  return `files: ${s.total} (pending ${s.pending}, uploaded ${s.uploaded}, skipped-identical ${s.skipped_identical}, ` +
    `failed ${s.failed}), ${s.synced_bytes} bytes synced${failures}`;
}
