import { describe, expect, it } from 'vitest';
import type { MarketSummary } from '../exchange/top-symbols.js';
import { archiveIdOfDirectory, delistedSymbols } from './delisted-symbols.js';

const market = (symbol: string, over: Partial<MarketSummary> = {}): MarketSummary => {
  const [base, quote] = symbol.split('/') as [string, string];
  return { symbol, base, quote, spot: true, active: true, ...over };
};

describe('which archive symbols are delisted coins', () => {
  const markets = [
    market('BTC/USDT'), market('ETH/USDT'), market('LUNA/USDT', { active: false }), market('ETH/BTC'),
    // ccxt renames some currencies: the exchange's id, not the unified symbol, is what the archive names.
    market('BSV/USDT', { id: 'BCHSVUSDT' }),
    // A perpetual future whose spot pair was delisted: same id, but not a spot market.
    market('XYZ/USDT:USDT', { id: 'XYZUSDT', base: 'XYZ', quote: 'USDT', spot: false }),
  ];

  it('takes the USDT pairs exchangeInfo does not list, as unified symbols, sorted', () => {
    const ids = ['BTCUSDT', 'FTTUSDT', 'ANCUSDT', 'ETHUSDT', 'BCHSVUSDT', 'XYZUSDT', 'ANCBTC', 'FTTBUSD'];
    expect(delistedSymbols(ids, markets)).toEqual(['ANC/USDT', 'FTT/USDT', 'XYZ/USDT']);
  });

  it('takes the pairs exchangeInfo still lists but not as trading (Binance BREAK, ccxt inactive) that the archive has', () => {
    const halted = [
      ...markets, market('WAVES/USDT', { active: false }), market('LUNA/BTC', { active: false }),
      // Halted stablecoins and leveraged tokens stay out; exchangeInfo's LEVERAGED permission marks XRPBULL although
      // no XRP pair is known.
      market('BUSD/USDT', { active: false }), market('XRPBULL/USDT', { active: false, permissions: ['SPOT', 'LEVERAGED'] }),
    ];
    // WAVES is halted but the archive has no file of it: nothing to collect it from.
    const ids = ['BTCUSDT', 'LUNAUSDT', 'LUNABTC', 'BUSDUSDT', 'XRPBULLUSDT', 'FTTUSDT'];
    expect(delistedSymbols(ids, halted)).toEqual(['FTT/USDT', 'LUNA/USDT']);
    // Trading again: no longer delisted.
    expect(delistedSymbols(ids, halted.map((m) => (m.symbol === 'LUNA/USDT' ? { ...m, active: true } : m)))).toEqual(['FTT/USDT']);
  });

  it('leaves out stablecoins and leveraged tokens, delisted ones too, as the top N does', () => {
    const ids = ['BUSDUSDT', 'USTUSDT', 'PAXUSDT', 'BTCUPUSDT', 'ETHBEARUSDT', 'EOSUSDT', 'EOSDOWNUSDT', 'JUPUSDT', 'SUPERUSDT'];
    // EOSDOWN is leveraged because EOS, delisted itself, is a known base; JUP and SUPER are coins.
    expect(delistedSymbols(ids, markets)).toEqual(['EOS/USDT', 'JUP/USDT', 'SUPER/USDT']);
  });

  it('ignores ids no payload could carry, and names each coin once', () => {
    expect(delistedSymbols(['USDT', 'AVERYLONGNAMEOFACOIN12USDT', 'FTTUSDT', 'FTTUSDT'], markets)).toEqual(['FTT/USDT']);
  });

  it('reads the symbol of a listing\'s directory, monthly or daily, and nothing else', () => {
    expect(archiveIdOfDirectory('data/spot/monthly/klines/FTTUSDT/')).toBe('FTTUSDT');
    expect(archiveIdOfDirectory('data/spot/daily/klines/1INCHUSDT/')).toBe('1INCHUSDT');
    expect(archiveIdOfDirectory('data/spot/monthly/klines/FTTUSDT/1d/')).toBeUndefined();
    expect(archiveIdOfDirectory('data/futures/um/monthly/klines/FTTUSDT/')).toBeUndefined();
  });
});
