import type { CliCommand } from '../command.js';
import { withCliContext } from '../context.js';

/** `ferry cache clear`: empties the local cache of verified flat files. */
export const cacheCommand: CliCommand = (program, io) => {
  program
    .command('cache')
    .description('the local cache of verified flat files')
    .command('clear')
    .description('empty the flat-file cache (FLAT_FILE_CACHE_DIR)')
    .actionWithExitCode(() => withCliContext(io, { open: [] }, async ({ config }) =>
      (await import('../actions/cache.js')).clearCache(io, config)));
};
