import { describe, expect, it } from 'vitest';
import { DROPBOX_SINGLE_REQUEST_MAX_BYTES, MIB, inGroupsOf, planUpload } from './upload-plan.js';

describe('planUpload', () => {
  it('sends files up to 150 MiB in one request, empty ones included', () => {
    expect(planUpload(0, 64 * MIB)).toEqual({ kind: 'single', size: 0 });
    expect(planUpload(DROPBOX_SINGLE_REQUEST_MAX_BYTES, 64 * MIB)).toEqual({ kind: 'single', size: 150 * MIB });
  });

  it('cuts larger files into chunks of the configured size, the last one shorter', () => {
    const plan = planUpload(300 * MIB, 64 * MIB);
    expect(plan).toEqual({
      kind: 'session',
      size: 300 * MIB,
      chunks: [
        { offset: 0, length: 64 * MIB },
        { offset: 64 * MIB, length: 64 * MIB },
        { offset: 128 * MIB, length: 64 * MIB },
        { offset: 192 * MIB, length: 64 * MIB },
        { offset: 256 * MIB, length: 44 * MIB },
      ],
    });
  });

  it('gives a file of exactly N chunks N chunks', () => {
    const plan = planUpload(160 * MIB, 8 * MIB);
    expect(plan.kind === 'session' && plan.chunks.length).toBe(20);
  });

  it.each([4 * MIB, 129 * MIB, 8 * MIB + 0.5])('refuses a chunk size of %d bytes (8 to 128 MiB)', (chunk) => {
    expect(() => planUpload(1, chunk)).toThrow(/expected 8 to 128 MiB/);
  });
});

describe('inGroupsOf', () => {
  it('cuts 2500 entries into batches of 1000, 1000 and 500', () => {
    expect(inGroupsOf(Array.from({ length: 2500 }, (_, i) => i), 1000).map((g) => g.length)).toEqual([1000, 1000, 500]);
    expect(inGroupsOf([], 1000)).toEqual([]);
  });
});
