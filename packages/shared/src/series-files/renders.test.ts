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
