import { backupFeature, createSyncTarget } from '@ferry/shared/backup';
import { createServiceContext, startWorkers } from '@ferry/shared/jobs';
import { ferryRegistry, observeWorkerJobs, startMetricsServer } from '@ferry/shared/metrics';

/** sync-worker: env -> config -> target -> the sync handlers and their schedules; SIGTERM commits what is gathered and drains. */
const ctx = await createServiceContext('sync-worker');
const target = createSyncTarget(ctx.config.sync);
const workers = await startWorkers(ctx, [(deps) => backupFeature(deps, { target })]);
ctx.lifecycle.add('sync worker', workers, (w) => w.close(ctx.config.jobs.shutdownGraceMs));
for (const w of workers.workers) observeWorkerJobs(w);
if (ctx.config.metricsPort > 0) ctx.lifecycle.add('metrics server', await startMetricsServer(ctx.config.metricsPort, ferryRegistry), (m) => m.close());
