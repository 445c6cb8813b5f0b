import { describe, expect, it } from 'vitest';
import { parseIsoDate } from './iso-date.js';

describe('parseIsoDate', () => {
  it('reads days as midnight UTC and date-times with their offset', () => {
    expect(parseIsoDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoDate('2024-01-31T12:00:00Z')).toBe(Date.UTC(2024, 0, 31, 12));
    expect(parseIsoDate('2024-01-31T12:00:00+02:00')).toBe(Date.UTC(2024, 0, 31, 10));
  });
  it.each(['2024-02-30', '2023-02-29', '2024-13-01', '2024-00-10', '2024-1-1', 'yesterday', '2024-01-31T25:00:00Z'])('refuses %s', (v) => {
    expect(parseIsoDate(v)).toBeUndefined();
  });
});
