import { describe, expect, it } from 'vitest';
import {
  collectionRange, expectedCandleCount, findExchangeHoles, mergeRanges, planMissingRanges, planPages, subtractRanges,
} from './plan.js';

const H = 3_600_000;
const r = (a: number, b: number) => ({ start: a * H, end: b * H });
const island = (a: number, b: number) => ({ first: a * H, last: b * H });

describe('planMissingRanges', () => {
  const base = { range: r(0, 100), stepMs: H, knownGaps: [] };

  it('backward: fetches everything when nothing is stored', () => {
    expect(planMissingRanges({ ...base, mode: 'backward', stored: [] })).toEqual([r(0, 100)]);
  });

  it('backward: fetches only the holes and the edges not stored', () => {
    const stored = [island(10, 19), island(30, 89)];
    expect(planMissingRanges({ ...base, mode: 'backward', stored })).toEqual([r(0, 10), r(20, 30), r(90, 100)]);
  });

  it('backward: nothing when all is stored (a repeated job fetches nothing)', () => {
    expect(planMissingRanges({ ...base, mode: 'backward', stored: [island(0, 99)] })).toEqual([]);
  });

  it('forward: only after the last stored candle, ignoring older holes', () => {
    const stored = [island(10, 19), island(30, 89)];
    expect(planMissingRanges({ ...base, mode: 'forward', stored })).toEqual([r(90, 100)]);
    expect(planMissingRanges({ ...base, mode: 'forward', stored: [] })).toEqual([r(0, 100)]);
  });

  it('gap_fill: only holes between the first and last stored candle', () => {
    const stored = [island(10, 19), island(30, 49), island(60, 69)];
    expect(planMissingRanges({ ...base, mode: 'gap_fill', stored })).toEqual([r(20, 30), r(50, 60)]);
    expect(planMissingRanges({ ...base, mode: 'gap_fill', stored: [] })).toEqual([]);
  });

  it('never requests known exchange holes again', () => {
    const stored = [island(10, 19), island(30, 49)];
    const knownGaps = [r(0, 10), r(20, 30)];
    expect(planMissingRanges({ ...base, mode: 'backward', stored, knownGaps })).toEqual([r(50, 100)]);
    expect(planMissingRanges({ ...base, mode: 'gap_fill', stored, knownGaps })).toEqual([]);
  });
});

describe('range arithmetic', () => {
  it('subtracts overlapping, unsorted cuts', () => {
    expect(subtractRanges([r(0, 10)], [r(8, 12), r(2, 3), r(2, 4)])).toEqual([r(0, 2), r(4, 8)]);
  });

  it('merges touching ranges', () => {
    expect(mergeRanges([r(5, 6), r(0, 2), r(2, 4)])).toEqual([r(0, 4), r(5, 6)]);
  });

  it('splits ranges into pages of at most 1000 candles', () => {
    expect(planPages([r(0, 2500)], H, 1000)).toEqual([r(0, 1000), r(1000, 2000), r(2000, 2500)]);
    expect(planPages([r(0, 3), r(10, 11)], H, 1000)).toEqual([r(0, 3), r(10, 11)]);
  });

  it('finds the candles a page did not return', () => {
    expect(findExchangeHoles(r(0, 10), [2 * H, 3 * H, 7 * H, 12 * H], H)).toEqual([r(0, 2), r(4, 7), r(8, 10)]);
    expect(findExchangeHoles(r(0, 3), [], H)).toEqual([r(0, 3)]);
  });

  it('ends a collection at the last closed candle, never the open one', () => {
    const now = 50 * H + 1234;
    expect(collectionRange(3 * H + 5, null, now, H)).toEqual(r(4, 50));
    expect(collectionRange(0, 20 * H, now, H)).toEqual(r(0, 20));
    expect(collectionRange(60 * H, null, now, H)).toEqual(r(60, 60));
  });

  it('counts only candles the exchange can have', () => {
    expect(expectedCandleCount(r(0, 100), [r(0, 10), r(50, 55)], H)).toBe(85);
  });
});
