import path from 'node:path';
import { chainFileSync } from '../backup/chain-sync.js';
import { JobName } from '../jobs/names.js';
import type { IngestArchiveFilePayload } from '../jobs/payloads.js';
import type { FeatureDeps, WorkerFeature } from '../jobs/workers.js';
import { ArchiveClient } from './archive-client.js';
import { ingestArchiveFile, type ArchiveFileResult } from './ingest-archive-file.js';

/**
 * The ingest-archive-file handler: one file of Binance's archive, a child of its coin's collect-candles job. A file
 * that fails for good (a checksum that never matches, rows that break the candle checks) stores nothing; its parent
 * runs without it and fetches its period from REST.
 */
export function archiveFeature(deps: FeatureDeps): WorkerFeature {
  const { config, db, logger, producer } = deps;
  const archive = new ArchiveClient({ baseUrl: config.archive.baseUrl, timeoutMs: config.exchange.timeoutMs });
  const workDir = path.join(config.dataDir, 'cache', 'archive');
  return {
    handlers: {
      [JobName.IngestArchiveFile]: {
        run: (payload: IngestArchiveFilePayload, ctx): Promise<ArchiveFileResult> => ingestArchiveFile(payload, {
          db, archive, workDir, signal: ctx.signal,
          files: {
            dataDir: config.dataDir,
            chainSync: async (syncPayload) => void ctx.log(`chained sync job ${await chainFileSync({ producer, db, sync: config.sync }, syncPayload)}`),
          },
          log: (message) => {
            logger.debug({ jobId: ctx.job.id }, message);
            ctx.log(message);
          },
        }),
        onFinalFailure: async (payload, reason) => void logger.warn({ key: payload.key, runId: payload.runId, reason }, 'archive file failed; its period falls to REST'),
      },
    },
  };
}
