import { createSyncTarget } from '@ferry/shared/backup';
import { createServiceContext } from '@ferry/shared/jobs';
import { ferryRegistry, observeWorkerJobs, startMetricsServer } from '@ferry/shared/metrics';
import { startSyncWorker } from './sync-worker.js';

/** sync-worker: env -> config -> target -> worker and schedules; SIGTERM commits what is gathered and drains. */
const ctx = await createServiceContext('sync-worker');
const target = createSyncTarget(ctx.config.sync);
const sync = await startSyncWorker({ config: ctx.config, logger: ctx.logger, db: ctx.db, redis: ctx.redis, target });
ctx.lifecycle.add('sync worker', sync, (w) => w.close(ctx.config.download.shutdownGraceMs));
observeWorkerJobs(sync.worker);
if (ctx.config.metricsPort > 0) ctx.lifecycle.add('metrics server', await startMetricsServer(ctx.config.metricsPort, ferryRegistry), (m) => m.close());
