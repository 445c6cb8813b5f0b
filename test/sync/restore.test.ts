import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { restoreCandles } from '@ferry/shared/backup';
import { type CandleSeries } from '@ferry/shared/core';
import { DropboxTarget } from '@ferry/shared/dropbox';
import { readCandles } from '@ferry/shared/postgres';
import { writeCandlesParquet } from '@ferry/shared/parquet';
import { DropboxCounter, DropboxFault, startDropboxEmulator, type DropboxEmulator } from '@ferry/emulators/dropbox';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ferryInProcess } from '../support/ferry-cli.js';
import { TEST_REDIS_URL } from '../support/redis.js';
import { DAY, T0, dropboxEnv, dropboxTargetFor, writeCandleFiles, type WrittenCandleFile } from './support.js';

/**
 * Restore on a new machine: the candle cache comes back from the target into DATA_DIR and PostgreSQL (that the next
 * collection then downloads no history is shown end to end in restore-pipeline.test.ts).
 */
describe('restoring the candle cache', () => {
  let emulator: DropboxEmulator;
  let target: DropboxTarget;
  let work: string;
  let files: WrittenCandleFile[];
  let db: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    emulator = await startDropboxEmulator();
    target = dropboxTargetFor(emulator);
    // The old machine: three coins of 60 daily candles, backed up under data/candles, plus files restore must leave alone.
    work = await mkdtemp(path.join(os.tmpdir(), 'ferry-old-machine-'));
    files = await writeCandleFiles(work, 3, 60);
    for (const file of files) await target.upload({ localPath: file.localPath, key: `data/${file.payload.relativePath}` });
    await emulator.putFile('/ferry/data/candles/TSLA/TSLA_1d_20240101_20240229.parquet', Buffer.from('a flat-file ticker'));
    await emulator.putFile('/ferry/data/candles/README.txt', Buffer.from('notes'));
    await emulator.putFile('/ferry/2024-03-01/logs/worker.log', Buffer.from('a log, not candles'));
  });
  afterAll(async () => {
    await emulator.close();
    await rm(work, { recursive: true, force: true });
  });
  beforeEach(async () => {
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-new-machine-'));
    emulator.control.reset();
  });
  afterEach(async () => {
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const seriesOf = (file: WrittenCandleFile): CandleSeries => {
    const source = file.payload.source as Extract<WrittenCandleFile['payload']['source'], { kind: 'candles' }>;
    return { exchange: 'binance', symbol: source.symbol, timeframe: '1d' };
  };

  it('loads exactly the backed-up rows into an empty PostgreSQL and the files into DATA_DIR, leaving other files alone', async () => {
    const lines: string[] = [];
    const result = await restoreCandles({ target, db: db.pool, dataDir, exchange: 'binance', log: (l) => lines.push(l) });

    expect(result).toEqual({
      files: 5,
      downloaded: 3,
      rows: 180,
      inserted: 180,
      skipped: [
        { key: 'data/candles/README.txt', reason: 'not named like candles/<BASE>/<BASE>-<QUOTE>_<timeframe>_<YYYYMMDD>_<YYYYMMDD>.parquet' },
        { key: 'data/candles/TSLA/TSLA_1d_20240101_20240229.parquet', reason: 'not the file of an exchange pair (flat-file tickers are restored by their own source)' },
      ],
      failed: [],
    });
    for (const file of files) {
      expect(await readCandles(db.pool, seriesOf(file), { start: 0, end: T0 + 1000 * DAY })).toEqual(file.candles);
      expect(Buffer.compare(await readFile(path.join(dataDir, file.payload.relativePath)), await readFile(file.localPath))).toBe(0);
    }
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM candles');
    expect(rows[0]!.n).toBe(180);
    expect(lines[0]).toBe('restoring 5 candle file(s) from dropbox /ferry as exchange binance');
  });

  it('lists again from the start when Dropbox resets the listing cursor, and restores everything', async () => {
    // Pages of two entries, so the listing needs list_folder/continue; the first continue's cursor is invalidated.
    emulator.control.configure({ listFolderMaxLimit: 2 });
    emulator.control.addFault({ name: DropboxFault.CursorReset, remaining: 1 });

    const result = await restoreCandles({ target, db: db.pool, dataDir, exchange: 'binance' });

    expect(result).toMatchObject({ files: 5, downloaded: 3, rows: 180, inserted: 180, failed: [] });
    expect(emulator.control.counter('fault:cursor-reset')).toBe(1);
    expect(emulator.control.counter(DropboxCounter.calls('files/list_folder'))).toBe(2);
  });

  it('restoring twice downloads and inserts nothing the second time; a local file with other bytes is replaced', async () => {
    await restoreCandles({ target, db: db.pool, dataDir, exchange: 'binance' });
    const damaged = path.join(dataDir, files[1]!.payload.relativePath);
    await writeFile(damaged, 'not the backed-up bytes');
    emulator.control.reset();

    const again = await restoreCandles({ target, db: db.pool, dataDir, exchange: 'binance' });

    expect(again).toMatchObject({ files: 5, downloaded: 1, rows: 180, inserted: 0, failed: [] });
    expect(emulator.control.counter(DropboxCounter.calls('files/download'))).toBe(1);
    expect(Buffer.compare(await readFile(damaged), await readFile(files[1]!.localPath))).toBe(0);
  });

  it('is fine with an empty target: nothing to restore', async () => {
    const empty = new DropboxTarget({ root: '/elsewhere', apiBaseUrl: emulator.url, contentBaseUrl: emulator.url, auth: { kind: 'long-lived', accessToken: emulator.credentials.longLivedToken! } });
    const lines: string[] = [];
    await expect(restoreCandles({ target: empty, db: db.pool, dataDir, exchange: 'binance', log: (l) => lines.push(l) }))
      .resolves.toEqual({ files: 0, downloaded: 0, rows: 0, inserted: 0, skipped: [], failed: [] });
    expect(lines).toEqual(['nothing to restore: dropbox /elsewhere has no files under data/candles']);
  });

  it('runs as `ferry restore`, printing what it did', async () => {
    const { code, stdout, stderr } = await ferryInProcess(['restore', '--json'],
      { ...dropboxEnv(emulator), DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, DATA_DIR: dataDir, EXCHANGE: 'binance' });

    expect({ code, stderr: stderr.split('\n').at(-2) }).toEqual({
      code: 0,
      stderr: 'restored 180 candle(s) (180 new) from 3 file(s), 3 downloaded, 2 skipped, 0 failed',
    });
    expect(JSON.parse(stdout)).toMatchObject({ target: 'dropbox /ferry', exchange: 'binance', files: 5, downloaded: 3, rows: 180, inserted: 180 });
  });
});

