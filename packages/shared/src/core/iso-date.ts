import { z } from 'zod';

/**
 * The one way a request names a moment: `2024-01-31` (midnight UTC) or `2024-01-31T12:00:00Z` (with an offset or Z).
 * A day that does not exist (2024-02-30) is refused: `Date.parse` would quietly roll it over into March.
 */
const SHAPE = /^(\d{4})-(\d{2})-(\d{2})([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/;

export const ISO_DATE_EXPECTED = 'expected an ISO date such as 2024-01-31 or 2024-01-31T12:00:00Z';

/** Epoch ms of an ISO date or date-time, or undefined when it is malformed or names a day that does not exist. */
export function parseIsoDate(value: string): number | undefined {
  const m = SHAPE.exec(value);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return undefined;
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isFinite(ms) ? ms : undefined;
}

export const isoDateString = z.string().refine((v) => parseIsoDate(v) !== undefined, { message: ISO_DATE_EXPECTED });
