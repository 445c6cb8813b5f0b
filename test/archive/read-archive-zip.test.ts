import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { readArchiveCandles, type ArchiveReadState } from '@ferry/shared/archive';
import { DataValidationError, type Candle } from '@ferry/shared/core';

const series = { exchange: 'binance', symbol: 'BTC/USDT', timeframe: '1m' as const };
const START = Date.UTC(2025, 0, 1);
const period = { startMs: START, endMs: START + 86_400_000 };
const HEADER = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';
const row = (t: string, high = '101.0') => `${t},100.0,${high},99.0,100.5,12.5,${t}9,1250.0,42,6.0,600.0,0`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-archive-zip-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function zipOf(name: string, lines: string[]): Promise<string> {
  const zip = new ZipFile();
  zip.addBuffer(Buffer.from(`${lines.join('\n')}\n`), `${name}.csv`);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  const file = path.join(dir, `${name}.zip`);
  await writeFile(file, Buffer.concat(chunks));
  return file;
}

async function read(file: string, state?: ArchiveReadState): Promise<Candle[]> {
  const out: Candle[] = [];
  for await (const batch of readArchiveCandles(file, series, period, path.basename(file), state)) out.push(...batch);
  return out;
}

describe('reading an archive zip', () => {
  it('skips a header row and turns microseconds into milliseconds', async () => {
    const state: ArchiveReadState = { unit: undefined, rows: 0, headerRow: false };
    const candles = await read(await zipOf('us-header', [HEADER, row(`${START}000`), row(`${START + 60_000}000`)]), state);
    expect(candles.map((c) => c.openTime)).toEqual([START, START + 60_000]);
    expect(candles[0]).toEqual({ openTime: START, open: 100, high: 101, low: 99, close: 100.5, volume: 12.5 });
    expect(state).toEqual({ unit: 'us', rows: 2, headerRow: true });
  });

  it('reads milliseconds without a header as they are', async () => {
    const state: ArchiveReadState = { unit: undefined, rows: 0, headerRow: false };
    expect((await read(await zipOf('ms', [row(String(START))]), state)).map((c) => c.openTime)).toEqual([START]);
    expect(state.unit).toBe('ms');
  });

  it('refuses a file that changes unit, a candle that breaks the checks, and a row outside its period', async () => {
    await expect(read(await zipOf('mixed', [row(`${START}000`), row(String(START + 60_000))]))).rejects.toThrow(/line 2: open time \d+ is in ms, the file's first row in us/);
    await expect(read(await zipOf('insane', [row(String(START), '98.0')]))).rejects.toThrow(/high is below max\(open, close\)/);
    await expect(read(await zipOf('outside', [row(String(START - 60_000))]))).rejects.toThrow(DataValidationError);
  });
});
