import type { Redis } from 'ioredis';
import type { FerryConfig } from '../core/config/config.js';
import type { Pool } from '../postgres/pool.js';
import { JobProducer } from '../jobs/producer.js';
import { listMarketsAndVolumes, type CcxtCandleSource } from '../exchange/ccxt-candle-source.js';
import { openExchange } from '../exchange/open-exchange.js';
import { rankTopSymbols } from '../exchange/top-symbols.js';
import type { CollectCandlesPayload, CollectionMode } from '../jobs/payloads.js';
import { JobName } from '../jobs/names.js';
import { createOrReuseRun } from '../runs/run-store.js';
import { alignDown, type Timeframe } from '../core/timeframes.js';
import { ArchiveClient } from '../archive/archive-client.js';
import { archiveSymbol } from '../archive/layout.js';
import { planArchiveChildren, type ArchiveExtent } from '../archive/queue-archive-files.js';
import { ARCHIVE_EXCHANGES, includeDelistedProblem, usesArchive, type CollectSource } from '../archive/sources.js';
import type { RunRanking } from '../runs/run-ranking.js';
import { archiveIdOfDirectory, delistedSymbols } from './delisted-symbols.js';
import { givenRanking, topRanking } from './ranking.js';

const ARCHIVE_PERIODS = ['monthly', 'daily'] as const;

/** A validated collection request, from the CLI, the admin API or a schedule. */
export interface CollectRequest {
  exchange: string;
  top: number;
  minVolume: number;
  days: number;
  timeframes: Timeframe[];
  /** Unified symbols (BTC/USDT); undefined = the top N by quote volume. */
  symbols: string[] | undefined;
  mode: CollectionMode;
  startMs: number | undefined;
  endMs: number | undefined;
  /** Where history comes from (`ferry collect --source`); default rest (schedules, the admin API). */
  source?: CollectSource;
  /**
   * Adds the coins the exchange no longer trades (delisted, or BREAK) whose archive files lie in the range (`--include-delisted`), after
   * the top N; with `symbols`, admits named coins the archive has. Needs the archive.
   */
  includeDelisted?: boolean;
}

export interface CollectionContext {
  config: FerryConfig;
  db: Pool;
  redis: Redis;
}

const DAY_MS = 86_400_000;

export interface QueuedCollection {
  runId: string;
  reused: boolean;
  symbols: string[];
  /** Those of `symbols` the exchange no longer trades (delisted, or BREAK): from archive files only. */
  delisted: string[];
  jobs: number;
  /** Archive files queued under the collect jobs (0 with --source rest). */
  archiveFiles: number;
}

export class NothingToCollectError extends Error {}

/** A coin asked for by name that exchangeInfo lists, but not as trading, with the status it gives (BREAK). */
export interface NotTradingSymbol {
  symbol: string;
  status: string;
}

/**
 * Coins asked for by name that the exchange does not list, or lists as stopped (BREAK): the request is wrong, nothing
 * is queued. A stopped coin is refused rather than collected from REST: its candles end at the halt, so its item could
 * never be complete; `--include-delisted` takes its history from the archive's files, as a delisted coin's.
 */
export class UnlistedSymbolsError extends Error {
  constructor(readonly exchange: string, readonly symbols: readonly string[], readonly notTrading: readonly NotTradingSymbol[] = [],
    archiveAsked = false) {
    const problems = [
      ...(symbols.length > 0 ? [`does not list ${symbols.join(', ')}`] : []),
      ...(notTrading.length > 0 ? [`lists ${notTrading.map((n) => `${n.symbol} (${n.status})`).join(', ')} as not trading`] : []),
    ];
    const hint = archiveAsked ? ', or coins its archive has (--include-delisted)'
      : notTrading.length > 0 && ARCHIVE_EXCHANGES.includes(exchange)
        ? '; --include-delisted collects a coin that no longer trades from the archive\'s files' : '';
    super(`${exchange} ${problems.join(' and ')}: expected coins it trades (see its markets)${hint}`);
    this.name = 'UnlistedSymbolsError';
  }
}

/** The run item a candle job reports to: one per coin and timeframe of a run. */
export function candleItemKey(p: Pick<CollectCandlesPayload, 'exchange' | 'symbol' | 'timeframe'>): string {
  return `${p.exchange}:${p.symbol}:${p.timeframe}`;
}

/**
 * `include delisted` asked for with a source that cannot give a delisted coin's history: the request is wrong,
 * nothing is queued (the CLI exits 2, the admin API answers 400).
 */
export class DelistedNeedsArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DelistedNeedsArchiveError';
  }
}

