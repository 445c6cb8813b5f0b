import { chainFileSync, syncedAsTheyAre } from '../backup/chain-sync.js';
import { openExchange } from '../exchange/open-exchange.js';
import { JobName, QueueName } from '../jobs/names.js';
import type { CollectCandlesPayload } from '../jobs/payloads.js';
import type { FeatureDeps, WorkerFeature } from '../jobs/workers.js';
import { candlesStored, rateLimitPauses } from '../metrics/ferry-metrics.js';
import { countItemPause, finishItem, markItemRunning } from '../runs/run-store.js';
import { collectCandles, type CandleProgress } from './collect-candles.js';
import { candleItemKey } from './queue-collection.js';

/**
 * The collect-candles handler: one coin and timeframe of a run. One weight budget per exchange in Redis is shared
 * with every other worker process; a 429 or 418 pauses the queue for all of them (the runtime does that).
 */
export function collectFeature(deps: FeatureDeps): WorkerFeature {
  const { config, logger, db, producer } = deps;
  const sources = new Map<string, ReturnType<typeof openExchange>>();

  function sourceFor(exchangeId: string) {
    let entry = sources.get(exchangeId);
    if (!entry) {
      entry = (async () => {
        const opened = await openExchange({
          exchangeId,
          // EXCHANGE_URL points the configured exchange elsewhere (proxy, testnet, emulator).
          baseUrl: exchangeId === config.exchange.id ? config.exchange.baseUrl : undefined,
          timeoutMs: config.exchange.timeoutMs,
          headroom: config.exchange.headroom,
          redis: deps.redis,
          queuePrefix: config.redis.prefix,
          learnLimits: true,
          clockTtlMs: config.exchange.clockTtlMs,
          onLimited: (kind, ms) => logger.warn({ exchange: exchangeId, kind, retryAfterMs: ms }, 'exchange limited us'),
        });
        logger.info({ exchange: exchangeId, budget: opened.budget.current }, 'weight budget');
        return opened;
      })();
      entry.catch(() => sources.delete(exchangeId));
      sources.set(exchangeId, entry);
    }
    return entry;
  }

  return {
    handlers: {
      [JobName.CollectCandles]: {
        async run(payload: CollectCandlesPayload, ctx) {
          const item = candleItemKey(payload);
          await markItemRunning(db, payload.runId, item, ctx.job.attemptsMade + 1);
          const { source, budget } = await sourceFor(payload.exchange);
          ctx.alsoOnPause((ms) => budget.pauseFor(ms));
          const result = await collectCandles(payload, {
            db,
            source,
            dataDir: config.dataDir,
            signal: ctx.signal,
            chainSync: async (syncPayload) => {
              const id = await chainFileSync({ producer, db, sync: config.sync }, syncPayload);
              ctx.log(`chained sync job ${id}`);
            },
            syncedAsTheyAre: (files) => syncedAsTheyAre({ db, sync: config.sync }, files),
            progress: (p: CandleProgress) => ctx.progress({ ...p }, { force: p.phase !== 'fetching' || p.requests === 0 }),
            log: (message) => {
              logger.debug({ jobId: ctx.job.id }, message);
              ctx.log(message);
            },
          });
          // Archive files of this coin that failed for good (a flow's children): their days came from REST instead.
          const failedArchiveFiles = Object.values(await ctx.job.getIgnoredChildrenFailures());
          await finishItem(db, payload.runId, item, {
            status: result.status,
            records: result.records,
            expected: result.expected,
            missingRanges: result.missingRanges,
            details: {
              requests: result.requests, stored: result.stored, file: result.file?.relativePath ?? null,
              // A delisted coin: from archive files only (see collectCandlesPayload.archiveOnly).
              ...(payload.archiveOnly ? { archive_only: true } : {}),
              ...(result.reason ? { reason: result.reason } : {}),
              // The exchange's anomalies this job met, for `ferry status` (stored at their grid slot).
              ...(result.offGridCandles.length ? {
                off_grid_candles: result.offGridCandles.map((o) => ({
                  exchange_open_time: new Date(o.exchangeOpenTime).toISOString(), stored_at: new Date(o.storedAt).toISOString(),
                })),
              } : {}),
              ...(failedArchiveFiles.length > 0 ? { failedArchiveFiles } : {}),
            },
          });
          candlesStored.inc({ exchange: payload.exchange, timeframe: payload.timeframe }, result.stored);
          return result;
        },
        onPaused: async (payload, kind) => {
          rateLimitPauses.inc({ queue: QueueName.Candles, kind });
          await countItemPause(db, payload.runId, candleItemKey(payload));
        },
        onFinalFailure: (payload, reason) => finishItem(db, payload.runId, candleItemKey(payload), { status: 'failed', error: reason }),
      },
    },
  };
}
