import type { Exchange } from 'ccxt';
import type { Candle, CandleSeries } from '../core/candle.js';
import { BannedError, DataValidationError, PermanentError, RateLimitedError, TransientError } from '../core/errors.js';
import type { Range } from '../core/range.js';
import { budgetFromDeclaredLimits, usedWeightHeaderName, type DeclaredRateLimit } from './rate-budget/declared-limits.js';
import type { BudgetLimits, WeightBudget } from './rate-budget/weight-budget.js';
import { timeframeMs } from '../core/timeframes.js';
import { answerShapeError, answerSnippet, MalformedKlineError, nonJsonAnswerError, OHLCV_ROW, ohlcvRowProblem } from './answer-checks.js';
import { classifyCcxtError } from './classify-ccxt-error.js';
import type { MarketSummary } from './top-symbols.js';

/** What a download job needs from an exchange; the worker is tested against this, not against ccxt. */
export interface CandleSource {
  readonly exchangeId: string;
  /** Most candles one request returns. */
  readonly pageLimit: number;
  /** The exchange's clock, which decides which candles are closed. */
  now(): Promise<number>;
  /**
   * Candles from page.start, ascending; may include candles past page.end (the caller keeps only the page). An answer
   * without a candle in the page is believed (the caller records the page as the exchange's hole) only when the
   * exchange showed it has nothing there; otherwise it is an error.
   */
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
  private markets: Promise<void> | undefined;
  /** ccxt keeps a failed or empty market load as its answer for good; after one, markets are loaded with reload. */
  private reloadMarkets = false;
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
      // ccxt turns both into ExchangeNotAvailable (transient), so every job would retry into them until its attempts
      // ran out; see refusedAccessError.
      const refused = refusedAccessError(exchange.id, code, body, retryAfterMs(headers));
      if (refused) throw refused;
      const handled = original(code, reason, url, method, headers, body, response, reqHeaders, reqBody);
      const unreadable = nonJsonAnswerError(exchange.id, { method, url }, { status: code, headers, body, json: response }) ??
        answerShapeError(exchange.id, { method, url }, { status: code, json: response });
      if (unreadable) throw unreadable;
      return handled;
    };
    // ccxt drops a row whose open time it cannot read and leaves other unreadable fields undefined; refuse the row
    // (and with it the page) instead. fetchPage names the coin and the page.
    const parseOHLCV = exchange.parseOHLCV.bind(exchange);
    exchange.parseOHLCV = (raw, market) => {
      if (raw === null || typeof raw !== 'object') throw new MalformedKlineError(raw, `expected ${OHLCV_ROW}`);
      const row = parseOHLCV(raw, market);
      const problem = ohlcvRowProblem(row);
      if (problem) throw new MalformedKlineError(raw, problem);
      return row;
    };
  }

  /**
   * Loads markets once per process (Binance: exchangeInfo, weight 20). A failed load is tried again by the next call,
   * and an empty market list is an error (transient: an exchange lists no markets only while something is wrong),
   * not a cached answer that would make every symbol "unknown" for the life of the process.
   */
  async loadMarkets(): Promise<void> {
    this.markets ??= (async () => {
      const markets = await this.exchange.loadMarkets(this.reloadMarkets);
      if (Object.keys(markets ?? {}).length === 0) {
        throw new TransientError(`${this.exchangeId} loadMarkets: the exchange listed no markets; trying again later`);
      }
    })().catch((err: unknown) => {
      this.markets = undefined;
      this.reloadMarkets = true;
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
      const rateLimits: unknown = (await this.call('exchangeInfo', () => api.publicGetExchangeInfo({ symbol: 'BTCUSDT' }))).rateLimits;
      // Only well-formed declarations count; anything else leaves ccxt's pace in charge.
      declared = Array.isArray(rateLimits) ? rateLimits.filter(isDeclaredRateLimit) : [];
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
    const what = `${this.exchangeId} ${series.symbol} ${series.timeframe} candles from ${new Date(page.start).toISOString()}`;
    let rows: Awaited<ReturnType<Exchange['fetchOHLCV']>>;
    try {
      // No end time: for a page without candles the answer then shows where the exchange's candles resume, which is
      // what tells a real hole (before a listing, an outage) from an answer that left candles out.
      rows = await this.call(`fetchOHLCV ${series.symbol} ${series.timeframe}`, () =>
        this.exchange.fetchOHLCV(series.symbol, series.timeframe, page.start, limit));
    } catch (err) {
      if (err instanceof MalformedKlineError) throw new DataValidationError(`${what}: ${err.message}`, { cause: err });
      throw err;
    }
    if (!Array.isArray(rows)) throw new PermanentError(`${what}: the OHLCV answer is not a list`);
    if (rows.length === 0 && this.exchange.markets?.[series.symbol]?.active !== false) {
      // A pair that is trading has at least its current, open candle after any page; nothing at all is not an answer.
      throw new TransientError(`${what}: the exchange answered no candles at all from then on, although ` +
        `${series.symbol} is trading; an incomplete answer, trying again later`);
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
  const markets: MarketSummary[] = Object.values(exchange.markets ?? {})
    .filter((m) => typeof m?.symbol === 'string' && typeof m.base === 'string' && typeof m.quote === 'string')
    .map((m) => {
      const info = (m.info ?? {}) as { permissions?: unknown; permissionSets?: unknown };
      const permissions = [info.permissions, info.permissionSets].flat(2).filter((p): p is string => typeof p === 'string');
      return {
        symbol: m.symbol, ...(typeof m.id === 'string' ? { id: m.id } : {}), base: m.base, quote: m.quote, spot: Boolean(m.spot),
        active: m.active !== false, permissions,
      };
    });
  let tickers: Awaited<ReturnType<Exchange['fetchTickers']>>;
  try {
    tickers = await exchange.fetchTickers();
  } catch (err) {
    throw classifyCcxtError(err, `${exchange.id} fetchTickers`);
  }
  const quoteVolumes = new Map<string, number>();
  for (const [symbol, t] of Object.entries(tickers ?? {})) {
    if (typeof t?.quoteVolume === 'number' && Number.isFinite(t.quoteVolume)) quoteVolumes.set(symbol, t.quoteVolume);
  }
  // Without volumes every coin ranks at 0: "the top N" would be an arbitrary N, or none at all. See answer-checks.ts
  // for why an empty list is transient and unreadable volumes are not.
  const count = Object.keys(tickers ?? {}).length;
  if (count === 0) {
    throw new TransientError(`${exchange.id} fetchTickers: the exchange answered no 24h tickers, so there is nothing to rank ` +
      `its ${markets.length} markets by; trying again later`);
  }
  if (quoteVolumes.size === 0) {
    throw new PermanentError(`${exchange.id} fetchTickers: none of the ${count} 24h tickers has a numeric quoteVolume ` +
      '(expected the 24h quote volume of each pair)');
  }
  return { markets, quoteVolumes };
}

/**
 * Answers that refuse this machine rather than the request (Binance REST docs, "HTTP Return Codes"):
 *  - 451: the exchange serves no one from this location. Asking again from here never works: permanent, and the
 *    message says what would (a proxy in an allowed region, through EXCHANGE_URL).
 *  - 403: a web application firewall rule was hit. Hammering it makes it worse: the queue pauses like a rate limit
 *    (for as long as a 429 without Retry-After, see retry-policy.ts).
 */
export function refusedAccessError(exchangeId: string, status: number, body: unknown, retryAfter: number | undefined) {
  if (status === 451) {
    const said = typeof body === 'string' && body.trim() ? `: ${answerSnippet(body, 160)}` : '';
    return new PermanentError(`${exchangeId} answered HTTP 451 (unavailable for legal reasons)${said}. The exchange refuses ` +
      'requests from this machine\'s location; retrying cannot help. Set EXCHANGE_URL to a proxy in a region the exchange serves');
  }
  if (status === 403) {
    return new RateLimitedError(`${exchangeId} answered HTTP 403 (its web application firewall refused the request); ` +
      'pausing before asking again', retryAfter);
  }
  return undefined;
}

function isDeclaredRateLimit(value: unknown): value is DeclaredRateLimit {
  const l = value as Partial<DeclaredRateLimit> | null;
  return l !== null && typeof l === 'object' && typeof l.rateLimitType === 'string' && typeof l.interval === 'string' &&
    Number.isSafeInteger(l.intervalNum) && l.intervalNum! > 0 && typeof l.limit === 'number' && Number.isFinite(l.limit);
}
