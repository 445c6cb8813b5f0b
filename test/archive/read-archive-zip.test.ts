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

  it('reads every decimal as exactly the double Number() gives its text, and lines cut across chunks whole', async () => {
    // Prices and volumes as Binance writes them (up to 8 decimals), and some a double cannot hold in 15 digits.
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const decimal = () => {
      const digits = 1 + Math.floor(random() * 22);
      const text = Array.from({ length: digits }, () => Math.floor(random() * 10)).join('');
      const point = Math.floor(random() * digits);
      return point === 0 ? text : `${text.slice(0, point)}.${text.slice(point)}`;
    };
    const texts: string[][] = [];
    const lines = Array.from({ length: 20_000 }, (_, i) => {
      const [low, a, b, volume] = [decimal(), decimal(), decimal(), decimal()];
      const sorted = [low, a, b].sort((x, y) => Number(x) - Number(y));
      // open, high, low, close: the lowest as low, the highest as high, so that the candle checks pass.
      const fields = [sorted[1]!, sorted[2]!, sorted[0]!, sorted[1]!, volume];
      texts.push(fields);
      return `${START + i * 60_000},${fields.join(',')},${START + i * 60_000 + 59_999},0,1,0,0,0`;
    });
    const candles: Candle[] = [];
    const file = await zipOf('decimals', lines);
    for await (const batch of readArchiveCandles(file, series, { startMs: START, endMs: START + lines.length * 60_000 }, 'decimals.zip')) candles.push(...batch);
    expect(candles).toHaveLength(lines.length);
    expect(candles.map((c) => [c.open, c.high, c.low, c.close, c.volume])).toEqual(texts.map((f) => f.map(Number)));
    expect(candles.map((c) => c.openTime)).toEqual(lines.map((_, i) => START + i * 60_000));
  });

  it('refuses a line that is not twelve fields of the expected kinds', async () => {
    for (const bad of [`${START},100.0,101.0,99.0,100.5,12.5`, `${START},100.0,101.0,99.0,100.5,12.5,1,2,3,4,5,6,7`,
      `${START},100.,101.0,99.0,100.5,12.5,1,2,3,4,5,6`, `${START},1e2,101.0,99.0,100.5,12.5,1,2,3,4,5,6`, `x${START},100.0,101.0,99.0,100.5,12.5,1,2,3,4,5,6`]) {
      await expect(read(await zipOf('bad', [row(String(START)), bad]))).rejects.toThrow(/line 2: expected 12 fields/);
    }
  });
});
