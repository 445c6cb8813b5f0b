import type http from 'node:http';
import { EmulatorControl } from '../common/control.js';
import { startHttpEmulator, type EmulatorRequest, type RunningEmulator } from '../common/http-server.js';
import { xmlEscape } from '../s3/xml.js';
import { exchangeNow } from '../binance/settings.js';
import { archiveEtag, ArchiveContentCache, checksumFile, checksumFileSize } from './content.js';
import { findPublished, parseArchiveKey, publishedFiles, type ArchiveFile, type ArchivePeriod } from './layout.js';
import { keysUnder, listBucketV1Xml, listingPage, type ListedObject, type ListingRequest } from './listing.js';
import { ArchiveCounter, ArchiveFault, assertValidArchiveSettings, DEFAULT_ARCHIVE_SETTINGS, type ArchiveSettings } from './settings.js';
import { archiveCandles, findArchiveSymbol } from './universe.js';
import type { EmulatedCandle } from '../binance/candles.js';

/**
 * data.binance.vision, emulated: the bucket's S3 listing (`GET /?prefix=&delimiter=&marker=`) and its files
 * (`GET /data/spot/{monthly,daily}/klines/...zip` and `.zip.CHECKSUM`), with the candles of the Binance REST emulator
 * for the same settings. Quirks on demand (see ArchiveSettings): microseconds from 2025, header rows in some files,
 * missing files, wrong checksums, flawed files re-published, 404 for periods not yet published at its clock.
 */
export { ArchiveCounter, ArchiveFault, DEFAULT_ARCHIVE_SETTINGS, type ArchiveSettings } from './settings.js';
export { archiveFile, parseArchiveKey, ARCHIVE_INTERVALS, type ArchiveFile, type ArchivePeriod } from './layout.js';
export { archiveCsv, CSV_HEADER } from './content.js';
export type { DelistedSymbol } from './settings.js';

/** The bucket's name, as its listing says. */
export const ARCHIVE_BUCKET = 'data.binance.vision';

export interface ArchiveEmulatorOptions {
  port?: number;
  host?: string;
  settings?: Partial<ArchiveSettings>;
  /** Built zips kept in memory, least recently used dropped first. Default 256 MiB. */
  cacheBytes?: number;
}

export interface ArchiveEmulator extends RunningEmulator<ArchiveSettings> {
  /** The files published now for a symbol (BTCUSDT) and interval, oldest first. */
  files(symbol: string, interval: string, period: ArchivePeriod): ArchiveFile[];
  /**
   * Builds these files now (as under the current settings) and keeps them, so that serving them later costs what a
   * static file costs: for benchmarks, where building months of candles must not count against the client.
   */
  prepare(files: readonly ArchiveFile[]): Promise<void>;
  now(): number;
  /**
   * The closed candles of a symbol (BTCUSDT or BTC/USDT, a delisted one too) opening in [startMs, endMs): what its
   * files hold.
   */
  candles(symbol: string, interval: string, startMs: number, endMs: number): EmulatedCandle[];
}

class ArchiveControl extends EmulatorControl<ArchiveSettings> {
  override configure(patch: Partial<ArchiveSettings>): ArchiveSettings {
    assertValidArchiveSettings({ ...this.settings, ...patch });
    return super.configure(patch);
  }
}

function sendText(res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'content-type': type, 'content-length': bytes.length, server: 'AmazonS3', ...extra });
  res.end(bytes);
}

