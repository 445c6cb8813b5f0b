import { describe, expect, it } from 'vitest';
import { candleOf, emulatorCandles, emulatorKlines, type KlineRow } from './candles.js';
import { klineInterval, parseTimeZone } from './intervals.js';
import { DEFAULT_OUTAGE, LISTING_ANCHOR } from './settings.js';
import { findSymbol, universe } from './universe.js';

const MIN = 60_000;
const H = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 9, 20, 5, 30); // half past: the 05:00 hourly candle is open
const at = { nowMs: NOW };

function decimalsOf(s: string): number {
  return s.replace(/0+$/, '').split('.')[1]?.length ?? 0;
}

function expectWellFormed(rows: KlineRow[], intervalMs: number, priceDecimals: number) {
  for (const r of rows) {
    const [openTime, open, high, low, close, volume, closeTime, quoteVolume, trades, takerBase, takerQuote, unused] = r;
    const [o, h, l, c, v] = [open, high, low, close, volume].map(Number) as [number, number, number, number, number];
    expect(openTime % intervalMs, `aligned ${openTime}`).toBe(0);
    expect(closeTime).toBe(openTime + intervalMs - 1);
    expect(h).toBeGreaterThanOrEqual(Math.max(o, c));
    expect(l).toBeLessThanOrEqual(Math.min(o, c));
    expect(l).toBeGreaterThan(0);
    expect(v).toBeGreaterThanOrEqual(0);
    expect(Number(takerBase)).toBeLessThanOrEqual(v);
    expect(Number(takerQuote)).toBeLessThanOrEqual(Number(quoteVolume));
    expect(Number.isInteger(trades)).toBe(true);
    expect(unused).toBe('0');
    for (const price of [open, high, low, close]) {
      expect(price).toMatch(/^\d+\.\d{8}$/);
      expect(decimalsOf(price)).toBeLessThanOrEqual(priceDecimals);
    }
  }
}

