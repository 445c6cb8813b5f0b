import { createHash } from 'node:crypto';
import { ZipFile } from 'yazl';
import { LruBufferCache } from '../s3/lru-cache.js';
import type { ArchiveFile } from './layout.js';
import type { ArchiveSettings } from './settings.js';
import { archiveKlines, findArchiveSymbol } from './universe.js';

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
  /** Quoted, as S3's; see `archiveEtag`. */
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
  const info = findArchiveSymbol(s, file.symbol);
  if (!info) throw new Error(`the binance archive emulator has no ${file.symbol}`);
  const rows = archiveKlines(info, file.interval, file.start, file.end, s);
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

/** What a file's bytes depend on besides its name: changing any of these publishes other bytes. */
function contentKey(file: ArchiveFile, s: ArchiveSettings): string {
  const delisted = s.delistedSymbols.find((d) => d.symbol === file.symbol);
  return JSON.stringify([file.name, s.staleFiles.includes(file.name), s.headerRows, s.microsecondsFrom, s.coinCount, s.outages,
    ...(delisted ? [delisted] : [])]);
}

/**
 * The file's ETag, quoted: an MD5 of what its bytes depend on, not of the bytes themselves (S3's ETags are opaque to
 * clients anyway: multipart and encrypted objects have others), so that a listing names each publication without
 * building every zip it lists. A re-published file gets a new one.
 */
export function archiveEtag(file: ArchiveFile, s: ArchiveSettings): string {
  return `"${createHash('md5').update(contentKey(file, s)).digest('hex')}"`;
}

/** Builds files on demand and keeps the recent ones (a month of 1m candles takes a while to deflate). */
export class ArchiveContentCache {
  private readonly cache: LruBufferCache;
  private readonly building = new Map<string, Promise<Buffer>>();
  /** Sizes of every file built so far (the zips themselves may have left the cache). */
  private readonly sizes = new Map<string, number>();
  /**
   * SHA-256 of every file built so far: hashed once, not on each request (a CHECKSUM and its zip are two requests,
   * and the emulator's CPU is not what a benchmark measures).
   */
  private readonly hashes = new Map<string, string>();

  constructor(maxBytes = 256 * 1024 * 1024) {
    this.cache = new LruBufferCache(maxBytes);
  }

  async content(file: ArchiveFile, s: ArchiveSettings): Promise<ArchiveContent> {
    const cacheKey = contentKey(file, s);
    let zip = this.cache.get(cacheKey);
    if (!zip) {
      let pending = this.building.get(cacheKey);
      if (!pending) {
        pending = zipOf(file.name, archiveCsv(file, s)).finally(() => this.building.delete(cacheKey));
        this.building.set(cacheKey, pending);
      }
      zip = await pending;
      this.cache.set(cacheKey, zip);
      this.sizes.set(cacheKey, zip.length);
    }
    let sha256 = this.hashes.get(cacheKey);
    if (sha256 === undefined) {
      sha256 = createHash('sha256').update(zip).digest('hex');
      this.hashes.set(cacheKey, sha256);
    }
    return {
      zip,
      sha256,
      etag: archiveEtag(file, s),
      lastModified: new Date(file.end + (file.period === 'monthly' ? s.monthlyDelayMs : s.dailyDelayMs)),
    };
  }

  /**
   * The zip's size for a listing: exact once the file was built, else an estimate (a listing does not build the
   * months it lists; ferry does not read listed sizes, it verifies the bytes against the CHECKSUM).
   */
  listedSize(file: ArchiveFile, s: ArchiveSettings): number {
    const rows = (file.end - file.start) / (INTERVAL_MINUTES[file.interval] ?? 1) / 60_000;
    return this.sizes.get(contentKey(file, s)) ?? Math.round(rows * 50);
  }
}

const INTERVAL_MINUTES: Record<string, number> = {
  '1m': 1, '3m': 3, '5m': 5, '15m': 15, '30m': 30, '1h': 60, '2h': 120, '4h': 240, '6h': 360, '8h': 480, '12h': 720, '1d': 1440,
};

/** The `.CHECKSUM` body's length: a SHA-256 in hex, two spaces, the zip's name, a newline. */
export function checksumFileSize(file: ArchiveFile): number {
  return 64 + 2 + `${file.name}.zip`.length + 1;
}

/** The `.CHECKSUM` body, in `sha256sum` format; a wrong one for `badChecksums`. */
export function checksumFile(file: ArchiveFile, content: ArchiveContent, s: ArchiveSettings): string {
  const sha = s.badChecksums.includes(file.name)
    ? createHash('sha256').update(`not ${content.sha256}`).digest('hex')
    : content.sha256;
  return `${sha}  ${file.name}.zip\n`;
}
