import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../core/config/config.js';
import { FlatFileCacheLimit, planCacheEviction, type CacheEntry } from './file-cache.js';

const MB = 1024 * 1024;
const entry = (name: string, sizeMb: number, lastUsedMs: number): CacheEntry => ({ path: name, size: sizeMb * MB, lastUsedMs });

describe('flat-file cache size limit', () => {
  it('FLAT_FILE_CACHE_MAX_MB defaults to 10 GiB; 0 is no limit', () => {
    expect(loadConfig({}).s3.cacheMaxBytes).toBe(10_240 * MB);
    expect(loadConfig({ FLAT_FILE_CACHE_MAX_MB: '0' }).s3.cacheMaxBytes).toBe(0);
    expect(loadConfig({ FLAT_FILE_CACHE_MAX_MB: '0.5' }).s3.cacheMaxBytes).toBe(MB / 2);
    expect(() => loadConfig({ FLAT_FILE_CACHE_MAX_MB: '-1' })).toThrow(/FLAT_FILE_CACHE_MAX_MB/);
  });

  it('removes nothing under the limit, or without one', () => {
    const entries = [entry('a', 4, 1), entry('b', 4, 2)];
    expect(planCacheEviction(entries, 10 * MB)).toEqual([]);
    expect(planCacheEviction(entries, 0)).toEqual([]);
  });

  it('past the limit, removes the least recently used first, down to 90% of it', () => {
    const entries = [entry('new', 3, 30), entry('oldest', 3, 10), entry('middle', 3, 20), entry('newest', 3, 40)];
    // 12 MiB over a 10 MiB limit: down to 9 MiB takes the oldest alone.
    expect(planCacheEviction(entries, 10 * MB).map((e) => e.path)).toEqual(['oldest']);
    // Over a 6 MiB limit: down to 5.4 MiB takes the three least recently used.
    expect(planCacheEviction(entries, 6 * MB).map((e) => e.path)).toEqual(['oldest', 'middle', 'new']);
  });

  describe('on disk', () => {
    let dir: string | undefined;
    afterEach(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("keeps a worker's cache under the limit as files arrive, dropping the least recently used", async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-cache-limit-'));
      const limit = new FlatFileCacheLimit(dir, 3 * MB);
      const put = (name: string, usedAtS: number) => {
        const file = path.join(dir!, 'us_stocks_sip', name);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, Buffer.alloc(MB));
        utimesSync(file, usedAtS, usedAtS);
        return file;
      };
      const files = ['d1', 'd2', 'd3'].map((n, i) => put(`${n}.csv.gz`, 1_000 + i));
      for (const file of files) expect(await limit.added(statSync(file).size)).toBe(0);
      // d1 was read again (a cache hit sets its mtime): d2 is now the least recently used.
      utimesSync(files[0]!, 2_000, 2_000);
      put('d4.csv.gz', 3_000);
      // 4 MiB over 3: down to 2.7 MiB takes d2, then d3.
      expect(await limit.added(MB)).toBe(2);
      expect(readdirSync(path.join(dir, 'us_stocks_sip')).sort()).toEqual(['d1.csv.gz', 'd4.csv.gz']);
    });
  });
});
