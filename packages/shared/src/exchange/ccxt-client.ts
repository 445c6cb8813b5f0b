import type { Exchange } from 'ccxt';
import { PermanentError } from '../core/errors.js';
import { jsonSnippet } from './answer-checks.js';
import { loadCcxt } from './ccxt-module.js';

export interface CcxtExchangeOptions {
  /** A ccxt exchange id with fetchOHLCV, e.g. `binance`. */
  exchangeId: string;
  /**
   * Where the exchange's REST API is reached instead of its own host (proxy, testnet, emulator), e.g.
   * `http://127.0.0.1:18081`: each REST URL keeps its path, so Binance's public spot API becomes
   * `<baseUrl>/api/v3`. A path in baseUrl is kept as a prefix. Default: the exchange's own URLs.
   */
  baseUrl?: string | undefined;
  /** Per-request timeout in ms. Default 15 000. */
  timeoutMs?: number;
}

type ExchangeClass = new (config: Record<string, unknown>) => Exchange;

const REST_ORIGIN = /^https?:\/\/[^/]+/i;

/** Every http(s) URL in ccxt's `urls.api` tree with its origin replaced; websocket URLs and other values untouched. */
function rebaseUrls(tree: unknown, base: string): unknown {
  if (typeof tree === 'string') return REST_ORIGIN.test(tree) ? `${base}${tree.replace(REST_ORIGIN, '')}` : tree;
  if (tree !== null && typeof tree === 'object' && !Array.isArray(tree)) {
    return Object.fromEntries(Object.entries(tree).map(([key, value]) => [key, rebaseUrls(value, base)]));
  }
  return tree;
}

/**
 * Spot markets only, so that loading markets asks the exchange once (Binance: GET /api/v3/exchangeInfo, weight 20)
 * rather than once per market type. ccxt exchanges spell this `options.fetchMarkets` as a list of types or as
 * `{ types: [...] }` (Binance); margin pairs and currencies (Binance: sapi endpoints, with API keys) are not needed.
 */
function restrictToSpot(options: Record<string, unknown>): void {
  if (typeof options['defaultType'] === 'string') options['defaultType'] = 'spot';
  const fetchMarkets = options['fetchMarkets'];
  if (Array.isArray(fetchMarkets)) {
    options['fetchMarkets'] = ['spot'];
  } else if (fetchMarkets !== null && typeof fetchMarkets === 'object' && Array.isArray((fetchMarkets as { types?: unknown }).types)) {
    options['fetchMarkets'] = { ...fetchMarkets, types: ['spot'] };
  }
  for (const name of ['fetchMargins', 'fetchCurrencies']) {
    if (typeof options[name] === 'boolean') options[name] = false;
  }
}

/**
 * A ccxt exchange for public spot market data. ccxt's own throttling is off (`enableRateLimit: false`): ferry
 * paces every request against the weight budget it shares through Redis (CcxtCandleSource installs it).
 * Throws for an id ccxt does not know, or an exchange without OHLCV.
 */
export async function createCcxtExchange(options: CcxtExchangeOptions): Promise<Exchange> {
  const ccxt = await loadCcxt();
  const id = options.exchangeId;
  const candidate = (ccxt as unknown as Record<string, unknown>)[id];
  // Permanent: a job naming an exchange ccxt does not have fails once, with the (shortened) id, never retried.
  if (!ccxt.exchanges.includes(id) || typeof candidate !== 'function') {
    throw new PermanentError(`unknown exchange ${jsonSnippet(id, 60)}: expected a ccxt exchange id such as binance`);
  }
  const exchange = new (candidate as ExchangeClass)({ enableRateLimit: false, timeout: options.timeoutMs ?? 15_000 });
  if (!exchange.has['fetchOHLCV']) {
    throw new PermanentError(`exchange ${JSON.stringify(id)} has no fetchOHLCV in ccxt: ferry cannot collect candles from it`);
  }
  restrictToSpot(exchange.options);
  if (options.baseUrl) {
    const base = options.baseUrl.replace(/\/+$/, '');
    exchange.urls.api = rebaseUrls(exchange.urls.api, base) as typeof exchange.urls.api;
  }
  return exchange;
}

/**
 * A header of the exchange's last HTTP answer, any case (ccxt keeps them in `last_response_headers`, keys
 * capitalized: `X-Mbx-Used-Weight-1m`, `Retry-After`). Also set when the answer was an error such as 429, since
 * ccxt stores them before it raises. With concurrent requests on one exchange object, "last" is whichever finished
 * last.
 */
export function lastResponseHeader(exchange: Exchange, name: string): string | undefined {
  const headers = exchange.last_response_headers;
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === wanted && typeof value === 'string') return value;
  }
  return undefined;
}

/**
 * The request weight Binance says this IP used, from the last answer's `X-MBX-USED-WEIGHT-1M` (or another window's
 * header, e.g. `X-MBX-USED-WEIGHT-10S`). Undefined when the answer had no such header (another exchange, a gateway
 * error, no request yet).
 */
export function lastUsedWeight(exchange: Exchange, header = 'X-MBX-USED-WEIGHT-1M'): number | undefined {
  const value = lastResponseHeader(exchange, header);
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}
