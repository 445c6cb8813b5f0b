import type http from 'node:http';
import type { EmulatorControl } from '../common/control.js';
import type { EmulatorRequest } from '../common/http-server.js';
import { INTERVALS, klines, type KlineRow } from './candles.js';
import type { BinanceSettings } from './settings.js';
import { universe, type SymbolInfo } from './universe.js';
import { intervalOf, requestWeight, usedWeightHeader, type WeightLimiter } from './weight-limiter.js';

export interface BinanceState {
  control: EmulatorControl<BinanceSettings>;
  limiter: WeightLimiter;
  /** Universe cache, rebuilt when coinCount changes. */
  symbols(): Map<string, SymbolInfo>;
}

const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
};

/** Binance's error body: {"code": -1121, "msg": "Invalid symbol."}, HTTP 400 for request errors. */
const binanceError = (res: http.ServerResponse, code: number, msg: string, headers: Record<string, string> = {}) =>
  json(res, 400, { code, msg }, headers);

const mandatory = (name: string) => `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`;

function forcedLimit(limiter: WeightLimiter, retryAfterMs: number) {
  limiter.markLimited(retryAfterMs);
  return { kind: 'limited' as const, used: 0, retryAfterMs };
}

export function now(settings: BinanceSettings): number {
  return settings.nowMs ?? Date.now();
}

export async function handleBinance(state: BinanceState, req: EmulatorRequest, res: http.ServerResponse): Promise<void> {
  const { control } = state;
  const s = control.settings;
  const known = ['/api/v3/ping', '/api/v3/time', '/api/v3/exchangeInfo', '/api/v3/ticker/24hr', '/api/v3/klines'];
  if (!known.includes(req.path)) {
    control.count('status:404');
    return json(res, 404, { code: -1000, msg: `emulator: no route ${req.method} ${req.path}` });
  }
  control.count(`endpoint:${req.path}`);

  const weight = requestWeight(req.path, req.query);
  const forced = control.takeFault(req.path, ['rate-limit', 'ban']);
  const verdict = forced?.name === 'ban'
    ? (state.limiter.ban(Date.now() + Number(forced.params?.['banMs'] ?? s.banMs)), state.limiter.charge(0, s.weightLimit, s.windowMs, s.banMs, s.violationsBeforeBan))
    : forced?.name === 'rate-limit'
      ? forcedLimit(state.limiter, Number(forced.params?.['retryAfterSeconds'] ?? 1) * 1000)
      : state.limiter.charge(weight, s.weightLimit, s.windowMs, s.banMs, s.violationsBeforeBan);
  if (verdict.kind === 'banned') {
    control.count('status:418');
    const retryAfter = String(Math.max(1, Math.ceil((verdict.bannedUntil - Date.now()) / 1000)));
    res.writeHead(418, { 'content-type': 'application/json;charset=UTF-8', 'retry-after': retryAfter });
    res.end(JSON.stringify({
      code: -1003,
      msg: `Way too much request weight used; IP banned until ${verdict.bannedUntil}. Please use WebSocket Streams for live updates to avoid bans.`,
    }));
    return;
  }
  if (verdict.kind === 'limited') {
    control.count('status:429');
    const { interval, intervalNum } = intervalOf(s.windowMs);
    res.writeHead(429, {
      'content-type': 'application/json;charset=UTF-8',
      'retry-after': String(Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))),
      [usedWeightHeader(s.windowMs)]: String(verdict.used),
    });
    res.end(JSON.stringify({
      code: -1003,
      msg: `Too much request weight used; current limit is ${s.weightLimit} request weight per ${intervalNum} ${interval}. Please use WebSocket Streams for live updates to avoid polling the API.`,
    }));
    return;
  }
  control.count('weight', weight);
  control.counters.set('maxWindowWeight', state.limiter.maxWindowWeight);
  const headers = { [usedWeightHeader(s.windowMs)]: String(verdict.used) };

  const fault = control.takeFault(req.path, ['server-error', 'connection-reset', 'html', 'empty-page', 'wrong-types']);
  if (fault?.name === 'connection-reset') {
    req.raw.socket.destroy();
    return;
  }
  if (fault?.name === 'server-error') {
    res.writeHead(Number(fault.params?.['status'] ?? 502), { 'content-type': 'text/html' });
    res.end('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>');
    return;
  }
  if (fault?.name === 'html') {
    res.writeHead(200, { 'content-type': 'text/html', ...headers });
    res.end('<!DOCTYPE html><html><body>Maintenance</body></html>');
    return;
  }

  switch (req.path) {
    case '/api/v3/ping':
      return json(res, 200, {}, headers);
    case '/api/v3/time':
      return json(res, 200, { serverTime: now(s) }, headers);
    case '/api/v3/exchangeInfo':
      return exchangeInfo(state, req, res, headers);
    case '/api/v3/ticker/24hr':
      return ticker(state, req, res, headers);
    default:
      return klinesRoute(state, req, res, headers, fault?.name === 'empty-page', fault?.name === 'wrong-types');
  }
}

