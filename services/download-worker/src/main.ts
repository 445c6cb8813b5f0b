import { restoreCandles, createSyncTarget } from '@ferry/shared/backup';
import { collectFeature } from '@ferry/shared/collect';
import { sweepStaleTempFiles } from '@ferry/shared/core';
import { createServiceContext, startWorkers } from '@ferry/shared/jobs';
import { ferryRegistry, observeWorkerJobs, startMetricsServer } from '@ferry/shared/metrics';
import { preloadFeature } from '@ferry/shared/preload';
import { archiveFeature } from '@ferry/shared/archive';

/** download-worker: env -> config -> create -> start; SIGTERM drains within SHUTDOWN_GRACE_MS. */
const ctx = await createServiceContext('download-worker');

// Temp files of writes that a crash cut short (Parquet files, cached flat files): an hour old is long dead.
let swept = 0;
// One after the other: the cache is usually inside the data dir, and what the first sweep removed is not counted twice.
for (const dir of new Set([ctx.config.dataDir, ctx.config.s3.cacheDir])) swept += await sweepStaleTempFiles(dir, 60 * 60_000);
if (swept > 0) ctx.logger.info({ files: swept }, 'removed temp files left by interrupted writes');

if (ctx.config.sync.restoreOnStartup) {
  // One restore however many workers start together: the others wait for it (a lock in Redis), then go on.
  const lockKey = `${ctx.config.redis.prefix}:restore-lock`;
  const acquired = await ctx.redis.set(lockKey, String(process.pid), 'PX', 30 * 60_000, 'NX');
  if (acquired) {
    try {
      const result = await restoreCandles({
        target: createSyncTarget(ctx.config.sync),
        db: ctx.db,
        dataDir: ctx.config.dataDir,
        exchange: ctx.config.exchange.id,
        log: (line) => ctx.logger.info(line),
      });
      ctx.logger.info({ files: result.files, inserted: result.inserted, failed: result.failed.length }, 'restore finished');
    } finally {
      await ctx.redis.del(lockKey);
    }
  } else {
    ctx.logger.info('another worker is restoring the candle cache; waiting for it');
    while (await ctx.redis.exists(lockKey)) await new Promise((r) => setTimeout(r, 1_000));
  }
}

// The handler table: candles of exchanges (with the files of their archives), and the flat files of preloads with the
// step that finishes them.
const workers = await startWorkers(ctx, [collectFeature, archiveFeature, preloadFeature]);
ctx.lifecycle.add('download workers', workers, (w) => w.close(ctx.config.jobs.shutdownGraceMs));
for (const w of workers.workers) observeWorkerJobs(w);
if (ctx.config.metricsPort > 0) ctx.lifecycle.add('metrics server', await startMetricsServer(ctx.config.metricsPort, ferryRegistry), (m) => m.close());
ctx.logger.info(
  { concurrency: ctx.config.download.concurrency, exchange: ctx.config.exchange.id, exchangeUrl: ctx.config.exchange.baseUrl ?? 'default' },
  'download worker started',
);
