import { createServiceContext } from '@ferry/shared';
import { startCandleWorker } from './candle-worker.js';

/** download-worker: env -> config -> create -> start; SIGTERM drains within SHUTDOWN_GRACE_MS. */
const ctx = await createServiceContext('download-worker');
const candles = await startCandleWorker({ config: ctx.config, logger: ctx.logger, db: ctx.db, redis: ctx.redis });
ctx.lifecycle.add('candle worker', candles, (w) => w.close(ctx.config.download.shutdownGraceMs));
ctx.logger.info(
  { concurrency: ctx.config.download.concurrency, exchange: ctx.config.exchange.id, exchangeUrl: ctx.config.exchange.baseUrl ?? 'default' },
  'download worker started',
);
