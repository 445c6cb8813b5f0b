import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { emulatorKlines } from '../binance/candles.js';
import { universe } from '../binance/universe.js';
import { CSV_HEADER, startBinanceArchiveEmulator, type ArchiveEmulator } from './index.js';

// A fixed clock in mid-October 2026: September is published as a month, October as days so far.
const NOW = Date.UTC(2026, 9, 14, 12);
const DIR = 'data/spot/daily/klines/BTCUSDT/1h/';

let archive: ArchiveEmulator;
beforeAll(async () => {
  archive = await startBinanceArchiveEmulator({ settings: { nowMs: NOW } });
});
afterAll(() => archive.close());
beforeEach(() => archive.control.reset());

async function get(path: string): Promise<{ status: number; body: Buffer; etag: string | null }> {
  const res = await fetch(`${archive.url}/${path}`);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), etag: res.headers.get('etag') };
}

function unzipOne(zip: Buffer): Promise<{ name: string; text: string }> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err) return reject(err);
      file.readEntry();
      file.once('entry', (entry: yauzl.Entry) => {
        file.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => resolve({ name: entry.fileName, text: Buffer.concat(chunks).toString('utf8') }));
        });
      });
    });
  });
}

const dataLines = (text: string) => text.trim().split('\n').filter((l) => l !== CSV_HEADER);

