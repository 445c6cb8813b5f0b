import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArchiveClient, archiveFeature } from '@ferry/shared/archive';
import { collectFeature } from '@ferry/shared/collect';
import { createLogger } from '@ferry/shared/core';
import { createCcxtExchange } from '@ferry/shared/exchange';
import { readCandles } from '@ferry/shared/postgres';
import { startWorkers } from '@ferry/shared/jobs';
import type { RunSummary } from '@ferry/shared/runs';
import { BinanceCounter } from '@ferry/emulators/binance';
import { startBinanceArchiveEmulator, type ArchiveEmulator } from '@ferry/emulators/binance-archive';
import { startCryptoHarness, type CryptoHarness } from '../support/crypto-harness.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 9, 14, 5, 30);
const START = Math.floor((NOW - 60 * DAY) / DAY) * DAY; // 2026-08-15
// Delisted inside the 60-day window, and long before it. Neither is in the Binance emulator's exchangeInfo.
const GONE = { symbol: 'GONEUSDT', listedAt: Date.UTC(2026, 5, 10, 8), delistedAt: Date.UTC(2026, 8, 20, 14), basePrice: 2.5 };
const OLD = { symbol: 'OLDUSDT', listedAt: Date.UTC(2025, 0, 1), delistedAt: Date.UTC(2025, 2, 1), basePrice: 0.8 };
// The emulators' halted coins, as Binance keeps many delisted pairs: still in exchangeInfo with status BREAK (ccxt:
// inactive), and in the archive up to their halt. WAVES halted inside the window (2026-09-26), LUNA in 2022.
const WAVES_HALT = Date.UTC(2026, 8, 26, 10);

