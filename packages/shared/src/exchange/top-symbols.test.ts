import { describe, expect, it } from 'vitest';
import { selectTopSymbols, type MarketSummary } from './top-symbols.js';

const m = (base: string, extra: Partial<MarketSummary> = {}): MarketSummary => ({
  symbol: `${base}/${extra.quote ?? 'USDT'}`, base, quote: 'USDT', spot: true, active: true, ...extra,
});

describe('selectTopSymbols', () => {
  const markets = [
    m('BTC'), m('ETH'), m('SOL'), m('JUP'), m('SYRUP'), m('USDC'), m('FDUSD'), m('BTCUP'), m('ETHDOWN'),
    m('XYZ', { permissions: ['SPOT', 'LEVERAGED'] }), m('HALT', { active: false }), m('ETH', { quote: 'BTC', symbol: 'ETH/BTC' }),
    m('FUT', { spot: false }),
  ];
  const volumes = new Map<string, number>([
    ['BTC/USDT', 900], ['ETH/USDT', 800], ['SOL/USDT', 100], ['JUP/USDT', 50], ['SYRUP/USDT', 40], ['USDC/USDT', 5000],
    ['FDUSD/USDT', 4000], ['BTCUP/USDT', 700], ['ETHDOWN/USDT', 600], ['XYZ/USDT', 500], ['HALT/USDT', 999],
    ['ETH/BTC', 999], ['FUT/USDT', 999],
  ]);

  it('ranks trading USDT spot pairs by quote volume, without stablecoins, leveraged tokens or halted pairs', () => {
    expect(selectTopSymbols(markets, volumes, { top: 10, minQuoteVolume: 0 })).toEqual([
      'BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'JUP/USDT', 'SYRUP/USDT',
    ]);
  });

  it('applies the minimum volume and the count', () => {
    expect(selectTopSymbols(markets, volumes, { top: 2, minQuoteVolume: 0 })).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(selectTopSymbols(markets, volumes, { top: 10, minQuoteVolume: 100 })).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
  });
});
