import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forgetRendersOf } from './render-series-file.js';

describe('forgetRendersOf: the local renders of a period whose rows are about to be replaced', () => {
  let dataDir: string;
  const names = [
    'BTC-USDT_1m_20260101_20260131.parquet', // January
    'BTC-USDT_1m_20260201_20260214.parquet', // February, and an earlier render of it
    'BTC-USDT_1m_20260201_20260210.parquet',
    'BTC-USDT_1m_20260301_20260302.parquet', // March
    'BTC-USDT_1h_20260201_20260228.parquet', // another timeframe
    'BTC-USDT_1d_20250101_20260301.parquet', // the daily series' one file
    'notes.txt',
  ];
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-forget-'));
    await mkdir(path.join(dataDir, 'candles', 'BTC'), { recursive: true });
    for (const name of names) await writeFile(path.join(dataDir, 'candles', 'BTC', name), 'x');
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));
  const left = async () => (await readdir(path.join(dataDir, 'candles', 'BTC'))).sort();
  const btc = (timeframe: '1m' | '1d') => ({ kind: 'candles', exchange: 'binance', symbol: 'BTC/USDT', timeframe } as const);

  it('removes the renders of the month holding a day, and only those', async () => {
    const removed = await forgetRendersOf(dataDir, btc('1m'), { start: Date.UTC(2026, 1, 9), end: Date.UTC(2026, 1, 10) });
    expect(removed.sort()).toEqual(['candles/BTC/BTC-USDT_1m_20260201_20260210.parquet', 'candles/BTC/BTC-USDT_1m_20260201_20260214.parquet']);
    expect(await left()).toEqual(names.filter((n) => !n.startsWith('BTC-USDT_1m_202602')).sort());
  });

  it('removes every month a period spans, and a daily series\' one file', async () => {
    await forgetRendersOf(dataDir, btc('1m'), { start: Date.UTC(2026, 0, 15), end: Date.UTC(2026, 2, 1) });
    expect(await left()).toEqual(['BTC-USDT_1d_20250101_20260301.parquet', 'BTC-USDT_1h_20260201_20260228.parquet',
      'BTC-USDT_1m_20260301_20260302.parquet', 'notes.txt']);
    await forgetRendersOf(dataDir, btc('1d'), { start: Date.UTC(2025, 5, 1), end: Date.UTC(2025, 6, 1) });
    expect(await left()).toEqual(['BTC-USDT_1h_20260201_20260228.parquet', 'BTC-USDT_1m_20260301_20260302.parquet', 'notes.txt']);
  });

  it('finds nothing to remove where the series has no directory yet', async () => {
    expect(await forgetRendersOf(dataDir, { ...btc('1m'), symbol: 'ETH/USDT' }, { start: 0, end: Date.UTC(2026, 0, 2) })).toEqual([]);
  });
});