/** The coins of a run, in the order of its ranking, and which of them the exchange no longer trades. */
interface ChosenCoins {
  symbols: string[];
  delisted: ReadonlySet<string>;
  ranking: RunRanking;
}

/**
 * Resolves the coins (given, or the top N from the exchange, plus with `includeDelisted` the delisted coins the
 * archive has), records the run with the ranking it used and enqueues one job per coin and timeframe. Nothing is
 * enqueued unless every step before succeeded.
 */
export async function queueCollection(request: CollectRequest, ctx: CollectionContext): Promise<QueuedCollection> {
  const { config } = ctx;
  const sourceOf = request.source ?? 'rest';
  const archive = usesArchive(sourceOf, request.exchange, config);
  if (request.includeDelisted) {
    const problem = includeDelistedProblem(sourceOf, request.exchange, config);
    if (problem) throw new DelistedNeedsArchiveError(`--include-delisted: ${problem}`);
  }
  const { source } = await openExchange({
    exchangeId: request.exchange,
    // EXCHANGE_URL, the one base URL the workers use too: what this asks (top N, clock) and what they fetch agree.
    baseUrl: request.exchange === config.exchange.id ? config.exchange.baseUrl : undefined,
    timeoutMs: config.exchange.timeoutMs,
    headroom: config.exchange.headroom,
    redis: ctx.redis,
    queuePrefix: config.redis.prefix,
    // The CLI's own requests (top N, clock) draw from the same budget, under the exchange's declared limits.
    learnLimits: true,
  });
  const archiveClient = archive ? new ArchiveClient({ baseUrl: config.archive.baseUrl, timeoutMs: config.exchange.timeoutMs }) : undefined;
  // "N days of history" counts back from the exchange's clock, from the start of that UTC day.
  const now = await source.now();
  const startMs = request.startMs ?? alignDown(now - request.days * DAY_MS, '1d');
  const endMs = request.endMs ?? null;
  const payloadsOf = (symbols: readonly string[]) => symbols.flatMap((symbol) =>
    request.timeframes.map((timeframe) => ({ exchange: request.exchange, symbol, timeframe, mode: request.mode, startMs, endMs })));

  const candidates = await chooseCoins(request, source, archiveClient, now);
  // With the archive, a coin's job is the parent of one job per archive file: it runs once they are in, and
  // fetches from REST only what they did not cover (a delisted coin: nothing).
  const planned = archiveClient
    ? await planArchiveChildren(payloadsOf(candidates.symbols), { db: ctx.db, archive: archiveClient, nowMs: now, delisted: candidates.delisted })
    : undefined;
  const chosen = planned && candidates.ranking.basis === 'top_quote_volume'
    ? keepDelistedInRange(candidates, payloadsOf(candidates.symbols), planned.extents)
    : candidates;
  if (chosen.symbols.length === 0) {
    throw new NothingToCollectError(
      `no USDT pair on ${request.exchange} has a 24h quote volume of at least ${request.minVolume} (--min-volume)` +
      (request.includeDelisted ? ', and no delisted coin\'s archive files lie in the range' : ''));
  }
  const base = payloadsOf(chosen.symbols);
  const params = {
    exchange: request.exchange, symbols: [...chosen.symbols].sort(), timeframes: [...request.timeframes].sort(),
    mode: request.mode, startMs, endMs, ...(archive ? { source: 'archive' } : {}),
    ...(request.includeDelisted ? { includeDelisted: true } : {}),
  };
  const { runId, reused } = await createOrReuseRun(ctx.db, 'candles', params, base.map(candleItemKey), chosen.ranking);
  const planOf = new Map(payloadsOf(candidates.symbols).map((p, i) => [candleItemKey(p), i]));
  const payloads: CollectCandlesPayload[] = base.map((b) => {
    const extent = planned?.extents[planOf.get(candleItemKey(b))!];
    return { runId, ...b, ...(chosen.delisted.has(b.symbol) && extent ? { archiveOnly: extent } : {}) };
  });
  const children = base.map((b) => (planned?.children[planOf.get(candleItemKey(b))!] ?? []).map((c) => ({ runId, ...c })));
  const producer = new JobProducer({ connection: ctx.redis, prefix: config.redis.prefix, attempts: config.jobs.attempts, retention: config.jobs.retention });
  let archiveFiles = 0;
  try {
    await producer.add(JobName.CollectCandles, payloads.filter((_, i) => children[i]!.length === 0));
    for (const [i, files] of children.entries()) {
      if (files.length === 0) continue;
      await producer.addFlow({ name: JobName.CollectCandles, data: payloads[i]! }, files.map((data) => ({ name: JobName.IngestArchiveFile, data })));
      archiveFiles += files.length;
    }
  } finally {
    await producer.close();
  }
  return { runId, reused, symbols: chosen.symbols, delisted: chosen.symbols.filter((s) => chosen.delisted.has(s)), jobs: payloads.length, archiveFiles };
}

