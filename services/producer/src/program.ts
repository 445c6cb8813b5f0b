import { FerryCommand, type CliCommand } from './command.js';
import { cacheCommand } from './commands/cache.js';
import { collectCommand } from './commands/collect.js';
import { keysCommand } from './commands/keys.js';
import { preloadCommand } from './commands/preload.js';
import { restoreCommand } from './commands/restore.js';
import { statusCommand } from './commands/status.js';
import { reportError } from './errors.js';
import { processIo, type CliIo } from './io.js';

/**
 * Every `ferry` command, in the order `ferry --help` lists them. Declaring them loads commander and a few constants
 * only: a command's checks, clients and work are imported when it runs (a test holds `--help` to that).
 */
const COMMANDS: readonly CliCommand[] = [collectCommand, statusCommand, preloadCommand, cacheCommand, restoreCommand, keysCommand];

/** Runs `ferry` with these arguments and returns its exit code (see EXIT). */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = new FerryCommand('ferry')
    .description('ferry: reliable bulk downloads of market data, backed up')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  for (const define of COMMANDS) define(program, io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return program.exitCode;
  } catch (err) {
    return await reportError(err, io);
  }
}
