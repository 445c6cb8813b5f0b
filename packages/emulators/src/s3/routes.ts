import type http from 'node:http';
import type { EmulatorControl, FaultRule } from '../common/control.js';
import type { EmulatorHandler, EmulatorRequest } from '../common/http-server.js';
import type { FlatFileBucket, StoredObject } from './bucket.js';
import { s3Error } from './errors.js';
import { MAX_KEYS_PER_PAGE, listPage, type ListRequest } from './listing.js';
import { decideRange } from './range.js';
import { newRequestIds, s3Headers, sendError, sendXml, writeBody, type RequestIds } from './reply.js';
import { S3Counter, S3Fault, type S3Operation, type S3Settings } from './settings.js';
import { verifySigV4 } from './sigv4.js';
import { listBucketResultXml } from './xml.js';

/**
 * The S3 API, path style (`/<bucket>/<key>`), for what ferry uses: ListObjectsV2, HeadObject, GetObject (Range,
 * conditional), HeadBucket. Every request is SigV4-checked first, then per-request faults, then the operation.
 *
 * Checksums as S3 answers them: a request with `x-amz-checksum-mode: ENABLED` (the AWS SDK sends it on every
 * GetObject) for a whole object stored with a checksum gets `x-amz-checksum-crc32` and `x-amz-checksum-type:
 * FULL_OBJECT`; a range gets none (S3 has no checksum of a part of an object it did not upload as that part).
 */
export interface S3Context {
  control: EmulatorControl<S3Settings>;
  bucket: FlatFileBucket;
}

type Operation = S3Operation | 'head-bucket';

const FAULTS_BY_OPERATION: Record<Operation, readonly S3Fault[]> = {
  list: [S3Fault.ConnectionReset, S3Fault.SlowDown, S3Fault.TruncatedBody],
  get: [S3Fault.ConnectionReset, S3Fault.SlowDown, S3Fault.TruncatedBody, S3Fault.WrongLength, S3Fault.WrongChecksum],
  head: [S3Fault.ConnectionReset, S3Fault.SlowDown, S3Fault.WrongLength],
  'head-bucket': [S3Fault.ConnectionReset, S3Fault.SlowDown],
};

/** Query parameters the SDK adds that change nothing (`x-id=GetObject`); any other on an object is unsupported. */
const NEUTRAL_OBJECT_PARAMS = new Set(['x-id']);

function numberParam(rule: FaultRule, name: string, fallback: number, valid: (n: number) => boolean): number {
  const value = rule.params?.[name];
  return typeof value === 'number' && valid(value) ? value : fallback;
}

