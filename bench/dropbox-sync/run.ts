/**
 * Dropbox sync benchmark: 1,000 small candle files (chained sync-file jobs) and one 1 GiB file (a directory sync of
 * DATA_DIR/models) through the sync worker to the Dropbox emulator, via the real SDK. Prints files/s, MB/s, the number
 * of commit calls (target: at most one per 1,000 small files) and the peak RSS.
 *
 *   npx tsx --conditions=ferry-source bench/dropbox-sync/run.ts [--files 1000] [--big-mib 1024] [--chunk-mib 64] [--quick]
 *
 * --quick: 1,000 files and a 256 MiB file (what `npm run bench` runs).
 *
 * Needs Redis and PostgreSQL as the tests do (TEST_REDIS_URL, TEST_DATABASE_URL). The emulator runs in a child process
 * (emulator-process.ts) and is read through its /__control/ API, so the peak RSS printed is the sync worker's own.
 */
import { chainSyncJob, jobOptions, openQueue } from '../../test/support/workers.js';
import { mkdir, mkdtemp, open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createSyncTarget } from '@ferry/shared/backup';
import { createLogger } from '@ferry/shared/core';
import { JobName, QueueName } from '@ferry/shared/jobs';
import { createRedis } from '@ferry/shared/redis';
import { startSyncWorker } from '../../test/support/workers.js';
import { DropboxCounter, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { createTestDatabase } from '../../test/support/database.js';
import { spawnTs } from '../../test/support/processes.js';
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from '../../test/support/redis.js';
import { waitFor } from '../../test/support/wait.js';
import { dropboxEnv, syncConfig, writeCandleFiles } from '../../test/sync/support.js';
import { mib as mibText } from '../common/process-stats.js';
import { reportRows } from '../common/report.js';

const MIB = 1024 * 1024;
const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '1000' }, 'big-mib': { type: 'string' }, 'chunk-mib': { type: 'string', default: '64' },
    quick: { type: 'boolean', default: false },
  },
});
const smallFiles = Number(values.files);
const bigBytes = Number(values['big-mib'] ?? (values.quick ? 256 : 1024)) * MIB;
const chunkMib = values['chunk-mib'];

let peakRss = 0;
const rssSampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

const emulatorProcess = spawnTs('bench/dropbox-sync/emulator-process.ts', [], {});
const announced = await waitFor(() => emulatorProcess.output().split('\n').find((l) => l.startsWith('{')), { timeoutMs: 60_000, what: 'the emulator' });
const remote = JSON.parse(announced) as { url: string; credentials: DropboxEmulator['credentials'] };
/** What the tests' in-process emulator offers, over its control API. */
const emulator = {
  url: remote.url,
  credentials: remote.credentials,
  counters: {} as Record<string, number>,
  async refresh() {
    this.counters = ((await (await fetch(`${remote.url}/__control/counters`)).json()) as { counters: Record<string, number> }).counters;
  },
  control: {
    counter: (name: string) => emulator.counters[name] ?? 0,
    reset: async () => void (await fetch(`${remote.url}/__control/reset`, { method: 'POST' })),
  },
};
const db = await createTestDatabase();
const prefix = uniquePrefix('bench');
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-'));
const redis = createRedis(TEST_REDIS_URL, 'worker');
const queue = openQueue(QueueName.Sync, redis, prefix);
const config = syncConfig({
  ...dropboxEnv(emulator), QUEUE_PREFIX: prefix, DATA_DIR: dataDir, DATABASE_URL: db.url, DROPBOX_CHUNK_MB: chunkMib, LOG_LEVEL: 'warn',
});
const commitCalls = () =>
  emulator.control.counter(DropboxCounter.calls('files/upload_session/finish_batch_v2')) +
  emulator.control.counter(DropboxCounter.calls('files/upload_session/finish')) +
  emulator.control.counter(DropboxCounter.calls('files/upload'));
const mb = (bytes: number) => bytes / 1e6;

