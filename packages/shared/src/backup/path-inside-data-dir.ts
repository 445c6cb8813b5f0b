import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../core/errors.js';
import { assertSafeRelativePath } from './remote-layout.js';

/**
 * The real path of `relativePath` under DATA_DIR, for a file ferry reads to upload or writes (a Parquet file, a
 * rendered or restored one). Symbolic links are followed, in the file and in every parent directory, and the result
 * must stay inside DATA_DIR's own real path: a link `DATA_DIR/logs/x -> /etc/passwd`, or a linked `candles` folder,
 * would otherwise upload or overwrite a file that is not ferry's. Parts that do not exist yet (a file about to be
 * written) are resolved through their deepest existing parent. Callers open the path returned, which is the one
 * checked.
 *
 * Throws PermanentError naming the path and where it leads: running the job again cannot help.
 */
export async function resolveInsideDataDir(dataDir: string, relativePath: string): Promise<string> {
  assertSafeRelativePath(relativePath);
  const root = await realpathOfExistingPart(path.resolve(dataDir));
  const real = await realpathOfExistingPart(path.join(root, ...relativePath.split('/')));
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new PermanentError(`${relativePath} resolves to ${real}, outside DATA_DIR ${root}: refusing to follow a symbolic link out of DATA_DIR`);
  }
  return real;
}

/** realpath of the longest existing prefix of `absolutePath`, with the missing rest appended as it is. */
async function realpathOfExistingPart(absolutePath: string): Promise<string> {
  const missing: string[] = [];
  let current = absolutePath;
  for (;;) {
    try {
      return path.join(await realpath(current), ...missing);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const parent = path.dirname(current);
      // ENOENT: not written yet, or a link to nothing (a write replaces the link itself, a rename does not follow it).
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === current) throw err;
      missing.unshift(path.basename(current));
      current = parent;
    }
  }
}
