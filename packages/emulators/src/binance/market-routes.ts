import type { EmulatorControl } from '../common/control.js';
import { klines, type KlineRow } from './candles.js';
import {
  badParameterCombination, illegalCharacters, invalidInterval, invalidParameter, invalidSymbol, invalidSymbolStatus,
  LONG_RANGE, mandatoryParameter, startAfterEnd, SYMBOL_RANGE, SYMBOLS_RANGE, symbolStatusMismatch,
} from './errors.js';
import { exchangeInfoJson } from './exchange-info.js';
import { klineInterval, parseTimeZone } from './intervals.js';
import { jsonReply, type Reply } from './reply.js';
import { parseSymbolList } from './request-weights.js';
import { BinanceCounter, BinanceFault, type BinanceSettings } from './settings.js';
import { ticker24hr } from './ticker.js';
import type { SymbolInfo } from './universe.js';

/** What a market-data handler sees: settings, the exchange clock and the symbols listed at it. */
export interface MarketContext {
  settings: BinanceSettings;
  now: number;
  symbols: ReadonlyMap<string, SymbolInfo>;
  control: EmulatorControl<BinanceSettings>;
  /** Path and query string, what `pathIncludes` of a fault is matched against. */
  target: string;
}

export interface MarketRoute {
  /** The parameters Binance reads; any other one is refused (-1104). */
  params: readonly string[];
  handle(ctx: MarketContext, query: URLSearchParams): Reply;
}

const STATUSES = ['TRADING', 'HALT', 'BREAK'];

type Parsed<T> = { value: T } | { error: Reply };

/** A `symbol` parameter: well-formed and listed. */
function oneSymbol(ctx: MarketContext, raw: string): Parsed<SymbolInfo> {
  if (!/^[A-Z0-9-_.]{1,20}$/.test(raw)) return { error: illegalCharacters('symbol', SYMBOL_RANGE) };
  const info = ctx.symbols.get(raw);
  return info ? { value: info } : { error: invalidSymbol() };
}

/** A `symbols` parameter: a JSON list of listed symbols. */
function manySymbols(ctx: MarketContext, raw: string): Parsed<SymbolInfo[]> {
  const names = parseSymbolList(raw);
  if (!names) return { error: illegalCharacters('symbols', SYMBOLS_RANGE) };
  const infos = names.map((n) => ctx.symbols.get(n));
  if (infos.some((i) => i === undefined)) return { error: invalidSymbol() };
  return { value: infos.filter((i): i is SymbolInfo => i !== undefined) };
}

/** `SPOT` or `["MARGIN","LEVERAGED"]`. */
function permissionList(raw: string): string[] | undefined {
  if (/^[A-Z_0-9]+$/.test(raw)) return [raw];
  const list = parseSymbolList(raw);
  return list && list.length > 0 ? list : undefined;
}

function exchangeInfo(ctx: MarketContext, q: URLSearchParams): Reply {
  const symbol = q.get('symbol');
  const symbols = q.get('symbols');
  const permissions = q.get('permissions');
  const status = q.get('symbolStatus');
  const show = q.get('showPermissionSets');
  if ((symbol !== null && symbols !== null) || ((symbol !== null || symbols !== null) && (status !== null || permissions !== null))) {
    return badParameterCombination();
  }
  if (show !== null && show !== 'true' && show !== 'false') return illegalCharacters('showPermissionSets', 'true, false');
  let chosen = [...ctx.symbols.values()];
  if (symbol !== null) {
    const one = oneSymbol(ctx, symbol);
    if ('error' in one) return one.error;
    chosen = [one.value];
  } else if (symbols !== null) {
    const many = manySymbols(ctx, symbols);
    if ('error' in many) return many.error;
    chosen = many.value;
  } else {
    // Without `permissions`, Binance lists symbols with SPOT, MARGIN or LEVERAGED.
    const wanted = permissions === null ? ['SPOT', 'MARGIN', 'LEVERAGED'] : permissionList(permissions);
    if (!wanted) return illegalCharacters('permissions', SYMBOLS_RANGE);
    chosen = chosen.filter((s) => s.permissions.some((p) => wanted.includes(p)));
    if (status !== null) {
      if (!STATUSES.includes(status)) return invalidSymbolStatus();
      chosen = chosen.filter((s) => s.status === status);
    }
  }
  if (ctx.control.takeFault(ctx.target, [BinanceFault.EmptyList])) chosen = [];
  const s = ctx.settings;
  return jsonReply(exchangeInfoJson({
    now: ctx.now, weightLimit: s.weightLimit, windowMs: s.windowMs, symbols: chosen, showPermissionSets: show !== 'false',
  }));
}

