import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { CSV_HEADER } from './generator.js';

/**
 * A big object (e.g. 1 GB) for download benchmarks and resume tests: a valid gzipped minute-aggregates CSV whose
 * every byte is computed from its offset, so it is streamed (and Range-served) without ever being held in memory.
 *
 * The trick: fixed-width rows, and deflate "stored" blocks (RFC 1951 BTYPE=00: 5-byte header, then up to 65,535
 * raw bytes). Sizes and offsets are then arithmetic. Only the gzip trailer's CRC-32 needs the whole content; it is
 * computed while a full GET streams by, or in one pass on demand, and kept.
 */
export interface BigObjectSpec {
  key: string;
  /** Upper bound of the object's size; the real size is within one row (65 bytes) of it. Minimum 1,024. */
  sizeBytes: number;
}

const HEADER_LINE = Buffer.from(`${CSV_HEADER}\n`);
/** `TSLA,123456,234.56,234.56,234.56,234.56,1577836800000000000,1234\n` */
export const BIG_ROW_BYTES = 65;
const TICKERS = ['AAPL', 'AMZN', 'GOOG', 'META', 'MSFT', 'NFLX', 'NVDA', 'TSLA'].map((t) => Buffer.from(t));
/** 2020-01-01T00:00:00Z: nanosecond stamps keep 19 digits for centuries of minutes after it. */
const FIRST_WINDOW_MS = 1_577_836_800_000;
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
const GZIP_HEADER_BYTES = 10;
const GZIP_TRAILER_BYTES = 8;
const BLOCK_CONTENT = 65_535;
const BLOCK_HEADER = 5;
/** Part size of the multipart-style ETag (the AWS CLI's default multipart chunk). */
const ETAG_PART_BYTES = 8 * 1024 * 1024;

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Writes `value` as exactly `width` digits (callers keep it in range). */
function digits(buf: Buffer, at: number, value: number, width: number): void {
  for (let i = at + width - 1; i >= at; i--) {
    const q = Math.floor(value / 10);
    buf[i] = 48 + (value - q * 10);
    value = q;
  }
}

/** `ddd.dd` from cents in [10000, 99999]. */
function price(buf: Buffer, at: number, cents: number): void {
  digits(buf, at, Math.floor(cents / 100), 3);
  buf[at + 3] = 46;
  digits(buf, at + 4, cents % 100, 2);
}

export class BigObject {
  readonly rows: number;
  /** Bytes of CSV (the gunzipped content). */
  readonly contentBytes: number;
  readonly blocks: number;
  /** Bytes of the object. */
  readonly size: number;
  readonly etag: string;
  private readonly rowsPerTicker: number;
  private crc: number | undefined;

