import { CommanderError } from 'commander';
import { ApiKeyError } from '@ferry/shared/auth';
import { DelistedNeedsArchiveError, NothingToCollectError, UnlistedSymbolsError } from '@ferry/shared/collect';
import { ConfigError, FerryError } from '@ferry/shared/core';
import { DatabaseUnavailableError } from '@ferry/shared/postgres';
import { RedisUnavailableError } from '@ferry/shared/redis';
import { EXIT, type CliIo } from './io.js';

/** Bad arguments or options: reported as `ferry: <message>`, exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Prints what went wrong (once, here, for every command) and returns the exit code it means. */
export function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CommanderError) {
    // Help and version are not errors; commander already printed what it had to say.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version'
      ? EXIT.ok
      : EXIT.usage;
  }
  // An API key's name or role is an option of `ferry keys create`.
  // Coins the exchange does not list are a wrong argument of `ferry collect --symbols`, and --include-delisted
  // without the archive a wrong option.
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof ApiKeyError || err instanceof UnlistedSymbolsError ||
      err instanceof DelistedNeedsArchiveError) {
    io.stderr(`ferry: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof RedisUnavailableError || err instanceof DatabaseUnavailableError || err instanceof NothingToCollectError ||
      err instanceof FerryError) {
    io.stderr(`ferry: ${err.message}\n`);
    return EXIT.failed;
  }
  io.stderr(`ferry: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  return EXIT.failed;
}
