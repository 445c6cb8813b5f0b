import { rm } from 'node:fs/promises';
import type { TestDatabase } from '../../test/support/database.js';
import type { ServiceProcess } from '../../test/support/processes.js';
import { deleteKeys } from '../../test/support/redis.js';
import type { ProcessSampler } from './process-stats.js';

/** What one measured run against a spawned download worker holds, to release when the run ends, however it ends. */
export interface WorkerRunResources {
  sampler: ProcessSampler;
  worker: ServiceProcess;
  emulator: { close(): Promise<void> };
  prefix: string;
  db: TestDatabase;
  /** The worker's DATA_DIR, removed last. */
  dataDir?: string;
}

/** Releases a run's resources, the last started first: the worker goes before the emulator and the stores it uses. */
export async function releaseWorkerRun(run: WorkerRunResources): Promise<void> {
  run.sampler.stop();
  run.worker.kill('SIGTERM');
  await run.worker.exited;
  await run.emulator.close();
  await deleteKeys(run.prefix);
  await run.db.drop();
  if (run.dataDir) await rm(run.dataDir, { recursive: true, force: true });
}
