import { describe, expect, it } from 'vitest';
import { easterSunday, easternMidnight, isTradingDay, nyseHolidays, tradingDays } from './calendar.js';

/** NYSE full-day closures on weekdays, from the exchange's published calendars (2015-2030). */
const NYSE_CLOSURES: Record<number, string[]> = {
  2015: ['01-01', '01-19', '02-16', '04-03', '05-25', '07-03', '09-07', '11-26', '12-25'],
  2016: ['01-01', '01-18', '02-15', '03-25', '05-30', '07-04', '09-05', '11-24', '12-26'],
  2017: ['01-02', '01-16', '02-20', '04-14', '05-29', '07-04', '09-04', '11-23', '12-25'],
  2018: ['01-01', '01-15', '02-19', '03-30', '05-28', '07-04', '09-03', '11-22', '12-05', '12-25'],
  2019: ['01-01', '01-21', '02-18', '04-19', '05-27', '07-04', '09-02', '11-28', '12-25'],
  2020: ['01-01', '01-20', '02-17', '04-10', '05-25', '07-03', '09-07', '11-26', '12-25'],
  2021: ['01-01', '01-18', '02-15', '04-02', '05-31', '07-05', '09-06', '11-25', '12-24'],
  2022: ['01-17', '02-21', '04-15', '05-30', '06-20', '07-04', '09-05', '11-24', '12-26'],
  2023: ['01-02', '01-16', '02-20', '04-07', '05-29', '06-19', '07-04', '09-04', '11-23', '12-25'],
  2024: ['01-01', '01-15', '02-19', '03-29', '05-27', '06-19', '07-04', '09-02', '11-28', '12-25'],
  2025: ['01-01', '01-09', '01-20', '02-17', '04-18', '05-26', '06-19', '07-04', '09-01', '11-27', '12-25'],
  2026: ['01-01', '01-19', '02-16', '04-03', '05-25', '06-19', '07-03', '09-07', '11-26', '12-25'],
  2027: ['01-01', '01-18', '02-15', '03-26', '05-31', '06-18', '07-05', '09-06', '11-25', '12-24'],
  2028: ['01-17', '02-21', '04-14', '05-29', '06-19', '07-04', '09-04', '11-23', '12-25'],
  2029: ['01-01', '01-15', '02-19', '03-30', '05-28', '06-19', '07-04', '09-03', '11-22', '12-25'],
  2030: ['01-01', '01-21', '02-18', '04-19', '05-27', '06-19', '07-04', '09-02', '11-28', '12-25'],
};

/** Trading days per year as the NYSE counts them. */
const TRADING_DAYS_PER_YEAR: Record<number, number> = {
  2015: 252, 2016: 252, 2017: 251, 2018: 251, 2019: 252, 2020: 253, 2021: 252, 2022: 251, 2023: 250, 2024: 252, 2025: 250,
};

describe('NYSE calendar', () => {
  it.each(Object.entries(NYSE_CLOSURES))('closes on exactly the published days of %s', (year, days) => {
    expect([...nyseHolidays(Number(year))].sort()).toEqual(days.map((d) => `${year}-${d}`));
  });

  it.each(Object.entries(TRADING_DAYS_PER_YEAR))('has the published number of trading days in %s', (year, count) => {
    expect(tradingDays('us_stocks_sip', `${year}-01-01`, `${year}-12-31`)).toHaveLength(count);
  });

  it('skips Good Friday, Juneteenth, observed Independence Day and weekends', () => {
    expect(isTradingDay('us_stocks_sip', '2024-03-29')).toBe(false); // Good Friday
    expect(isTradingDay('us_stocks_sip', '2024-06-19')).toBe(false); // Juneteenth
    expect(isTradingDay('us_stocks_sip', '2023-07-04')).toBe(false);
    expect(isTradingDay('us_stocks_sip', '2020-07-03')).toBe(false); // July 4th on a Saturday
    expect(isTradingDay('us_stocks_sip', '2021-06-18')).toBe(true); // before Juneteenth was a market holiday
    expect(isTradingDay('us_stocks_sip', '2021-12-31')).toBe(true); // New Year 2022 fell on a Saturday: no closure
    expect(isTradingDay('us_stocks_sip', '2024-03-30')).toBe(false); // Saturday
    expect(isTradingDay('us_stocks_sip', '2024-03-28')).toBe(true);
  });

  it('lists trading days inclusively and in order', () => {
    expect(tradingDays('us_stocks_sip', '2024-03-27', '2024-04-02')).toEqual(['2024-03-27', '2024-03-28', '2024-04-01', '2024-04-02']);
    expect(tradingDays('us_stocks_sip', '2024-03-30', '2024-03-31')).toEqual([]);
  });

  it('has crypto trading every day', () => {
    expect(tradingDays('global_crypto', '2024-01-01', '2024-12-31')).toHaveLength(366);
    expect(isTradingDay('global_crypto', '2024-12-25')).toBe(true);
  });

  it('computes Easter', () => {
    expect(['2019', '2024', '2025', '2038'].map((y) => easterSunday(Number(y)))).toEqual(['2019-04-21', '2024-03-31', '2025-04-20', '2038-04-25']);
  });

  it('puts midnight in New York at 05:00 UTC in winter and 04:00 UTC in summer', () => {
    expect(new Date(easternMidnight('2024-03-08')).toISOString()).toBe('2024-03-08T05:00:00.000Z');
    expect(new Date(easternMidnight('2024-03-10')).toISOString()).toBe('2024-03-10T05:00:00.000Z'); // clocks change at 02:00
    expect(new Date(easternMidnight('2024-03-11')).toISOString()).toBe('2024-03-11T04:00:00.000Z');
    expect(new Date(easternMidnight('2024-11-03')).toISOString()).toBe('2024-11-03T04:00:00.000Z');
    expect(new Date(easternMidnight('2024-11-04')).toISOString()).toBe('2024-11-04T05:00:00.000Z');
    expect(new Date(easternMidnight('2006-04-03')).toISOString()).toBe('2006-04-03T04:00:00.000Z'); // pre-2007 rules
    expect(new Date(easternMidnight('2006-03-20')).toISOString()).toBe('2006-03-20T05:00:00.000Z');
  });
});