  constructor(readonly key: string, sizeBytes: number) {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 1024) {
      throw new Error(`big object ${key}: sizeBytes must be an integer >= 1024, got ${sizeBytes}`);
    }
    const total = (rows: number) => {
      const content = HEADER_LINE.length + rows * BIG_ROW_BYTES;
      return GZIP_HEADER_BYTES + GZIP_TRAILER_BYTES + Math.ceil(content / BLOCK_CONTENT) * BLOCK_HEADER + content;
    };
    let rows = Math.floor((sizeBytes - total(0)) / BIG_ROW_BYTES);
    while (rows > 0 && total(rows) > sizeBytes) rows -= 1 + Math.floor((total(rows) - sizeBytes) / BIG_ROW_BYTES);
    this.rows = rows;
    this.contentBytes = HEADER_LINE.length + rows * BIG_ROW_BYTES;
    this.blocks = Math.ceil(this.contentBytes / BLOCK_CONTENT);
    this.size = total(rows);
    this.rowsPerTicker = Math.ceil(rows / TICKERS.length);
    // Like an S3 multipart upload's ETag: not the body's MD5, so a client cannot check the body against it.
    const md5 = createHash('md5').update(`${key}:${this.size}`).digest('hex');
    this.etag = `"${md5}-${Math.ceil(this.size / ETAG_PART_BYTES)}"`;
  }

  /** The CSV row `index`: sorted by ticker then minute, as Massive's minute files are. */
  writeRow(buf: Buffer, at: number, index: number): void {
    const ticker = TICKERS[Math.floor(index / this.rowsPerTicker)]!;
    const minute = index % this.rowsPerTicker;
    const h1 = mix(index + 1);
    const h2 = mix(h1 ^ 0x5bd1e995);
    const open = 20_000 + (h1 % 70_000);
    const close = 20_000 + (h2 % 70_000);
    ticker.copy(buf, at);
    buf[at + 4] = 44;
    digits(buf, at + 5, 100_000 + (h1 % 900_000), 6);
    buf[at + 11] = 44;
    price(buf, at + 12, open);
    buf[at + 18] = 44;
    price(buf, at + 19, close);
    buf[at + 25] = 44;
    price(buf, at + 26, Math.max(open, close) + (h2 % 10_000));
    buf[at + 32] = 44;
    price(buf, at + 33, Math.min(open, close) - ((h1 >>> 7) % 10_000));
    buf[at + 39] = 44;
    digits(buf, at + 40, FIRST_WINDOW_MS + minute * 60_000, 13);
    digits(buf, at + 53, 0, 6); // ms -> ns
    buf[at + 59] = 44;
    digits(buf, at + 60, 1000 + (h2 % 9000), 4);
    buf[at + 64] = 10;
  }

  /** CSV bytes [from, to) of the content. */
  content(from: number, to: number): Buffer {
    const out = Buffer.allocUnsafe(to - from);
    let pos = from;
    if (pos < HEADER_LINE.length) {
      const n = HEADER_LINE.copy(out, 0, pos, Math.min(HEADER_LINE.length, to));
      pos += n;
    }
    if (pos >= to) return out;
    const firstRow = Math.floor((pos - HEADER_LINE.length) / BIG_ROW_BYTES);
    const lastRow = Math.floor((to - 1 - HEADER_LINE.length) / BIG_ROW_BYTES);
    const scratch = Buffer.allocUnsafe((lastRow - firstRow + 1) * BIG_ROW_BYTES);
    for (let r = firstRow; r <= lastRow; r++) this.writeRow(scratch, (r - firstRow) * BIG_ROW_BYTES, r);
    const skip = pos - HEADER_LINE.length - firstRow * BIG_ROW_BYTES;
    scratch.copy(out, pos - from, skip, skip + (to - pos));
    return out;
  }

  /** CRC-32 of the whole content, for the gzip trailer: one pass over it the first time. */
  contentCrc(): number {
    if (this.crc === undefined) {
      let crc = 0;
      for (let from = 0; from < this.contentBytes; from += BLOCK_CONTENT) {
        crc = crc32(this.content(from, Math.min(this.contentBytes, from + BLOCK_CONTENT)), crc);
      }
      this.crc = crc;
    }
    return this.crc;
  }

  private trailer(): Buffer {
    const out = Buffer.allocUnsafe(GZIP_TRAILER_BYTES);
    out.writeUInt32LE(this.contentCrc(), 0);
    out.writeUInt32LE(this.contentBytes % 2 ** 32, 4); // ISIZE is the length modulo 2^32
    return out;
  }

  private blockHeader(block: number): Buffer {
    const length = Math.min(BLOCK_CONTENT, this.contentBytes - block * BLOCK_CONTENT);
    const out = Buffer.allocUnsafe(BLOCK_HEADER);
    out[0] = block === this.blocks - 1 ? 1 : 0; // BFINAL on the last block, BTYPE 00 (stored)
    out.writeUInt16LE(length, 1);
    out.writeUInt16LE(~length & 0xffff, 3);
    return out;
  }

  /** The object's bytes [start, end), in chunks of at most one block. */
  *bytes(start = 0, end = this.size): Generator<Buffer> {
    const clip = (segment: Buffer | (() => Buffer), at: number, length: number): Buffer | undefined => {
      if (at + length <= start || at >= end) return undefined;
      const bytes = typeof segment === 'function' ? segment() : segment;
      return bytes.subarray(Math.max(0, start - at), Math.min(length, end - at));
    };
    const header = clip(GZIP_HEADER, 0, GZIP_HEADER_BYTES);
    if (header) yield header;
    // A stream that covers all content computes the CRC on the way, sparing the extra pass.
    let runningCrc: number | undefined = start <= GZIP_HEADER_BYTES + BLOCK_HEADER ? 0 : undefined;
    const firstBlock = Math.max(0, Math.floor((start - GZIP_HEADER_BYTES) / (BLOCK_CONTENT + BLOCK_HEADER)));
    for (let block = firstBlock; block < this.blocks; block++) {
      const at = GZIP_HEADER_BYTES + block * (BLOCK_CONTENT + BLOCK_HEADER);
      if (at >= end) return;
      const length = Math.min(BLOCK_CONTENT, this.contentBytes - block * BLOCK_CONTENT);
      const head = clip(() => this.blockHeader(block), at, BLOCK_HEADER);
      if (head) yield head;
      const contentAt = at + BLOCK_HEADER;
      if (contentAt + length <= start || contentAt >= end) continue;
      const from = block * BLOCK_CONTENT + Math.max(0, start - contentAt);
      const to = block * BLOCK_CONTENT + Math.min(length, end - contentAt);
      const chunk = this.content(from, to);
      if (runningCrc !== undefined) runningCrc = crc32(chunk, runningCrc);
      yield chunk;
    }
    if (runningCrc !== undefined && end >= this.size - GZIP_TRAILER_BYTES) this.crc ??= runningCrc;
    const trailer = clip(() => this.trailer(), this.size - GZIP_TRAILER_BYTES, GZIP_TRAILER_BYTES);
    if (trailer) yield trailer;
  }
}
