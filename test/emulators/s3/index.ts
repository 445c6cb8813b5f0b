import { randomBytes } from 'node:crypto';
import type http from 'node:http';
import { EmulatorControl, type BaseSettings } from '../common/control.js';
import { startHttpEmulator, type EmulatorRequest, type RunningEmulator } from '../common/http-server.js';
import { isoDate } from './calendar.js';
import { allKeys, buildObject, type StoredObject } from './flat-files.js';
import { verifySigV4 } from './sigv4.js';

export { tradingDays, nyseHolidays, isTradingDay, type Market } from './calendar.js';
export { flatFileKey, flatFileRows, flatFileCsv, parseFlatFileKey, CSV_HEADER, tickers, type FlatFileRow, type Timeframe } from './flat-files.js';

export interface S3Settings extends BaseSettings {
  bucket: string;
  /** Known credentials: access key id -> secret. */
  credentials: Record<string, string>;
  /** Files exist for trading days in [firstDate, lastDate]. */
  firstDate: string;
  lastDate: string;
  /** Tickers per file (Massive's real files hold ~10,000: ~146 KB gzipped). */
  tickerCount: number;
  /** Objects whose stored content is corrupt gzip (ETag and Size describe the corrupt bytes, as S3 would). */
  corruptGzipKeys: string[];
  /** Objects with a malformed CSV line: key -> 1-based line number. */
  malformedCsvKeys: Record<string, number>;
  /** Objects changed upstream: key -> content version (new bytes, new ETag). */
  changedKeys: Record<string, number>;
}

export const DEFAULT_S3_CREDENTIALS = { accessKeyId: 'FERRYTESTKEY', secretAccessKey: 'ferry-test-secret' };

export const DEFAULT_S3_SETTINGS: S3Settings = {
  latencyMs: 0,
  errorRate: 0,
  bucket: 'flatfiles',
  credentials: { [DEFAULT_S3_CREDENTIALS.accessKeyId]: DEFAULT_S3_CREDENTIALS.secretAccessKey },
  firstDate: '2019-01-01',
  lastDate: isoDate(Date.now() - 86_400_000),
  tickerCount: 40,
  corruptGzipKeys: [],
  malformedCsvKeys: {},
  changedKeys: {},
};

/** Per-request faults: `truncated-body`, `wrong-length`, `slow-down`, `connection-reset`. */
export type S3Fault = 'truncated-body' | 'wrong-length' | 'slow-down' | 'connection-reset';

