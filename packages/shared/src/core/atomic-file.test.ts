import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepStaleTempFiles, tempPathFor } from './atomic-file.js';

describe('sweepStaleTempFiles', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-sweep-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('removes temp files older than the limit, at any depth, and nothing else', async () => {
    const twoHoursAgo = (Date.now() - 2 * 3_600_000) / 1000;
    const target = path.join(dir, 'candles', 'BTC', 'BTC-USDT_1d_20240101_20240301.parquet');
    await mkdir(path.dirname(target), { recursive: true });
    const stale = tempPathFor(target);
    const fresh = tempPathFor(target);
    for (const f of [target, stale, fresh, path.join(dir, 'notes.tmp')]) await writeFile(f, 'x');
    await utimes(stale, twoHoursAgo, twoHoursAgo);
    await utimes(target, twoHoursAgo, twoHoursAgo);
    await utimes(path.join(dir, 'notes.tmp'), twoHoursAgo, twoHoursAgo);

    expect(await sweepStaleTempFiles(dir, 3_600_000)).toBe(1);
    expect((await readdir(path.dirname(target))).sort()).toEqual([path.basename(fresh), path.basename(target)].sort());
    expect(await readdir(dir)).toContain('notes.tmp');
  });

  it('is fine with a directory that does not exist', async () => {
    expect(await sweepStaleTempFiles(path.join(dir, 'none'), 1)).toBe(0);
  });
});