function s3Error(res: http.ServerResponse, status: number, code: string, message: string, key?: string): void {
  const keyXml = key === undefined ? '' : `<Key>${xmlEscape(key)}</Key>`;
  sendText(res, status, 'application/xml',
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${keyXml}</Error>`);
}

export async function startBinanceArchiveEmulator(options: ArchiveEmulatorOptions = {}): Promise<ArchiveEmulator> {
  const defaults: ArchiveSettings = { ...DEFAULT_ARCHIVE_SETTINGS, ...options.settings };
  assertValidArchiveSettings(defaults);
  const control = new ArchiveControl(defaults);
  const contents = new ArchiveContentCache(options.cacheBytes);

  function listedObject(file: ArchiveFile, checksum: boolean, s: ArchiveSettings): ListedObject {
    const lastModified = new Date(file.end + (file.period === 'monthly' ? s.monthlyDelayMs : s.dailyDelayMs));
    const etag = archiveEtag(file, s);
    return checksum
      ? { key: `${file.key}.CHECKSUM`, lastModified, etag, size: checksumFileSize(file) }
      : { key: file.key, lastModified, etag, size: contents.listedSize(file, s) };
  }

  async function list(req: EmulatorRequest, res: http.ServerResponse, s: ArchiveSettings): Promise<void> {
    control.count(ArchiveCounter.listings);
    const maxKeys = Number(req.query.get('max-keys') ?? 1000);
    const request: ListingRequest = {
      prefix: req.query.get('prefix') ?? '',
      delimiter: req.query.get('delimiter') ?? '',
      marker: req.query.get('marker') ?? '',
      maxKeys: Number.isSafeInteger(maxKeys) && maxKeys >= 0 ? Math.min(maxKeys, 1000) : 1000,
    };
    const page = listingPage(keysUnder(request.prefix, s), request);
    const objects: ListedObject[] = [];
    for (const k of page.keys) if (k.file) objects.push(listedObject(k.file, k.checksum, s));
    control.count(ArchiveCounter.status(200));
    sendText(res, 200, 'application/xml', listBucketV1Xml(ARCHIVE_BUCKET, request, page, objects));
  }

  async function file(req: EmulatorRequest, res: http.ServerResponse, s: ArchiveSettings): Promise<void> {
    const key = req.path.slice(1);
    const checksum = key.endsWith('.CHECKSUM');
    const parsed = parseArchiveKey(checksum ? key.slice(0, -'.CHECKSUM'.length) : key);
    if (!parsed || !findPublished(parsed, s)) {
      control.count(ArchiveCounter.status(404));
      return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.', key);
    }
    const content = await contents.content(parsed, s);
    const headers = { etag: content.etag, 'last-modified': content.lastModified.toUTCString() };
    control.count(ArchiveCounter.status(200));
    if (checksum) {
      control.count(ArchiveCounter.checksums);
      return sendText(res, 200, 'text/plain', checksumFile(parsed, content, s), headers);
    }
    control.count(ArchiveCounter.zips);
    if (control.takeFault(`${req.path}`, [ArchiveFault.TruncatedBody])) {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': content.zip.length, ...headers });
      res.write(content.zip.subarray(0, content.zip.length >> 1), () => res.destroy());
      return;
    }
    control.count(ArchiveCounter.bytes, content.zip.length);
    sendText(res, 200, 'application/zip', content.zip, headers);
  }

  const running = await startHttpEmulator({
    name: 'binance-archive',
    port: options.port,
    host: options.host,
    control,
    handler: async (req, res) => {
      const s = control.settings;
      const search = req.query.toString();
      if (control.takeFault(`${req.path}${search ? `?${search}` : ''}`, [ArchiveFault.ServerError])) {
        control.count(ArchiveCounter.status(503));
        return s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        control.count(ArchiveCounter.status(405));
        return s3Error(res, 405, 'MethodNotAllowed', `The specified method is not allowed against this resource: ${req.method}`);
      }
      if (req.path === '/') return list(req, res, s);
      return file(req, res, s);
    },
    serverError: (res) => {
      control.count(ArchiveCounter.status(503));
      s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
    },
  });
  return {
    ...running,
    files: (symbol, interval, period) => {
      const info = findArchiveSymbol(control.settings, symbol);
      return info ? publishedFiles(info, interval, period, control.settings) : [];
    },
    now: () => exchangeNow(control.settings),
    candles: (symbol, interval, startMs, endMs) => archiveCandles(symbol, interval, startMs, endMs, control.settings),
    prepare: async (files) => {
      for (const f of files) await contents.content(f, control.settings);
    },
  };
}
