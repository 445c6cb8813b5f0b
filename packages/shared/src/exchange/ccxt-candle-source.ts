import type { Exchange } from 'ccxt';
import type { Candle, CandleSeries } from '../candle.js';
import { BannedError, RateLimitedError, TransientError } from '../errors.js';
import type { Range } from '../candles/plan.js';
import { budgetFromDeclaredLimits, usedWeightHeaderName, type DeclaredRateLimit } from '../rate-limit/declared-limits.js';
import type { BudgetLimits, WeightBudget } from '../rate-limit/weight-budget.js';
import { timeframeMs } from '../timeframes.js';
import { classifyCcxtError } from './classify-ccxt-error.js';
import type { MarketSummary } from './top-symbols.js';

/** What a download job needs from an exchange; the worker is tested against this, not against ccxt. */
export interface CandleSource {
  readonly exchangeId: string;
  /** Most candles one request returns. */
  readonly pageLimit: number;
  /** The exchange's clock, which decides which candles are closed. */
  now(): Promise<number>;
  /** Candles from page.start, ascending; may include candles past page.end (the caller keeps only the page). */
  fetchPage(series: CandleSeries, page: Range): Promise<Candle[]>;
}

/**
 * ccxt expresses request cost in its own units; Binance weight = cost / 0.2 (ccxt's binance.js: "Weight(IP): 1 =>
 * cost = 0.2 * 1"). Other exchanges: one unit = one request of `rateLimit` ms.
 */
const WEIGHT_PER_COST: Record<string, number> = { binance: 5 };
/** Most candles per OHLCV request (Binance spot: 1000). */
const PAGE_LIMIT: Record<string, number> = { binance: 1000 };

export interface CcxtSourceOptions {
  budget: WeightBudget;
  headroom: number;
  /**
   * How long a measured offset between the exchange's clock and ours is trusted; 0 asks the exchange every time.
   * Caching saves one request per job (Binance /api/v3/time, weight 1).
   */
  clockTtlMs?: number;
  /** Called on every 429/418 the exchange answers, before the error is thrown (metrics, logs). */
  onLimited?: (kind: 'rate-limited' | 'banned', retryAfterMs: number | undefined) => void;
}

type Headers = Record<string, string | undefined>;

