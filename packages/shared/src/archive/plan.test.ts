import { describe, expect, it } from 'vitest';
import { parseArchiveZipKey } from './layout.js';
import { monthsToListDaily, monthsWhileListed, planArchiveFiles, type ListedArchiveZip } from './plan.js';

const DAY = 86_400_000;
const zip = (key: string, etag = 'e1'): ListedArchiveZip => ({ ...parseArchiveZipKey(key)!, etag });
const monthly = (m: string) => zip(`data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-${m}.zip`);
const daily = (d: string, etag = 'e1') => zip(`data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-${d}.zip`, etag);

describe('planArchiveFiles', () => {
  // From 2025-11-15 to 2026-02-10 12:00 (the clock): a partial first month, two whole months, the current one.
  const range = { start: Date.UTC(2025, 10, 15), end: Date.UTC(2026, 1, 10, 12) };
  const listed = [
    monthly('2025-10'), monthly('2025-11'), monthly('2025-12'), monthly('2026-01'),
    ...['2025-11-14', '2025-11-15', '2025-11-30', '2025-12-01', '2026-02-01', '2026-02-02', '2026-02-09'].map((d) => daily(d)),
  ];

  it('takes whole months from monthly files, other days from daily files, and leaves the rest to REST', () => {
    const plan = planArchiveFiles({ range, listed, ingested: new Map() });
    expect(plan.toIngest.map((f) => f.key.split('/').at(-1))).toEqual([
      'BTCUSDT-1m-2025-11-15.zip', 'BTCUSDT-1m-2025-11-30.zip', 'BTCUSDT-1m-2025-12.zip', 'BTCUSDT-1m-2026-01.zip',
      'BTCUSDT-1m-2026-02-01.zip', 'BTCUSDT-1m-2026-02-02.zip', 'BTCUSDT-1m-2026-02-09.zip',
    ]);
    // Missing days (Nov 16-29, Feb 3-8) and the open day go to REST.
    expect(plan.rest).toEqual([
      { start: Date.UTC(2025, 10, 16), end: Date.UTC(2025, 10, 30) },
      { start: Date.UTC(2026, 1, 3), end: Date.UTC(2026, 1, 9) },
      { start: Date.UTC(2026, 1, 10), end: range.end },
    ]);
  });

  it('skips files ingested in the same publication and fetches re-published ones again', () => {
    const ingested = new Map([[monthly('2025-12').key, 'e1'], [daily('2026-02-01').key, 'old']]);
    const plan = planArchiveFiles({ range, listed, ingested });
    expect(plan.upToDate.map((f) => f.key)).toEqual([monthly('2025-12').key]);
    expect(plan.toIngest.map((f) => f.key)).toContain(daily('2026-02-01').key);
    expect(plan.rest).toHaveLength(3);
  });

  it('uses nothing when the archive has no file inside the range', () => {
    const short = { start: Date.UTC(2026, 1, 10), end: Date.UTC(2026, 1, 10, 12) };
    expect(planArchiveFiles({ range: short, listed, ingested: new Map() })).toEqual({ toIngest: [], upToDate: [], covered: [], rest: [short] });
  });
});

describe('monthsToListDaily', () => {
  it('lists the days of months no monthly file covers inside the range', () => {
    const range = { start: Date.UTC(2025, 10, 15), end: Date.UTC(2026, 1, 10, 12) };
    expect(monthsToListDaily(range, [monthly('2025-11'), monthly('2025-12'), monthly('2026-01')]))
      .toEqual([Date.UTC(2025, 10, 1), Date.UTC(2026, 1, 1)]);
  });

  it('for a delisted coin, stops at the month after its last monthly file: it has no days after', () => {
    // Last traded in December 2025 (its last monthly file): the range's later months are not listed day by day.
    const range = { start: Date.UTC(2025, 10, 15), end: Date.UTC(2026, 9, 10) };
    expect(monthsWhileListed(range, [monthly('2025-11'), monthly('2025-12')])).toEqual([Date.UTC(2025, 10, 1), Date.UTC(2026, 0, 1)]);
  });
});

describe('parseArchiveZipKey', () => {
  it('reads the period from the name and refuses other keys', () => {
    expect(daily('2024-02-29')).toMatchObject({ period: 'daily', startMs: Date.UTC(2024, 1, 29), endMs: Date.UTC(2024, 1, 29) + DAY });
    expect(parseArchiveZipKey('data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-02-29.zip')).toBeUndefined();
    expect(parseArchiveZipKey('data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-02-29.zip.CHECKSUM')).toBeUndefined();
    expect(parseArchiveZipKey('data/spot/monthly/klines/BTCUSDT/1m/ETHUSDT-1m-2024-02.zip')).toBeUndefined();
  });
});
