import ccxt, { type Exchange } from 'ccxt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCcxtExchange, lastUsedWeight, selectTopSymbols } from '@ferry/shared/exchange';
import { startBinanceEmulator, universe, type BinanceEmulator } from './index.js';

const NOW = Date.UTC(2026, 9, 20, 5, 30);

describe('createCcxtExchange', () => {
  it('refuses an exchange id ccxt does not know, naming it', async () => {
    await expect(createCcxtExchange({ exchangeId: 'binanse' })).rejects.toThrow('unknown exchange "binanse"');
  });

  it('points every REST URL at the base URL with its own path, spot only, without ccxt throttling', async () => {
    const ex = await createCcxtExchange({ exchangeId: 'binance', baseUrl: 'http://127.0.0.1:1234/', timeoutMs: 2_500 });
    const api = ex.urls.api as Record<string, string>;
    expect(api['public']).toBe('http://127.0.0.1:1234/api/v3');
    expect(api['private']).toBe('http://127.0.0.1:1234/api/v3');
    expect(api['sapi']).toBe('http://127.0.0.1:1234/sapi/v1');
    expect(api['fapiPublic']).toBe('http://127.0.0.1:1234/fapi/v1');
    expect(ex.enableRateLimit).toBe(false);
    expect(ex.timeout).toBe(2_500);
    expect(ex.options['fetchMarkets']).toMatchObject({ types: ['spot'] });
    expect((await createCcxtExchange({ exchangeId: 'binance' })).urls.api).toMatchObject({ public: 'https://api.binance.com/api/v3' });
  });
});