/**
 * Given coins must be listed (or, with includeDelisted, in the archive, which makes those not trading delisted); else
 * the top N, then the delisted ones.
 */
async function chooseCoins(request: CollectRequest, source: CcxtCandleSource, archive: ArchiveClient | undefined, now: number): Promise<ChosenCoins> {
  if (request.symbols) {
    await source.loadMarkets();
    const listed = source.exchange.markets ?? {};
    const unlisted = request.symbols.filter((s) => listed[s] === undefined);
    // As in the top N's universe: a pair exchangeInfo lists as not trading (Binance BREAK) is delisted too.
    const halted = request.symbols.filter((s) => listed[s]?.active === false);
    const delisted = new Set<string>();
    if (request.includeDelisted && archive) {
      for (const symbol of [...unlisted, ...halted]) if (await archiveHasSymbol(archive, symbol)) delisted.add(symbol);
    }
    const unknown = unlisted.filter((s) => !delisted.has(s));
    // BREAK is how Binance keeps the pairs it stopped, many delisted for good. HALT, END_OF_DAY and CANCEL_ONLY are
    // pauses: REST collects such a coin as any other, its history up to the pause and after.
    const notTrading = halted.filter((s) => !delisted.has(s)).map((symbol) => ({ symbol, status: statusOf(listed[symbol]) }))
      .filter((n) => n.status === 'BREAK');
    if (unknown.length > 0 || notTrading.length > 0) {
      throw new UnlistedSymbolsError(request.exchange, unknown, notTrading, Boolean(request.includeDelisted));
    }
    return { symbols: request.symbols, delisted, ranking: givenRanking(request.symbols, delisted, now) };
  }
  const { markets, quoteVolumes } = await listMarketsAndVolumes(source);
  const top = rankTopSymbols(markets, quoteVolumes, { top: request.top, minQuoteVolume: request.minVolume });
  const delisted = request.includeDelisted && archive ? delistedSymbols(await archiveSymbolIds(archive), markets) : [];
  return {
    symbols: [...top.map((t) => t.symbol), ...delisted],
    delisted: new Set(delisted),
    ranking: topRanking(request.exchange, top, delisted, now),
  };
}

/** What exchangeInfo says of a market that does not trade (Binance: BREAK, HALT, ...). */
function statusOf(market: { info?: unknown } | undefined): string {
  const status = (market?.info as { status?: unknown } | undefined)?.status;
  return typeof status === 'string' ? status : 'inactive';
}

/** The archive's symbols (Binance ids): its directories of monthly and of daily klines. */
async function archiveSymbolIds(archive: ArchiveClient): Promise<string[]> {
  const directories = (await Promise.all(ARCHIVE_PERIODS.map((period) => archive.listDirectories(`data/spot/${period}/klines/`)))).flat();
  return [...new Set(directories.map(archiveIdOfDirectory).filter((id): id is string => id !== undefined))];
}

async function archiveHasSymbol(archive: ArchiveClient, symbol: string): Promise<boolean> {
  for (const period of ARCHIVE_PERIODS) {
    if ((await archive.listDirectories(`data/spot/${period}/klines/${archiveSymbol(symbol)}/`)).length > 0) return true;
  }
  return false;
}

/**
 * The top N's delisted coins are those with archive files in the range, in any of the run's timeframes: a coin
 * delisted before the range would only add items with nothing to collect. A timeframe without files in the range
 * still gets its item, which ends skipped with the reason.
 */
function keepDelistedInRange(chosen: ChosenCoins, payloads: readonly { symbol: string }[], extents: readonly ArchiveExtent[]): ChosenCoins {
  const inRange = new Set(payloads.filter((p, i) => chosen.delisted.has(p.symbol) && extents[i]!.covered !== null).map((p) => p.symbol));
  const symbols = chosen.symbols.filter((s) => !chosen.delisted.has(s) || inRange.has(s));
  const kept = new Set(symbols);
  return {
    symbols,
    delisted: inRange,
    ranking: { ...chosen.ranking, entries: chosen.ranking.entries.filter((e) => kept.has(e.symbol)).map((e, i) => ({ ...e, rank: i + 1 })) },
  };
}
