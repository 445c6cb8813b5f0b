import { CommanderError } from 'commander';
import { EXIT, type CliIo } from './io.js';

/** Bad arguments or options: reported as `ferry: <message>`, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Prints what went wrong (once, here, for every command) and returns the exit code it means. The error classes of
 * ferry's modules are imported only once an error gets this far, one module at a time: an error of theirs comes from
 * a module its command loaded already, so its import is free then, while `--help` and usage errors load none of them.
 */
export async function reportError(err: unknown, io: CliIo): Promise<number> {
  if (err instanceof CommanderError) {
    // Help and version are not errors; commander already printed what it had to say.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version'
      ? EXIT.ok
      : EXIT.usage;
  }
  if (err instanceof UsageError) return reported(err, EXIT.usage, io);
  const { ConfigError, FerryError } = await import('@ferry/shared/core');
  if (err instanceof ConfigError) return reported(err, EXIT.usage, io);
  if (err instanceof FerryError) return reported(err, EXIT.failed, io);
  // An API key's name or role is an option of `ferry keys create`.
  const { ApiKeyError } = await import('@ferry/shared/auth');
  if (err instanceof ApiKeyError) return reported(err, EXIT.usage, io);
  const { DatabaseUnavailableError } = await import('@ferry/shared/postgres');
  if (err instanceof DatabaseUnavailableError) return reported(err, EXIT.failed, io);
  const { RedisUnavailableError } = await import('@ferry/shared/redis');
  if (err instanceof RedisUnavailableError) return reported(err, EXIT.failed, io);
  const { DelistedNeedsArchiveError, NothingToCollectError, UnlistedSymbolsError } = await import('@ferry/shared/collect');
  // Coins the exchange does not list are a wrong argument of `ferry collect --symbols`, and --include-delisted
  // without the archive a wrong option.
  if (err instanceof UnlistedSymbolsError || err instanceof DelistedNeedsArchiveError) return reported(err, EXIT.usage, io);
  if (err instanceof NothingToCollectError) return reported(err, EXIT.failed, io);
  io.stderr(`ferry: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  return EXIT.failed;
}

function reported(err: Error, code: number, io: CliIo): number {
  io.stderr(`ferry: ${err.message}\n`);
  return code;
}
