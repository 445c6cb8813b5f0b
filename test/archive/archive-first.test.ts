import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveFeature } from '@ferry/shared/archive';
import { collectFeature } from '@ferry/shared/collect';
import { createLogger } from '@ferry/shared/core';
import { knownExchangeGaps, readCandles } from '@ferry/shared/postgres';
import { QueueName, startWorkers } from '@ferry/shared/jobs';
import type { RunSummary } from '@ferry/shared/runs';
import { DEFAULT_OUTAGE } from '@ferry/emulators/binance';
import { ArchiveCounter, startBinanceArchiveEmulator, type ArchiveEmulator } from '@ferry/emulators/binance-archive';
import { contentHashOfFile, type Candle } from '@ferry/shared/core';
import { readCandleFile } from '@ferry/shared/parquet';
import { currentRenderPath, filePeriodOf, localPathOf, renderSeriesFile } from '@ferry/shared/series-files';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';

const H = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 9, 14, 5, 30); // the 05:00 candle is still open
const START = Math.floor((NOW - 60 * DAY) / DAY) * DAY; // 2026-08-15: a partial month, September whole, October's days
const END = Math.floor(NOW / H) * H;
const COINS = ['BTC/USDT', 'ETH/USDT', 'BNB/USDT'];

describe('ferry collect --source auto: archive files first, REST for the rest', () => {
  let archive: ArchiveEmulator;
  let h: CryptoHarness;
  let summary: RunSummary;
  let archiveFiles: Queue;

  const stored = (symbol: string, timeframe = '1h') =>
    readCandles(h.db.pool, { exchange: 'binance', symbol, timeframe: timeframe as '1h' }, { start: 0, end: NOW + DAY });
  const collect = async (args: string[]) => {
    const run = await h.ferry(['collect', '--wait', '--json', ...args]);
    expect(run.code, run.stderr).toBe(0);
    return { summary: JSON.parse(run.stdout) as RunSummary, stderr: run.stderr };
  };

  beforeAll(async () => {
    archive = await startBinanceArchiveEmulator({
      settings: {
        nowMs: NOW,
        missingFiles: ['BTCUSDT-1h-2026-10-05'],
        badChecksums: ['ETHUSDT-1h-2026-10-03'],
        staleFiles: ['BNBUSDT-1h-2026-10-02'],
      },
    });
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, env: { ARCHIVE_URL: archive.url, JOB_ATTEMPTS: '2' }, startWorker: false });
    // The download worker's candle features, as services/download-worker starts them (closed by the harness).
    h.worker = await startWorkers({ config: h.config, logger: createLogger({ name: 'test-worker', level: 'silent' }), db: h.db.pool, redis: h.redis },
      [collectFeature, archiveFeature]);
    archiveFiles = new Queue(QueueName.ArchiveFiles, { connection: h.redis, prefix: h.prefix });
    const first = await collect(['--symbols', COINS.join(','), '--days', '60', '--timeframe', '1h']);
    summary = first.summary;
    // Aug 15-31 daily, September monthly, Oct 1-13 daily: 31 files a coin, less the missing day.
    expect(first.stderr).toMatch(/3 job\(s\) queued \(3 coin\(s\) x 1 timeframe\(s\)\), with 92 archive file\(s\)/);
  }, 120_000);
  afterAll(async () => {
    await archiveFiles?.close();
    await h?.close();
    await archive?.close();
  });

  it('stores exactly the rows REST gives, taking from REST only the missing day, the failed file and the open day', async () => {
    expect(summary).toMatchObject({ total: 3, complete: 3, failed: 0 });
    for (const symbol of ['BTC/USDT', 'ETH/USDT']) expect(await stored(symbol), symbol).toEqual(h.emulator.candles(symbol, '1h', START, END));
    // Per coin: 2 requests at most for the tail (the open day, plus the day the archive lacks or refused).
    expect(h.emulator.control.counter('klines')).toBeLessThanOrEqual(6);
    expect(archive.control.counter(ArchiveCounter.zips)).toBeGreaterThanOrEqual(92);
  });

  it('writes a monthly file\'s month file in the file job, from its rows: the bytes a render from PostgreSQL gives', async () => {
    const series = { kind: 'candles', exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' } as const;
    const september = { start: Date.UTC(2026, 8, 1), end: Date.UTC(2026, 9, 1) };
    const [job] = (await archiveFiles.getCompleted()).filter((j) => (j.data as { key: string }).key.endsWith('BTCUSDT-1h-2026-09.zip'));
    const { logs } = await archiveFiles.getJobLogs(job!.id!);
    const relativePath = await currentRenderPath(h.db.pool, series, september);
    const { size } = await stat(localPathOf(h.config.dataDir, relativePath!));
    // September less the maintenance hole (DEFAULT_OUTAGE).
    const rows = 720 - (DEFAULT_OUTAGE.end - DEFAULT_OUTAGE.start) / H;
    expect(logs).toContain(`wrote ${relativePath} (${rows} rows, ${size} bytes)`);
    expect(logs.some((l) => l.startsWith('chained sync job '))).toBe(true);
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'ferry-render-'));
    try {
      const fromPostgres = await renderSeriesFile(series, { db: h.db.pool, dataDir: elsewhere }, { period: september });
      expect(fromPostgres!.relativePath).toBe(relativePath);
      expect(fromPostgres!.contentHash).toBe(await contentHashOfFile(localPathOf(h.config.dataDir, relativePath!)));
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('records the maintenance hole inside a monthly file in the exchange-gap ledger', async () => {
    const gaps = await knownExchangeGaps(h.db.pool, { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1h' });
    expect(gaps).toContainEqual({ start: DEFAULT_OUTAGE.start, end: DEFAULT_OUTAGE.end });
  });

  it('fails a file whose CHECKSUM does not match after its retries, naming both hashes, and stores none of it', async () => {
    const failed = await archiveFiles.getFailed();
    expect(failed.map((j) => (j.data as { key: string }).key)).toEqual(['data/spot/daily/klines/ETHUSDT/1h/ETHUSDT-1h-2026-10-03.zip']);
    expect(failed[0]!.attemptsMade).toBe(2);
    expect(failed[0]!.failedReason).toMatch(/SHA-256 of the zip is [0-9a-f]{64}, its CHECKSUM says [0-9a-f]{64}/);
    const { rows } = await h.db.pool.query(`SELECT count(*)::int AS n FROM archive_files WHERE key LIKE '%ETHUSDT-1h-2026-10-03%'`);
    expect(rows[0].n).toBe(0);
    // The coin's run item names it: its day came from REST instead.
    const eth = summary.details.find((d) => d.item === 'binance:ETH/USDT:1h');
    expect(JSON.stringify(eth)).toMatch(/failedArchiveFiles.*its CHECKSUM says/);
  });

  it('keeps each ingested file\'s checksum, and replaces the rows of a re-published file on the next run', async () => {
    const bnb = 'BNB/USDT';
    const truth = h.emulator.candles(bnb, '1h', START, END);
    const flawed = await stored(bnb);
    const day = (c: { openTime: number }) => c.openTime >= Date.UTC(2026, 9, 2) && c.openTime < Date.UTC(2026, 9, 3);
    expect(flawed.filter(day).map((c) => c.volume)).toEqual(truth.filter(day).map((c) => 2 * c.volume));
    const { rows } = await h.db.pool.query<{ n: number }>(`SELECT count(DISTINCT sha256)::int AS n FROM archive_files WHERE symbol = $1`, [bnb]);
    expect(rows[0]!.n).toBe(31);

    archive.control.configure({ staleFiles: [] });
    const again = await collect(['--symbols', 'BNB', '--days', '60', '--timeframe', '1h']);
    expect(again.stderr).toMatch(/with 1 archive file\(s\)/);
    expect(await stored(bnb)).toEqual(truth);
    // Its month's Parquet file holds the new rows too: same span and count as before, other volumes.
    const series = { kind: 'candles', exchange: 'binance', symbol: bnb, timeframe: '1h' } as const;
    const october = await currentRenderPath(h.db.pool, series, filePeriodOf('1h', Date.UTC(2026, 9, 2)));
    const inFile: Candle[] = [];
    for await (const page of readCandleFile(localPathOf(h.config.dataDir, october!))) inFile.push(...page);
    expect(inFile).toEqual(truth.filter((c) => c.openTime >= Date.UTC(2026, 9, 1)));
  });

  it('reads monthly files in milliseconds before 2025 and microseconds after, with and without header rows', async () => {
    archive.control.configure({ staleFiles: [] });
    await collect(['--symbols', 'SOL', '--start', '2024-11-01', '--timeframe', '1d']);
    const truth = h.emulator.candles('SOL/USDT', '1d', Date.UTC(2024, 10, 1), Math.floor(NOW / DAY) * DAY);
    expect(await stored('SOL/USDT', '1d')).toEqual(truth);
    const { rows } = await h.db.pool.query<{ unit: string; n: number }>(
      `SELECT timestamp_unit AS unit, count(*)::int AS n FROM archive_files WHERE symbol = 'SOL/USDT' GROUP BY 1 ORDER BY 1`);
    expect(rows).toEqual([{ unit: 'ms', n: 2 }, { unit: 'us', n: 21 + 13 }]);
  });
});
