import type { CliCommand } from '../command.js';
import { withCliContext } from '../context.js';

/**
 * `ferry restore`: pulls the candle cache (data/candles) from the sync target into DATA_DIR, checks each file's
 * content hash against the target's, and loads the candles into PostgreSQL (conflict-safe), so a following
 * `ferry collect` over the same range downloads no history. Candles are stored under the configured EXCHANGE.
 */
export const restoreCommand: CliCommand = (program, io) => {
  program
    .command('restore')
    .description('pull data/candles from the sync target into DATA_DIR and load the candles into PostgreSQL (as EXCHANGE)')
    .option('--json', 'print a machine-readable summary')
    .actionWithExitCode((opts: { json?: boolean }) => withCliContext(io, {
      open: ['postgres'],
      prepare: async (config) => (await import('@ferry/shared/backup')).createSyncTarget(config.sync),
    }, async (ctx, target) => (await import('../actions/restore.js')).restore(io, ctx, target, opts)));
};
