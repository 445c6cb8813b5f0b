/**
 * Which days have a flat file, and when a day starts in New York. Pure arithmetic on UTC calendar dates
 * ("YYYY-MM-DD"); no time zone database needed.
 *
 * US stocks trade on weekdays minus NYSE holidays and one-off closures (NYSE Rule 7.2: a holiday on a Saturday is
 * observed the Friday before, on a Sunday the Monday after, except that New Year's Day on a Saturday is not moved into
 * the old year, since that Friday ends a yearly accounting period). The rules hold from 1998 (Martin Luther King Jr.
 * Day) on; Juneteenth from 2022. Crypto trades every day.
 */
export type Market = 'us_stocks_sip' | 'global_crypto';
export const MARKETS: readonly Market[] = ['us_stocks_sip', 'global_crypto'];

export const DAY_MS = 86_400_000;

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Midnight UTC of a "YYYY-MM-DD" date, in ms. */
export function parseDate(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

export function addDays(date: string, days: number): string {
  return isoDate(parseDate(date) + days * DAY_MS);
}

function weekday(ms: number): number {
  return new Date(ms).getUTCDay();
}

/** The n-th (1-based) given weekday (0 = Sunday) of a month (0-based). */
function nthWeekday(year: number, month: number, day: number, n: number): number {
  const first = Date.UTC(year, month, 1);
  return first + (((day - weekday(first) + 7) % 7) + (n - 1) * 7) * DAY_MS;
}

function lastWeekday(year: number, month: number, day: number): number {
  const last = Date.UTC(year, month + 1, 0);
  return last - ((weekday(last) - day + 7) % 7) * DAY_MS;
}

/** Easter Sunday of the Gregorian calendar (the anonymous "Meeus/Jones/Butcher" computus). */
export function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const h = (19 * a + b - Math.floor(b / 4) - Math.floor((b - Math.floor((b + 8) / 25) + 1) / 3) + 15) % 30;
  const l = (32 + 2 * (b % 4) + 2 * Math.floor(c / 4) - h - (c % 4)) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return isoDate(Date.UTC(year, month - 1, day));
}

function observed(ms: number): number {
  const wd = weekday(ms);
  return wd === 6 ? ms - DAY_MS : wd === 0 ? ms + DAY_MS : ms;
}

/** Closures outside the holiday rules: national days of mourning, 9/11, Hurricane Sandy. */
export const NYSE_SPECIAL_CLOSURES: readonly string[] = [
  '2001-09-11', '2001-09-12', '2001-09-13', '2001-09-14',
  '2004-06-11', // President Reagan
  '2007-01-02', // President Ford
  '2012-10-29', '2012-10-30', // Hurricane Sandy
  '2018-12-05', // President G. H. W. Bush
  '2025-01-09', // President Carter
];

const holidayCache = new Map<number, ReadonlySet<string>>();

/** Weekdays of `year` on which the NYSE is closed. */
export function nyseHolidays(year: number): ReadonlySet<string> {
  const cached = holidayCache.get(year);
  if (cached) return cached;
  const days = [
    nthWeekday(year, 0, 1, 3), // Martin Luther King Jr. Day
    nthWeekday(year, 1, 1, 3), // Washington's Birthday
    parseDate(easterSunday(year)) - 2 * DAY_MS, // Good Friday
    lastWeekday(year, 4, 1), // Memorial Day
    observed(Date.UTC(year, 6, 4)), // Independence Day
    nthWeekday(year, 8, 1, 1), // Labor Day
    nthWeekday(year, 10, 4, 4), // Thanksgiving
    observed(Date.UTC(year, 11, 25)), // Christmas
  ];
  const newYear = Date.UTC(year, 0, 1);
  if (weekday(newYear) !== 6) days.push(observed(newYear));
  if (year >= 2022) days.push(observed(Date.UTC(year, 5, 19))); // Juneteenth
  const set = new Set([...days.map(isoDate), ...NYSE_SPECIAL_CLOSURES.filter((d) => d.startsWith(`${year}-`))]);
  holidayCache.set(year, set);
  return set;
}

export function isTradingDay(market: Market, date: string): boolean {
  if (market === 'global_crypto') return true;
  const ms = parseDate(date);
  const wd = weekday(ms);
  return wd !== 0 && wd !== 6 && !nyseHolidays(new Date(ms).getUTCFullYear()).has(date);
}

/** The days with a flat file from `startDate` to `endDate`, both inclusive, ascending. */
export function tradingDays(market: Market, startDate: string, endDate: string): string[] {
  const out: string[] = [];
  const end = parseDate(endDate);
  for (let t = parseDate(startDate); t <= end; t += DAY_MS) {
    const date = isoDate(t);
    if (isTradingDay(market, date)) out.push(date);
  }
  return out;
}

/** Whether midnight in New York of this date is daylight saving time (US rules of 1987-2006 and since 2007). */
function easternDaylightTime(date: string): boolean {
  const ms = parseDate(date);
  const year = new Date(ms).getUTCFullYear();
  const [start, end] = year >= 2007
    ? [nthWeekday(year, 2, 0, 2), nthWeekday(year, 10, 0, 1)]
    : [nthWeekday(year, 3, 0, 1), lastWeekday(year, 9, 0)];
  // Clocks change at 02:00, so midnight of the changeover Sunday still has the old offset.
  return ms > start && ms <= end;
}

/** Midnight in New York of a date, in UTC ms: where a US stocks day file's `window_start` points. */
export function easternMidnight(date: string): number {
  return parseDate(date) + (easternDaylightTime(date) ? 4 : 5) * 3_600_000;
}
