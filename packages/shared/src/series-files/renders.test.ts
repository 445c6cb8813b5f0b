import { describe, expect, it } from 'vitest';
import { candleFileNamePrefix, candleFilePath, candleSeriesDirectory } from './file-name.js';
import { newestRenders, parseSeriesRender, planRenderReplacement } from './renders.js';

const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`);
const btc = (first: string, last: string) => candleFilePath({ symbol: 'BTC/USDT', timeframe: '1d', startMs: day(first), endMs: day(last) });

describe('parseSeriesRender', () => {
  it('reads the series and dates of any series file, exchange pair or flat-file ticker', () => {
    for (const symbol of ['BTC/USDT', 'BTC/USDT:USDT', 'TSLA', 'X:BTCUSD']) {
      const relativePath = candleFilePath({ symbol, timeframe: '1h', startMs: day('2024-01-01'), endMs: day('2024-03-01') });
      expect(parseSeriesRender(relativePath)).toEqual({
        relativePath,
        series: `${candleSeriesDirectory(symbol)}/${candleFileNamePrefix({ symbol, timeframe: '1h' })}`,
        firstDay: '20240101',
        lastDay: '20240301',
        // Intraday: the render competes only with the renders ending in its last candle's month.
        slot: `${candleSeriesDirectory(symbol)}/${candleFileNamePrefix({ symbol, timeframe: '1h' })}202403`,
      });
    }
  });

  it.each(['candles/BTC/notes.txt', 'candles/BTC/.BTC-USDT_1d_20240101_20240301.parquet.1.ab.tmp', 'logs/BTC-USDT_1d_20240101_20240301.parquet'])(
    'is not fooled by %s',
    (relativePath) => expect(parseSeriesRender(relativePath)).toBeUndefined(),
  );
});

describe('planRenderReplacement', () => {
  it('supersedes every earlier render of the series, and nothing of another series', () => {
    const current = btc('2024-01-01', '2024-03-02');
    const others = [
      btc('2024-01-01', '2024-03-01'),
      btc('2023-12-31', '2024-02-28'),
      current,
      'candles/BTC/BTC-USDT-USDT_1d_20240101_20240301.parquet',
      'candles/BTC/BTC-USDT_4h_20240101_20240301.parquet',
      'candles/BTC/README.md',
    ];
    expect(planRenderReplacement(current, others)).toEqual({
      newest: current,
      superseded: [btc('2024-01-01', '2024-03-01'), btc('2023-12-31', '2024-02-28')],
    });
  });

  it('supersedes the current render itself when a newer one is there already (a stale job ran late)', () => {
    const stale = btc('2024-01-01', '2024-03-01');
    expect(planRenderReplacement(stale, [btc('2024-01-01', '2024-03-02')])).toEqual({ newest: btc('2024-01-01', '2024-03-02'), superseded: [stale] });
  });

  it('keeps the longer history between two renders ending the same day', () => {
    const longer = btc('2023-01-01', '2024-03-01');
    expect(planRenderReplacement(btc('2024-01-01', '2024-03-01'), [longer]).newest).toBe(longer);
  });

  it('replaces nothing when the current render is alone, or not a series file', () => {
    expect(planRenderReplacement(btc('2024-01-01', '2024-03-01'), [])).toEqual({ newest: btc('2024-01-01', '2024-03-01'), superseded: [] });
    expect(planRenderReplacement('logs/worker.log', [btc('2024-01-01', '2024-03-01')])).toEqual({ newest: 'logs/worker.log', superseded: [] });
  });
});

describe('newestRenders', () => {
  it('takes the render with the latest last date of each series in a backup that holds several', () => {
    const eth = (last: string) => candleFilePath({ symbol: 'ETH/USDT', timeframe: '1d', startMs: day('2024-01-01'), endMs: day(last) });
    const result = newestRenders([
      btc('2024-01-01', '2024-03-01'), btc('2024-01-01', '2024-03-03'), btc('2024-01-02', '2024-03-02'), eth('2024-02-01'), 'candles/BTC/notes.txt',
    ]);
    expect(result.newest).toEqual([btc('2024-01-01', '2024-03-03'), eth('2024-02-01')]);
    expect(result.superseded).toEqual([
      { relativePath: btc('2024-01-01', '2024-03-01'), by: btc('2024-01-01', '2024-03-03') },
      { relativePath: btc('2024-01-02', '2024-03-02'), by: btc('2024-01-01', '2024-03-03') },
    ]);
  });
});

describe('month files of intraday series', () => {
  const m1 = (first: string, last: string) => candleFilePath({ symbol: 'BTC/USDT', timeframe: '1m', startMs: day(first), endMs: day(last) });

  it('a daily series competes as a whole, whatever the months', () => {
    expect(parseSeriesRender(btc('2024-01-01', '2024-03-02'))?.slot).toBe('candles/BTC/BTC-USDT_1d_');
  });

  it('a month render replaces only the earlier renders of its own month; closed months stay', () => {
    const january = m1('2024-01-01', '2024-01-31');
    const february = m1('2024-02-01', '2024-02-29');
    const marchSoFar = m1('2024-03-01', '2024-03-14');
    const march = m1('2024-03-01', '2024-03-15');
    expect(planRenderReplacement(march, [january, february, marchSoFar, march])).toEqual({ newest: march, superseded: [marchSoFar] });
    expect(planRenderReplacement(january, [january, february, march])).toEqual({ newest: january, superseded: [] });
  });

  it('a month file filled in at its start (a backward collection) replaces the shorter one ending the same day', () => {
    expect(planRenderReplacement(m1('2024-01-01', '2024-01-31'), [m1('2024-01-10', '2024-01-31')]).superseded).toEqual([m1('2024-01-10', '2024-01-31')]);
  });

  it('the one-file layout of before is replaced by the month file of its last month, even one ending the same day', () => {
    const whole = m1('2023-11-05', '2024-03-15');
    expect(planRenderReplacement(m1('2024-03-01', '2024-03-15'), [whole])).toEqual({ newest: m1('2024-03-01', '2024-03-15'), superseded: [whole] });
    expect(planRenderReplacement(m1('2024-03-01', '2024-03-20'), [whole]).superseded).toEqual([whole]);
    // The closed months' files do not touch it: it is not of their month.
    expect(planRenderReplacement(m1('2024-01-01', '2024-01-31'), [whole]).superseded).toEqual([]);
  });

  it('restore takes the newest render of each month, from a backup holding both layouts', () => {
    const whole = m1('2024-01-01', '2024-02-10');
    const result = newestRenders([whole, m1('2024-01-01', '2024-01-31'), m1('2024-02-01', '2024-02-10'), m1('2024-02-01', '2024-02-12')]);
    expect(result.newest).toEqual([m1('2024-01-01', '2024-01-31'), m1('2024-02-01', '2024-02-12')]);
    expect(result.superseded.map((s) => s.relativePath)).toEqual([m1('2024-01-01', '2024-02-10'), m1('2024-02-01', '2024-02-10')].sort());
  });

  it('restore of a backup in the one-file layout alone keeps that file', () => {
    expect(newestRenders([m1('2023-11-05', '2024-03-15')]).newest).toEqual([m1('2023-11-05', '2024-03-15')]);
  });
});
