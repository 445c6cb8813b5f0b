import { type SyncSummary, syncSummary } from '@ferry/shared/postgres';
import { isRunId, runSummary } from '@ferry/shared/runs';
import type { CliCommand } from '../command.js';
import { withCliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { EXIT } from '../io.js';
import { summaryTable } from '../progress.js';

/** `ferry status [RUN_ID]`: a run's totals, per-item status and where its files stand on the sync target. */
export const statusCommand: CliCommand = (program, io) => {
  program
    .command('status')
    .description('summary of a run (the latest one without RUN_ID): totals and per-coin status, records, missing ranges, last error')
    .argument('[run-id]', 'run id printed by collect')
    .option('--json', 'print JSON')
    .actionWithExitCode(async (runId: string | undefined, opts: { json?: boolean }) => {
      if (runId !== undefined && !isRunId(runId)) throw new UsageError(`RUN_ID ${JSON.stringify(runId)}: expected a run id (a UUID) printed by ferry collect`);
      return withCliContext(io, { open: ['redis', 'postgres'] }, async (ctx) => {
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
      });
    });
};

function syncLine(s: SyncSummary): string {
  const failures = s.failures.map((f) => `\n  failed: ${f.relative_path}: ${f.reason}`).join('');
  return `files: ${s.total} (pending ${s.pending}, uploaded ${s.uploaded}, skipped-identical ${s.skipped_identical}, ` +
    `failed ${s.failed}), ${s.synced_bytes} bytes synced${failures}`;
}
