import type { BaseSettings } from '../common/control.js';
import type { BigObjectSpec } from './big-object.js';
import { addDays, isoDate, parseDate } from './calendar.js';
import { DEFAULT_GENERATOR_SETTINGS, type GeneratorSettings } from './generator.js';

export interface S3Settings extends BaseSettings, GeneratorSettings {
  /** The one bucket. Default `flatfiles`, Massive's. */
  bucket: string;
  /** The region requests must be signed for. Default `us-east-1`, Massive's. */
  region: string;
  /** Known credentials: access key id -> secret access key. Default `FERRYTESTKEY` -> `ferry-test-secret`. */
  credentials: Record<string, string>;
  /** Files exist for trading days from `firstDate` to `lastDate`, inclusive. Default: six years back to yesterday. */
  firstDate: string;
  /** Default yesterday: Massive publishes a day's files around 11:00 New York time the next day. */
  lastDate: string;
  /** Extra objects streamed from a generator (see big-object.ts); a key of a generated file replaces it. */
  bigObjects: BigObjectSpec[];
  /**
   * How the generated files are stored: `null` (the default) unencrypted, with the MD5 of the content as ETag; or
   * `aws:kms` (SSE-KMS): answers carry `x-amz-server-side-encryption: aws:kms` and the ETag is 32 hex digits that are
   * not the MD5 of the content, as S3's are for such objects.
   */
  serverSideEncryption: null | 'aws:kms';
}

export const DEFAULT_S3_CREDENTIALS = { accessKeyId: 'FERRYTESTKEY', secretAccessKey: 'ferry-test-secret' } as const;

export function defaultS3Settings(today = isoDate(Date.now())): S3Settings {
  const t = new Date(parseDate(today));
  return {
    latencyMs: 0,
    errorRate: 0,
    ...DEFAULT_GENERATOR_SETTINGS,
    bucket: 'flatfiles',
    region: 'us-east-1',
    credentials: { [DEFAULT_S3_CREDENTIALS.accessKeyId]: DEFAULT_S3_CREDENTIALS.secretAccessKey },
    firstDate: isoDate(Date.UTC(t.getUTCFullYear() - 6, t.getUTCMonth(), t.getUTCDate())),
    lastDate: addDays(today, -1),
    bigObjects: [],
    serverSideEncryption: null,
  };
}

/**
 * Named faults (add them with `control.addFault({ name, remaining?, pathIncludes?, probability?, params? })`).
 *
 * Per request (spent as they hit; `pathIncludes` matches the request path `/<bucket>/<key>`):
 *  - `slow-down`: `503 SlowDown` (any operation).
 *  - `connection-reset`: the connection is reset (TCP RST) before any answer (any operation).
 *  - `truncated-body`: GetObject (or a listing) announces the full Content-Length, sends `params.fraction`
 *    (default 0.5) of the body, then the connection drops.
 *  - `wrong-checksum`: GetObject sends an `x-amz-checksum-crc32` that is not the body's (the object itself is intact);
 *    the SDK's validation fails at the end of the body.
 *  - `wrong-length`: HeadObject/GetObject answer a consistent Content-Length and body that are `params.bytes`
 *    (default 17) shorter than the object's listed Size: the tail is missing but nothing on the wire says so.
 *
 * Content faults (states of the bucket, not spent: every object whose key contains `pathIncludes` -- all objects
 * without it -- is stored that way while the rule is in place, in listings, HEAD and GET alike; `remaining` and
 * `probability` do not apply; `fault:<name>` counts the GETs that served such an object):
 *  - `corrupt-gzip`: the stored bytes are damaged gzip; Size and ETag (MD5) describe those bytes, so only
 *    decompressing finds out.
 *  - `malformed-csv`: valid gzip whose CSV line `params.line` (1-based, the header is line 1; default 2) is broken
 *    (too few columns, volume `12x4`).
 *  - `etag-change`: the file was re-published upstream: other values (`params.version`, default 1), new bytes, new
 *    ETag and Size, LastModified = when the emulator first served the new version.
 */
export const S3Fault = {
  SlowDown: 'slow-down',
  ConnectionReset: 'connection-reset',
  TruncatedBody: 'truncated-body',
  WrongLength: 'wrong-length',
  WrongChecksum: 'wrong-checksum',
  CorruptGzip: 'corrupt-gzip',
  MalformedCsv: 'malformed-csv',
  EtagChange: 'etag-change',
} as const;
export type S3Fault = (typeof S3Fault)[keyof typeof S3Fault];

export const CONTENT_FAULTS: readonly S3Fault[] = [S3Fault.CorruptGzip, S3Fault.MalformedCsv, S3Fault.EtagChange];

export type S3Operation = 'list' | 'head' | 'get';

/**
 * Counters (read with `control.counter(name)` or `GET /__control/counters`), besides the harness's `requests`,
 * `injected:server-error` and `fault:<name>`.
 */
export const S3Counter = {
  /** Authenticated requests per operation: `list` (ListObjectsV2), `head` (HeadObject), `get` (GetObject). */
  operation: (op: S3Operation) => op,
  /** GetObject requests per key, e.g. `get:us_stocks_sip/day_aggs_v1/2024/03/2024-03-07.csv.gz`. */
  getKey: (key: string) => `get:${key}`,
  /** Object body bytes written to sockets (a truncated body counts what was sent). */
  bytesSent: 'bytes-sent',
  /** Error answers by S3 error code, e.g. `error:NoSuchKey`, `error:SignatureDoesNotMatch`. */
  error: (code: string) => `error:${code}`,
} as const;
