import type { Redis } from 'ioredis';
import type { FerryConfig } from '../core/config/config.js';
import type { Pool } from '../postgres/pool.js';
import { JobProducer } from '../jobs/producer.js';
import { listMarketsAndVolumes } from '../exchange/ccxt-candle-source.js';
import { openExchange } from '../exchange/open-exchange.js';
import { selectTopSymbols } from '../exchange/top-symbols.js';
import type { CollectCandlesPayload, CollectionMode } from '../jobs/payloads.js';
import { JobName } from '../jobs/names.js';
import { createOrReuseRun } from '../runs/run-store.js';
import { alignDown, type Timeframe } from '../core/timeframes.js';
import { ArchiveClient } from '../archive/archive-client.js';
import { planArchiveChildren, usesArchive, type CollectSource } from '../archive/queue-archive-files.js';

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
  jobs: number;
  /** Archive files queued under the collect jobs (0 with --source rest). */
  archiveFiles: number;
}

export class NothingToCollectError extends Error {}

/** Coins asked for by name that the exchange does not list: the request is wrong, nothing is queued. */
export class UnlistedSymbolsError extends Error {
  constructor(readonly exchange: string, readonly symbols: readonly string[]) {
    super(`${exchange} does not list ${symbols.join(', ')}: expected coins it trades (see its markets)`);
    this.name = 'UnlistedSymbolsError';
  }
}

/** The run item a candle job reports to: one per coin and timeframe of a run. */
export function candleItemKey(p: Pick<CollectCandlesPayload, 'exchange' | 'symbol' | 'timeframe'>): string {
  return `${p.exchange}:${p.symbol}:${p.timeframe}`;
}

/**
 * Resolves the coins (given, or the top N from the exchange), records the run and enqueues one job per coin and
 * timeframe. Nothing is enqueued unless every step before succeeded.
 */
export async function queueCollection(request: CollectRequest, ctx: CollectionContext): Promise<QueuedCollection> {
  const { config } = ctx;
  const archive = usesArchive(request.source ?? 'rest', request.exchange, config);
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
  // "N days of history" counts back from the exchange's clock, from the start of that UTC day.
  const now = await source.now();
  let symbols = request.symbols;
  if (symbols) {
    await source.loadMarkets();
    const listed = source.exchange.markets ?? {};
    const unlisted = symbols.filter((s) => !(s in listed));
    if (unlisted.length > 0) throw new UnlistedSymbolsError(request.exchange, unlisted);
  } else {
    const { markets, quoteVolumes } = await listMarketsAndVolumes(source);
    symbols = selectTopSymbols(markets, quoteVolumes, { top: request.top, minQuoteVolume: request.minVolume });
    if (symbols.length === 0) {
      throw new NothingToCollectError(
        `no USDT pair on ${request.exchange} has a 24h quote volume of at least ${request.minVolume} (--min-volume)`);
    }
  }
  const startMs = request.startMs ?? alignDown(now - request.days * DAY_MS, '1d');
  const endMs = request.endMs ?? null;
  const params = {
    exchange: request.exchange, symbols: [...symbols].sort(), timeframes: [...request.timeframes].sort(),
    mode: request.mode, startMs, endMs, ...(archive ? { source: 'archive' } : {}),
  };
  const base = symbols.flatMap((symbol) =>
    request.timeframes.map((timeframe) => ({ exchange: request.exchange, symbol, timeframe, mode: request.mode, startMs, endMs })));
  const { runId, reused } = await createOrReuseRun(ctx.db, 'candles', params, base.map(candleItemKey));
  const payloads: CollectCandlesPayload[] = base.map((b) => ({ runId, ...b }));
  const producer = new JobProducer({ connection: ctx.redis, prefix: config.redis.prefix, attempts: config.jobs.attempts, retention: config.jobs.retention });
  let archiveFiles = 0;
  try {
    // With the archive, a coin's job is the parent of one job per archive file: it runs once they are in, and
    // fetches from REST only what they did not cover.
    const { children } = archive
      ? await planArchiveChildren(payloads, { db: ctx.db, archive: new ArchiveClient({ baseUrl: config.archive.baseUrl, timeoutMs: config.exchange.timeoutMs }), nowMs: now })
      : { children: payloads.map(() => []) };
    await producer.add(JobName.CollectCandles, payloads.filter((_, i) => children[i]!.length === 0));
    for (const [i, files] of children.entries()) {
      if (files.length === 0) continue;
      await producer.addFlow({ name: JobName.CollectCandles, data: payloads[i]! }, files.map((data) => ({ name: JobName.IngestArchiveFile, data })));
      archiveFiles += files.length;
    }
  } finally {
    await producer.close();
  }
  return { runId, reused, symbols, jobs: payloads.length, archiveFiles };
}