function ticker(ctx: MarketContext, q: URLSearchParams): Reply {
  const symbol = q.get('symbol');
  const symbols = q.get('symbols');
  const status = q.get('symbolStatus');
  const type = q.get('type') ?? 'FULL';
  if (symbol !== null && symbols !== null) return badParameterCombination();
  if (type !== 'FULL' && type !== 'MINI') return invalidParameter('type');
  if (status !== null && !STATUSES.includes(status)) return invalidSymbolStatus();
  if (symbol !== null) {
    const one = oneSymbol(ctx, symbol);
    if ('error' in one) return one.error;
    if (status !== null && one.value.status !== status) return symbolStatusMismatch();
    return jsonReply(ticker24hr(one.value, ctx.now, type));
  }
  let chosen = [...ctx.symbols.values()];
  if (symbols !== null) {
    const many = manySymbols(ctx, symbols);
    if ('error' in many) return many.error;
    chosen = many.value;
  }
  if (status !== null) chosen = chosen.filter((s) => s.status === status);
  if (ctx.control.takeFault(ctx.target, [BinanceFault.EmptyList])) chosen = [];
  return jsonReply(chosen.map((info) => ticker24hr(info, ctx.now, type)));
}

/** A LONG parameter; microseconds (16 digits) are accepted as Binance does and read as milliseconds. */
function timestamp(q: URLSearchParams, name: string): Parsed<number | undefined> {
  const raw = q.get(name);
  if (raw === null) return { value: undefined };
  if (!/^[0-9]{1,20}$/.test(raw) || !Number.isSafeInteger(Number(raw))) return { error: illegalCharacters(name, LONG_RANGE) };
  const n = Number(raw);
  return { value: n >= 1e15 ? Math.floor(n / 1000) : n };
}

function klinesRoute(ctx: MarketContext, q: URLSearchParams): Reply {
  const { control } = ctx;
  const symbol = q.get('symbol');
  const intervalName = q.get('interval');
  if (!symbol) return mandatoryParameter('symbol');
  if (!intervalName) return mandatoryParameter('interval');
  const one = oneSymbol(ctx, symbol);
  if ('error' in one) return one.error;
  const zone = q.get('timeZone');
  const offsetMs = zone === null ? 0 : parseTimeZone(zone);
  if (offsetMs === undefined) return invalidParameter('timeZone');
  const interval = klineInterval(intervalName, offsetMs);
  if (!interval) return invalidInterval();
  const limitRaw = q.get('limit');
  if (limitRaw !== null && !/^[0-9]{1,20}$/.test(limitRaw)) return illegalCharacters('limit', LONG_RANGE);
  const limit = limitRaw === null ? 500 : Number(limitRaw);
  // Binance: "Default: 500; Maximum: 1000."
  if (limit < 1 || limit > 1000) return invalidParameter('limit');
  const start = timestamp(q, 'startTime');
  if ('error' in start) return start.error;
  const end = timestamp(q, 'endTime');
  if ('error' in end) return end.error;
  if (start.value !== undefined && end.value !== undefined && start.value > end.value) return startAfterEnd();

  control.count(BinanceCounter.klines);
  control.count(BinanceCounter.klinesOf(symbol));
  if (control.takeFault(ctx.target, [BinanceFault.EmptyPage])) return jsonReply([]);
  let rows: KlineRow[] = klines(one.value, interval, { startTime: start.value, endTime: end.value, limit }, ctx.now,
    ctx.settings.outages, ctx.settings.offGridKlines);
  if (rows.length > 0 && control.takeFault(ctx.target, [BinanceFault.InvalidCandle])) {
    const i = Math.floor(rows.length / 2);
    const r = rows[i]!;
    rows = [...rows];
    rows[i] = [r[0], r[1], r[3], r[2], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]]; // high and low swapped
  }
  const malformed = rows.length > 0 ? control.takeFault(ctx.target, [BinanceFault.MalformedKline]) : undefined;
  if (malformed) {
    const i = Math.floor(rows.length / 2);
    const answer: unknown[] = [...rows];
    answer[i] = malformedKline(rows[i]!, malformed.params?.['shape']);
    return jsonReply(answer);
  }
  return jsonReply(rows);
}

/** One kline broken the way the `malformed-kline` fault's `params.shape` says (see settings.ts). */
function malformedKline(row: KlineRow, shape: unknown): unknown {
  switch (shape) {
    case 'short':
      return row.slice(0, 4);
    case 'text':
      return [row[0], 'n/a', 'n/a', 'n/a', 'n/a', ...row.slice(5)];
    case 'time-text':
      return ['yesterday', ...row.slice(1)];
    default:
      return null;
  }
}

/** The endpoints emulated, by path (all GET). Weights live in request-weights.ts. */
export const MARKET_ROUTES: Record<string, MarketRoute> = {
  '/api/v3/ping': { params: [], handle: () => jsonReply({}) },
  '/api/v3/time': { params: [], handle: (ctx) => jsonReply({ serverTime: ctx.now }) },
  '/api/v3/exchangeInfo': { params: ['symbol', 'symbols', 'permissions', 'showPermissionSets', 'symbolStatus'], handle: exchangeInfo },
  '/api/v3/ticker/24hr': { params: ['symbol', 'symbols', 'type', 'symbolStatus'], handle: ticker },
  '/api/v3/klines': { params: ['symbol', 'interval', 'startTime', 'endTime', 'timeZone', 'limit'], handle: klinesRoute },
};
