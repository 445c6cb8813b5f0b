import { xmlEscape } from '../s3/xml.js';
import { ARCHIVE_INTERVALS, publishedFiles, type ArchiveFile, type ArchivePeriod } from './layout.js';
import type { ArchiveSettings } from './settings.js';
import { archiveUniverse, findArchiveSymbol } from './universe.js';

/**
 * The bucket's S3 listing (ListObjects, version 1, as data.binance.vision's page uses it): `prefix`, `delimiter`,
 * `marker`, `max-keys` (at most 1000), `NextMarker` when truncated. Keys are virtual: under a symbol and interval
 * every published zip and its `.CHECKSUM`; above that, one key per directory, so that a listing with `delimiter=/`
 * answers the directories (symbols, intervals) as S3 does. A listing without a delimiter above the interval level
 * is not emulated (it would be millions of keys).
 */
export interface ListedKey {
  key: string;
  /** The zip this key is, or whose checksum it is; undefined for directory placeholders. */
  file?: ArchiveFile;
  checksum: boolean;
}

export interface ListingRequest {
  prefix: string;
  delimiter: string;
  marker: string;
  maxKeys: number;
}

export interface ListingPage {
  keys: ListedKey[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextMarker?: string;
}

const PREFIX = /^data\/spot\/(monthly|daily)\/klines\/([A-Z0-9]+)\/([0-9a-z]+)\//;

/** Every key under `prefix` (sorted), at the depth the prefix reaches. */
export function keysUnder(prefix: string, s: ArchiveSettings): ListedKey[] {
  const deep = PREFIX.exec(prefix);
  if (deep) {
    const [, period, symbol, interval] = deep as unknown as [string, ArchivePeriod, string, string];
    const info = findArchiveSymbol(s, symbol);
    if (!info) return [];
    return publishedFiles(info, interval, period, s)
      .flatMap((file) => [{ key: file.key, file, checksum: false }, { key: `${file.key}.CHECKSUM`, file, checksum: true }])
      .filter((k) => k.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
  }
  const directories: string[] = [];
  for (const period of ['daily', 'monthly']) {
    for (const info of archiveUniverse(s)) {
      for (const interval of ARCHIVE_INTERVALS) directories.push(`data/spot/${period}/klines/${info.symbol}/${interval}/`);
    }
  }
  return directories.filter((d) => d.startsWith(prefix) || prefix.startsWith(d)).sort()
    .map((d) => ({ key: `${d}.placeholder`, checksum: false }));
}

export function listingPage(keys: readonly ListedKey[], req: ListingRequest): ListingPage {
  const page: ListingPage = { keys: [], commonPrefixes: [], isTruncated: false };
  let last = '';
  for (const k of keys) {
    if (!k.key.startsWith(req.prefix) || k.key <= req.marker) continue;
    const cut = req.delimiter ? k.key.indexOf(req.delimiter, req.prefix.length) : -1;
    const entry = cut >= 0 ? k.key.slice(0, cut + req.delimiter.length) : k.key;
    if (cut >= 0 && (entry === page.commonPrefixes.at(-1) || entry <= req.marker)) continue;
    if (page.keys.length + page.commonPrefixes.length >= req.maxKeys) {
      page.isTruncated = true;
      // S3 gives NextMarker only with a delimiter; without one the client continues from the last key.
      if (req.delimiter) page.nextMarker = last;
      break;
    }
    if (cut >= 0) page.commonPrefixes.push(entry);
    else page.keys.push(k);
    last = entry;
  }
  return page;
}

export interface ListedObject {
  key: string;
  lastModified: Date;
  etag: string;
  size: number;
}

export function listBucketV1Xml(bucket: string, req: ListingRequest, page: ListingPage, objects: readonly ListedObject[]): string {
  const el = (name: string, v: string | number | boolean) => `<${name}>${xmlEscape(String(v))}</${name}>`;
  return '<?xml version="1.0" encoding="UTF-8"?>\n' + [
    '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    el('Name', bucket), el('Prefix', req.prefix), el('Marker', req.marker),
    page.nextMarker !== undefined ? el('NextMarker', page.nextMarker) : '',
    el('MaxKeys', req.maxKeys), req.delimiter ? el('Delimiter', req.delimiter) : '', el('IsTruncated', page.isTruncated),
    ...objects.map((o) => `<Contents>${el('Key', o.key)}${el('LastModified', o.lastModified.toISOString())}${el('ETag', o.etag)}${el('Size', o.size)}${el('StorageClass', 'STANDARD')}</Contents>`),
    ...page.commonPrefixes.map((p) => `<CommonPrefixes>${el('Prefix', p)}</CommonPrefixes>`),
    '</ListBucketResult>',
  ].join('');
}
