import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Queue } from 'bullmq';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Timeframe } from '@ferry/shared/core';
import { QueueName } from '@ferry/shared/jobs';
import { readCandles } from '@ferry/shared/postgres';
import { type RunSummary } from '@ferry/shared/runs';
import { DEFAULT_OUTAGE } from '@ferry/emulators/binance';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';

const H = 3_600_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 9, 20, 5, 30); // the 05:00 candle is still open
const START = Math.floor((NOW - 60 * DAY) / DAY) * DAY;
const END = Math.floor(NOW / H) * H;

async function parquetCandles(file: string) {
  const rows = await parquetReadObjects({ file: await asyncBufferFromFile(file) });
  return rows.map(({ timestamp, ...v }) => ({ openTime: (timestamp as Date).getTime(), ...v }));
}

describe('ferry collect: 20 coins x 1h x 60 days against the emulated exchange', () => {
  let h: CryptoHarness;
  let summary: RunSummary;

  beforeAll(async () => {
    h = await startCryptoHarness({ emulator: { nowMs: NOW } });
    const run = await h.ferry(['collect', '--top', '20', '--days', '60', '--timeframe', '1h', '--wait', '--json']);
    expect(run.stderr).toMatch(/run [0-9a-f-]{36}: 20 job\(s\) queued/);
    expect(run.code).toBe(0);
    summary = JSON.parse(run.stdout) as RunSummary;
  }, 120_000);
  afterAll(async () => h.close());

  it('completes every coin, leaving out stablecoins, leveraged tokens and halted pairs', () => {
    expect(summary).toMatchObject({ total: 20, complete: 20, failed: 0, partial: 0, pending: 0, status: 'completed' });
    const coins = summary.details.map((d) => d.item.split(':')[1]);
    const expected = h.emulator.symbols().filter((s) => s.kind === 'coin' && s.status === 'TRADING').slice(0, 20)
      .map((s) => `${s.base}/USDT`);
    expect(coins.sort()).toEqual(expected.sort());
  });

  it('stores exactly the emulator candles in PostgreSQL: no open candle, no outage, nothing before listing', async () => {
    let total = 0;
    for (const d of summary.details) {
      const symbol = d.item.split(':')[1]!;
      const truth = h.emulator.candles(symbol, '1h', START, END);
      const stored = await readCandles(h.db.pool, { exchange: 'binance', symbol, timeframe: '1h' }, { start: 0, end: NOW + DAY });
      expect(stored, symbol).toEqual(truth);
      expect(d.records).toBe(truth.length);
      total += truth.length;
    }
    expect(summary.total_records).toBe(total);
    const outage = await h.db.pool.query(`SELECT count(*)::int AS n FROM candles WHERE open_time >= $1 AND open_time < $2`,
      [new Date(DEFAULT_OUTAGE.start), new Date(DEFAULT_OUTAGE.end)]);
    expect(outage.rows[0].n).toBe(0);
  });

  it('writes one Parquet file per coin and month (1h is intraday) equal to its rows, and chains a sync job for each', async () => {
    const sync = new Queue(QueueName.Sync, { connection: h.redis, prefix: h.prefix });
    const syncJobs = await sync.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);
    await sync.close();
    let files = 0;
    for (const d of summary.details) {
      const symbol = d.item.split(':')[1]!;
      const base = symbol.split('/')[0]!;
      // The item names the series' latest file: the current month's.
      expect(d.details['file'] as string).toMatch(new RegExp(`^candles/${base}/${symbol.replace('/', '-')}_1h_202610\\d{2}_20261020\\.parquet$`));
      const months = (await readdir(path.join(h.dataDir, 'candles', base))).filter((f) => f.startsWith(`${symbol.replace('/', '-')}_1h_`)).sort();
      const rows = [];
      for (const month of months) {
        expect(month.slice(-25, -19), month).toBe(month.slice(-16, -10));
        rows.push(...(await parquetCandles(path.join(h.dataDir, 'candles', base, month))));
        expect(syncJobs.some((j) => (j.data as { relativePath: string }).relativePath === `candles/${base}/${month}`), month).toBe(true);
      }
      files += months.length;
      expect(rows).toEqual(h.emulator.candles(symbol, '1h', START, END));
    }
    expect(syncJobs).toHaveLength(files);
  });

  it('records the outage and the listings as exchange holes, and counts only candles the exchange can have', async () => {
    const gaps = await h.db.pool.query(`SELECT DISTINCT start_time, end_time FROM exchange_gaps WHERE start_time = $1`, [new Date(DEFAULT_OUTAGE.start)]);
    expect(gaps.rows).toEqual([{ start_time: new Date(DEFAULT_OUTAGE.start), end_time: new Date(DEFAULT_OUTAGE.end) }]);
    for (const d of summary.details) expect(d.expected).toBe(d.records);
  });

  it('running the same collection again makes no history requests and reports every coin skipped', async () => {
    const before = h.emulator.control.counter('klines');
    const again = await h.ferry(['collect', '--top', '20', '--days', '60', '--timeframe', '1h', '--wait', '--json']);
    expect(again.code).toBe(0);
    expect(h.emulator.control.counter('klines')).toBe(before);
    expect(JSON.parse(again.stdout)).toMatchObject({ total: 20, skipped: 20, failed: 0 });
    const status = await h.ferry(['status', '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ skipped: 20 });
  });

  it('forward, after time has passed, fetches only the new candles', async () => {
    h.emulator.control.configure({ nowMs: NOW + 10 * H });
    const before = h.emulator.control.counter('klines');
    const run = await h.ferry(['collect', '--symbols', 'BTC,ETH', '--days', '60', '--timeframe', '1h', '--mode', 'forward', '--wait', '--json']);
    expect(run.code).toBe(0);
    expect(h.emulator.control.counter('klines') - before).toBe(2);
    for (const symbol of ['BTC/USDT', 'ETH/USDT']) {
      const stored = await readCandles(h.db.pool, { exchange: 'binance', symbol, timeframe: '1h' as Timeframe }, { start: 0, end: NOW + DAY });
      expect(stored).toEqual(h.emulator.candles(symbol, '1h', START, END + 10 * H));
    }
  });

  it('gap_fill after rows are deleted refetches exactly those rows, and does not chase the outage', async () => {
    h.emulator.control.configure({ nowMs: NOW });
    const symbol = 'SOL/USDT';
    const from = new Date(START + 100 * H);
    const to = new Date(START + 130 * H);
    const deleted = await h.db.pool.query(`DELETE FROM candles WHERE symbol = $1 AND open_time >= $2 AND open_time < $3`, [symbol, from, to]);
    expect(deleted.rowCount).toBe(30);
    const before = h.emulator.control.counter('klines:SOLUSDT');
    const run = await h.ferry(['collect', '--symbols', 'SOL', '--days', '60', '--timeframe', '1h', '--mode', 'gap_fill', '--wait', '--json']);
    expect(run.code).toBe(0);
    expect(h.emulator.control.counter('klines:SOLUSDT') - before).toBe(1);
    const stored = await readCandles(h.db.pool, { exchange: 'binance', symbol, timeframe: '1h' }, { start: START, end: END });
    expect(stored).toEqual(h.emulator.candles(symbol, '1h', START, END));
    const again = await h.ferry(['collect', '--symbols', 'SOL', '--days', '60', '--timeframe', '1h', '--mode', 'gap_fill', '--wait', '--json']);
    expect(again.code).toBe(0);
    expect(h.emulator.control.counter('klines:SOLUSDT') - before).toBe(1);
  });
});