try {
  // --- 1,000 small files, as chained by the download workers ---
  process.stdout.write(`writing ${smallFiles} candle files... `);
  const files = await writeCandleFiles(dataDir, smallFiles, 30);
  for (const file of files) await chainSyncJob(queue, file.payload, file.contentHash, 3);
  process.stdout.write('queued\n');
  const worker = await startSyncWorker({ config, logger: createLogger({ name: 'bench', level: process.env.BENCH_LOG ?? 'warn', format: 'json' }), db: db.pool, redis, target: createSyncTarget(config.sync) });
  const smallStart = performance.now();
  await waitFor(async () => (await queue.getJobCounts('completed')).completed === smallFiles, { timeoutMs: 600_000, intervalMs: 20, what: 'small files' });
  const smallSeconds = (performance.now() - smallStart) / 1000;
  await emulator.refresh();
  const smallBytes = emulator.control.counter(DropboxCounter.bytesReceived);
  const smallCommits = commitCalls();
  const failed = (await queue.getJobCounts('failed')).failed;
  const smallPeakRss = peakRss;

  // --- one big file, through a scheduled-style directory sync of DATA_DIR/models ---
  await emulator.control.reset();
  const big = path.join(dataDir, 'models', 'big.bin');
  await mkdir(path.dirname(big), { recursive: true });
  process.stdout.write(`writing a ${bigBytes / MIB} MiB file... `);
  await writeBigFile(big, bigBytes);
  process.stdout.write('done\n');
  const rssBeforeBig = process.memoryUsage().rss;
  peakRss = rssBeforeBig;
  const bigStart = performance.now();
  const job = await queue.add(JobName.SyncDirectory, { rule: 'models' }, jobOptions(1));
  const done = await waitFor(async () => {
    const state = await queue.getJobState(job.id!);
    return state === 'completed' || state === 'failed' ? state : undefined;
  }, { timeoutMs: 600_000, intervalMs: 50, what: 'big file' });
  const bigSeconds = (performance.now() - bigStart) / 1000;
  await emulator.refresh();
  const bigReceived = emulator.control.counter(DropboxCounter.bytesReceived);
  await worker.close(10_000);

  console.log('');
  console.log(`small files: ${smallFiles} files, ${mb(smallBytes).toFixed(2)} MB in ${smallSeconds.toFixed(2)} s -> ` +
    `${(smallFiles / smallSeconds).toFixed(0)} files/s, ${(mb(smallBytes) / smallSeconds).toFixed(2)} MB/s; ` +
    `commit calls: ${smallCommits} (${((smallCommits * 1000) / smallFiles).toFixed(2)} per 1,000 files); failed jobs: ${failed}`);
  console.log(`big file:    ${done}, ${mb(bigReceived).toFixed(0)} MB in ${bigSeconds.toFixed(2)} s (hashing included) -> ` +
    `${(mb(bigReceived) / bigSeconds).toFixed(1)} MB/s; commit calls: ${commitCalls()}; ` +
    `append calls: ${emulator.control.counter(DropboxCounter.calls('files/upload_session/append_v2'))} (chunk ${chunkMib} MiB)`);
  console.log(`sync worker process RSS: peak ${(smallPeakRss / MIB).toFixed(0)} MiB during the small files; ` +
    `${(rssBeforeBig / MIB).toFixed(0)} MiB before the big file, peak ${(peakRss / MIB).toFixed(0)} MiB while it went up`);
  // Dropbox's finish_batch takes up to 1,000 entries: the fewest commits possible.
  const fewestCommits = Math.ceil(smallFiles / 1000);
  reportRows([
    {
      bench: 'dropbox-sync',
      measure: `${smallFiles.toLocaleString('en-US')} small candle files (chained sync-file jobs) to the Dropbox emulator`,
      result: `${(smallFiles / smallSeconds).toFixed(0)} files/s, ${(mb(smallBytes) / smallSeconds).toFixed(2)} MB/s; ` +
        `${smallCommits} commit call(s); ${failed} failed`,
      target: `<= ${fewestCommits} commit call(s)`,
      met: smallCommits <= fewestCommits && failed === 0,
    },
    {
      bench: 'dropbox-sync',
      measure: `one ${bigBytes / MIB} MiB file (directory sync, upload session, ${chunkMib} MiB chunks)`,
      result: `${done}, ${(mb(bigReceived) / bigSeconds).toFixed(1)} MB/s (hashing included)`,
    },
    {
      bench: 'dropbox-sync',
      measure: `peak RSS of the sync worker (in the bench process; the emulator runs apart), ${chunkMib} MiB chunks`,
      result: `${mibText(smallPeakRss)} during the small files; ${mibText(peakRss)} during the big file`,
    },
  ]);
} finally {
  clearInterval(rssSampler);
  await queue.close();
  redis.disconnect();
  await deleteKeys(prefix);
  emulatorProcess.kill('SIGTERM');
  await emulatorProcess.exited;
  await db.drop();
  await rm(dataDir, { recursive: true, force: true });
}

/** A patterned file written 1 MiB at a time. */
async function writeBigFile(file: string, size: number): Promise<void> {
  const handle = await open(file, 'w');
  try {
    const block = Buffer.alloc(MIB);
    for (let offset = 0; offset < size; offset += MIB) {
      block.writeUInt32LE(offset / MIB, 0);
      block.writeUInt32LE((offset / MIB) * 2654435761 >>> 0, MIB / 2);
      await handle.write(block, 0, Math.min(MIB, size - offset), offset);
    }
  } finally {
    await handle.close();
  }
}
