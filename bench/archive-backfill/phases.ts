/**
 * Where an archive file job's time goes (issue 14): one coin's monthly 1m files, one after the other in this process
 * (no queue, no other job competing), each phase timed in wall and CPU time of this process. PostgreSQL's own CPU is
 * not in the CPU column; the gap between a phase's wall and CPU time is mostly PostgreSQL (or waiting for it).
 *
 *   npx tsx --conditions=ferry-source bench/archive-backfill/phases.ts [--months 12]
 *
 * Phases, each over every file: download (HTTP from the archive emulator in this process, SHA-256 as it streams, to a
 * temp file); read (inflate, CSV parse, candle checks); encode (binary COPY rows of what read gave); ingest (the whole
 * job's transaction: read, encode, delete + COPY, gap ledger, archive_files); render (the month's Parquet file from
 * PostgreSQL, as the coin's job renders each month once its files are in); then the coin's render of the whole series,
 * which finds those months on disk with the same rows and keeps them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ArchiveClient, ingestArchiveFile, readArchiveCandles } from '@ferry/shared/archive';
import type { Candle, CandleSeries } from '@ferry/shared/core';
import { encodeCandleRows } from '../../packages/shared/src/postgres/copy-binary-candles.js';
import { renderSeriesFile, renderSeriesFiles } from '@ferry/shared/series-files';
import { startBinanceArchiveEmulator } from '@ferry/emulators/binance-archive';
import { createTestDatabase } from '../../test/support/database.js';

const { values } = parseArgs({ options: { months: { type: 'string', default: '12' } } });
const NOW = Date.UTC(2026, 9, 14, 5, 30);
const archive = await startBinanceArchiveEmulator({ settings: { nowMs: NOW }, cacheBytes: 1024 ** 3 });
const db = await createTestDatabase();
const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-phases-'));
const series: CandleSeries = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' };

interface Phase { wallMs: number; cpuMs: number }
const phases = new Map<string, Phase>();
async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    return await work();
  } finally {
    const used = process.cpuUsage(cpu);
    const p = phases.get(name) ?? { wallMs: 0, cpuMs: 0 };
    p.wallMs += performance.now() - started;
    p.cpuMs += (used.user + used.system) / 1000;
    phases.set(name, p);
  }
}

try {
  const files = archive.files('BTCUSDT', '1m', 'monthly').filter((f) => f.end <= NOW).slice(-Number(values.months));
  await archive.prepare(files);
  const client = new ArchiveClient({ baseUrl: archive.url, timeoutMs: 30_000 });
  const runId = '00000000-0000-4000-8000-000000000000';
  let rows = 0;
  for (const f of files) {
    const zip = path.join(dir, `${f.name}.zip`);
    await timed('download + SHA-256', () => client.downloadVerified(f.key, zip));
    const batches: Candle[][] = [];
    await timed('read: inflate + parse + checks', async () => {
      for await (const b of readArchiveCandles(zip, series, { startMs: f.start, endMs: f.end }, f.key)) batches.push(b);
    });
    await timed('encode (binary COPY rows)', async () => {
      for (const b of batches) encodeCandleRows(series, b);
    });
    rows += batches.reduce((n, b) => n + b.length, 0);
    const payload = { runId, exchange: 'binance' as const, symbol: series.symbol, timeframe: '1m', key: f.key, startMs: f.start, endMs: f.end, etag: 'x' };
    const deps = { db: db.pool, archive: client, workDir: dir, log: () => undefined, files: { dataDir: dir, chainSync: async () => undefined } };
    await timed('the file job: download + ingest + its month file from the rows', () => ingestArchiveFile(payload, deps));
    await timed('render the month from PostgreSQL (as before)', () =>
      renderSeriesFile({ kind: 'candles', ...series }, { db: db.pool, dataDir: dir }, { period: { start: f.start, end: f.end } }));
  }
  await timed('the coin\'s render (keeps every month)', () => renderSeriesFiles({ kind: 'candles', ...series }, { db: db.pool, dataDir: dir }));
  console.log(`${files.length} monthly 1m files, ${rows.toLocaleString('en-US')} rows, one at a time`);
  console.log('| phase | wall ms | CPU ms (this process) | rows/s (wall) |\n| --- | --- | --- | --- |');
  for (const [name, p] of phases) {
    console.log(`| ${name} | ${p.wallMs.toFixed(0)} | ${p.cpuMs.toFixed(0)} | ${Math.round(rows / (p.wallMs / 1000)).toLocaleString('en-US')} |`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
  await db.drop();
  await archive.close();
}
