import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { FaultRule } from '../common/control.js';
import { BigObject } from './big-object.js';
import { MARKETS, tradingDays } from './calendar.js';
import { TIMEFRAMES, flatFileBody, flatFileKey, parseFlatFileKey, publishedAt, type ContentVariant } from './generator.js';
import { LruBufferCache } from './lru-cache.js';
import { CONTENT_FAULTS, S3Fault, type S3Settings } from './settings.js';

/**
 * What the bucket holds: every flat file of the configured date range plus the big objects. Keys are computed from
 * the calendar; bodies are generated when asked for and kept in a bounded LRU cache; Size and ETag (which a listing
 * needs for every key) are kept once computed, so a listing generates each body at most once.
 */
export interface ObjectMeta {
  key: string;
  size: number;
  /** Quoted, as S3 sends it. */
  etag: string;
  /** Whole seconds (HTTP dates have no milliseconds). */
  lastModified: Date;
  /**
   * The whole object's CRC-32, base64 of its 4 big-endian bytes, as S3 sends it in `x-amz-checksum-crc32`; undefined
   * for objects stored without a checksum (the big objects, uploaded in parts).
   */
  crc32?: string;
  /** `x-amz-server-side-encryption` (`serverSideEncryption` setting); undefined when stored unencrypted. */
  serverSideEncryption?: 'aws:kms';
}

export interface StoredObject extends ObjectMeta {
  /** Content faults this object is stored under. */
  contentFaults: S3Fault[];
  /** The body bytes [start, end), in chunks. */
  chunks(start: number, end: number): Iterable<Buffer>;
}

/** Every key of the bucket, sorted as S3 lists them (UTF-8 byte order; the keys are ASCII). */
export function bucketKeys(settings: Pick<S3Settings, 'firstDate' | 'lastDate' | 'bigObjects'>): string[] {
  const keys = new Set<string>(settings.bigObjects.map((b) => b.key));
  for (const market of MARKETS) {
    const days = tradingDays(market, settings.firstDate, settings.lastDate);
    for (const timeframe of TIMEFRAMES) for (const date of days) keys.add(flatFileKey(market, timeframe, date));
  }
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The pristine bytes of a generated file, or undefined when the bucket has no such key. */
export function objectBody(key: string, settings: S3Settings): Buffer | undefined {
  const id = parseFlatFileKey(key);
  if (!id || settings.bigObjects.some((b) => b.key === key) || !tradingDays(id.market, id.date, id.date).length) return undefined;
  if (id.date < settings.firstDate || id.date > settings.lastDate) return undefined;
  return flatFileBody(id, settings);
}

export function md5Etag(body: Buffer): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}

/** S3's x-amz-checksum-crc32 value: the CRC-32 of the bytes, big-endian, base64. */
export function crc32Checksum(body: Buffer): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc32(body));
  return b.toString('base64');
}

/**
 * The ETag of an object stored with SSE-KMS: 32 hex digits like an MD5, but not the MD5 of the content (the S3 model
 * docs: "Objects encrypted by SSE-C or SSE-KMS have ETags that are not an MD5 digest of their object data").
 */
export function kmsEtag(key: string, body: Buffer): string {
  return `"${createHash('md5').update(`sse-kms:${key}:`).update(body).digest('hex')}"`;
}

/** The content faults in place for a key, as a variant of the file. */
export function contentVariant(key: string, rules: readonly FaultRule[]): { variant: ContentVariant; faults: S3Fault[] } {
  const variant: ContentVariant = { version: 0, corruptGzip: false };
  const faults: S3Fault[] = [];
  for (const rule of rules) {
    if (!CONTENT_FAULTS.includes(rule.name as S3Fault) || (rule.pathIncludes && !key.includes(rule.pathIncludes))) continue;
    faults.push(rule.name as S3Fault);
    const param = (name: string, fallback: number) => {
      const v = rule.params?.[name];
      return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : fallback;
    };
    if (rule.name === S3Fault.CorruptGzip) variant.corruptGzip = true;
    if (rule.name === S3Fault.MalformedCsv) variant.malformedLine = param('line', 2);
    if (rule.name === S3Fault.EtagChange) variant.version = param('version', 1);
  }
  return { variant, faults };
}

function wholeSeconds(ms: number): Date {
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** LastModified of big objects whose key is not a dated flat file. */
const BIG_OBJECT_LAST_MODIFIED = new Date('2024-01-02T16:00:00Z');

export class FlatFileBucket {
  private keyIndex: { fingerprint: string; keys: string[]; set: Set<string> } | undefined;
  private readonly metas = new Map<string, ObjectMeta>();
  private readonly bodies: LruBufferCache;
  private readonly bigObjects = new Map<string, BigObject>();

  constructor(
    private readonly settings: () => S3Settings,
    private readonly faults: () => FaultRule[],
    cacheBytes: number,
  ) {
    this.bodies = new LruBufferCache(cacheBytes);
  }

  /** All keys, sorted; recomputed when the date range or the big objects change. */
  keys(): readonly string[] {
    return this.index().keys;
  }

  private index() {
    const s = this.settings();
    const fingerprint = JSON.stringify([s.firstDate, s.lastDate, s.bigObjects.map((b) => b.key)]);
    if (this.keyIndex?.fingerprint !== fingerprint) {
      const keys = bucketKeys(s);
      this.keyIndex = { fingerprint, keys, set: new Set(keys) };
    }
    return this.keyIndex;
  }

  object(key: string): StoredObject | undefined {
    if (!this.index().set.has(key)) return undefined;
    const s = this.settings();
    const big = s.bigObjects.find((b) => b.key === key);
    if (big) return this.bigObject(big.key, big.sizeBytes);
    const id = parseFlatFileKey(key);
    if (!id) return undefined;
    const { variant, faults } = contentVariant(key, this.faults());
    const cacheKey = JSON.stringify([key, s.stockTickers, s.cryptoTickers, s.minuteBarsPerTicker, variant, s.serverSideEncryption]);
    const body = () => {
      let bytes = this.bodies.get(cacheKey);
      if (!bytes) {
        bytes = flatFileBody(id, s, variant);
        this.bodies.set(cacheKey, bytes);
      }
      return bytes;
    };
    let meta = this.metas.get(cacheKey);
    if (!meta) {
      const bytes = body();
      const lastModified = variant.version > 0 ? wholeSeconds(Date.now()) : publishedAt(id.date);
      const kms = s.serverSideEncryption === 'aws:kms';
      meta = {
        key, size: bytes.length, etag: kms ? kmsEtag(key, bytes) : md5Etag(bytes), lastModified, crc32: crc32Checksum(bytes),
        ...(kms ? { serverSideEncryption: 'aws:kms' as const } : {}),
      };
      this.metas.set(cacheKey, meta);
    }
    return { ...meta, contentFaults: faults, chunks: (start, end) => [body().subarray(start, end)] };
  }

  private bigObject(key: string, sizeBytes: number): StoredObject {
    const cacheKey = `${key}:${sizeBytes}`;
    let big = this.bigObjects.get(cacheKey);
    if (!big) {
      big = new BigObject(key, sizeBytes);
      this.bigObjects.set(cacheKey, big);
    }
    const id = parseFlatFileKey(key);
    const object = big;
    return {
      key,
      size: object.size,
      etag: object.etag,
      lastModified: id ? publishedAt(id.date) : BIG_OBJECT_LAST_MODIFIED,
      contentFaults: [],
      chunks: (start, end) => object.bytes(start, end),
    };
  }
}