describe('the data.binance.vision emulator', () => {
  it('lists a directory S3-style, with markers across pages', async () => {
    const res = await fetch(`${archive.url}/?prefix=${encodeURIComponent(DIR)}&delimiter=/&max-keys=6`);
    const xml = await res.text();
    expect(xml).toContain('<IsTruncated>true</IsTruncated>');
    const keys = [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!);
    expect(keys).toHaveLength(6);
    expect(keys[0]).toMatch(/^data\/spot\/daily\/klines\/BTCUSDT\/1h\/BTCUSDT-1h-2017-08-17\.zip$/);
    expect(keys[1]).toBe(`${keys[0]}.CHECKSUM`);
    const marker = /<NextMarker>([^<]+)<\/NextMarker>/.exec(xml)![1]!;
    const next = await (await fetch(`${archive.url}/?prefix=${encodeURIComponent(DIR)}&delimiter=/&marker=${encodeURIComponent(marker)}&max-keys=2`)).text();
    expect(next).toContain('BTCUSDT-1h-2017-08-20.zip</Key>');

    const symbols = await (await fetch(`${archive.url}/?prefix=data/spot/monthly/klines/&delimiter=/&max-keys=3`)).text();
    expect([...symbols.matchAll(/<CommonPrefixes><Prefix>([^<]+)<\/Prefix>/g)].map((m) => m[1])).toEqual([
      'data/spot/monthly/klines/AAVEUSDT/', 'data/spot/monthly/klines/ADAUSDT/', 'data/spot/monthly/klines/APTUSDT/']);
  });

  it('serves zips whose rows are the REST emulator\'s, with microseconds from 2025 and a matching CHECKSUM', async () => {
    const name = 'BTCUSDT-1h-2026-10-03';
    const zip = await get(`${DIR}${name}.zip`);
    expect(zip.status).toBe(200);
    const checksum = (await get(`${DIR}${name}.zip.CHECKSUM`)).body.toString();
    expect(checksum).toBe(`${createHash('sha256').update(zip.body).digest('hex')}  ${name}.zip\n`);
    const csv = await unzipOne(zip.body);
    expect(csv.name).toBe(`${name}.csv`);
    const rest = emulatorKlines('BTCUSDT', '1h', { startTime: Date.UTC(2026, 9, 3), endTime: Date.UTC(2026, 9, 4) - 1, limit: 1000 }, { nowMs: NOW });
    expect(rest).toHaveLength(24);
    expect(dataLines(csv.text)).toEqual(rest.map((r) => [`${r[0]}000`, ...r.slice(1, 6), `${r[6]}999`, ...r.slice(7)].join(',')));
  });

  it('keeps milliseconds before 2025 and puts a header row in some files only', async () => {
    const texts = await Promise.all(['2024-12-30', '2024-12-31', '2025-01-01', '2025-01-02']
      .map(async (d) => (await unzipOne((await get(`${DIR}BTCUSDT-1h-${d}.zip`)).body)).text));
    expect(texts.map((t) => dataLines(t)[0]!.split(',')[0]!.length)).toEqual([13, 13, 16, 16]);
    const headers = texts.map((t) => t.startsWith('open_time'));
    expect(headers).toContain(true);
    expect(headers).toContain(false);
  });

  it('has the exchange\'s maintenance hole inside the file of that day', async () => {
    // The default outage: 4 hours from 03:00 two weeks before 2026-10-01.
    const text = (await unzipOne((await get(`${DIR}BTCUSDT-1h-2026-09-17.zip`)).body)).text;
    expect(dataLines(text)).toHaveLength(20);
  });

  it('answers 404 for days not yet published, missing files, and leaves them out of the listing', async () => {
    expect((await get(`${DIR}BTCUSDT-1h-2026-10-13.zip`)).status).toBe(200);
    expect((await get(`${DIR}BTCUSDT-1h-2026-10-14.zip`)).status).toBe(404);
    expect((await get('data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2026-10.zip')).status).toBe(404);
    expect((await get('data/spot/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2026-09.zip')).status).toBe(200);
    archive.control.configure({ missingFiles: ['BTCUSDT-1h-2026-10-05'] });
    expect((await get(`${DIR}BTCUSDT-1h-2026-10-05.zip`)).status).toBe(404);
    const xml = await (await fetch(`${archive.url}/?prefix=${DIR}BTCUSDT-1h-2026-10-&delimiter=/`)).text();
    expect(xml).not.toContain('2026-10-05.zip');
    expect(xml).toContain('2026-10-13.zip.CHECKSUM');
    expect(xml).not.toContain('2026-10-14.zip');
  });

  it('serves a wrong CHECKSUM for a bad file, and new bytes and checksum when a stale file is re-published', async () => {
    const name = 'BTCUSDT-1h-2026-10-02';
    archive.control.configure({ badChecksums: [name], staleFiles: [name] });
    const stale = await get(`${DIR}${name}.zip`);
    const bad = (await get(`${DIR}${name}.zip.CHECKSUM`)).body.toString();
    expect(bad.split(' ')[0]).not.toBe(createHash('sha256').update(stale.body).digest('hex'));
    archive.control.configure({ badChecksums: [], staleFiles: [] });
    const fixed = await get(`${DIR}${name}.zip`);
    expect(fixed.etag).not.toBe(stale.etag);
    expect((await get(`${DIR}${name}.zip.CHECKSUM`)).body.toString().split(' ')[0]).toBe(createHash('sha256').update(fixed.body).digest('hex'));
    const volume = (text: string) => Number(dataLines(text)[0]!.split(',')[5]);
    expect(volume((await unzipOne(stale.body)).text)).toBeCloseTo(2 * volume((await unzipOne(fixed.body)).text), 6);
  });

  it('serves a delisted coin\'s files up to its delisting, which the REST emulator does not list', async () => {
    const delisted = { symbol: 'GONEUSDT', listedAt: Date.UTC(2026, 6, 10, 8), delistedAt: Date.UTC(2026, 8, 20, 14), basePrice: 2.5 };
    archive.control.configure({ delistedSymbols: [delisted] });
    expect(universe({ nowMs: NOW }).map((u) => u.symbol)).not.toContain('GONEUSDT');
    const symbols = await (await fetch(`${archive.url}/?prefix=data/spot/monthly/klines/&delimiter=/`)).text();
    expect(symbols).toContain('<Prefix>data/spot/monthly/klines/GONEUSDT/</Prefix>');
    const months = await (await fetch(`${archive.url}/?prefix=data/spot/monthly/klines/GONEUSDT/1d/&delimiter=/`)).text();
    expect([...months.matchAll(/<Key>([^<]+\.zip)<\/Key>/g)].map((m) => m[1]!.split('/').at(-1))).toEqual([
      'GONEUSDT-1d-2026-07.zip', 'GONEUSDT-1d-2026-08.zip', 'GONEUSDT-1d-2026-09.zip']);
    const september = dataLines((await unzipOne((await get('data/spot/monthly/klines/GONEUSDT/1d/GONEUSDT-1d-2026-09.zip')).body)).text);
    // Trading stopped at 14:00 on the 20th: that day's candle is its last.
    expect(september).toHaveLength(20);
    expect(archive.candles('GONE/USDT', '1d', Date.UTC(2026, 8, 1), Date.UTC(2026, 9, 1)).map((c) => c.openTime))
      .toEqual(september.map((l) => Number(l.split(',')[0]!.slice(0, 13))));
    expect((await get('data/spot/daily/klines/GONEUSDT/1d/GONEUSDT-1d-2026-09-21.zip')).status).toBe(404);
  });
});