/** A backup may hold names no disk should get (written by another tool, or by hand on the target). */
describe('restoring a backup that holds unsafe names', () => {
  let emulator: DropboxEmulator;
  let work: string;
  let dataDir: string;
  let db: TestDatabase;

  beforeAll(async () => {
    emulator = await startDropboxEmulator();
    const target = dropboxTargetFor(emulator);
    work = await mkdtemp(path.join(os.tmpdir(), 'ferry-old-machine-'));
    const [file] = await writeCandleFiles(work, 1, 10);
    await target.upload({ localPath: file!.localPath, key: `data/${file!.payload.relativePath}` });
    // Dropbox refuses a `..` part itself, but takes any name with a backslash or a control character.
    await emulator.putFile('/ferry/data/candles/bad\nname.parquet', Buffer.from('a control character'));
    await emulator.putFile('/ferry/data/candles/BTC-USDT/..\\..\\escape.parquet', Buffer.from('outside'));
    db = await createTestDatabase();
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-new-machine-'));
  });
  afterAll(async () => {
    await emulator.close();
    await db.drop();
    for (const dir of [work, dataDir]) await rm(dir, { recursive: true, force: true });
  });

  const UNSAFE = 'unsafe name (".", ".." or empty parts, backslashes or control characters): not restored';

  it('skips them with a warning naming each, restores the rest, and exits 0, run after run', async () => {
    const env = { ...dropboxEnv(emulator), DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, DATA_DIR: dataDir, EXCHANGE: 'binance' };
    for (const run of [1, 2]) {
      const { code, stdout, stderr } = await ferryInProcess(['restore'], env);
      const warnings = stderr.split('\n').filter((l) => l.startsWith('warning: '));
      expect({ run, code, warnings }).toEqual({
        run,
        code: 0,
        warnings: [
          `warning: skipped ${JSON.stringify('data/candles/BTC-USDT/..\\..\\escape.parquet')}: ${UNSAFE}`,
          `warning: skipped ${JSON.stringify('data/candles/bad\nname.parquet')}: ${UNSAFE}`,
        ],
      });
      expect(stdout).toContain('restored 1 of 3 candle file(s)');
      expect(stdout).toContain(`skipped ${JSON.stringify('data/candles/bad\nname.parquet')}: ${UNSAFE}`);
    }
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM candles');
    expect(rows[0]!.n).toBe(10);
  });
});

describe('restoring a backup that still holds several renders of a series', () => {
  it('takes the newest (the latest last date) and skips the others as superseded', async () => {
    const emulator = await startDropboxEmulator();
    const db = await createTestDatabase();
    const work = await mkdtemp(path.join(os.tmpdir(), 'ferry-old-renders-'));
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-new-machine-'));
    try {
      const target = dropboxTargetFor(emulator);
      // Renders of 40 and 50 days of the same coin, left side by side by older ferry; the older one's closes differ,
      // so restoring it too would show in PostgreSQL.
      const [older] = await writeCandleFiles(path.join(work, 'older'), 1, 40);
      await writeCandlesParquet(older!.localPath, older!.candles.map((c) => ({ ...c, close: c.close + 1 })));
      const olderBytes = await readFile(older!.localPath);
      await emulator.putFile(`/ferry/data/${older!.payload.relativePath}`, olderBytes);
      const [newest] = await writeCandleFiles(path.join(work, 'newest'), 1, 50);
      await target.upload({ localPath: newest!.localPath, key: `data/${newest!.payload.relativePath}` });
      // A local copy of the older render on the new machine goes too: DATA_DIR keeps one file per series.
      const localOlder = path.join(dataDir, ...older!.payload.relativePath.split('/'));
      await mkdir(path.dirname(localOlder), { recursive: true });
      await writeFile(localOlder, olderBytes);

      const result = await restoreCandles({ target, db: db.pool, dataDir, exchange: 'binance' });

      expect(result).toMatchObject({
        files: 2, downloaded: 1, rows: 50, failed: [],
        skipped: [{ key: `data/${older!.payload.relativePath}`, reason: `superseded by data/${newest!.payload.relativePath}` }],
      });
      expect(await readCandles(db.pool, { exchange: 'binance', symbol: 'C0/USDT', timeframe: '1d' }, { start: 0, end: T0 + 1000 * DAY })).toEqual(newest!.candles);
      expect(Buffer.compare(await readFile(path.join(dataDir, newest!.payload.relativePath)), await readFile(newest!.localPath))).toBe(0);
      await expect(readFile(localOlder)).rejects.toThrow(/ENOENT/);
    } finally {
      await emulator.close();
      await db.drop();
      await rm(work, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
