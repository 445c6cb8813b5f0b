import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataValidationError } from '../core/errors.js';
import { FLAT_FILE_COLUMNS, readFlatFileBars, type CaseOnlyMatches } from './read-flat-file.js';

const HEADER = FLAT_FILE_COLUMNS.join(',');
const row = (ticker: string, i: number) => `${ticker},${1000 + i},10.5,11,11.25,10.25,${1_700_000_000_000 + i * 60_000}000000,${7 + i}`;

async function readAll(file: string | Buffer, tickers: string[]) {
  const out = [];
  for await (const batch of readFlatFileBars(file, new Set(tickers), 'f.csv.gz')) out.push(...batch);
  return out;
}

describe('readFlatFileBars', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-read-flat-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('keeps only the wanted tickers, from memory and streamed from disk alike, across chunk boundaries', async () => {
    // ~3 MB of CSV: gunzip hands it over in many chunks, lines cut anywhere.
    const lines = [HEADER];
    for (let i = 0; i < 40_000; i++) lines.push(row(i % 4 === 0 ? 'TSLA' : `Q${i % 97}`, i));
    const gz = gzipSync(`${lines.join('\r\n')}\r\n`);
    const file = path.join(dir, 'big.csv.gz');
    await writeFile(file, gz);
    const fromMemory = await readAll(gz, ['TSLA']);
    expect(fromMemory).toHaveLength(10_000);
    expect(fromMemory[1]).toEqual({ ticker: 'TSLA', openTime: 1_700_000_000_000 + 4 * 60_000, open: 10.5, high: 11.25, low: 10.25, close: 11, volume: 1004, transactions: 11 });
    expect(await readAll(file, ['TSLA'])).toEqual(fromMemory);
  });

  it.each([
    [`${HEADER}\n${row('A', 1)}\nB,12x4,187.1\n`, 'malformed CSV at line 3: 3 fields, expected 8'],
    [`${HEADER}\n"A",1,2,3,4,5,6000000,7\n`, 'malformed CSV at line 2: a quote character'],
    [`ticker,open\n${row('A', 1)}\n`, 'line 1: header is "ticker,open"'],
    [`${HEADER}\nTSLA,12x4,1,1,1,1,1700000000000000000,1\n`, 'line 2 (TSLA): volume "12x4" is not a number'],
    [`${HEADER}\nTSLA,1,10,10,9,8,1700000000000000000,1\n`, 'line 2 (TSLA): high is below max(open, close)'],
    [`${HEADER}\nTSLA,1,10,10,11,9,17000000000001,1\n`, 'is not whole milliseconds in nanoseconds'],
  ])('fails %j as DataValidationError naming the line', async (csv, message) => {
    const err = await readAll(gzipSync(csv), ['TSLA']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataValidationError);
    expect((err as Error).message).toMatch(/^f\.csv\.gz: /);
    expect((err as Error).message).toContain(message);
  });

  it('reports corrupt gzip, from memory and from disk', async () => {
    const gz = gzipSync(`${HEADER}\n${row('TSLA', 1).repeat(1)}\n`.repeat(200));
    for (let i = 20; i < 40; i++) gz[i] = gz[i]! ^ 0xff;
    const file = path.join(dir, 'corrupt.csv.gz');
    await writeFile(file, gz);
    for (const source of [gz, file]) {
      const err = await readAll(source, ['TSLA']).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataValidationError);
      expect((err as Error).message).toMatch(/^f\.csv\.gz: corrupt gzip/);
    }
  });

  it('matches tickers case-sensitively and notes the file\'s other spellings of a requested ticker that has no row', async () => {
    const csv = `${HEADER}\n${['ABRpD', 'ABRPE', 'TSLA', 'TYP', 'TYp', 'ACHR.WS'].map(row).join('\n')}\n`;
    const gz = gzipSync(csv);
    const file = path.join(dir, 'cases.csv.gz');
    await writeFile(file, gz);
    for (const source of [gz, file]) {
      const matches: CaseOnlyMatches = new Map();
      const bars = [];
      for await (const batch of readFlatFileBars(source, new Set(['abrpd', 'ABRPD', 'TYp', 'TSLA', 'achr.ws', 'tsl']), 'f.csv.gz', matches)) bars.push(...batch);
      expect(bars.map((b) => b.ticker)).toEqual(['TSLA', 'TYp']);
      // TYp has rows of its own: TYP is another ticker, not what was meant.
      expect(matches).toEqual(new Map([['abrpd', new Set(['ABRpD'])], ['ABRPD', new Set(['ABRpD'])], ['achr.ws', new Set(['ACHR.WS'])]]));
    }
  });
});
