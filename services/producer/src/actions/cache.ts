import type { FerryConfig } from '@ferry/shared/core';
import { clearFlatFileCache } from '@ferry/shared/preload';
import { EXIT, type CliIo } from '../io.js';

/** Empties the flat-file cache and says how much it removed. */
export async function clearCache(io: CliIo, config: FerryConfig): Promise<number> {
  const removed = await clearFlatFileCache(config.s3.cacheDir);
  io.stdout(`removed ${removed.files} file(s), ${removed.bytes} bytes from ${config.s3.cacheDir}\n`);
  return EXIT.ok;
}
