import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Candle, type CandleSeries } from '../core/candle.js';
import { DataValidationError } from '../core/errors.js';
import { type CandleSource } from '../exchange/ccxt-candle-source.js';
import { type CollectCandlesPayload, type SyncFilePayload } from '../jobs/payloads.js';
import { contentHashOfFile } from '../core/content-hash.js';
import { readCandleFile } from '../parquet/read-candle-file.js';
import { insertCandles, readCandles } from '../postgres/candle-store.js';
import { type Range } from './plan.js';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database.js';
import { collectCandles, type CollectDeps } from './collect-candles.js';

const H = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

/** A tiny in-memory exchange behind ferry's CandleSource interface: candles every hour except in `holes`. */
class FakeSource implements CandleSource {
  readonly exchangeId = 'fake';
  readonly pageLimit = 100;
  requests: Range[] = [];
  constructor(public nowMs: number, public holes: Range[] = [], public corrupt?: number) {}
  async now() {
    return this.nowMs;
  }
  async fetchPage(_series: CandleSeries, page: Range): Promise<Candle[]> {
    this.requests.push(page);
    const out: Candle[] = [];
    // Like Binance, the still-open candle comes back too when the page reaches it.
    for (let t = page.start; t < Math.min(page.end + H, this.nowMs) && out.length < this.pageLimit; t += H) {
      if (this.holes.some((h) => t >= h.start && t < h.end)) continue;
      out.push(candleAt(t, t === this.corrupt));
    }
    return out;
  }
}

function candleAt(t: number, corrupt = false): Candle {
  const open = 100 + ((t / H) % 17);
  return { openTime: t, open, high: corrupt ? open - 5 : open + 2, low: open - 2, close: open + 1, volume: (t / H) % 5 };
}

