import path from 'node:path';
import { mapConcurrently } from '../core/map-concurrently.js';
import { parseSeriesRender, planRenderReplacement } from '../series-files/renders.js';
import { relativePathOfSharedKey, remoteKeyFor } from './remote-layout.js';
import type { SyncTarget } from './sync-target.js';

/**
 * The backup mirrors the current series files: once a render of a series is committed on the target, every other
 * render of that series in its folder there is deleted (series-files/renders.ts decides which is current, so a stale
 * render committed late is the one deleted, never the newest). Runs after the commit, so the current file is on the
 * target before any other goes; a delete that fails is left for the next commit of the series, and the files stay.
 */
export interface RemoteReplacement {
  /** Keys deleted (or found already gone). */
  deleted: string[];
  failed: Array<{ key: string; error: unknown }>;
}

export async function replaceEarlierRemoteRenders(
  target: SyncTarget,
  committedRelativePaths: readonly string[],
  syncedAt: Date,
): Promise<RemoteReplacement> {
  const byFolder = new Map<string, Set<string>>();
  for (const relativePath of new Set(committedRelativePaths)) {
    if (!parseSeriesRender(relativePath)) continue;
    const folderKey = remoteKeyFor(path.posix.dirname(relativePath), syncedAt);
    byFolder.set(folderKey, (byFolder.get(folderKey) ?? new Set()).add(relativePath));
  }
  const doomed: string[] = [];
  const result: RemoteReplacement = { deleted: [], failed: [] };
  const listing = await listingFor(target, [...byFolder.keys()]);
  await mapConcurrently([...byFolder], 4, async ([folderKey, committed]) => {
    let remote: string[];
    try {
      remote = (await listing(folderKey)).flatMap((key) => relativePathOfSharedKeyOrNone(key));
    } catch (err) {
      result.failed.push({ key: folderKey, error: err });
      return;
    }
    const superseded = new Set<string>();
    for (const relativePath of committed) {
      for (const old of planRenderReplacement(relativePath, remote).superseded) superseded.add(old);
    }
    // Only what is there: a render committed now but already superseded is in `remote` too.
    for (const old of superseded) if (remote.includes(old)) doomed.push(remoteKeyFor(old, syncedAt));
  });
  if (doomed.length === 0) return result;
  for (const outcome of await target.delete(doomed.sort())) {
    if (outcome.ok) result.deleted.push(outcome.key);
    else result.failed.push({ key: outcome.key, error: outcome.error });
  }
  return result;
}

/** Past this many series folders in one batch, their parent is listed once (recursively) instead of each. */
const FOLDERS_LISTED_ONE_BY_ONE = 8;

/**
 * How to get the keys of each folder: one listing per folder for a few, one recursive listing of their common parent
 * (`data/candles`) for many (a 250-coin batch is then a page or two, not 250 calls).
 */
async function listingFor(target: SyncTarget, folderKeys: readonly string[]): Promise<(folderKey: string) => Promise<string[]>> {
  const parents = new Set(folderKeys.map((f) => path.posix.dirname(f)));
  if (folderKeys.length <= FOLDERS_LISTED_ONE_BY_ONE || parents.size !== 1) return (folderKey) => target.listKeys(folderKey);
  const all = target.listKeys([...parents][0]!, { recursive: true });
  // Keep a failed listing from being an unhandled rejection before the first folder awaits it.
  all.catch(() => undefined);
  return async (folderKey) => (await all).filter((key) => path.posix.dirname(key) === folderKey);
}

function relativePathOfSharedKeyOrNone(key: string): string[] {
  try {
    const relativePath = relativePathOfSharedKey(key);
    return relativePath === undefined ? [] : [relativePath];
  } catch {
    // A name that could not have been synced from DATA_DIR is nobody's render; leave it alone.
    return [];
  }
}