describe('the candle generator', () => {
  it('is a pure function of symbol, interval and open time', () => {
    const a = emulatorKlines('BTCUSDT', '1h', { startTime: NOW - 100 * H, limit: 50 }, at);
    const b = emulatorKlines('BTC/USDT', '1h', { startTime: NOW - 100 * H, limit: 50 }, at);
    expect(a).toEqual(b);
    expect(a).toHaveLength(50);
    // A later clock does not change closed candles.
    expect(emulatorKlines('BTCUSDT', '1h', { startTime: NOW - 100 * H, limit: 50 }, { nowMs: NOW + 30 * DAY })).toEqual(a);
  });

  it('serves well-formed candles at each symbol\'s own price scale and tick', () => {
    for (const [symbol, lo, hi] of [['BTCUSDT', 20_000, 200_000], ['SHIBUSDT', 0.000005, 0.00005], ['USDCUSDT', 0.99, 1.01]] as const) {
      const info = findSymbol(universe(at), symbol)!;
      const rows = emulatorKlines(symbol, '15m', { endTime: NOW, limit: 1000 }, at);
      expect(rows).toHaveLength(1000);
      expectWellFormed(rows, 15 * MIN, info.priceDecimals);
      for (const r of rows) {
        expect(Number(r[2])).toBeLessThan(hi);
        expect(Number(r[3])).toBeGreaterThan(lo);
      }
    }
    expect(findSymbol(universe(at), 'BTCUSDT')!.priceDecimals).toBe(2);
    expect(findSymbol(universe(at), 'SHIBUSDT')!.priceDecimals).toBe(8);
  });

  it('chains candles: each close is the next open', () => {
    const rows = emulatorKlines('ETHUSDT', '1m', { startTime: NOW - 600 * MIN, limit: 500 }, at);
    for (let i = 1; i < rows.length; i++) expect(rows[i]![1]).toBe(rows[i - 1]![4]);
  });

  it('serves the open candle with partial values that move with the clock, and the final ones once closed', () => {
    const open = Math.floor(NOW / H) * H;
    const early = emulatorKlines('BTCUSDT', '1h', { limit: 1 }, at)[0]!;
    const later = emulatorKlines('BTCUSDT', '1h', { limit: 1 }, { nowMs: NOW + 20 * MIN })[0]!;
    const closed = emulatorKlines('BTCUSDT', '1h', { startTime: open, limit: 1 }, { nowMs: open + 2 * H })[0]!;
    expect([early[0], later[0], closed[0]]).toEqual([open, open, open]);
    expect(early[1]).toBe(closed[1]);
    expect(later[4]).not.toBe(early[4]);
    expect(Number(later[5])).toBeGreaterThan(Number(early[5]));
    expect(closed[4]).not.toBe(later[4]);
    expect(emulatorCandles('BTCUSDT', '1h', open, open + H, at)).toEqual([]);
    expect(emulatorCandles('BTCUSDT', '1h', open, open + H, { nowMs: open + H })).toEqual([candleOf(closed)]);
  });

  it('answers by Binance\'s rules: from startTime, up to endTime, or the latest', () => {
    const all = emulatorKlines('BNBUSDT', '1h', { startTime: NOW - 30 * H, limit: 1000 }, at);
    expect(all).toHaveLength(30);
    expect(all[0]![0]).toBe(NOW - 30 * H - 30 * MIN + H); // first open at or after a startTime inside a candle
    expect(all.at(-1)![0]).toBe(Math.floor(NOW / H) * H); // the open candle last
    expect(emulatorKlines('BNBUSDT', '1h', { startTime: NOW - 30 * H, endTime: NOW - 20 * H, limit: 1000 }, at))
      .toEqual(all.slice(0, 10)); // endTime inside a candle keeps that candle
    expect(emulatorKlines('BNBUSDT', '1h', { endTime: NOW - 20 * H, limit: 3 }, at)).toEqual(all.slice(7, 10));
    expect(emulatorKlines('BNBUSDT', '1h', { limit: 4 }, at)).toEqual(all.slice(-4));
    expect(emulatorKlines('BNBUSDT', '1h', { startTime: NOW + H, limit: 4 }, at)).toEqual([]);
  });

  it('has no candle before a listing; the listing day\'s daily candle opens at midnight with part of a day\'s volume', () => {
    const info = universe(at).find((s) => s.listedAt === LISTING_ANCHOR - 12 * DAY + 8 * H)!;
    expect(info.symbol).toBe('SHIBUSDT');
    const hourly = emulatorKlines(info.symbol, '1h', { startTime: info.listedAt - 100 * H, limit: 3 }, at);
    expect(hourly.map((r) => r[0])).toEqual([info.listedAt, info.listedAt + H, info.listedAt + 2 * H]);
    expect(emulatorKlines(info.symbol, '1h', { endTime: info.listedAt - 1, limit: 10 }, at)).toEqual([]);
    const daily = emulatorKlines(info.symbol, '1d', { startTime: 0, limit: 2 }, at);
    expect(daily.map((r) => r[0])).toEqual([info.listedAt - 8 * H, info.listedAt + 16 * H]);
    expect(Number(daily[0]![5])).toBeLessThan(Number(daily[1]![5]));
  });

  it('has no candle wholly inside an outage, but the daily candle around it', () => {
    const hourly = emulatorCandles('BTCUSDT', '1h', DEFAULT_OUTAGE.start - 2 * H, DEFAULT_OUTAGE.end + 2 * H, at);
    expect(hourly.map((c) => (c.openTime - DEFAULT_OUTAGE.start) / H)).toEqual([-2, -1, 4, 5]);
    const day = Math.floor(DEFAULT_OUTAGE.start / DAY) * DAY;
    const daily = emulatorCandles('BTCUSDT', '1d', day, day + DAY, at);
    const unbroken = emulatorCandles('BTCUSDT', '1d', day, day + DAY, { ...at, outages: [] });
    expect(daily).toHaveLength(1);
    expect(daily[0]!.volume).toBeLessThan(unbroken[0]!.volume);
    expect(emulatorCandles('BTCUSDT', '1h', day, day + DAY, { ...at, outages: [] })).toHaveLength(24);
  });

  it('stops a halted pair at its halt', () => {
    const waves = findSymbol(universe(at), 'WAVESUSDT')!;
    expect(waves.status).toBe('BREAK');
    const last = emulatorKlines('WAVESUSDT', '1h', { limit: 2 }, at);
    expect(last.map((r) => r[0])).toEqual([waves.haltedAt! - 2 * H, waves.haltedAt! - H]);
    expect(emulatorKlines('WAVESUSDT', '1h', { startTime: waves.haltedAt!, limit: 10 }, at)).toEqual([]);
    expect(findSymbol(universe({ nowMs: waves.haltedAt! - 1 }), 'WAVESUSDT')!.status).toBe('TRADING');
  });

  it('aligns weeks to Mondays, months to the calendar, 3 days to the epoch, and honours timeZone', () => {
    const weeks = emulatorKlines('BTCUSDT', '1w', { limit: 3 }, at);
    for (const r of weeks) expect(new Date(r[0]).getUTCDay()).toBe(1);
    expect(weeks.at(-1)![0]).toBe(Date.UTC(2026, 9, 19));
    const months = emulatorKlines('BTCUSDT', '1M', { limit: 3 }, at);
    expect(months.map((r) => [r[0], r[6]])).toEqual([
      [Date.UTC(2026, 7, 1), Date.UTC(2026, 8, 1) - 1],
      [Date.UTC(2026, 8, 1), Date.UTC(2026, 9, 1) - 1],
      [Date.UTC(2026, 9, 1), Date.UTC(2026, 10, 1) - 1],
    ]);
    expect(emulatorKlines('BTCUSDT', '3d', { limit: 1 }, at)[0]![0] % (3 * DAY)).toBe(0);
    const eastern = emulatorKlines('BTCUSDT', '1d', { limit: 1, timeZoneOffsetMs: parseTimeZone('8') }, at)[0]!;
    expect(eastern[0]).toBe(Date.UTC(2026, 9, 19, 16));
    expect(parseTimeZone('-1:00')).toBe(-H);
    expect(parseTimeZone('05:45')).toBe(5 * H + 45 * MIN);
    expect(parseTimeZone('15')).toBeUndefined();
    expect(parseTimeZone('+14:00')).toBe(14 * H);
    expect(klineInterval('7h')).toBeUndefined();
  });

  it('gives tests the closed candles the endpoint pages through', () => {
    const start = NOW - 2500 * H;
    const truth = emulatorCandles('ETH/USDT', '1h', start, NOW + H, at);
    const paged: KlineRow[] = [];
    for (let since = start; ;) {
      const page = emulatorKlines('ETHUSDT', '1h', { startTime: since, limit: 1000 }, at);
      paged.push(...page);
      if (page.length < 1000) break;
      since = page.at(-1)![0] + H;
    }
    expect(paged.slice(0, -1).map(candleOf)).toEqual(truth);
    expect(truth).toHaveLength(2499 - 4); // the hours from 06:00 2500 hours ago to the open 05:00, minus the outage
  });
});

describe('klines served off the grid (offGridKlines)', () => {
  const slot = Date.UTC(2026, 9, 15, 9);
  const settings = { nowMs: NOW, offGridKlines: [{ symbol: 'BTCUSDT', interval: '1h', slot, offsetMs: 1_694_789 }] };

  it('serve the slot candle with its open time moved, values and close time unchanged', () => {
    const onGrid = emulatorKlines('BTCUSDT', '1h', { startTime: slot - H, limit: 3 }, at);
    const served = emulatorKlines('BTCUSDT', '1h', { startTime: slot - H, limit: 3 }, settings);
    expect(served.map((r) => r[0])).toEqual([slot - H, slot + 1_694_789, slot + H]);
    expect(served[1]!.slice(1)).toEqual(onGrid[1]!.slice(1));
    // The truth holds the candle at its slot, where a client that aligns it stores it.
    expect(emulatorCandles('BTCUSDT', '1h', slot - H, slot + 2 * H, settings)).toEqual(onGrid.map(candleOf));
  });
});
