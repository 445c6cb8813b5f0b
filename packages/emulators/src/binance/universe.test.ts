import { describe, expect, it } from 'vitest';
import { LISTING_ANCHOR } from './settings.js';
import { findSymbol, universe } from './universe.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 9, 20, 5, 30);

describe('the emulated universe', () => {
  it('lists the configured number of USDT coins first, by descending quote volume, then what top-N must leave out', () => {
    const list = universe({ nowMs: NOW });
    const coins = list.filter((s) => s.kind === 'coin' && s.status === 'TRADING');
    expect(coins).toHaveLength(300);
    expect(list.slice(0, 300)).toEqual(coins);
    expect(coins.slice(0, 3).map((s) => s.symbol)).toEqual(['BTCUSDT', 'ETHUSDT', 'BNBUSDT']);
    for (let i = 1; i < coins.length; i++) expect(coins[i]!.quoteVolume).toBeLessThan(coins[i - 1]!.quoteVolume);
    const rest = list.slice(300).map((s) => `${s.symbol}:${s.kind}:${s.status}`);
    expect(rest).toEqual([
      'USDCUSDT:stable:TRADING', 'FDUSDUSDT:stable:TRADING', 'TUSDUSDT:stable:TRADING', 'USDPUSDT:stable:TRADING',
      'BTCUPUSDT:leveraged:TRADING', 'BTCDOWNUSDT:leveraged:TRADING', 'ETHUPUSDT:leveraged:TRADING',
      'ETHDOWNUSDT:leveraged:TRADING', 'BNBUPUSDT:leveraged:TRADING', 'LUNAUSDT:coin:BREAK', 'WAVESUSDT:coin:BREAK',
      'ETHBTC:cross:TRADING', 'BNBBTC:cross:TRADING', 'SOLETH:cross:TRADING', 'BTCFDUSD:cross:TRADING',
    ]);
    expect(findSymbol(list, 'BTCUPUSDT')!.permissions).toEqual(['SPOT', 'LEVERAGED']);
    expect(universe({ nowMs: NOW, coinCount: 40 }).filter((s) => s.kind === 'coin')).toHaveLength(42);
  });

  it('puts listings inside 60-day and 3-year windows, and lists nothing before its listing', () => {
    const list = universe({ nowMs: NOW });
    const recent = list.filter((s) => s.listedAt > LISTING_ANCHOR - 60 * DAY).map((s) => s.symbol);
    // Every 9th coin from the 5th on, cycling through 3, 12, 25, 45, 200 and 420 days before the anchor.
    expect(recent).toHaveLength(23);
    expect(recent.slice(0, 8)).toEqual(['XRPUSDT', 'SHIBUSDT', 'OPUSDT', 'COIN031USDT', 'COIN058USDT', 'COIN067USDT',
      'COIN076USDT', 'COIN085USDT']);
    expect(list.some((s) => s.listedAt > LISTING_ANCHOR - 3 * 365 * DAY && s.listedAt < LISTING_ANCHOR - 60 * DAY)).toBe(true);
    const xrp = findSymbol(list, 'XRP/USDT')!;
    expect(findSymbol(universe({ nowMs: xrp.listedAt - 1 }), 'XRPUSDT')).toBeUndefined();
    expect(findSymbol(universe({ nowMs: xrp.listedAt }), 'XRPUSDT')!.status).toBe('TRADING');
  });
});
