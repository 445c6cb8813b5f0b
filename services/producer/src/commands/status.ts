import { isRunId } from '@ferry/shared/runs/run-id';
import type { CliCommand } from '../command.js';
import { withCliContext } from '../context.js';
import { UsageError } from '../errors.js';

/** `ferry status [RUN_ID]`: a run's totals, per-item status and where its files stand on the sync target. */
export const statusCommand: CliCommand = (program, io) => {
  program
    .command('status')
    .description('summary of a run (the latest one without RUN_ID): totals and per-coin status, records, missing ranges, last error')
    .argument('[run-id]', 'run id printed by collect')
    .option('--json', 'print JSON')
    .actionWithExitCode(async (runId: string | undefined, opts: { json?: boolean }) => {
      if (runId !== undefined && !isRunId(runId)) throw new UsageError(`RUN_ID ${JSON.stringify(runId)}: expected a run id (a UUID) printed by ferry collect`);
      return withCliContext(io, { open: ['redis', 'postgres'] }, async (ctx) =>
        (await import('../actions/status.js')).status(io, ctx, runId, opts));
    });
};