describe('ferry collect --include-delisted: coins the exchange no longer lists, from the archive', () => {
  let archive: ArchiveEmulator;
  let h: CryptoHarness;
  let summary: RunSummary;
  let queuedLine: string;

  const runCount = async () => (await h.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM collection_runs')).rows[0]!.n;

  beforeAll(async () => {
    archive = await startBinanceArchiveEmulator({ settings: { nowMs: NOW, delistedSymbols: [GONE, OLD] } });
    h = await startCryptoHarness({ emulator: { nowMs: NOW }, env: { ARCHIVE_URL: archive.url }, startWorker: false });
    h.worker = await startWorkers({ config: h.config, logger: createLogger({ name: 'test-worker', level: 'silent' }), db: h.db.pool, redis: h.redis },
      [collectFeature, archiveFeature]);
    const run = await h.ferry(['collect', '--top', '2', '--include-delisted', '--days', '60', '--timeframe', '1d', '--wait', '--json']);
    expect(run.code, run.stderr).toBe(0);
    summary = JSON.parse(run.stdout) as RunSummary;
    queuedLine = run.stderr;
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    await archive?.close();
  });

  it('adds, after the top N, the delisted coins whose archive files lie in the range, and only those', () => {
    expect(queuedLine).toMatch(/4 job\(s\) queued \(4 coin\(s\), 2 of them delisted x 1 timeframe\(s\)\)/);
    // WAVES/USDT is BREAK in exchangeInfo: not in the top N (not trading), but delisted; LUNA's files end in 2022.
    expect(summary.details.map((d) => d.item))
      .toEqual(['binance:BTC/USDT:1d', 'binance:ETH/USDT:1d', 'binance:GONE/USDT:1d', 'binance:WAVES/USDT:1d']);
  });

  it('sees the halted coins as ccxt loads them: listed in exchangeInfo, inactive, in the archive', async () => {
    const markets = await (await createCcxtExchange({ exchangeId: 'binance', baseUrl: h.emulator.url })).loadMarkets();
    expect(markets['WAVES/USDT']).toMatchObject({ id: 'WAVESUSDT', spot: true, active: false, info: { status: 'BREAK' } });
    expect(markets['LUNA/USDT']).toMatchObject({ active: false, info: { status: 'BREAK' } });
    const listing = await new ArchiveClient({ baseUrl: archive.url, timeoutMs: 5_000 }).listDirectories('data/spot/monthly/klines/');
    expect(listing).toEqual(expect.arrayContaining(['data/spot/monthly/klines/WAVESUSDT/', 'data/spot/monthly/klines/LUNAUSDT/']));
  });

  it('collects a coin exchangeInfo lists as BREAK from archive files only, complete up to its halt', async () => {
    const waves = summary.details.find((d) => d.item === 'binance:WAVES/USDT:1d')!;
    expect(waves).toMatchObject({ status: 'complete', missing_ranges: [] });
    expect(waves.details).toMatchObject({ archive_only: true, requests: 0 });
    const stored = await readCandles(h.db.pool, { exchange: 'binance', symbol: 'WAVES/USDT', timeframe: '1d' }, { start: 0, end: NOW + DAY });
    expect(stored).toEqual(archive.candles('WAVES/USDT', '1d', START, NOW));
    expect(waves.records).toBe(stored.length);
    expect(stored.at(-1)!.openTime).toBe(Math.floor(WAVES_HALT / DAY) * DAY);
    expect(h.emulator.control.counter(BinanceCounter.klinesOf('WAVESUSDT'))).toBe(0);
  });

  it('collects a delisted coin from archive files only, complete up to its delisting, with no REST klines for it', async () => {
    const gone = summary.details.find((d) => d.item === 'binance:GONE/USDT:1d')!;
    expect(gone).toMatchObject({ status: 'complete', records: 37, expected: 37, missing_ranges: [] });
    expect(gone.details).toMatchObject({ archive_only: true, requests: 0 });
    const stored = await readCandles(h.db.pool, { exchange: 'binance', symbol: 'GONE/USDT', timeframe: '1d' }, { start: 0, end: NOW + DAY });
    expect(stored).toEqual(archive.candles('GONE/USDT', '1d', START, NOW));
    expect(stored.at(-1)!.openTime).toBe(Date.UTC(2026, 8, 20));
    // Every klines request the exchange got was a valid one (none for a symbol it does not list), none for GONE.
    expect(h.emulator.control.counter(BinanceCounter.endpoint('/api/v3/klines'))).toBe(h.emulator.control.counter(BinanceCounter.klines));
    expect(h.emulator.control.counter(BinanceCounter.klinesOf('GONEUSDT'))).toBe(0);
  });

  it('records the ranking it used: the top N by 24h quote volume, then the delisted coin', async () => {
    expect(summary.ranking).toMatchObject({ basis: 'top_quote_volume', ranked_at: new Date(NOW).toISOString() });
    expect(summary.ranking!.entries).toEqual([
      { rank: 1, symbol: 'BTC/USDT', listed: true, quote_volume: expect.any(Number), volume_source: 'binance 24h ticker quoteVolume' },
      { rank: 2, symbol: 'ETH/USDT', listed: true, quote_volume: expect.any(Number), volume_source: 'binance 24h ticker quoteVolume' },
      { rank: 3, symbol: 'GONE/USDT', listed: false, quote_volume: null, volume_source: null },
      { rank: 4, symbol: 'WAVES/USDT', listed: false, quote_volume: null, volume_source: null },
    ]);
    expect(summary.ranking!.entries[0]!.quote_volume).toBeGreaterThan(summary.ranking!.entries[1]!.quote_volume!);

    const json = await h.ferry(['status', summary.run_id, '--json']);
    expect((JSON.parse(json.stdout) as RunSummary).ranking).toEqual(summary.ranking);
    const human = await h.ferry(['status', summary.run_id]);
    expect(human.stdout).toMatch(/ranking: top 2 by 24h quote volume at 2026-10-14T05:30:00.000Z: 1 BTC\/USDT [\d.]+B, 2 ETH\/USDT [\d.]+B; 2 delisted \(archive only\): GONE\/USDT, WAVES\/USDT/);
  });

  it('admits named delisted coins, halted ones too, skipping one whose archive ends before the range and saying why', async () => {
    const named = await h.ferry(['collect', '--symbols', 'OLD,GONE,WAVES', '--include-delisted', '--days', '60', '--timeframe', '1d', '--wait', '--json']);
    expect(named.code, named.stderr).toBe(0);
    const run = JSON.parse(named.stdout) as RunSummary;
    expect(run.ranking!.entries.map((e) => [e.rank, e.symbol, e.listed]))
      .toEqual([[1, 'OLD/USDT', false], [2, 'GONE/USDT', false], [3, 'WAVES/USDT', false]]);
    expect(run.details.find((d) => d.item === 'binance:WAVES/USDT:1d')).toMatchObject({ status: 'complete', details: { archive_only: true } });
    expect(run.ranking!.basis).toBe('given');
    const old = run.details.find((d) => d.item === 'binance:OLD/USDT:1d')!;
    expect(old).toMatchObject({ status: 'skipped', records: 0 });
    expect(old.details['reason']).toBe(
      'delisted: its 1d archive files end at 2025-03-01T00:00:00.000Z, before the range starts (2026-08-15T00:00:00.000Z)');
    // Without --include-delisted, they are coins the exchange does not list.
    const refused = await h.ferry(['collect', '--symbols', 'GONE', '--days', '60', '--timeframe', '1d']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('binance does not list GONE/USDT');
  });

  it('refuses a named coin exchangeInfo lists as not trading without --include-delisted (exit 2), naming its status', async () => {
    // REST serves its candles up to the halt and none after, so its item could never be complete.
    const before = await runCount();
    const refused = await h.ferry(['collect', '--symbols', 'BTC,WAVES,GONE', '--days', '60', '--timeframe', '1d']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('binance does not list GONE/USDT and lists WAVES/USDT (BREAK) as not trading: expected coins it ' +
      'trades (see its markets); --include-delisted collects a coin that no longer trades from the archive\'s files');
    expect(await runCount()).toBe(before);
  });

  it('refuses --include-delisted with --source rest (exit 2), naming both, and queues nothing', async () => {
    const before = await runCount();
    const run = await h.ferry(['collect', '--top', '2', '--include-delisted', '--source', 'rest', '--days', '60']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--include-delisted: delisted coins' history is only in the archive's files .*--source rest never uses the archive: use --source auto or archive/);
    expect(await runCount()).toBe(before);
  });

  it('lists every symbol of the archive across pages, following the marker', async () => {
    const paged = await new ArchiveClient({ baseUrl: archive.url, timeoutMs: 5_000, pageSize: 40 }).listDirectories('data/spot/monthly/klines/');
    const whole = await new ArchiveClient({ baseUrl: archive.url, timeoutMs: 5_000 }).listDirectories('data/spot/monthly/klines/');
    expect(paged.length).toBeGreaterThan(300);
    expect(paged).toEqual(whole);
    expect(paged).toContain('data/spot/monthly/klines/GONEUSDT/');
  });
});
