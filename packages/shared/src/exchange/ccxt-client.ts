import ccxt, { type Exchange } from 'ccxt';

export interface CcxtExchangeOptions {
  /** A ccxt exchange id with fetchOHLCV, e.g. binance. */
  exchangeId: string;
  /** Replaces the origin of every REST URL the exchange uses (proxy, testnet, emulator); paths are kept. */
  baseUrl?: string | undefined;
  timeoutMs?: number;
}

type UrlTree = string | { [key: string]: UrlTree };

function rebase(tree: UrlTree, base: string): UrlTree {
  if (typeof tree === 'string') {
    try {
      const u = new URL(tree);
      return `${base}${u.pathname === '/' ? '' : u.pathname}${u.search}`;
    } catch {
      return tree;
    }
  }
  return Object.fromEntries(Object.entries(tree).map(([k, v]) => [k, rebase(v, base)]));
}

/**
 * A ccxt exchange for public spot market data. ccxt's own throttling is left to ferry (the shared Redis weight
 * budget installs itself on top); markets are spot only, so loading them asks the exchange once (Binance:
 * exchangeInfo) instead of once per market type.
 */
export function createCcxtExchange(options: CcxtExchangeOptions): Exchange {
  const id = options.exchangeId;
  const ExchangeClass = (ccxt as unknown as Record<string, new (config: object) => Exchange>)[id];
  if (!ccxt.exchanges.includes(id) || typeof ExchangeClass !== 'function') {
    throw new Error(`unknown exchange ${JSON.stringify(id)}: expected a ccxt exchange id such as binance`);
  }
  const exchange = new ExchangeClass({
    enableRateLimit: false,
    timeout: options.timeoutMs ?? 15_000,
    options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] } },
  });
  if (!exchange.has['fetchOHLCV']) {
    throw new Error(`exchange ${JSON.stringify(id)} has no fetchOHLCV in ccxt: ferry cannot collect candles from it`);
  }
  if (options.baseUrl) {
    const base = options.baseUrl.replace(/\/+$/, '');
    const urls = exchange.urls as { api?: UrlTree };
    if (urls.api) urls.api = rebase(urls.api, base);
  }
  return exchange;
}
