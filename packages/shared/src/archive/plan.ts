import { subtractRanges, mergeRanges, type Range } from '../collect/plan.js';
import { monthStarts, type ArchiveZip } from './layout.js';

/**
 * Pure planning of what one coin and timeframe takes from the archive: whole months from monthly files, the days of
 * the other months (the current one, a partial first one) from daily files, only what no file covers from REST.
 * A file is used only when its whole period lies inside the collection's range, so the archive never adds rows the
 * REST path would not have stored.
 */
export interface ListedArchiveZip extends ArchiveZip {
  /** The listing's ETag: a re-published file has a new one. */
  etag: string;
}

export interface ArchivePlanInput {
  range: Range;
  /** The zips the archive lists (with their CHECKSUM) for this coin and timeframe, monthly and daily. */
  listed: readonly ListedArchiveZip[];
  /** Files already ingested: key -> the ETag ingested. */
  ingested: ReadonlyMap<string, string>;
}

export interface ArchivePlan {
  /** Files to download and ingest: never ingested, or re-published since (another ETag). */
  toIngest: ListedArchiveZip[];
  /** Files already ingested in the same publication. */
  upToDate: ListedArchiveZip[];
  /** What the files cover inside the range, merged. */
  covered: Range[];
  /** The rest of the range: REST's part. */
  rest: Range[];
}

const inside = (r: Range, f: ArchiveZip) => f.startMs >= r.start && f.endMs <= r.end;

export function planArchiveFiles(input: ArchivePlanInput): ArchivePlan {
  const { range } = input;
  const monthly = input.listed.filter((f) => f.period === 'monthly' && inside(range, f));
  const monthlyCover = monthly.map((f) => ({ start: f.startMs, end: f.endMs }));
  const daily = input.listed.filter((f) => f.period === 'daily' && inside(range, f)
    && !monthlyCover.some((m) => f.startMs >= m.start && f.endMs <= m.end));
  const used = [...monthly, ...daily].sort((a, b) => a.startMs - b.startMs);
  const covered = mergeRanges(used.map((f) => ({ start: f.startMs, end: f.endMs })));
  return {
    toIngest: used.filter((f) => input.ingested.get(f.key) !== f.etag),
    upToDate: used.filter((f) => input.ingested.get(f.key) === f.etag),
    covered,
    rest: subtractRanges([range], covered),
  };
}

/**
 * The months whose daily files are worth listing once the monthly files are known: every month overlapping the
 * range that no monthly file inside the range covers (the current month, a first month the range starts inside).
 */
export function monthsToListDaily(range: Range, monthly: readonly ArchiveZip[]): number[] {
  const coveredMonths = new Set(monthly.filter((f) => f.period === 'monthly' && inside(range, f)).map((f) => f.startMs));
  return monthStarts(range.start, range.end).filter((m) => !coveredMonths.has(m));
}

/**
 * monthsToListDaily for a coin the exchange no longer lists: it has no daily file after the month that follows its
 * last monthly file (the month it stopped trading in gets its monthly file once that month ends), so the months after
 * are not listed: years of empty listings otherwise. For a coin with monthly files only.
 */
export function monthsWhileListed(range: Range, monthly: readonly ArchiveZip[]): number[] {
  const lastEnd = Math.max(...monthly.filter((f) => f.period === 'monthly').map((f) => f.endMs));
  return monthsToListDaily(range, monthly).filter((m) => m <= lastEnd);
}
