import type { Range, StoredIsland } from '../core/range.js';
import type { CollectionMode } from '../jobs/payloads.js';

/**
 * Pure planning of what to fetch for one coin and timeframe. All ranges are half-open [start, end) in epoch ms of
 * candle open times, aligned to the timeframe.
 */
export type { Range, StoredIsland } from '../core/range.js';

export interface PlanInput {
  mode: CollectionMode;
  /** The range the collection covers; `end` is the end of the last closed candle (never the open one). */
  range: Range;
  stepMs: number;
  /** What PostgreSQL already holds, ascending and non-overlapping. */
  stored: readonly StoredIsland[];
  /** Ranges the exchange is known to have no candles for (before listing, outages). */
  knownGaps: readonly Range[];
}

/**
 * The ranges to request:
 *  - backward: everything in the range not stored;
 *  - forward:  only after the last stored candle (from the start when nothing is stored);
 *  - gap_fill: only the holes between the first and the last stored candle.
 * Known exchange gaps are never requested again.
 */
export function planMissingRanges(input: PlanInput): Range[] {
  const first = input.stored[0];
  const last = input.stored.at(-1);
  const window = collectionWindow(input.mode, input.range, first && last ? { first: first.first, last: last.last } : undefined, input.stepMs);
  if (!window) return [];
  const storedRanges = input.stored.map((i) => ({ start: i.first, end: i.last + input.stepMs }));
  return subtractRanges([window], [...storedRanges, ...input.knownGaps]);
}

/**
 * The part of `range` a collection in `mode` looks at, from the first and last stored candle alone (undefined: nothing
 * to look at). What is missing inside it is PostgreSQL's to say (candle-store missingCandleRanges), so that planning
 * holds a few ranges, never the series.
 */
export function collectionWindow(mode: CollectionMode, range: Range, stored: StoredIsland | undefined, stepMs: number): Range | undefined {
  let window: Range | undefined;
  if (mode === 'backward') {
    window = range;
  } else if (mode === 'forward') {
    window = stored ? { start: Math.max(range.start, stored.last + stepMs), end: range.end } : range;
  } else {
    window = stored ? { start: Math.max(range.start, stored.first), end: Math.min(range.end, stored.last + stepMs) } : undefined;
  }
  return window && window.end > window.start ? window : undefined;
}

/** `from` minus every range in `remove`; inputs need not be sorted; output is sorted and non-empty ranges only. */
export function subtractRanges(from: readonly Range[], remove: readonly Range[]): Range[] {
  const cuts = [...remove].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: Range[] = [];
  for (const base of [...from].sort((a, b) => a.start - b.start)) {
    let cursor = base.start;
    for (const cut of cuts) {
      if (cut.end <= cursor) continue;
      if (cut.start >= base.end) break;
      if (cut.start > cursor) out.push({ start: cursor, end: Math.min(cut.start, base.end) });
      cursor = Math.max(cursor, cut.end);
      if (cursor >= base.end) break;
    }
    if (cursor < base.end) out.push({ start: cursor, end: base.end });
  }
  return out;
}

/** Merges overlapping or touching ranges. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else out.push({ ...r });
  }
  return out;
}

export function candleCount(range: Range, stepMs: number): number {
  return Math.max(0, Math.round((range.end - range.start) / stepMs));
}

/** Splits ranges into requests of at most `limit` candles each (one exchange page). */
export function planPages(ranges: readonly Range[], stepMs: number, limit: number): Range[] {
  const pages: Range[] = [];
  for (const r of ranges) {
    for (let start = r.start; start < r.end; start += limit * stepMs) {
      pages.push({ start, end: Math.min(r.end, start + limit * stepMs) });
    }
  }
  return pages;
}

/**
 * Open times inside a requested page that the exchange did not return: holes it does not have. Called only for
 * closed candles, so a missing one is missing for good (before listing, outage, halt).
 */
export function findExchangeHoles(page: Range, returnedOpenTimes: readonly number[], stepMs: number): Range[] {
  const present = returnedOpenTimes.filter((t) => t >= page.start && t < page.end).map((t) => ({ start: t, end: t + stepMs }));
  return subtractRanges([page], present);
}

/**
 * The range a collection covers when it runs at `nowMs`: from `startMs` (aligned up) to the end of the last closed
 * candle, or to `endMs` if that is earlier.
 */
export function collectionRange(startMs: number, endMs: number | null, nowMs: number, stepMs: number): Range {
  const start = Math.ceil(startMs / stepMs) * stepMs;
  const lastClosedEnd = Math.floor(nowMs / stepMs) * stepMs;
  const end = endMs === null ? lastClosedEnd : Math.min(lastClosedEnd, Math.ceil(endMs / stepMs) * stepMs);
  return { start, end: Math.max(start, end) };
}

/** Candles the exchange can have in `range`: all of them minus its known holes. */
export function expectedCandleCount(range: Range, knownGaps: readonly Range[], stepMs: number): number {
  return subtractRanges([range], knownGaps).reduce((n, r) => n + candleCount(r, stepMs), 0);
}
