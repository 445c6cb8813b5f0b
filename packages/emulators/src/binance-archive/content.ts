import { createHash } from 'node:crypto';
import { ZipFile } from 'yazl';
import { emulatorKlines } from '../binance/candles.js';
import { LruBufferCache } from '../s3/lru-cache.js';
import type { ArchiveFile } from './layout.js';
import type { ArchiveSettings } from './settings.js';

/**
 * What a file holds: one CSV (`<name>.csv`) in a zip, the rows the REST emulator serves for the same symbol,
 * interval and open times (so archive and REST agree), with Binance's quirks: microsecond timestamps from 2025, a
 * header row in some files, and a flawed first publication for `staleFiles`.
 */
export const CSV_HEADER = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';

/** Fixed, so that a file's bytes (and so its checksum) are the same in every run. */
const ZIP_MTIME = new Date(Date.UTC(2020, 0, 1));

export interface ArchiveContent {
  zip: Buffer;
  sha256: string;
  /** S3's ETag for a single-part object: the MD5 of the body, quoted. */
  etag: string;
  /** When the period ended, plus the publication delay. */
  lastModified: Date;
}

function hasHeader(file: ArchiveFile, s: ArchiveSettings): boolean {
  if (s.headerRows !== 'mixed') return s.headerRows === 'always';
  let h = 0;
  for (const c of file.name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h % 2 === 0;
}

/** Doubles an amount kept as a decimal string, keeping its number of decimals. */
function doubled(amount: string): string {
  const decimals = amount.includes('.') ? amount.length - amount.indexOf('.') - 1 : 0;
  return (Number(amount) * 2).toFixed(decimals);
}

export function archiveCsv(file: ArchiveFile, s: ArchiveSettings): Buffer {
  const rows = emulatorKlines(file.symbol, file.interval, { startTime: file.start, endTime: file.end - 1, limit: Number.MAX_SAFE_INTEGER }, s);
  const micro = file.start >= s.microsecondsFrom;
  const stale = s.staleFiles.includes(file.name);
  const lines: string[] = hasHeader(file, s) ? [CSV_HEADER] : [];
  for (const r of rows) {
    const [open, o, h, l, c, v, close, qv, trades, tb, tq, ignore] = r;
    const openTime = micro ? `${open}000` : String(open);
    const closeTime = micro ? `${close}999` : String(close);
    const volumes = stale ? [doubled(v), doubled(qv), doubled(tb), doubled(tq)] : [v, qv, tb, tq];
    lines.push([openTime, o, h, l, c, volumes[0], closeTime, volumes[1], trades, volumes[2], volumes[3], ignore].join(','));
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

function zipOf(name: string, csv: Buffer): Promise<Buffer> {
  const zip = new ZipFile();
  zip.addBuffer(csv, `${name}.csv`, { mtime: ZIP_MTIME, mode: 0o100644 });
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (c: Buffer) => chunks.push(c));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}

/** Builds files on demand and keeps the recent ones (a month of 1m candles takes a while to deflate). */
export class ArchiveContentCache {
  private readonly cache = new LruBufferCache(256 * 1024 * 1024);
  private readonly building = new Map<string, Promise<Buffer>>();

  async content(file: ArchiveFile, s: ArchiveSettings): Promise<ArchiveContent> {
    const stale = s.staleFiles.includes(file.name);
    const cacheKey = JSON.stringify([file.name, stale, s.headerRows, s.microsecondsFrom, s.coinCount, s.outages]);
    let zip = this.cache.get(cacheKey);
    if (!zip) {
      let pending = this.building.get(cacheKey);
      if (!pending) {
        pending = zipOf(file.name, archiveCsv(file, s)).finally(() => this.building.delete(cacheKey));
        this.building.set(cacheKey, pending);
      }
      zip = await pending;
      this.cache.set(cacheKey, zip);
    }
    return {
      zip,
      sha256: createHash('sha256').update(zip).digest('hex'),
      etag: `"${createHash('md5').update(zip).digest('hex')}"`,
      lastModified: new Date(file.end + (file.period === 'monthly' ? s.monthlyDelayMs : s.dailyDelayMs)),
    };
  }
}

/** The `.CHECKSUM` body, in `sha256sum` format; a wrong one for `badChecksums`. */
export function checksumFile(file: ArchiveFile, content: ArchiveContent, s: ArchiveSettings): string {
  const sha = s.badChecksums.includes(file.name)
    ? createHash('sha256').update(`not ${content.sha256}`).digest('hex')
    : content.sha256;
  return `${sha}  ${file.name}.zip\n`;
}
