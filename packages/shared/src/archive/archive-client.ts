import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { NetworkError, PermanentError, TransientError } from '../core/errors.js';
import { parseArchiveZipKey } from './layout.js';
import type { ListedArchiveZip } from './plan.js';

/**
 * HTTP I/O with the archive bucket (ARCHIVE_URL): its S3 listing (ListObjects v1: `prefix`, `delimiter`, `marker`)
 * and its files. A zip is streamed to a temp file and hashed as it passes; it is kept only when its SHA-256 matches
 * its CHECKSUM file.
 */
export interface ArchiveClientOptions {
  /** The bucket's address, without a trailing slash. */
  baseUrl: string;
  /** Timeout of a listing or CHECKSUM request, and of the wait for a zip's first byte. */
  timeoutMs: number;
  /** Keys asked for per listing page (`max-keys`); default the bucket's own (S3: 1000). */
  pageSize?: number;
}

/** The zip does not match its CHECKSUM: retried (a truncated or mangled transfer), then the file fails. */
export class ChecksumMismatchError extends TransientError {}

const XML_ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };
const unescapeXml = (s: string) => s.replace(/&(amp|lt|gt|quot|apos);/g, (e) => XML_ENTITIES[e]!);
const tag = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? unescapeXml(m[1]!) : undefined;
};

async function request(url: string, what: string, signal: AbortSignal | undefined, timeoutMs: number): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new NetworkError(`${what}: ${(err as Error).message}`, { cause: err });
  }
  if (res.ok) return res;
  await res.body?.cancel();
  const message = `${what}: HTTP ${res.status}`;
  if (res.status >= 500 || res.status === 429) throw new TransientError(message);
  throw new PermanentError(message);
}

export class ArchiveClient {
  constructor(private readonly options: ArchiveClientOptions) {}

  /** Every key under `prefix` with its ETag, following markers across pages. */
  async listKeys(prefix: string, signal?: AbortSignal): Promise<{ key: string; etag: string }[]> {
    return (await this.list(prefix, signal)).keys;
  }

  /**
   * The directories right under `prefix` (S3's CommonPrefixes with `delimiter=/`), e.g. every symbol under
   * `data/spot/monthly/klines/`, following markers across pages.
   */
  async listDirectories(prefix: string, signal?: AbortSignal): Promise<string[]> {
    return (await this.list(prefix, signal)).directories;
  }

  private async list(prefix: string, signal?: AbortSignal): Promise<{ keys: { key: string; etag: string }[]; directories: string[] }> {
    const keys: { key: string; etag: string }[] = [];
    const directories: string[] = [];
    let marker = '';
    for (;;) {
      const query = new URLSearchParams({ prefix, delimiter: '/', ...(marker ? { marker } : {}),
        ...(this.options.pageSize ? { 'max-keys': String(this.options.pageSize) } : {}) });
      const res = await request(`${this.options.baseUrl}/?${query}`, `archive listing ${prefix}`, signal, this.options.timeoutMs);
      const xml = await res.text();
      const contents = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map((m) => m[1]!);
      for (const c of contents) {
        const key = tag(c, 'Key');
        if (key !== undefined) keys.push({ key, etag: (tag(c, 'ETag') ?? '').replace(/^"|"$/g, '') });
      }
      for (const m of xml.matchAll(/<CommonPrefixes>([\s\S]*?)<\/CommonPrefixes>/g)) {
        const directory = tag(m[1]!, 'Prefix');
        if (directory !== undefined) directories.push(directory);
      }
      if (tag(xml, 'IsTruncated') !== 'true') return { keys, directories };
      // S3 gives NextMarker with a delimiter; without one, the page's last key is where the next one starts.
      const next = tag(xml, 'NextMarker') ?? [keys.at(-1)?.key ?? '', directories.at(-1) ?? ''].sort().at(-1);
      if (!next || next === marker) throw new TransientError(`archive listing ${prefix}: truncated without a marker to go on from`);
      marker = next;
    }
  }

  /** The zips under `prefix` that have their CHECKSUM listed beside them. */
  async listZips(prefix: string, signal?: AbortSignal): Promise<ListedArchiveZip[]> {
    const keys = await this.listKeys(prefix, signal);
    const names = new Set(keys.map((k) => k.key));
    return keys.flatMap((k) => {
      const zip = names.has(`${k.key}.CHECKSUM`) ? parseArchiveZipKey(k.key) : undefined;
      return zip ? [{ ...zip, etag: k.etag }] : [];
    });
  }

  /** The SHA-256 a zip's CHECKSUM file declares (`<sha256>  <name>`, the name being the zip's). */
  async expectedSha256(key: string, signal?: AbortSignal): Promise<string> {
    const res = await request(`${this.options.baseUrl}/${key}.CHECKSUM`, `${key}.CHECKSUM`, signal, this.options.timeoutMs);
    const text = (await res.text()).trim();
    const m = /^([0-9a-fA-F]{64}) [ *]?(\S+)$/.exec(text);
    const name = key.split('/').at(-1);
    if (!m || m[2] !== name) throw new PermanentError(`${key}.CHECKSUM: expected "<sha256>  ${name}", got ${JSON.stringify(text.slice(0, 200))}`);
    return m[1]!.toLowerCase();
  }

  /**
   * Streams a zip to `target` and hashes it on the way; throws ChecksumMismatchError (the file removed) naming both
   * hashes when it is not the zip its CHECKSUM names.
   */
  async downloadVerified(key: string, target: string, signal?: AbortSignal): Promise<{ sha256: string; etag: string; bytes: number }> {
    const expected = await this.expectedSha256(key, signal);
    const res = await request(`${this.options.baseUrl}/${key}`, key, signal, this.options.timeoutMs);
    const hash = createHash('sha256');
    let bytes = 0;
    const hasher = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        hash.update(chunk);
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), hasher, createWriteStream(target), { signal });
    } catch (err) {
      await rm(target, { force: true });
      if (signal?.aborted) throw err;
      throw new NetworkError(`${key}: download failed after ${bytes} bytes: ${(err as Error).message}`, { cause: err });
    }
    const actual = hash.digest('hex');
    if (actual !== expected) {
      await rm(target, { force: true });
      throw new ChecksumMismatchError(`${key}: SHA-256 of the zip is ${actual}, its CHECKSUM says ${expected}`);
    }
    return { sha256: actual, etag: (res.headers.get('etag') ?? '').replace(/^"|"$/g, ''), bytes };
  }
}