describe('collectCandles', () => {
  let db: TestDatabase;
  let dataDir: string;
  const synced: Array<{ payload: SyncFilePayload; hash: string }> = [];
  const payload = (over: Partial<CollectCandlesPayload> = {}): CollectCandlesPayload => ({
    runId: '00000000-0000-4000-8000-000000000001', exchange: 'fake', symbol: 'BTC/USDT', timeframe: '1h',
    mode: 'backward', startMs: T0, endMs: null, ...over,
  });
  const deps = (source: FakeSource): CollectDeps => ({
    db: db.pool,
    source,
    dataDir,
    chainSync: async (p) => void synced.push({ payload: p, hash: p.file!.contentHash }),
    progress: () => undefined,
    log: () => undefined,
  });
  const series = { exchange: 'fake', symbol: 'BTC/USDT', timeframe: '1h' } as const;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => db.drop());
  beforeEach(async () => {
    await db.pool.query('TRUNCATE candles, exchange_gaps');
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ferry-collect-'));
    synced.length = 0;
  });

  it('stores every closed candle once, never the open one, writes the file and chains its sync', async () => {
    const source = new FakeSource(T0 + 250 * H + 30 * 60_000);
    const result = await collectCandles(payload(), deps(source));
    expect(result).toMatchObject({ status: 'complete', records: 250, expected: 250, stored: 250, requests: 3 });
    const rows = await readCandles(db.pool, series, { start: 0, end: T0 + 1000 * H });
    expect(rows).toEqual(Array.from({ length: 250 }, (_, i) => candleAt(T0 + i * H)));
    expect(result.file?.relativePath).toBe('candles/BTC/BTC-USDT_1h_20240101_20240111.parquet');
    expect(synced).toHaveLength(1);
    expect(synced[0]!.payload.source).toEqual({ kind: 'candles', exchange: 'fake', symbol: 'BTC/USDT', timeframe: '1h', startMs: T0, endMs: T0 + 250 * H });
  });

  it('makes no request when run again, and reports the coin as skipped', async () => {
    const source = new FakeSource(T0 + 250 * H);
    await collectCandles(payload(), deps(source));
    source.requests = [];
    const again = await collectCandles(payload(), deps(source));
    expect(source.requests).toEqual([]);
    expect(again).toMatchObject({ status: 'skipped', records: 250, stored: 0 });
  });

  it('chains the sync of a file already written when run again, so an attempt killed before chaining it loses no sync', async () => {
    const source = new FakeSource(T0 + 250 * H);
    const first = await collectCandles(payload(), deps(source));
    const written = await fs.stat(path.join(dataDir, first.file!.relativePath));
    synced.length = 0;
    const again = await collectCandles(payload(), deps(source));
    expect(again.file).toEqual(first.file);
    expect((await fs.stat(path.join(dataDir, first.file!.relativePath))).mtimeMs).toBe(written.mtimeMs);
    const onDisk = await contentHashOfFile(path.join(dataDir, first.file!.relativePath));
    expect(synced).toEqual([{
      payload: expect.objectContaining({
        relativePath: first.file!.relativePath,
        file: { size: written.size, mtimeMs: Math.trunc(written.mtimeMs), contentHash: onDisk },
      }),
      hash: onDisk,
    }]);
  });

  it('replaces the earlier file of the coin when a later run adds candles, and the new file holds the whole series', async () => {
    const source = new FakeSource(T0 + 100 * H);
    const first = await collectCandles(payload(), deps(source));
    source.nowMs = T0 + 130 * H;
    // A later window, as a scheduled run's moves with the clock: the file still holds every stored candle.
    const later = await collectCandles(payload({ mode: 'forward', startMs: T0 + 24 * H }), deps(source));
    expect(later.file?.relativePath).toBe('candles/BTC/BTC-USDT_1h_20240101_20240106.parquet');
    expect(later.file?.relativePath).not.toBe(first.file?.relativePath);
    expect(await fs.readdir(path.join(dataDir, 'candles', 'BTC'))).toEqual(['BTC-USDT_1h_20240101_20240106.parquet']);
    const rows: Candle[] = [];
    for await (const group of readCandleFile(path.join(dataDir, later.file!.relativePath))) rows.push(...group);
    expect(rows).toEqual(await readCandles(db.pool, series, { start: 0, end: T0 + 1000 * H }));
    expect(synced.at(-1)!.payload.file?.contentHash).toBe(await contentHashOfFile(path.join(dataDir, later.file!.relativePath)));
  });

  it('records the exchange\'s own holes once and does not chase them again', async () => {
    const outage = { start: T0 + 40 * H, end: T0 + 45 * H };
    const source = new FakeSource(T0 + 100 * H, [outage]);
    const first = await collectCandles(payload(), deps(source));
    expect(first).toMatchObject({ status: 'complete', records: 95, expected: 95 });
    expect(first.exchangeGaps).toEqual([outage]);
    source.requests = [];
    const gapFill = await collectCandles(payload({ mode: 'gap_fill' }), deps(source));
    expect(source.requests).toEqual([]);
    expect(gapFill.missingRanges).toEqual([]);
  });

  it('forward fetches only what came after the last stored candle', async () => {
    const source = new FakeSource(T0 + 100 * H);
    await collectCandles(payload(), deps(source));
    source.nowMs = T0 + 130 * H;
    source.requests = [];
    const forward = await collectCandles(payload({ mode: 'forward' }), deps(source));
    expect(source.requests).toEqual([{ start: T0 + 100 * H, end: T0 + 130 * H }]);
    expect(forward).toMatchObject({ stored: 30, records: 130 });
  });

  it('gap_fill refetches exactly the deleted rows', async () => {
    const source = new FakeSource(T0 + 100 * H);
    await collectCandles(payload(), deps(source));
    await db.pool.query(`DELETE FROM candles WHERE open_time >= $1 AND open_time < $2`, [new Date(T0 + 20 * H), new Date(T0 + 23 * H)]);
    source.requests = [];
    const filled = await collectCandles(payload({ mode: 'gap_fill' }), deps(source));
    expect(source.requests).toEqual([{ start: T0 + 20 * H, end: T0 + 23 * H }]);
    expect(filled).toMatchObject({ stored: 3, records: 100, status: 'complete' });
  });

  it('fails on an insane candle, naming the coin and the candle, keeping the pages before it', async () => {
    const source = new FakeSource(T0 + 250 * H, [], T0 + 150 * H);
    const error = await collectCandles(payload(), deps(source)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataValidationError);
    expect((error as Error).message).toContain('fake BTC/USDT 1h candle at 2024-01-07T06:00:00.000Z');
    expect((error as Error).message).toContain('high is below max(open, close)');
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM candles');
    expect(rows[0].n).toBe(100);
  });

  describe('a delisted coin (archiveOnly): archive files only', () => {
    // Its archive files covered T0 .. T0+48h (as listed when queued); the range runs on to "now", long after.
    const delisted = (over: Partial<CollectCandlesPayload> = {}) =>
      payload({ archiveOnly: { covered: { start: T0, end: T0 + 48 * H }, archiveEndMs: T0 + 48 * H }, ...over });
    const ingestArchive = (from: number, to: number) =>
      insertCandles(db.pool, series, Array.from({ length: (to - from) / H }, (_, i) => candleAt(from + i * H)));

    it('asks REST for nothing and is complete when its files\' candles are in, the days after its delisting not missing', async () => {
      await ingestArchive(T0, T0 + 48 * H);
      const source = new FakeSource(T0 + 500 * H);
      const result = await collectCandles(delisted(), deps(source));
      expect(source.requests).toEqual([]);
      expect(result).toMatchObject({ status: 'complete', records: 48, expected: 48, requests: 0, missingRanges: [] });
      expect(result.file?.relativePath).toBe('candles/BTC/BTC-USDT_1h_20240101_20240102.parquet');
    });

    it('is partial when a day its archive lacks is missing, still without asking REST', async () => {
      await ingestArchive(T0, T0 + 24 * H);
      await ingestArchive(T0 + 30 * H, T0 + 48 * H);
      const source = new FakeSource(T0 + 500 * H);
      const result = await collectCandles(delisted(), deps(source));
      expect(source.requests).toEqual([]);
      expect(result).toMatchObject({ status: 'partial', records: 42, expected: 48, missingRanges: [{ start: T0 + 24 * H, end: T0 + 30 * H }] });
    });

    it('is skipped, saying why, when its archive ends before the range', async () => {
      const source = new FakeSource(T0 + 500 * H);
      const result = await collectCandles(delisted({ startMs: T0 + 100 * H, archiveOnly: { covered: null, archiveEndMs: T0 + 48 * H } }), deps(source));
      expect(source.requests).toEqual([]);
      expect(result).toMatchObject({ status: 'skipped', records: 0, file: null });
      expect(result.reason).toBe('delisted: its 1h archive files end at 2024-01-03T00:00:00.000Z, before the range starts (2024-01-05T04:00:00.000Z)');
    });
  });
});
