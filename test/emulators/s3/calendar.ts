/**
 * US equity trading days (NYSE): weekdays minus the exchange's holidays and special closures. Crypto trades every day.
 * Pure date arithmetic on UTC calendar dates ("YYYY-MM-DD").
 */
const DAY = 86_400_000;

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function parseDate(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

function nthWeekday(year: number, month: number, weekday: number, n: number): number {
  const first = Date.UTC(year, month, 1);
  const offset = (weekday - new Date(first).getUTCDay() + 7) % 7;
  return first + (offset + (n - 1) * 7) * DAY;
}

function lastWeekday(year: number, month: number, weekday: number): number {
  const last = Date.UTC(year, month + 1, 0);
  const offset = (new Date(last).getUTCDay() - weekday + 7) % 7;
  return last - offset * DAY;
}

/** Easter Sunday (Anonymous Gregorian algorithm). */
function easter(year: number): number {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return Date.UTC(year, month - 1, day);
}

/** A fixed-date holiday on a weekend is observed on Friday (Saturday) or Monday (Sunday). */
function observed(ms: number): number {
  const wd = new Date(ms).getUTCDay();
  return wd === 6 ? ms - DAY : wd === 0 ? ms + DAY : ms;
}

/** One-off closures (national days of mourning). */
const SPECIAL_CLOSURES = ['2018-12-05', '2025-01-09'];

export function nyseHolidays(year: number): Set<string> {
  const days = [
    nthWeekday(year, 0, 1, 3), // Martin Luther King Jr. Day
    nthWeekday(year, 1, 1, 3), // Washington's Birthday
    easter(year) - 2 * DAY, // Good Friday
    lastWeekday(year, 4, 1), // Memorial Day
    observed(Date.UTC(year, 6, 4)),
    nthWeekday(year, 8, 1, 1), // Labor Day
    nthWeekday(year, 10, 4, 4), // Thanksgiving
    observed(Date.UTC(year, 11, 25)),
  ];
  // New Year's Day on a Saturday is not moved back into the old year.
  const newYear = Date.UTC(year, 0, 1);
  if (new Date(newYear).getUTCDay() !== 6) days.push(observed(newYear));
  if (year >= 2022) days.push(observed(Date.UTC(year, 5, 19))); // Juneteenth
  return new Set([...days.map(isoDate), ...SPECIAL_CLOSURES.filter((d) => d.startsWith(`${year}-`))]);
}

export type Market = 'us_stocks_sip' | 'global_crypto';

export function isTradingDay(market: Market, date: string): boolean {
  if (market === 'global_crypto') return true;
  const ms = parseDate(date);
  const wd = new Date(ms).getUTCDay();
  if (wd === 0 || wd === 6) return false;
  return !nyseHolidays(new Date(ms).getUTCFullYear()).has(date);
}

/** Trading days from `first` to `last`, inclusive, ascending. */
export function tradingDays(market: Market, first: string, last: string): string[] {
  const out: string[] = [];
  for (let t = parseDate(first); t <= parseDate(last); t += DAY) {
    const d = isoDate(t);
    if (isTradingDay(market, d)) out.push(d);
  }
  return out;
}
