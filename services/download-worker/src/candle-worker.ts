import { Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { PermanentError, type FerryConfig, type Logger } from '@ferry/shared/core';
import { openExchange, type WeightBudget } from '@ferry/shared/exchange';
import { chainSyncJob, createQueue, failJob, ferryWorkerOptions, logWorkerEvents, JobName, parsePayload, QueueName, candleItemKey, type CollectCandlesPayload } from '@ferry/shared/jobs';
import { candlesStored, rateLimitPauses } from '@ferry/shared/metrics';
import { type Pool } from '@ferry/shared/postgres';
import { finishItem, markItemRunning } from '@ferry/shared/runs';
import { collectCandles, type CandleProgress, type CollectResult } from '@ferry/shared/collect';

/**
 * The candles queue's worker: BullMQ wiring around `collectCandles`. One weight budget per exchange in Redis is
 * shared with every other worker process; a 429 or 418 pauses the queue for all of them.
 */
export interface CandleWorkerDeps {
  config: FerryConfig;
  logger: Logger;
  db: Pool;
  /** A connection with maxRetriesPerRequest: null (BullMQ duplicates it for its blocking connection). */
  redis: Redis;
}

export interface RunningCandleWorker {
  worker: Worker;
  /** Stops taking jobs; active ones get `graceMs` to finish, then are handed back to the queue. */
  close(graceMs: number): Promise<void>;
}

const PROGRESS_INTERVAL_MS = 500;

export async function startCandleWorker(deps: CandleWorkerDeps): Promise<RunningCandleWorker> {
  const { config, logger, db, redis } = deps;
  const prefix = config.redis.prefix;
  const candleQueue = createQueue(QueueName.Candles, redis, prefix);
  const syncQueue = createQueue(QueueName.Sync, redis, prefix);
  const sources = new Map<string, ReturnType<typeof openExchange>>();
  const shutdown = new AbortController();

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
          redis,
          queuePrefix: prefix,
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

  async function processJob(job: Job, token?: string): Promise<CollectResult> {
    let payload: CollectCandlesPayload | undefined;
    let budget: WeightBudget | undefined;
    try {
      // A job added under another name (by hand, or by other code) is not run as if it were a collection.
      if (job.name !== JobName.CollectCandles) throw new PermanentError(`the candles queue has no handler for ${job.name} jobs`);
      payload = parsePayload(JobName.CollectCandles, job.data);
      const item = candleItemKey(payload);
      await markItemRunning(db, payload.runId, item, job.attemptsMade + 1);
      const resolved = await sourceFor(payload.exchange);
      budget = resolved.budget;
      let lastProgress = 0;
      const result = await collectCandles(payload, {
        db,
        source: resolved.source,
        dataDir: config.dataDir,
        signal: shutdown.signal,
        chainSync: async (syncPayload, contentHash) => {
          const id = await chainSyncJob(syncQueue, syncPayload, contentHash, config.download.attempts);
          await job.log(`chained sync job ${id}`);
        },
        progress: (p: CandleProgress) => {
          const now = Date.now();
          if (p.phase === 'fetching' && now - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = now;
          void job.updateProgress({ ...p }).catch(() => undefined);
        },
        log: (message) => {
          logger.debug({ jobId: job.id }, message);
          void job.log(message).catch(() => undefined);
        },
      });
      await finishItem(db, payload.runId, item, {
        status: result.status,
        records: result.records,
        expected: result.expected,
        missingRanges: result.missingRanges,
        details: { requests: result.requests, stored: result.stored, file: result.file?.relativePath ?? null },
      });
      candlesStored.inc({ exchange: payload.exchange, timeframe: payload.timeframe }, result.stored);
      return result;
    } catch (err) {
      const parsed = payload;
      throw await failJob(err, {
        job,
        token,
        queue: candleQueue,
        interrupted: shutdown.signal.aborted,
        store: db,
        pauseRequests: budget ? (ms) => budget!.pauseFor(ms) : undefined,
        onPaused: async (kind, ms) => {
          logger.warn({ jobId: job.id, kind, ms }, 'queue paused');
          rateLimitPauses.inc({ queue: QueueName.Candles, kind });
          await job.log(`${kind}: queue paused for ${Math.round(ms / 1000)} s`).catch(() => undefined);
          if (parsed) await countPause(db, parsed.runId, candleItemKey(parsed));
        },
        onFinalFailure: async (reason) => {
          logger.error({ jobId: job.id, reason }, 'job failed');
          if (parsed) await finishItem(db, parsed.runId, candleItemKey(parsed), { status: 'failed', error: reason });
        },
      });
    }
  }

  const worker = new Worker(QueueName.Candles, processJob, ferryWorkerOptions({
    connection: redis, prefix, concurrency: config.download.concurrency, lockMs: config.download.lockMs,
  }));
  logWorkerEvents(worker, logger, 'candle');

  return {
    worker,
    async close(graceMs: number) {
      const closing = worker.close();
      // After the grace period, running jobs stop between pages and go back to the queue; if one is stuck in a
      // request, the worker stops waiting for it a little later and its lock expiry hands it to another worker.
      const abortTimer = setTimeout(() => shutdown.abort(), graceMs);
      const forceTimer = setTimeout(() => void worker.close(true), graceMs + 5_000);
      await closing;
      clearTimeout(abortTimer);
      clearTimeout(forceTimer);
      await closeQueues([candleQueue, syncQueue]);
    },
  };
}

async function closeQueues(queues: Queue[]): Promise<void> {
  await Promise.all(queues.map((q) => q.close()));
}

async function countPause(db: Pool, runId: string, item: string): Promise<void> {
  await db.query(
    `UPDATE run_items SET details = jsonb_set(details, '{rate_limit_pauses}',
       to_jsonb(coalesce((details->>'rate_limit_pauses')::int, 0) + 1)) WHERE run_id = $1 AND item_key = $2`,
    [runId, item],
  );
}