export interface S3Emulator extends RunningEmulator<S3Settings> {
  /** The object as the bucket holds it now (body, ETag). */
  object(key: string): StoredObject | undefined;
  keys(prefix?: string): string[];
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/**
 * S3, path style, serving Massive's flat-file layout: ListObjectsV2 (continuation tokens, delimiter), HeadObject,
 * GetObject (Range), ETag = MD5 of the body, SigV4 checked against known keys, S3's XML errors.
 */
export async function startS3Emulator(options: { port?: number; settings?: Partial<S3Settings> } = {}): Promise<S3Emulator> {
  const control = new EmulatorControl<S3Settings>({ ...DEFAULT_S3_SETTINGS, ...options.settings });
  const cache = new Map<string, StoredObject>();
  let keyCache: { range: string; keys: string[] } | undefined;

  const keys = () => {
    const s = control.settings;
    const range = `${s.firstDate}..${s.lastDate}`;
    if (keyCache?.range !== range) keyCache = { range, keys: allKeys(s.firstDate, s.lastDate) };
    return keyCache.keys;
  };
  const hasKey = (key: string) => {
    const all = keys();
    let lo = 0;
    let hi = all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (all[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return all[lo] === key;
  };
  const object = (key: string): StoredObject | undefined => {
    if (!hasKey(key)) return undefined;
    const s = control.settings;
    const variant = {
      version: s.changedKeys[key] ?? 0,
      corruptGzip: s.corruptGzipKeys.includes(key),
      malformedLine: s.malformedCsvKeys[key],
    };
    const cacheKey = `${key}|${s.tickerCount}|${variant.version}|${variant.corruptGzip}|${variant.malformedLine ?? ''}`;
    let o = cache.get(cacheKey);
    if (!o) {
      o = buildObject(key, s.tickerCount, variant);
      if (!o) return undefined;
      if (cache.size > 20_000) cache.delete(cache.keys().next().value!);
      cache.set(cacheKey, o);
    }
    return o;
  };

  const requestId = () => randomBytes(8).toString('hex').toUpperCase();
  const sendError = (res: http.ServerResponse, status: number, code: string, message: string, head = false, extra = '') => {
    control.count(`status:${status}`);
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${extra}<RequestId>${requestId()}</RequestId></Error>`;
    res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': requestId(), ...(head ? {} : { 'content-length': Buffer.byteLength(body) }) });
    res.end(head ? undefined : body);
  };

  async function handle(req: EmulatorRequest, res: http.ServerResponse): Promise<void> {
    const s = control.settings;
    const head = req.method === 'HEAD';
    const auth = verifySigV4(req.raw, new Map(Object.entries(s.credentials)));
    if (!auth.ok) return sendError(res, 403, auth.code, auth.message, head);

    const fault = control.takeFault(req.path, ['slow-down', 'connection-reset', 'truncated-body', 'wrong-length']);
    if (fault?.name === 'connection-reset') return void req.raw.socket.destroy();
    if (fault?.name === 'slow-down') return sendError(res, 503, 'SlowDown', 'Please reduce your request rate.', head);

    const [, bucket, ...rest] = req.path.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    if (bucket !== s.bucket) return sendError(res, 404, 'NoSuchBucket', 'The specified bucket does not exist', head, `<BucketName>${xmlEscape(bucket ?? '')}</BucketName>`);

    if (req.method === 'GET' && key === '' && req.query.get('list-type') === '2') return list(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.');
    const o = object(key);
    control.count(head ? 'head' : 'get');
    if (!o) return sendError(res, 404, 'NoSuchKey', 'The specified key does not exist.', head, `<Key>${xmlEscape(key)}</Key>`);
    if (!head) control.count(`get:${key}`);

    let body = o.body;
    let status = 200;
    const headers: Record<string, string | number> = {
      'content-type': 'application/x-gzip',
      etag: o.etag,
      'last-modified': o.lastModified.toUTCString(),
      'accept-ranges': 'bytes',
      'x-amz-request-id': requestId(),
    };
    const range = req.headers.range;
    if (range && !head) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range);
      const size = body.length;
      let start = m?.[1] ? Number(m[1]) : undefined;
      let end = m?.[2] ? Number(m[2]) : undefined;
      if (start === undefined && end !== undefined) {
        start = Math.max(0, size - end);
        end = size - 1;
      }
      if (!m || start === undefined || start >= size || (end !== undefined && end < start)) {
        return sendError(res, 416, 'InvalidRange', 'The requested range is not satisfiable', false, `<RangeRequested>${xmlEscape(range)}</RangeRequested><ActualObjectSize>${size}</ActualObjectSize>`);
      }
      end = Math.min(end ?? size - 1, size - 1);
      body = body.subarray(start, end + 1);
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    if (fault?.name === 'wrong-length') body = body.subarray(0, Math.max(0, body.length - 17));
    headers['content-length'] = body.length;
    res.writeHead(status, headers);
    if (head) return void res.end();
    if (fault?.name === 'truncated-body') {
      // The announced length is never delivered: half the bytes, then the connection drops.
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      control.count('bytes-sent', Math.floor(body.length / 2));
      setTimeout(() => req.raw.socket.destroy(), 10);
      return;
    }
    control.count('bytes-sent', body.length);
    res.end(body);
  }

  function list(req: EmulatorRequest, res: http.ServerResponse) {
    control.count('list');
    const q = req.query;
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeys = Math.min(1000, Math.max(0, Number(q.get('max-keys') ?? 1000)));
    const token = q.get('continuation-token');
    const startAfter = q.get('start-after') ?? '';
    let after = startAfter;
    if (token) {
      try {
        after = Buffer.from(token, 'base64url').toString('utf8');
        if (!after.startsWith('k:')) throw new Error('bad token');
        after = after.slice(2);
      } catch {
        return sendError(res, 400, 'InvalidArgument', 'The continuation token provided is incorrect', false, '<ArgumentName>continuation-token</ArgumentName>');
      }
    }
    const contents: StoredObject[] = [];
    const prefixes: string[] = [];
    let truncated = false;
    let last = '';
    for (const key of keys()) {
      if (!key.startsWith(prefix) || key <= after) continue;
      let entry = key;
      if (delimiter) {
        const i = key.indexOf(delimiter, prefix.length);
        if (i >= 0) entry = key.slice(0, i + delimiter.length);
      }
      if (entry !== key && (prefixes.at(-1) === entry || entry <= after)) continue;
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (entry !== key) prefixes.push(entry);
      else contents.push(object(key)!);
      last = entry === key ? key : `${entry}\uffff`;
    }
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      `<Name>${xmlEscape(control.settings.bucket)}</Name>`,
      `<Prefix>${xmlEscape(prefix)}</Prefix>`,
      `<KeyCount>${contents.length + prefixes.length}</KeyCount>`,
      `<MaxKeys>${maxKeys}</MaxKeys>`,
      delimiter ? `<Delimiter>${xmlEscape(delimiter)}</Delimiter>` : '',
      `<IsTruncated>${truncated}</IsTruncated>`,
      token ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '',
      truncated ? `<NextContinuationToken>${Buffer.from(`k:${last}`).toString('base64url')}</NextContinuationToken>` : '',
      startAfter ? `<StartAfter>${xmlEscape(startAfter)}</StartAfter>` : '',
      ...contents.map((o) =>
        `<Contents><Key>${xmlEscape(o.key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`),
      ...prefixes.map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`),
      '</ListBucketResult>',
    ].join('');
    res.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': requestId(), 'content-length': Buffer.byteLength(xml) });
    res.end(xml);
  }

  const running = await startHttpEmulator({
    name: 's3',
    port: options.port,
    control,
    handler: handle,
    serverError: (res) => sendError(res, 500, 'InternalError', 'We encountered an internal error. Please try again.'),
  });
  return {
    ...running,
    object,
    keys: (prefix = '') => keys().filter((k) => k.startsWith(prefix)),
  };
}
