import { clearFlatFileCache } from '@ferry/shared/preload';
import type { CliCommand } from '../command.js';
import { withCliContext } from '../context.js';
import { EXIT } from '../io.js';

/** `ferry cache clear`: empties the local cache of verified flat files. */
export const cacheCommand: CliCommand = (program, io) => {
  program
    .command('cache')
    .description('the local cache of verified flat files')
    .command('clear')
    .description('empty the flat-file cache (FLAT_FILE_CACHE_DIR)')
    .actionWithExitCode(() => withCliContext(io, { open: [] }, async ({ config }) => {
      const removed = await clearFlatFileCache(config.s3.cacheDir);
      io.stdout(`removed ${removed.files} file(s), ${removed.bytes} bytes from ${config.s3.cacheDir}\n`);
      return EXIT.ok;
    }));
};
