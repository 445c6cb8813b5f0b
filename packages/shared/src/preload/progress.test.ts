import { describe, expect, it } from 'vitest';
import { formatPreloadProgress } from './progress.js';

describe('formatPreloadProgress', () => {
  it('extrapolates the ETA from the rate so far', () => {
    expect(formatPreloadProgress({ done: 120, total: 1255, skipped: 140, elapsedMs: 4_600 }))
      .toBe('120/1255 files (9.6%) | elapsed: 4.6s | ETA: 43.5s | resumed: 140 skipped');
  });
  it('has no ETA before the first file and is complete when nothing is left to download', () => {
    expect(formatPreloadProgress({ done: 0, total: 10, skipped: 0, elapsedMs: 100 }))
      .toBe('0/10 files (0.0%) | elapsed: 0.1s | ETA: ? | resumed: 0 skipped');
    expect(formatPreloadProgress({ done: 0, total: 0, skipped: 5, elapsedMs: 0 }))
      .toBe('0/0 files (100.0%) | elapsed: 0.0s | ETA: ? | resumed: 5 skipped');
  });
});