export function s3Handler(ctx: S3Context): EmulatorHandler {
  const { control, bucket } = ctx;

  return async (req, res) => {
    const s = control.settings;
    const head = req.method === 'HEAD';
    const ids = newRequestIds();
    const fail = (code: Parameters<typeof s3Error>[0], fields?: Record<string, string | number>, message?: string) =>
      sendError(control, res, s3Error(code, fields, message), head, ids);

    const verdict = verifySigV4(
      { method: req.method, url: req.raw.url ?? '/', headers: req.raw.headersDistinct, body: req.body },
      { credentials: s.credentials, region: s.region, now: Date.now() },
    );
    if (!verdict.ok) return sendError(control, res, verdict.error, head, ids);

    const slash = req.path.indexOf('/', 1);
    let bucketName: string;
    let key: string;
    try {
      bucketName = decodeURIComponent(slash < 0 ? req.path.slice(1) : req.path.slice(1, slash));
      key = slash < 0 ? '' : decodeURIComponent(req.path.slice(slash + 1));
    } catch {
      return fail('InvalidURI', { URI: req.path });
    }
    if (bucketName === '') return fail('AccessDenied'); // ListBuckets: flat-file keys may not list buckets
    if (bucketName !== s.bucket) return fail('NoSuchBucket', { BucketName: bucketName });

    let operation: Operation;
    if (key === '' && req.method === 'GET') {
      if (req.query.get('list-type') !== '2') return fail('NotImplemented', {}, 'This emulator serves ListObjectsV2 (list-type=2) only.');
      operation = 'list';
    } else if (key === '' && head) {
      operation = 'head-bucket';
    } else if (req.method === 'GET' || head) {
      const unsupported = [...req.query.keys()].find((k) => !NEUTRAL_OBJECT_PARAMS.has(k));
      if (unsupported) return fail('NotImplemented', {}, `This emulator does not serve the ?${unsupported} subresource.`);
      operation = head ? 'head' : 'get';
    } else {
      return fail('MethodNotAllowed', { Method: req.method, ResourceType: key === '' ? 'BUCKET' : 'OBJECT' });
    }

    const fault = control.takeFault(req.path, FAULTS_BY_OPERATION[operation]);
    if (fault?.name === S3Fault.ConnectionReset) return void req.raw.socket.resetAndDestroy();
    if (fault?.name === S3Fault.SlowDown) return fail('SlowDown');

    switch (operation) {
      case 'head-bucket':
        res.writeHead(200, { ...s3Headers(ids), 'x-amz-bucket-region': s.region });
        return void res.end();
      case 'list':
        return list(req, res, ids, fault);
      default:
        return object(req, res, ids, key, operation, fault);
    }
  };

  async function list(req: EmulatorRequest, res: http.ServerResponse, ids: RequestIds, fault: FaultRule | undefined): Promise<void> {
    control.count(S3Counter.operation('list'));
    const q = req.query;
    const maxKeysText = q.get('max-keys') ?? String(MAX_KEYS_PER_PAGE);
    const maxKeys = /^\d{1,10}$/.test(maxKeysText) ? Number(maxKeysText) : Number.NaN;
    if (!Number.isSafeInteger(maxKeys) || maxKeys > 2 ** 31 - 1) {
      return sendError(control, res, s3Error('InvalidArgument', { ArgumentName: 'max-keys', ArgumentValue: maxKeysText }, 'Provided max-keys not an integer or within integer range'), false, ids);
    }
    const request: ListRequest = {
      prefix: q.get('prefix') ?? '',
      delimiter: q.get('delimiter') ?? '',
      maxKeys: Math.min(maxKeys, MAX_KEYS_PER_PAGE),
      startAfter: q.get('start-after') ?? '',
      continuationToken: q.get('continuation-token') ?? undefined,
    };
    const page = listPage(bucket.keys(), request);
    if (!page) {
      return sendError(control, res, s3Error('InvalidArgument', { ArgumentName: 'continuation-token' }, 'The continuation token provided is incorrect'), false, ids);
    }
    const objects = page.keys.map((k) => bucket.object(k)!);
    const xml = listBucketResultXml({
      bucket: control.settings.bucket, request, maxKeys, page, objects, urlEncode: q.get('encoding-type') === 'url',
    });
    const body = sendXml(res, xml, ids);
    await writeBody(res, [body], truncation(fault, body.length));
  }

  function truncation(fault: FaultRule | undefined, length: number): number | undefined {
    if (fault?.name !== S3Fault.TruncatedBody) return undefined;
    const fraction = numberParam(fault, 'fraction', 0.5, (n) => n >= 0 && n < 1);
    return Math.floor(length * fraction);
  }

  async function object(req: EmulatorRequest, res: http.ServerResponse, ids: RequestIds, key: string, operation: 'get' | 'head', fault: FaultRule | undefined): Promise<void> {
    const head = operation === 'head';
    control.count(S3Counter.operation(operation));
    if (!head) control.count(S3Counter.getKey(key));
    const stored = bucket.object(key);
    if (!stored) return sendError(control, res, s3Error('NoSuchKey', { Key: key }), head, ids);
    if (!head) for (const name of stored.contentFaults) control.count(`fault:${name}`);

    const size = fault?.name === S3Fault.WrongLength
      ? Math.max(0, stored.size - numberParam(fault, 'bytes', 17, (n) => Number.isInteger(n) && n > 0))
      : stored.size;
    const lastModified = stored.lastModified.toUTCString();
    const headers: Record<string, string | number> = {
      ...s3Headers(ids),
      'last-modified': lastModified,
      etag: stored.etag,
      'accept-ranges': 'bytes',
      'content-type': 'application/gzip',
    };
    const precondition = checkPreconditions(req, stored);
    if (precondition === 'not-modified') {
      res.writeHead(304, { ...s3Headers(ids), etag: stored.etag, 'last-modified': lastModified });
      return void res.end();
    }
    if (precondition === 'failed') {
      const condition = req.headers['if-match'] !== undefined ? 'If-Match' : 'If-Unmodified-Since';
      return sendError(control, res, s3Error('PreconditionFailed', { Condition: condition }), head, ids);
    }

    const range = decideRange(req.headers.range, size);
    if (range.kind === 'unsatisfiable') {
      return sendError(control, res, s3Error('InvalidRange', { RangeRequested: req.headers.range ?? '', ActualObjectSize: size }), head, ids);
    }
    const [start, end] = range.kind === 'partial' ? [range.start, range.end + 1] : [0, size];
    if (range.kind === 'partial') headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
    if (stored.serverSideEncryption) headers['x-amz-server-side-encryption'] = stored.serverSideEncryption;
    if (stored.crc32 && String(req.headers['x-amz-checksum-mode']).toUpperCase() === 'ENABLED' && start === 0 && end === stored.size) {
      // A wrong one: the CRC-32 of other bytes, still 4 bytes in base64 as S3 sends.
      headers['x-amz-checksum-crc32'] = fault?.name === S3Fault.WrongChecksum ? 'AAAAAA==' : stored.crc32;
      headers['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    headers['content-length'] = end - start;
    res.writeHead(range.kind === 'partial' ? 206 : 200, headers);
    if (head) return void res.end();
    const cut = truncation(fault, end - start);
    if (cut !== undefined) res.flushHeaders();
    const sent = await writeBody(res, stored.chunks(start, end), cut);
    control.count(S3Counter.bytesSent, sent);
  }
}

/** RFC 7232 order: If-Match, else If-Unmodified-Since; then If-None-Match, else If-Modified-Since. */
function checkPreconditions(req: EmulatorRequest, stored: StoredObject): 'ok' | 'failed' | 'not-modified' {
  const etagListed = (header: string) => header.split(',').map((t) => t.trim()).some((t) => t === '*' || t === stored.etag);
  const ifMatch = req.headers['if-match'];
  const ifUnmodifiedSince = Date.parse(req.headers['if-unmodified-since'] ?? '');
  if (ifMatch !== undefined ? !etagListed(ifMatch) : stored.lastModified.getTime() > ifUnmodifiedSince) return 'failed';
  const ifNoneMatch = req.headers['if-none-match'];
  const ifModifiedSince = Date.parse(req.headers['if-modified-since'] ?? '');
  if (ifNoneMatch !== undefined ? etagListed(ifNoneMatch) : stored.lastModified.getTime() <= ifModifiedSince) return 'not-modified';
  return 'ok';
}
