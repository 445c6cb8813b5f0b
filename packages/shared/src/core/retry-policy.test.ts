import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './retry-policy.js';

describe('retryDelayMs', () => {
  it('waits exactly as long as a rate-limited source asks, capped at 5 minutes', () => {
    expect(retryDelayMs('rate-limited', 1, 12_000)).toBe(12_000);
    expect(retryDelayMs('rate-limited', 1, 3_600_000)).toBe(300_000);
  });

  it('waits out a ban as announced, 2 minutes when unannounced', () => {
    expect(retryDelayMs('banned', 1, 600_000)).toBe(600_000);
    expect(retryDelayMs('banned', 1)).toBe(120_000);
  });

  it('backs off network errors exponentially with jitter, up to 1 minute', () => {
    const low = () => 0;
    const high = () => 1;
    expect(retryDelayMs('network', 1, undefined, low)).toBe(500);
    expect(retryDelayMs('network', 1, undefined, high)).toBe(1_000);
    expect(retryDelayMs('network', 3, undefined, high)).toBe(4_000);
    expect(retryDelayMs('network', 30, undefined, high)).toBe(60_000);
    expect(retryDelayMs('network', 30, undefined, low)).toBe(30_000);
  });

  it('caps other transient errors at 30 seconds', () => {
    expect(retryDelayMs('transient', 1, undefined, () => 1)).toBe(500);
    expect(retryDelayMs('transient', 20, undefined, () => 1)).toBe(30_000);
  });
});