function header(headers: Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const value = header(headers, 'retry-after');
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/**
 * A ccxt exchange whose every request (markets, tickers, candles) draws from the shared Redis weight budget, and
 * whose 429/418 answers become RateLimitedError/BannedError carrying the exchange's Retry-After.
 */
export class CcxtCandleSource implements CandleSource {
  readonly exchangeId: string;
  readonly pageLimit: number;
  private readonly weightPerCost: number;
  private markets: Promise<unknown> | undefined;
  private clock: { offsetMs: number; measuredAt: number } | undefined;

  constructor(readonly exchange: Exchange, private readonly options: CcxtSourceOptions) {
    this.exchangeId = exchange.id;
    this.weightPerCost = WEIGHT_PER_COST[exchange.id] ?? 1;
    this.pageLimit = PAGE_LIMIT[exchange.id] ?? 500;
    this.installHooks();
  }

  /** Budget before the exchange's declared limits are known: ccxt's own pace for it, with headroom. */
  static bootstrapLimits(exchange: Exchange, headroom: number): BudgetLimits {
    const costPerMinute = 60_000 / Math.max(1, exchange.rateLimit ?? 1000);
    const weightPerCost = WEIGHT_PER_COST[exchange.id] ?? 1;
    return { windowMs: 60_000, limit: Math.max(1, Math.floor(costPerMinute * weightPerCost * headroom)) };
  }

  private installHooks(): void {
    const { budget } = this.options;
    const exchange = this.exchange;
    // ccxt calls throttle(cost) before every request when enableRateLimit is on; ours waits on the shared budget.
    exchange.enableRateLimit = true;
    exchange.throttle = async (cost) => {
      await budget.acquire((cost ?? 1) * this.weightPerCost);
    };
    const original = exchange.handleErrors.bind(exchange);
    const usedHeader = () => usedWeightHeaderName(budget.current.windowMs);
    exchange.handleErrors = (code, reason, url, method, headers: Headers, body, response, reqHeaders, reqBody) => {
      const used = Number(header(headers, usedHeader()) ?? header(headers, 'x-mbx-used-weight-1m'));
      if (Number.isFinite(used) && used > 0) void budget.observeUsed(used).catch(() => undefined);
      if (code === 429 || code === 418) {
        const wait = retryAfterMs(headers);
        this.options.onLimited?.(code === 418 ? 'banned' : 'rate-limited', wait);
        const text = `${exchange.id} answered HTTP ${code} (${code === 418 ? 'IP banned' : 'rate limited'})` +
          (wait !== undefined ? `, retry after ${Math.round(wait / 1000)} s` : '');
        throw code === 418 ? new BannedError(text, wait) : new RateLimitedError(text, wait);
      }
      return original(code, reason, url, method, headers, body, response, reqHeaders, reqBody);
    };
  }

  /** Loads markets once per process (Binance: exchangeInfo, weight 20), and adopts the declared weight limit. */
  async loadMarkets(): Promise<void> {
    this.markets ??= this.exchange.loadMarkets().catch((err: unknown) => {
      this.markets = undefined;
      throw classifyCcxtError(err, `${this.exchangeId} loadMarkets`);
    });
    await this.markets;
  }

  /**
   * The exchange's declared REQUEST_WEIGHT limit (Binance exchangeInfo.rateLimits) turned into ferry's budget, or
   * ccxt's pace for exchanges that declare none.
   */
  async declaredLimits(): Promise<BudgetLimits> {
    let declared: DeclaredRateLimit[] | undefined;
    if (this.exchangeId === 'binance') {
      // ccxt's loadMarkets does not keep exchangeInfo.rateLimits, so ask once (weight 20) with a filter that keeps
      // the answer small.
      const api = this.exchange as unknown as { publicGetExchangeInfo(p: object): Promise<{ rateLimits?: DeclaredRateLimit[] }> };
      declared = (await this.call('exchangeInfo', () => api.publicGetExchangeInfo({ symbol: 'BTCUSDT' }))).rateLimits;
    }
    return budgetFromDeclaredLimits(declared ?? [], this.options.headroom) ??
      CcxtCandleSource.bootstrapLimits(this.exchange, this.options.headroom);
  }

  async now(): Promise<number> {
    const ttl = this.options.clockTtlMs ?? 30_000;
    if (this.clock && Date.now() - this.clock.measuredAt < ttl) return Date.now() + this.clock.offsetMs;
    const sentAt = Date.now();
    const t = await this.call('fetchTime', () => this.exchange.fetchTime());
    if (typeof t !== 'number' || !Number.isFinite(t)) throw new TransientError(`${this.exchangeId} fetchTime returned ${String(t)}`);
    const receivedAt = Date.now();
    this.clock = { offsetMs: t - (sentAt + receivedAt) / 2, measuredAt: receivedAt };
    return t;
  }

  async fetchPage(series: CandleSeries, page: Range): Promise<Candle[]> {
    await this.loadMarkets();
    const step = timeframeMs(series.timeframe);
    const limit = Math.min(this.pageLimit, Math.ceil((page.end - page.start) / step));
    const rows = await this.call(`fetchOHLCV ${series.symbol} ${series.timeframe}`, () =>
      this.exchange.fetchOHLCV(series.symbol, series.timeframe, page.start, limit, { until: page.end - 1 }));
    if (!Array.isArray(rows)) {
      throw new TransientError(`${this.exchangeId} ${series.symbol} ${series.timeframe}: OHLCV answer is not a list`);
    }
    return rows.map((r) => ({
      openTime: Number(r[0]), open: Number(r[1]), high: Number(r[2]), low: Number(r[3]), close: Number(r[4]),
      volume: Number(r[5]),
    }));
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classifyCcxtError(err, `${this.exchangeId} ${what}`);
    }
  }
}

/** The exchange's spot markets and 24h quote volumes, for choosing the top N coins. */
export async function listMarketsAndVolumes(
  source: CcxtCandleSource,
): Promise<{ markets: MarketSummary[]; quoteVolumes: Map<string, number> }> {
  await source.loadMarkets();
  const exchange = source.exchange;
  const markets: MarketSummary[] = Object.values(exchange.markets ?? {}).map((m) => {
    const info = (m.info ?? {}) as { permissions?: unknown; permissionSets?: unknown };
    const permissions = [info.permissions, info.permissionSets].flat(2).filter((p): p is string => typeof p === 'string');
    return { symbol: m.symbol, base: m.base, quote: m.quote, spot: Boolean(m.spot), active: m.active !== false, permissions };
  });
  let tickers: Awaited<ReturnType<Exchange['fetchTickers']>>;
  try {
    tickers = await exchange.fetchTickers();
  } catch (err) {
    throw classifyCcxtError(err, `${exchange.id} fetchTickers`);
  }
  const quoteVolumes = new Map<string, number>();
  for (const [symbol, t] of Object.entries(tickers)) {
    if (typeof t.quoteVolume === 'number' && Number.isFinite(t.quoteVolume)) quoteVolumes.set(symbol, t.quoteVolume);
  }
  return { markets, quoteVolumes };
}