describe('Binance markets and tickers through ccxt', () => {
  let emu: BinanceEmulator;
  let ex: Exchange;
  beforeEach(async () => {
    emu = await startBinanceEmulator({ settings: { nowMs: NOW } });
    ex = await createCcxtExchange({ exchangeId: 'binance', baseUrl: emu.url });
  });
  afterEach(async () => emu.close());

  it('loads the spot markets with one exchangeInfo request; halted pairs are inactive', async () => {
    const markets = await ex.loadMarkets();
    const listed = universe({ nowMs: NOW });
    expect(Object.keys(markets).sort()).toEqual(listed.map((s) => `${s.base}/${s.quote}`).sort());
    expect(Object.values(markets).every((m) => m?.spot === true && m.type === 'spot')).toBe(true);
    expect(Object.values(markets).filter((m) => m?.quote === 'USDT')).toHaveLength(300 + 4 + 5 + 2);
    expect(markets['BTC/USDT']).toMatchObject({
      id: 'BTCUSDT', base: 'BTC', quote: 'USDT', active: true,
      precision: { price: 0.01, amount: 0.00001 }, limits: { cost: { min: 5 } },
    });
    expect(markets['SHIB/USDT']?.precision).toMatchObject({ price: 0.00000001, amount: 1 });
    expect(markets['LUNA/USDT']?.active).toBe(false);
    expect(markets['WAVES/USDT']?.active).toBe(false);
    expect(markets['ETH/BTC']).toMatchObject({ base: 'ETH', quote: 'BTC', active: true });
    expect(emu.control.snapshot()).toEqual({
      requests: 1, 'endpoint:/api/v3/exchangeInfo': 1, weight: 20, 'weight:/api/v3/exchangeInfo': 20, 'status:200': 1,
      maxWindowWeight: 20,
    });
    expect(lastUsedWeight(ex)).toBe(20);
  });

  it('serves every 24h ticker (weight 80) with the universe\'s quote volume', async () => {
    await ex.loadMarkets();
    const tickers = await ex.fetchTickers();
    const listed = universe({ nowMs: NOW });
    expect(Object.keys(tickers)).toHaveLength(listed.length);
    for (const info of listed) expect(tickers[`${info.base}/${info.quote}`]?.quoteVolume, info.symbol).toBe(info.quoteVolume);
    expect(emu.control.counter('weight:/api/v3/ticker/24hr')).toBe(80);
  });

  it('serves one ticker (weight 2) whose last price is the open 1m candle\'s close', async () => {
    await ex.loadMarkets();
    const eth = await ex.fetchTicker('ETH/USDT');
    const [minute] = emu.klines('ETHUSDT', '1m', { limit: 1 });
    expect(eth).toMatchObject({ symbol: 'ETH/USDT', quoteVolume: universe({ nowMs: NOW })[1]!.quoteVolume, timestamp: NOW });
    expect(eth.last).toBe(Number(minute![4]));
    expect(eth.high).toBeGreaterThanOrEqual(Math.max(eth.open!, eth.last!));
    expect(eth.low).toBeLessThanOrEqual(Math.min(eth.open!, eth.last!));
    expect(eth.baseVolume! * eth.vwap!).toBeCloseTo(eth.quoteVolume!, -3);
    expect(emu.control.counter('weight:/api/v3/ticker/24hr')).toBe(2);
  });

  it('serves a list of tickers by `symbols` (weight 2 up to 20 symbols)', async () => {
    await ex.loadMarkets();
    const tickers = await ex.fetchTickers(['BTC/USDT', 'SOL/USDT']);
    expect(Object.keys(tickers).sort()).toEqual(['BTC/USDT', 'SOL/USDT']);
    expect(emu.control.counter('weight:/api/v3/ticker/24hr')).toBe(2);
  });

  it('has a known top 250 by quote volume once stablecoins, leveraged tokens, halted and non-USDT pairs are left out', async () => {
    const markets = Object.values(await ex.loadMarkets()).map((m) => ({
      symbol: m!.symbol, base: m!.base, quote: m!.quote, spot: m!.spot === true, active: m!.active !== false,
      permissions: (m!.info as { permissionSets: string[][] }).permissionSets.flat(),
    }));
    const volumes = new Map(Object.values(await ex.fetchTickers()).map((t) => [t.symbol!, t.quoteVolume!] as const));
    const top = selectTopSymbols(markets, volumes, { top: 250, minQuoteVolume: 0 });
    expect(top).toEqual(universe({ nowMs: NOW }).slice(0, 250).map((s) => `${s.base}/USDT`));
    // Ranking by volume alone would have taken the traps first.
    const naive = [...volumes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([s]) => s);
    expect(naive).toEqual(['BTC/FDUSD', 'LUNA/USDT', 'USDC/USDT', 'FDUSD/USDT', 'BTCUP/USDT', 'BTCDOWN/USDT']);
  });

  it('filters exchangeInfo and tickers by symbol, symbols and symbolStatus as Binance does', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${emu.url}/api/v3/${path}`);
      return { status: res.status, body: (await res.json()) as unknown };
    };
    const pair = await get(`exchangeInfo?symbols=${encodeURIComponent('["ETHBTC","BTCUSDT"]')}`);
    expect((pair.body as { symbols: Array<{ symbol: string }> }).symbols.map((s) => s.symbol)).toEqual(['ETHBTC', 'BTCUSDT']);
    const halted = await get('exchangeInfo?symbolStatus=BREAK');
    expect((halted.body as { symbols: Array<{ symbol: string; status: string }> }).symbols)
      .toMatchObject([{ symbol: 'LUNAUSDT', status: 'BREAK' }, { symbol: 'WAVESUSDT', status: 'BREAK' }]);
    expect(await get('exchangeInfo?symbol=NOPEUSDT')).toEqual({ status: 400, body: { code: -1121, msg: 'Invalid symbol.' } });
    expect(await get('exchangeInfo?symbol=BTCUSDT&symbolStatus=TRADING'))
      .toEqual({ status: 400, body: { code: -1128, msg: 'Combination of optional parameters invalid.' } });
    expect((await get('exchangeInfo?symbols=BTCUSDT')).body).toMatchObject({ code: -1100 });
    const mini = await get('ticker/24hr?symbol=BTCUSDT&type=MINI');
    expect(Object.keys(mini.body as object)).toEqual(['symbol', 'openPrice', 'highPrice', 'lowPrice', 'lastPrice', 'volume',
      'quoteVolume', 'openTime', 'closeTime', 'firstId', 'lastId', 'count']);
    expect(await get('ticker/24hr?symbol=LUNAUSDT&symbolStatus=TRADING')).toEqual({
      status: 400, body: { code: -1220, msg: "The symbol's status does not match the requested symbolStatus." } });
    expect((await get('ticker/24hr?symbolStatus=BREAK')).body).toHaveLength(2);
  });

  it('answers unknown symbols with -1121, which ccxt raises as BadSymbol', async () => {
    const api = ex as unknown as { publicGetTicker24hr(p: object): Promise<unknown> };
    const err: unknown = await api.publicGetTicker24hr({ symbol: 'NOPEUSDT' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ccxt.BadSymbol);
    expect(String(err)).toContain('{"code":-1121,"msg":"Invalid symbol."}');
  });
});
