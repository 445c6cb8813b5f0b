import { describe, expect, it } from 'vitest';
import { givenRanking, topRanking } from './ranking.js';

const AT = Date.UTC(2026, 9, 14, 5, 30);

describe('the ranking a run records', () => {
  it('lists the top N by 24h quote volume first, then the delisted coins, which nothing ranked', () => {
    const ranking = topRanking('binance', [{ symbol: 'BTC/USDT', quoteVolume: 5e9 }, { symbol: 'ETH/USDT', quoteVolume: 2.3e9 }],
      ['FTT/USDT', 'LUNA/USDT'], AT);
    expect(ranking).toEqual({
      basis: 'top_quote_volume',
      ranked_at: '2026-10-14T05:30:00.000Z',
      entries: [
        { rank: 1, symbol: 'BTC/USDT', listed: true, quote_volume: 5e9, volume_source: 'binance 24h ticker quoteVolume' },
        { rank: 2, symbol: 'ETH/USDT', listed: true, quote_volume: 2.3e9, volume_source: 'binance 24h ticker quoteVolume' },
        { rank: 3, symbol: 'FTT/USDT', listed: false, quote_volume: null, volume_source: null },
        { rank: 4, symbol: 'LUNA/USDT', listed: false, quote_volume: null, volume_source: null },
      ],
    });
  });

  it('records --symbols as given, in their order, saying which are delisted', () => {
    expect(givenRanking(['SOL/USDT', 'FTT/USDT', 'BTC/USDT'], new Set(['FTT/USDT']), AT)).toEqual({
      basis: 'given',
      ranked_at: '2026-10-14T05:30:00.000Z',
      entries: [
        { rank: 1, symbol: 'SOL/USDT', listed: true, quote_volume: null, volume_source: null },
        { rank: 2, symbol: 'FTT/USDT', listed: false, quote_volume: null, volume_source: null },
        { rank: 3, symbol: 'BTC/USDT', listed: true, quote_volume: null, volume_source: null },
      ],
    });
  });
});