function exchangeInfo(state: BinanceState, req: EmulatorRequest, res: http.ServerResponse, headers: Record<string, string>) {
  const s = state.control.settings;
  const all = state.symbols();
  let chosen = [...all.values()];
  const one = req.query.get('symbol');
  const many = req.query.get('symbols');
  if (one !== null) {
    const info = all.get(one);
    if (!info) return binanceError(res, -1121, 'Invalid symbol.', headers);
    chosen = [info];
  } else if (many !== null) {
    const names = parseSymbolList(many);
    if (!names) return binanceError(res, -1100, "Illegal characters found in parameter 'symbols'; legal range is '^\\[(\"[A-Z0-9-_.]{1,20}\"(,\"[A-Z0-9-_.]{1,20}\"){0,}){0,1}\\]$'.", headers);
    const missing = names.filter((n) => !all.has(n));
    if (missing.length) return binanceError(res, -1121, 'Invalid symbol.', headers);
    chosen = names.map((n) => all.get(n)!);
  }
  const { interval, intervalNum } = intervalOf(s.windowMs);
  return json(res, 200, {
    timezone: 'UTC',
    serverTime: now(s),
    rateLimits: [
      { rateLimitType: 'REQUEST_WEIGHT', interval, intervalNum, limit: s.weightLimit },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
      { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
      { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
    ],
    exchangeFilters: [],
    symbols: chosen.map(symbolInfoJson),
  }, headers);
}

function symbolInfoJson(info: SymbolInfo) {
  const tick = info.basePrice < 1 ? '0.00000001' : '0.01000000';
  return {
    symbol: info.symbol,
    status: info.status,
    baseAsset: info.base,
    baseAssetPrecision: 8,
    quoteAsset: info.quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    otoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: info.kind === 'coin',
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: tick, maxPrice: '1000000.00000000', tickSize: tick },
      { filterType: 'LOT_SIZE', minQty: '0.00001000', maxQty: '9000.00000000', stepSize: '0.00001000' },
      { filterType: 'NOTIONAL', minNotional: '5.00000000', applyMinToMarket: true, maxNotional: '9000000.00000000', applyMaxToMarket: false, avgPriceMins: 5 },
    ],
    permissions: [],
    permissionSets: [info.permissions],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

function parseSymbolList(raw: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) && parsed.every((p) => typeof p === 'string' && /^[A-Z0-9-_.]{1,20}$/.test(p)) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function ticker(state: BinanceState, req: EmulatorRequest, res: http.ServerResponse, headers: Record<string, string>) {
  const s = state.control.settings;
  const all = state.symbols();
  const t = now(s);
  const one = req.query.get('symbol');
  const many = req.query.get('symbols');
  let chosen = [...all.values()];
  if (one !== null) {
    const info = all.get(one);
    if (!info) return binanceError(res, -1121, 'Invalid symbol.', headers);
    return json(res, 200, tickerJson(info, t), headers);
  }
  if (many !== null) {
    const names = parseSymbolList(many);
    if (!names || names.some((n) => !all.has(n))) return binanceError(res, -1121, 'Invalid symbol.', headers);
    chosen = names.map((n) => all.get(n)!);
  }
  return json(res, 200, chosen.map((info) => tickerJson(info, t)), headers);
}

function tickerJson(info: SymbolInfo, t: number) {
  const price = info.basePrice;
  const volume = info.quoteVolume / price;
  const f = (n: number) => n.toFixed(8);
  return {
    symbol: info.symbol, priceChange: f(price * 0.01), priceChangePercent: '1.000', weightedAvgPrice: f(price),
    prevClosePrice: f(price * 0.99), lastPrice: f(price), lastQty: '1.00000000', bidPrice: f(price * 0.999),
    bidQty: '10.00000000', askPrice: f(price * 1.001), askQty: '10.00000000', openPrice: f(price * 0.99),
    highPrice: f(price * 1.02), lowPrice: f(price * 0.98), volume: f(volume), quoteVolume: f(info.quoteVolume),
    openTime: t - 86_400_000, closeTime: t, firstId: 1, lastId: 1001, count: 1000,
  };
}

function klinesRoute(state: BinanceState, req: EmulatorRequest, res: http.ServerResponse, headers: Record<string, string>,
  empty: boolean, wrongTypes: boolean) {
  const { control } = state;
  const s = control.settings;
  const symbol = req.query.get('symbol');
  const interval = req.query.get('interval');
  if (!symbol) return binanceError(res, -1102, mandatory('symbol'), headers);
  if (!interval) return binanceError(res, -1102, mandatory('interval'), headers);
  const info = state.symbols().get(symbol);
  if (!info) return binanceError(res, -1121, 'Invalid symbol.', headers);
  const intervalMs = INTERVALS[interval];
  if (intervalMs === undefined) return binanceError(res, -1120, 'Invalid interval.', headers);
  const limitRaw = req.query.get('limit');
  const limit = limitRaw === null ? 500 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    return binanceError(res, -1130, "Data sent for parameter 'limit' is not valid.", headers);
  }
  const num = (name: string) => {
    const v = req.query.get(name);
    return v === null ? undefined : Number(v);
  };
  const startTime = num('startTime');
  const endTime = num('endTime');
  for (const [name, v] of [['startTime', startTime], ['endTime', endTime]] as const) {
    if (v !== undefined && !Number.isSafeInteger(v)) {
      return binanceError(res, -1100, `Illegal characters found in parameter '${name}'; legal range is '^[0-9]{1,20}$'.`, headers);
    }
  }
  if (startTime !== undefined && endTime !== undefined && startTime > endTime) {
    return binanceError(res, -1023, 'Start time is greater than end time.', headers);
  }
  control.count('klines');
  control.count(`klines:${symbol}`);
  if (empty) return json(res, 200, [], headers);
  let rows: KlineRow[] = klines(info, intervalMs, { startTime, endTime, limit }, now(s), s.outages);
  // pathIncludes can name the symbol: `{ name: 'invalid-candle', pathIncludes: 'ETHUSDT' }`.
  const corrupt = control.takeFault(`${req.path}?symbol=${symbol}`, ['invalid-candle']);
  if (corrupt && rows.length > 0) {
    const i = Math.floor(rows.length / 2);
    const r = rows[i]!;
    rows = [...rows];
    rows[i] = [r[0], r[1], r[3], r[2], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]]; // high and low swapped
  }
  if (wrongTypes) return json(res, 200, rows.map((r) => ({ openTime: r[0], open: r[1] })), headers);
  return json(res, 200, rows, headers);
}

export function buildSymbolMap(coinCount: number): Map<string, SymbolInfo> {
  return new Map(universe(coinCount).map((i) => [i.symbol, i]));
}
